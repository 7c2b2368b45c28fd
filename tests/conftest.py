"""Fixtures shared across the test modules: small data and fitted models.

TensorFlow takes seconds to import and networks seconds to fit, so fitted
models are session fixtures that tests only read.
"""

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # as skcatdog sets it (_quiet.py)


def pytest_configure(config):
    """One TensorFlow thread per op, one op at a time, in every process that runs tests.

    A seeded fit gives the same numbers run after run only for a given
    intra-op thread count: shapes_clf below rates Grad-CAM inside the box 0.94
    on one thread and 0.99 on two (seed 1 of the former 12-epoch settings: 0.59
    and 0.35); the inter-op count and a busy machine change nothing.
    TensorFlow's default is one thread per core, so what the tests assert
    would follow the machine. One thread is also the fair share of each of
    ``pytest -n auto``'s one worker per core. ``TF_NUM_INTRAOP_THREADS``, if
    set, wins, to measure the tests under another count. TensorFlow sizes its
    pools once, at its first op, hence here, before collection; not in xdist's
    controller, which runs no test and need not import TensorFlow.
    """
    if getattr(config.option, "dist", "no") != "no" and not hasattr(config, "workerinput"):
        return
    if os.environ.get("TF_NUM_INTRAOP_THREADS"):
        return
    from skcatdog._quiet import import_tensorflow

    tf = import_tensorflow()
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)


@pytest.fixture(scope="session")
def toy_images():
    """60 RGB 16x16 images as flat uint8 rows: bright 'cat's, dark 'dog's, interleaved."""
    rng = np.random.RandomState(0)
    X = rng.randint(0, 256, size=(60, 16 * 16 * 3)).astype(np.uint8)
    y = np.array(["cat", "dog"] * 30, dtype=object)
    X[y == "dog"] //= 4
    return X, y


@pytest.fixture(scope="session")
def fitted_deep(toy_images):
    from skcatdog import DeepCNNClassifier

    X, y = toy_images
    clf = DeepCNNClassifier(epochs=3, filters=(8, 16, 16), dense_units=16, random_state=0)
    return clf.fit(X, y)


# -- inspection / plotting / report (issue 4) ---------------------------------
#
# 48x48, 200 training images per class, 20 epochs in batches of 16: ~6 s to fit.
# With the former 12 epochs in batches of 32 the network had half-learnt the
# shapes, so any numeric change moved the Grad-CAM numbers across their bars:
# over seeds 0-4 on 1 and 2 threads its mean-inside rate ranged 0.35-0.70
# against a bar of 0.6 (a loaded CI run saw 0.5875). With these settings, over
# seeds 0-9 on 1 and 2 threads (20 fits), the 80 test images score 0.91-1.00
# accuracy, last-conv Grad-CAM peak inside the box 0.78-0.96 and mean higher
# inside 0.78-1.00, conv2_1 0.91-1.00 and 0.80-1.00; seed 0 on one thread
# (what the tests get): 0.99 accuracy (1 mistake), 0.90 / 0.94, 0.99 / 1.00.


@pytest.fixture(scope="session")
def shapes_data():
    """Synthetic cats and dogs with known animal boxes: (train, test), each (X, y, boxes)."""
    from skcatdog.datasets import make_cats_and_dogs

    train = make_cats_and_dogs(200, image_size=(48, 48), random_state=0)
    test = make_cats_and_dogs(40, image_size=(48, 48), random_state=1)
    return train, test


@pytest.fixture(scope="session")
def shapes_clf(shapes_data):
    """A small DeepCNNClassifier that has learnt the shapes (read it, don't refit it)."""
    from skcatdog import DeepCNNClassifier

    (X, y, _), _ = shapes_data
    return DeepCNNClassifier(
        epochs=20, batch_size=16, filters=(16, 32, 32), dense_units=32, dropout=0.2,
        random_state=0,
    ).fit(X, y)


@pytest.fixture(scope="session")
def demo_files(tmp_path_factory):
    """Generated demo photos on disk (Kaggle flat layout): paths, labels, boxes."""
    from skcatdog.datasets import load_demo

    home = tmp_path_factory.mktemp("skcatdog_data")
    return load_demo(n_per_class=40, image_size=(32, 32), random_state=0, data_home=home)


REAL_DATA = __import__("pathlib").Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def real_photos_6k():
    """The 5,975 real Kaggle photos, or a clean skip where ../shared/data is absent."""
    folder = REAL_DATA / "dogs-vs-cats-6k"
    if not folder.is_dir():
        pytest.skip(f"real photos not found at {folder}")
    return folder


@pytest.fixture
def fresh_decode_cache():
    """An empty per-process decode cache before and after the test."""
    from skcatdog import loading

    loading.clear_cache()
    yield
    loading.clear_cache()


@pytest.fixture
def folder(tmp_path):
    """A fresh folder for the test's image files, as a str path."""
    return str(tmp_path)
