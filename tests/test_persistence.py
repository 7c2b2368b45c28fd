"""save_model / load_model: round trips in both formats, atomic writes, bad files."""

import json
import os
import pickle
import zipfile

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline

from skcatdog.persistence import FORMAT_VERSION, ModelFileError, load_model, save_model

FORMATS = ["model.skcatdog", "model.joblib"]


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory):
    from skcatdog.datasets import load_demo

    home = tmp_path_factory.mktemp("demo")
    return load_demo(n_per_class=12, image_size=(16, 16), data_home=home)


@pytest.fixture(scope="module")
def fitted_pipeline(demo_files):
    from skcatdog import DeepCNNClassifier, ImageAugmenter, ImageLoader

    pipe = Pipeline([
        ("load", ImageLoader(image_size=(16, 16))),
        ("cnn", DeepCNNClassifier(
            epochs=2, filters=(4, 8, 8), dense_units=8, random_state=0, test_time_flip=True,
            augmentation=ImageAugmenter(shear_range=0.1, zoom_range=0.1, horizontal_flip=True),
        )),
    ])
    return pipe.fit(demo_files.data, demo_files.target)


@pytest.fixture(scope="module")
def fitted_bare():
    from skcatdog import SimpleCNNClassifier

    rng = np.random.RandomState(0)
    X = rng.randint(0, 256, size=(30, 8 * 8 * 1)).astype(np.uint8)
    y = np.array([0, 1, 1] * 10)
    clf = SimpleCNNClassifier(epochs=2, filters=3, dense_units=4, image_shape=(8, 8, 1),
                              lr_schedule="cosine", random_state=0, class_weight="balanced")
    return clf.fit(X, y), X, y


def _inputs(kind, demo_files, fitted_pipeline, fitted_bare):
    if kind == "pipeline":
        return fitted_pipeline, demo_files.data
    return fitted_bare[:2]


@pytest.mark.parametrize("name", FORMATS)
@pytest.mark.parametrize("kind", ["bare", "pipeline"])
def test_round_trip_predicts_the_same(tmp_path, name, kind, demo_files, fitted_pipeline,
                                      fitted_bare):
    estimator, X = _inputs(kind, demo_files, fitted_pipeline, fitted_bare)
    path = save_model(estimator, tmp_path / name)
    assert path == tmp_path / name
    assert sorted(os.listdir(tmp_path)) == [name]  # no temporary file left behind

    again = load_model(path)

    assert type(again) is type(estimator)
    np.testing.assert_array_equal(again.predict_proba(X), estimator.predict_proba(X))
    np.testing.assert_array_equal(again.predict(X), estimator.predict(X))
    clf, clf_again = (estimator[-1], again[-1]) if kind == "pipeline" else (estimator, again)
    np.testing.assert_array_equal(clf_again.classes_, clf.classes_)
    assert clf_again.classes_.dtype == clf.classes_.dtype
    assert clf_again.image_shape_ == clf.image_shape_
    assert clf_again.n_features_in_ == clf.n_features_in_
    assert clf_again.history_ == clf.history_
    assert clf_again.best_epoch_ == clf.best_epoch_
    assert repr(again) == repr(estimator)
    assert repr(clone(again)) == repr(estimator)


def test_skcatdog_file_is_json_and_keras(tmp_path, fitted_pipeline):
    path = save_model(fitted_pipeline, tmp_path / "model.skcatdog")
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["model.keras", "params.json"]
        document = json.loads(archive.read("params.json"))
    assert document["format"] == "skcatdog-model"
    assert document["format_version"] == FORMAT_VERSION
    steps = document["estimator"]["params"]["steps"]
    names = [step["__tuple__"][1]["__estimator__"] for step in steps]
    assert names == ["skcatdog.loading.ImageLoader", "skcatdog.models.DeepCNNClassifier"]
    cnn = steps[1]["__tuple__"][1]
    assert cnn["params"]["augmentation"]["__estimator__"] == "skcatdog.augmentation.ImageAugmenter"
    assert cnn["fitted"]["best_epoch_"] == fitted_pipeline[-1].best_epoch_


def test_loaded_model_keeps_parameters(tmp_path, fitted_bare):
    clf = fitted_bare[0]
    again = load_model(save_model(clf, tmp_path / "m.skcatdog"))
    assert again.get_params() == clf.get_params()
    assert again.lr_schedule == "cosine" and again.image_shape == (8, 8, 1)


def test_save_over_existing_file_is_atomic(tmp_path, fitted_bare, monkeypatch):
    clf, X, _ = fitted_bare
    path = save_model(clf, tmp_path / "m.skcatdog")
    before = path.read_bytes()

    import keras

    def broken_save(self, *args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(keras.Model, "save", broken_save)
    with pytest.raises(RuntimeError, match="disk on fire"):
        save_model(clf, path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m.skcatdog"]


def test_unfitted_and_unsaveable(tmp_path, fitted_bare):
    import keras

    from skcatdog import DeepCNNClassifier

    with pytest.raises(NotFittedError):
        save_model(DeepCNNClassifier(), tmp_path / "m.skcatdog")
    clf, X, y = fitted_bare
    odd = clone(clf).set_params(callbacks=[keras.callbacks.TerminateOnNaN()]).fit(X, y)
    with pytest.raises(ValueError, match=r"callbacks.*\.joblib"):
        save_model(odd, tmp_path / "m.skcatdog")
    assert not (tmp_path / "m.skcatdog").exists()
    # the pickle takes anything
    again = load_model(save_model(odd, tmp_path / "m.joblib"))
    np.testing.assert_array_equal(again.predict_proba(X), odd.predict_proba(X))


@pytest.mark.parametrize("name", FORMATS)
@pytest.mark.parametrize("keep", [0.1, 0.5, 0.95])
def test_truncated_file_gives_clear_error(tmp_path, fitted_bare, name, keep):
    clf = fitted_bare[0]
    path = save_model(clf, tmp_path / name)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ModelFileError, match=str(path).replace("\\", "\\\\")):
        load_model(path)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "not a skcatdog model file"),
        (b"hello, I am a text file\n", "not a skcatdog model file"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "not a skcatdog model file"),
        (pickle.dumps({"a": 1}), "looks like a pickle"),
    ],
)
def test_foreign_file_as_skcatdog(tmp_path, content, message):
    path = tmp_path / "model.skcatdog"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=message) as info:
        load_model(path)
    assert str(path) in str(info.value)


def test_foreign_file_as_joblib(tmp_path):
    path = tmp_path / "model.joblib"
    path.write_text("hello, I am a text file\n")
    with pytest.raises(ModelFileError, match="model.joblib"):
        load_model(path)
    joblib.dump({"not": "a model"}, path)
    with pytest.raises(ModelFileError, match="holds a dict"):
        load_model(path)


class _Booby:
    """Unpickling this writes a file: the .skcatdog loader must never unpickle."""

    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_skcatdog_loader_never_unpickles(tmp_path):
    target = tmp_path / "pwned"
    path = tmp_path / "model.skcatdog"
    path.write_bytes(pickle.dumps(_Booby(str(target))))
    with pytest.raises(ModelFileError):
        load_model(path)
    assert not target.exists()


def _rewrite_params(path, edit):
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    document = json.loads(members["params.json"])
    edit(document)
    members["params.json"] = json.dumps(document).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_newer_format_version_is_refused(tmp_path, fitted_bare):
    path = save_model(fitted_bare[0], tmp_path / "m.skcatdog")
    _rewrite_params(path, lambda d: d.update(format_version=FORMAT_VERSION + 1))
    with pytest.raises(ModelFileError, match=r"m\.skcatdog.*format version.*Upgrade skcatdog"):
        load_model(path)


@pytest.mark.parametrize("name", ["builtins.eval", "os.system", "sklearn.svm.SVC",
                                  "skcatdog.cli.main", "skcatdog.nowhere.Thing"])
def test_classes_outside_the_allow_list_are_refused(tmp_path, fitted_bare, name):
    path = save_model(fitted_bare[0], tmp_path / "m.skcatdog")
    _rewrite_params(path, lambda d: d["estimator"].update({"__estimator__": name}))
    with pytest.raises(ModelFileError, match="does not load"):
        load_model(path)


def test_private_attributes_are_refused(tmp_path, fitted_bare):
    path = save_model(fitted_bare[0], tmp_path / "m.skcatdog")
    _rewrite_params(path, lambda d: d["estimator"]["fitted"].update({"__class__": "x"}))
    with pytest.raises(ModelFileError, match="not a fitted attribute"):
        load_model(path)


def test_zip_without_params(tmp_path):
    path = tmp_path / "m.skcatdog"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(ModelFileError, match="no params.json"):
        load_model(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.skcatdog"):
        load_model(tmp_path / "nothing.skcatdog")
    with pytest.raises(ModelFileError, match="is a folder"):
        load_model(tmp_path)


@pytest.mark.parametrize("name", FORMATS)
def test_pipeline_without_shear_round_trips_in_both_formats(tmp_path, name, demo_files,
                                                            fitted_bare):
    from skcatdog import ImageLoader

    pipe = Pipeline([("load", ImageLoader(image_size=(8, 8), color_mode="grayscale")),
                     ("cnn", fitted_bare[0])])
    again = load_model(save_model(pipe, tmp_path / name))
    np.testing.assert_array_equal(again.predict_proba(demo_files.data),
                                  pipe.predict_proba(demo_files.data))
    np.testing.assert_array_equal(again.predict(demo_files.data), pipe.predict(demo_files.data))
