"""Scaling out: parallel searches (loky, Dask, Ray), streaming from files, accelerators.

Every search here is the same small one -- 16x16 images of the demo photos,
one epoch, four candidates, cv=2 -- so that one run on one process is the
reference for all the parallel engines.
"""

import os
import subprocess
import sys
import tempfile
import textwrap

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.pipeline import Pipeline

from skcatdog import parallel
from skcatdog.loading import ImageLoader, decode_count

GRID = {"cnn__dropout": [0.0, 0.5], "cnn__learning_rate": [1e-3, 3e-2]}


def _pipe():
    from skcatdog import DeepCNNClassifier

    return Pipeline([
        ("load", ImageLoader(image_size=(16, 16))),
        ("cnn", DeepCNNClassifier(
            epochs=1, batch_size=8, filters=(4, 8, 8), dense_units=8,
            validation_fraction=0.0, random_state=0,
        )),
    ])


def _tf_threads(estimator, X, y):
    # A "score" read in the process that fitted the candidate.
    import tensorflow as tf

    threading = tf.config.threading
    return threading.get_intra_op_parallelism_threads() * 100 + (
        threading.get_inter_op_parallelism_threads()
    )


SCORING = {"accuracy": "accuracy", "tf_threads": lambda est, X, y: _tf_threads(est, X, y)}


def _scores(search):
    """{candidate's parameters: its per-split accuracies}, whatever the candidate order."""
    results = search.cv_results_
    return {
        tuple(sorted(params.items())): tuple(
            results[f"split{k}_test_accuracy"][i] for k in range(search.n_splits_)
        )
        for i, params in enumerate(results["params"])
    }


def _best_params(search):
    return search.cv_results_["params"][np.argmin(search.cv_results_["rank_test_accuracy"])]


@pytest.fixture(scope="module")
def serial_search(demo_files):
    search = GridSearchCV(_pipe(), GRID, cv=2, scoring=SCORING, refit=False, n_jobs=1)
    return search.fit(demo_files.data, demo_files.target)


# The engines' tests compare best parameters. A Dask nanny gives its worker one
# TensorFlow thread, as conftest.py does here, but Ray gives its task's CPUs: where
# the thread counts differ the sums differ in the last bits, which can reorder
# candidates that all score near chance. So the candidates must differ by more:
# bright "cats", dark "dogs"; one learns, the other cannot.
SEPARABLE_GRID = {"cnn__learning_rate": [1e-6, 1e-2]}


@pytest.fixture(scope="module")
def separable_files(tmp_path_factory):
    from PIL import Image

    folder, rng = tmp_path_factory.mktemp("separable"), np.random.RandomState(0)
    paths, labels = [], []
    for i in range(40):
        label = ("cat", "dog")[i % 2]
        pixels = rng.randint(0, 256, (16, 16, 3)).astype(np.uint8)
        if label == "dog":
            pixels //= 4
        paths.append(str(folder / f"{label}.{i}.png"))
        Image.fromarray(pixels).save(paths[-1])
        labels.append(label)
    return np.array(paths), np.array(labels)


def _separable_pipe():
    # Seeds 1-7 learn (mean accuracy 1.0 against 0.425-0.5 for 1e-6, on 1 and
    # 2 threads alike); seed 0 reached only 0.75.
    return _pipe().set_params(cnn__epochs=8, cnn__batch_size=4, cnn__random_state=1)


@pytest.fixture(scope="module")
def separable_serial(separable_files):
    search = GridSearchCV(_separable_pipe(), SEPARABLE_GRID, cv=2, scoring=SCORING,
                          refit=False, n_jobs=1).fit(*separable_files)
    scores = search.cv_results_["mean_test_accuracy"]
    # The grid really separates: measured 0.475 against 1.00 for seed 1 on 1 and
    # 2 threads; bar 0.3.
    assert scores[1] - scores[0] >= 0.3, scores
    return search


# -- TensorFlow's threads --------------------------------------------------------


def test_thread_limit_reads_the_engines_variables(monkeypatch):
    for var in ("SKCATDOG_TF_THREADS", *parallel.THREAD_LIMIT_VARS):
        monkeypatch.delenv(var, raising=False)
    assert parallel.thread_limit() is None
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert parallel.thread_limit() == 3
    monkeypatch.setenv("SKCATDOG_TF_THREADS", "5")
    assert parallel.thread_limit() == 5
    monkeypatch.setenv("SKCATDOG_TF_THREADS", "0")  # "leave TensorFlow alone"
    assert parallel.thread_limit() is None


class _FakeThreading:
    def __init__(self, intra=0, inter=0):
        self.intra, self.inter, self.calls = intra, inter, []

    def get_intra_op_parallelism_threads(self):
        return self.intra

    def get_inter_op_parallelism_threads(self):
        return self.inter

    def set_intra_op_parallelism_threads(self, n):
        self.calls.append(("intra", n))
        self.intra = n

    def set_inter_op_parallelism_threads(self, n):
        self.calls.append(("inter", n))
        self.inter = n


@pytest.mark.parametrize(
    "env, preset, expected_calls, expected",
    [
        ({"OMP_NUM_THREADS": "1"}, (0, 0), [("intra", 1), ("inter", 1)], (1, 1)),
        ({}, (0, 0), [], (0, 0)),  # no budget: TensorFlow's defaults
        ({"OMP_NUM_THREADS": "1"}, (2, 0), [], (2, 0)),  # tf.config set by the user
        ({"OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "4"}, (0, 0), [], (0, 0)),
    ],
)
def test_limit_tf_threads_sets_once_and_respects_the_user(
    monkeypatch, env, preset, expected_calls, expected
):
    import tensorflow as tf

    fake = _FakeThreading(*preset)
    monkeypatch.setattr(tf.config, "threading", fake)
    monkeypatch.setattr(parallel, "_applied", None)
    for var in ("SKCATDOG_TF_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS",
                *parallel.THREAD_LIMIT_VARS):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    assert parallel.limit_tf_threads() == expected
    assert parallel.limit_tf_threads() == expected  # idempotent: no second set
    assert fake.calls == expected_calls


# -- one machine: joblib's loky backend -------------------------------------------


def test_parallel_search_matches_serial_and_limits_threads(serial_search, demo_files):
    search = RandomizedSearchCV(
        _pipe(), GRID, n_iter=4, cv=2, scoring=SCORING, refit=False, n_jobs=2, random_state=0
    ).fit(demo_files.data, demo_files.target)

    assert _scores(search) == _scores(serial_search)
    # loky gives each of the 2 workers cpu_count() // 2 threads (OMP_NUM_THREADS);
    # the classifier passed that on to TensorFlow, with one inter-op thread.
    budget = int(os.environ.get("OMP_NUM_THREADS", max(joblib.cpu_count() // 2, 1)))
    assert set(search.cv_results_["mean_test_tf_threads"]) == {budget * 100 + 1}


# -- a cluster: Dask and Ray -------------------------------------------------------


def test_dask_search_finds_the_serial_best(separable_serial, separable_files):
    distributed = pytest.importorskip("distributed")
    paths, labels = separable_files

    decodes_here = decode_count()
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None,
    ) as cluster, distributed.Client(cluster) as client:
        with joblib.parallel_backend("dask"):
            search = GridSearchCV(
                _separable_pipe(), SEPARABLE_GRID, cv=2, scoring=SCORING, refit="accuracy",
                n_jobs=-1,
            ).fit(paths, labels)
        decodes_there = client.run(decode_count)

    assert search.best_params_ == _best_params(separable_serial)
    # The workers read the files by path; only the final refit decoded here.
    assert sum(decodes_there.values()) >= len(paths)
    assert decode_count() - decodes_here <= len(paths)
    # A Dask nanny sets OMP_NUM_THREADS=1 in its worker.
    assert set(search.cv_results_["mean_test_tf_threads"]) == {101}


def test_ray_search_finds_the_serial_best(separable_serial, separable_files):
    ray = pytest.importorskip("ray")
    from ray.util.joblib import register_ray

    register_ray()
    ray.init(
        num_cpus=2, include_dashboard=False, log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(sys.path)}},
    )
    try:
        with joblib.parallel_backend("ray"):
            search = GridSearchCV(
                _separable_pipe(), SEPARABLE_GRID, cv=2, scoring=SCORING, refit=False,
                n_jobs=2,
            ).fit(*separable_files)
    finally:
        ray.shutdown()
    assert _best_params(search) == _best_params(separable_serial)


# -- data larger than memory: streaming from the files ----------------------------


class _RecordingLoader(ImageLoader):
    """An ImageLoader that notes how many files each call decodes."""

    calls = []

    def transform(self, X):
        type(self).calls.append(len(X))
        return super().transform(X)


def test_image_batches_cover_every_file_once_per_epoch(demo_files):
    from skcatdog.streaming import ImageBatches

    paths, y = demo_files.data[:10], demo_files.target[:10]
    loader = ImageLoader(image_size=(8, 8))
    batches = ImageBatches(paths, loader, (8, 8, 3), 4, y=y, shuffle=True, random_state=0)
    assert len(batches) == 3
    pixels = loader.transform(paths).reshape(-1, 8, 8, 3)
    orders = []
    for _ in range(2):
        seen = []
        for i in range(len(batches)):
            images, labels = batches[i]
            assert images.shape[1:] == (8, 8, 3) and images.dtype == np.uint8
            for image, label in zip(images, labels, strict=True):
                (match,) = np.flatnonzero((pixels == image).all(axis=(1, 2, 3)))
                assert y[match] == label
                seen.append(match)
        assert sorted(seen) == list(range(10))
        orders.append(seen)
        batches.on_epoch_end()
    assert orders[0] != orders[1]  # reshuffled between epochs
    same_seed = ImageBatches(paths, loader, (8, 8, 3), 4, y=y, shuffle=True, random_state=0)
    assert np.array_equal(same_seed[0][0], ImageBatches(
        paths, loader, (8, 8, 3), 4, y=y, shuffle=True, random_state=0)[0][0])
    flipped = ImageBatches(paths, loader, (8, 8, 3), 4, flip=True)[2][0]
    assert np.array_equal(flipped, np.concatenate([pixels[8:], pixels[8:, :, ::-1]]))


def test_image_batches_decode_each_file_once_and_read_it_back(
    demo_files, monkeypatch, tmp_path
):
    from skcatdog.streaming import ImageBatches

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the file goes
    paths, y = demo_files.data[:10], demo_files.target[:10]
    loader = _RecordingLoader(image_size=(8, 8), cache=False)
    batches = ImageBatches(paths, loader, (8, 8, 3), 4, y=y, shuffle=True, random_state=0,
                           keep_decoded=True)
    plain = ImageBatches(paths, loader, (8, 8, 3), 4, y=y, shuffle=True, random_state=0)
    _RecordingLoader.calls = []
    for _ in range(3):
        for i in range(len(batches)):
            for got, expected in zip(batches[i], plain[i], strict=True):
                np.testing.assert_array_equal(got, expected)
        batches.on_epoch_end()
        plain.on_epoch_end()
    assert sum(_RecordingLoader.calls) == 10 + 3 * 10  # once for `batches`, 3x for `plain`
    assert list(tmp_path.iterdir()) == []  # unlinked from the start: nothing left behind
    batches.close()

    # A full disk: a warning, and the images are decoded again instead.
    def disk_full(*args):
        raise OSError(28, "No space left on device")

    def half_written(fd, data, offset):  # the disk fills up in the middle of a row
        return len(memoryview(data).cast("B")) // 2

    def no_temporary_file(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    expected = ImageBatches(paths, loader, (8, 8, 3), 4)[0][0]
    for target, name, replacement, message in [
        (os, "pwrite", disk_full, "No space left on device"),
        (os, "pwrite", half_written, "wrote 96 of 192 bytes"),
        (tempfile, "TemporaryFile", no_temporary_file, "Permission denied"),
    ]:
        monkeypatch.setattr(target, name, replacement)
        full = ImageBatches(paths, loader, (8, 8, 3), 4, y=y, keep_decoded=True)
        with pytest.warns(RuntimeWarning, match=f"{message}.*TMPDIR"):
            first = full[0][0]
        assert not full._decoded.stored.any()  # nothing half-written is ever read back
        np.testing.assert_array_equal(first, expected)
        np.testing.assert_array_equal(full[0][0], expected)  # decoded again
        monkeypatch.undo()


def test_streaming_fit_and_predict_from_paths(demo_files, monkeypatch, tmp_path):
    from skcatdog import DeepCNNClassifier, ImageAugmenter

    paths, y = demo_files.data, demo_files.target
    made = []
    batches = DeepCNNClassifier._batches

    def spy(estimator, X, batch_size, **kwargs):
        made.append(batches(estimator, X, batch_size, **kwargs))
        return made[-1]

    monkeypatch.setattr(DeepCNNClassifier, "_batches", spy)
    _RecordingLoader.calls = []
    decodes = decode_count()
    clf = DeepCNNClassifier(
        epochs=2, batch_size=8, filters=(4, 8, 8), dense_units=8, random_state=0,
        augmentation=ImageAugmenter(horizontal_flip=True, zoom_range=0.1),
        loader=_RecordingLoader(image_size=(16, 16), cache=False),
    ).fit(paths, y)

    # Paths went in, 16x16 RGB images came out of the loader, a batch at a time.
    assert clf.image_shape_ == (16, 16, 3) and clf.n_features_in_ == 768
    assert max(_RecordingLoader.calls) <= 8
    # cache=False, two epochs: each file decoded once, read back from disk after.
    assert decode_count() - decodes == len(paths)
    assert any("random_affine" in layer.name for layer in clf.model_.layers)
    # The same stratified, shuffled validation split as for pixels.
    train, val = clf._validation_split(np.asarray(y))
    assert list(made[1].X) == list(np.asarray(paths)[val])
    assert sorted(made[0].X) == sorted(np.asarray(paths)[train])
    assert set(made[1].y.ravel()) == {0, 1}
    assert len(clf.history_["val_accuracy"]) == 2

    # Predicting from paths is predicting from the decoded pixels.
    pixels = ImageLoader(image_size=(16, 16)).transform(paths)
    expected = clf.model_.predict(pixels.reshape(-1, 16, 16, 3), verbose=0)
    proba = clf.predict_proba(paths)
    assert proba.shape == (len(paths), 2)
    np.testing.assert_allclose(proba[:, 1], expected.ravel(), rtol=1e-5, atol=1e-6)
    assert clf.score(paths, y) == np.mean(clf.predict(paths) == y)
    # One data path: the same classifier fitted on the decoded pixels in memory
    # is the same network.
    in_memory = clone(clf).set_params(loader=None).fit(pixels, y)
    np.testing.assert_allclose(in_memory.predict_proba(pixels), proba, rtol=1e-5, atol=1e-6)

    flip = clf.set_params(test_time_flip=True).predict_proba(paths)
    mirrored = clf.model_.predict(pixels.reshape(-1, 16, 16, 3)[:, :, ::-1], verbose=0)
    np.testing.assert_allclose(
        flip[:, 1], (expected.ravel() + mirrored.ravel()) / 2, rtol=1e-5, atol=1e-6
    )
    # Shifted views stream from the files as they come from the pixels.
    shifted = clf.set_params(test_time_shift=3).predict_proba(paths)
    np.testing.assert_allclose(
        shifted, in_memory.set_params(test_time_flip=True, test_time_shift=3)
        .predict_proba(pixels), rtol=1e-5, atol=1e-6)
    clf.set_params(test_time_shift=0)
    # A clone keeps the loader; the fitted estimator pickles (loader included).
    assert clone(clf).get_params()["loader"].get_params() == clf.loader.get_params()
    joblib.dump(clf, tmp_path / "clf.joblib")
    restored = joblib.load(tmp_path / "clf.joblib")
    np.testing.assert_allclose(restored.predict_proba(paths[:5]), flip[:5], rtol=1e-5)


def test_search_tunes_the_streaming_loaders_image_size(demo_files):
    from skcatdog import DeepCNNClassifier

    clf = DeepCNNClassifier(epochs=1, batch_size=8, filters=(4, 8, 8), dense_units=8,
                            random_state=0, loader=ImageLoader(image_size=(8, 8)))
    assert "loader__image_size" in clf.get_params()
    search = GridSearchCV(
        clf, {"loader__image_size": [(8, 8), (12, 12)]}, cv=2, error_score="raise",
        scoring={"accuracy": "accuracy", "height": lambda est, X, y: est.image_shape_[0]},
        refit="accuracy",
    ).fit(demo_files.data, demo_files.target)
    # Each candidate's network was built for its own image size.
    assert list(search.cv_results_["mean_test_height"]) == [8, 12]
    best = search.best_estimator_
    assert best.image_shape_ == (*best.loader.image_size, 3)


def test_streaming_rejects_a_mismatched_image_shape(demo_files):
    from skcatdog import DeepCNNClassifier

    clf = DeepCNNClassifier(image_shape=(8, 8, 3), loader=ImageLoader(image_size=(16, 16)))
    with pytest.raises(ValueError, match="loader makes images of shape"):
        clf.fit(demo_files.data, demo_files.target)


# -- accelerators ------------------------------------------------------------------


_MIRRORED = textwrap.dedent("""
    import numpy as np, tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from skcatdog import DeepCNNClassifier
    rng = np.random.RandomState(0)
    X = rng.randint(0, 256, size=(64, 8 * 8 * 3)).astype(np.uint8)
    y = np.array(["cat", "dog"] * 32)
    X[y == "dog"] //= 4
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():  # scikeras builds the network inside fit
        # 48 training and 16 validation images in batches of 16: every batch
        # splits evenly over the two replicas (uneven last batches fail in
        # TensorFlow's cross-replica sum on CPU devices).
        clf = DeepCNNClassifier(
            epochs=2, batch_size=16, validation_fraction=0.25, filters=4, dense_units=4,
            random_state=0,
        ).fit(X, y)
    assert strategy.num_replicas_in_sync == 2
    assert clf.model_.distribute_strategy is strategy
    variable = clf.model_.weights[0].value
    assert "Mirrored" in type(variable).__name__, type(variable)
    print("proba", clf.predict_proba(X[:4]).shape)
""")


def test_mirrored_strategy_scope_wraps_fit():
    """Two replicas (two logical CPUs, a new process): the docs' multi-GPU recipe."""
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", _MIRRORED], capture_output=True, text=True, timeout=300, env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "proba (4, 2)" in done.stdout


def test_fits_on_a_gpu_when_there_is_one(toy_images):
    tf = pytest.importorskip("tensorflow")
    if not tf.config.list_physical_devices("GPU"):
        pytest.skip("no GPU here")
    from skcatdog import DeepCNNClassifier

    X, y = toy_images
    clf = DeepCNNClassifier(epochs=1, filters=4, dense_units=4, random_state=0).fit(X, y)
    assert "GPU" in clf.model_.weights[0].value.device.upper()
    assert clf.predict_proba(X).shape == (len(X), 2)

