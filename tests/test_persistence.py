"""save_model / load_model: round trips in both formats, atomic writes, bad and hostile files."""

import io
import json
import os
import pickle
import re
import socket
import struct
import tempfile
import threading
import tracemalloc
import zipfile
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline

from skcatdog import persistence
from skcatdog.persistence import (
    FORMAT_VERSION,
    ModelFileError,
    is_pickle_file,
    load_model,
    save_model,
)

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


# -- hostile .skcatdog files: "model files are data, not code" -----------------


@pytest.fixture(scope="module")
def saved_bare(tmp_path_factory, fitted_bare):
    """The bytes of a valid .skcatdog file of the bare classifier."""
    return save_model(fitted_bare[0], tmp_path_factory.mktemp("saved") / "m.skcatdog").read_bytes()


@pytest.fixture
def model_file(tmp_path, saved_bare):
    path = tmp_path / "m.skcatdog"
    path.write_bytes(saved_bare)
    return path


def _refused(path, match):
    """load_model(path) raises ModelFileError matching ``match``, starting with the path."""
    with pytest.raises(ModelFileError, match=match) as info:
        load_model(path)
    assert str(info.value).startswith(f"{path}: ")
    return str(info.value)


def _members(data):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _zip(members, compression=zipfile.ZIP_DEFLATED):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _patch_headers(data, name, local_offset, central_offset, fmt, value):
    """The zip ``data`` with one field of ``name``'s local and central headers set to ``value``."""
    data = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info, pos = archive.getinfo(name), archive.start_dir
    assert data[info.header_offset:info.header_offset + 4] == b"PK\x03\x04"
    struct.pack_into(fmt, data, info.header_offset + local_offset, value)
    while data[pos:pos + 4] == b"PK\x01\x02":
        n, m, k = struct.unpack_from("<HHH", data, pos + 28)
        if data[pos + 46:pos + 46 + n] == name.encode():
            struct.pack_into(fmt, data, pos + central_offset, value)
        pos += 46 + n + m + k
    return bytes(data)


def _declare_size(data, name, size):
    return _patch_headers(data, name, 22, 24, "<I", size)


def _data_offset(data, name):
    """Where ``name``'s (compressed) bytes start in the zip ``data``."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        offset = archive.getinfo(name).header_offset
    n, m = struct.unpack_from("<HH", data, offset + 26)
    return offset + 30 + n + m


def _limit(name, value):
    return rf"over the limit of {value:,} \(skcatdog\.persistence\.{name}\)"


# 1. Sizes are checked from the headers before reading, and while reading.


def _big_member(path, name, n_bytes, head=b"", others=()):
    """Write a zip whose member ``name`` is ``head`` then ``n_bytes`` of spaces, deflated."""
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    chunk = b" " * (1 << 20)
    with zipfile.ZipFile(path, "w") as archive:
        with archive.open(info, "w") as out:
            out.write(head)
            for _ in range(n_bytes >> 20):
                out.write(chunk)
        for other, data in others:
            archive.writestr(other, data)


def _peak_of_refusal(path, match):
    """Refuse ``path`` as _refused does; return the peak bytes Python allocated meanwhile."""
    tracemalloc.start()
    try:
        _refused(path, match)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(("bombed", "other"), [("params.json", "model.keras"),
                                               ("model.keras", "params.json")])
def test_zip_bomb_whose_header_lies_stops_at_the_declared_size(model_file, saved_bare, bombed,
                                                               other):
    # 200 MiB of deflated spaces (about 200 KiB in the file) behind a header that
    # declares only the real member's size.
    members = _members(saved_bare)
    real = members[bombed]
    _big_member(model_file, bombed, 200 << 20, head=real, others=[(other, members[other])])
    assert model_file.stat().st_size < 1 << 20
    model_file.write_bytes(_declare_size(model_file.read_bytes(), bombed, len(real)))
    peak = _peak_of_refusal(
        model_file, rf"damaged or truncated archive: BadZipFile: Bad CRC-32 for file "
                    rf"'{re.escape(bombed)}'"
    )
    # Only the declared bytes were decompressed, a chunk at a time.
    assert peak < 8 << 20


def test_members_declaring_too_much_are_refused_before_reading(model_file, saved_bare):
    members = _members(saved_bare)
    # An honest header over the limit: 17 MiB of params.json.
    _big_member(model_file, "params.json", 17 << 20,
                others=[("model.keras", members["model.keras"])])
    peak = _peak_of_refusal(
        model_file,
        rf"params\.json declares 17,825,792 bytes, {_limit('MAX_PARAMS_BYTES', 16 << 20)}; "
        r"not read\.$",
    )
    assert peak < 1 << 20
    # A header that lies upwards: 3 GiB declared for model.keras.
    model_file.write_bytes(_declare_size(saved_bare, "model.keras", 3 << 30))
    _refused(model_file, rf"model\.keras declares 3,221,225,472 bytes, "
                         rf"{_limit('MAX_KERAS_BYTES', 1 << 30)}; not read\.$")


def test_member_expanding_too_much_is_refused(model_file, saved_bare):
    members = _members(saved_bare)
    _big_member(model_file, "model.keras", 20 << 20,
                others=[("params.json", members["params.json"])])
    _refused(model_file, r"model\.keras would expand from [\d,]+ to 20,971,520 bytes, more than "
                         r"100 times \(skcatdog\.persistence\.MAX_COMPRESSION_RATIO\); not read\.")


def test_size_limits_are_read_at_every_load(model_file, monkeypatch):
    monkeypatch.setattr(persistence, "MAX_PARAMS_BYTES", 1000)
    _refused(model_file,
             rf"params\.json declares [\d,]+ bytes, {_limit('MAX_PARAMS_BYTES', 1000)}")
    monkeypatch.undo()
    monkeypatch.setattr(persistence, "MAX_KERAS_BYTES", 10_000)
    _refused(model_file,
             rf"model\.keras declares [\d,]+ bytes, {_limit('MAX_KERAS_BYTES', 10_000)}")


def test_reading_stops_once_a_member_gives_more_than_it_declares(model_file, monkeypatch):
    # zipfile never returns more than the declared size; should it ever, the
    # loader stops at the first chunk past it.
    monkeypatch.setattr(zipfile.ZipFile, "open",
                        lambda self, info, *a, **k: io.BytesIO(b" " * (info.file_size + 1)))
    _refused(model_file, r"params\.json holds more than the [\d,]+ bytes it declares; "
                         r"not read further\.$")


def _inner_keras(saved_bare, edit):
    """The valid archive with its model.keras zip rewritten by ``edit(data) -> data``."""
    members = _members(saved_bare)
    members["model.keras"] = edit(members["model.keras"])
    return _zip(members, zipfile.ZIP_STORED)


def test_keras_zip_members_are_checked_before_keras_reads_them(model_file, saved_bare):
    model_file.write_bytes(_inner_keras(
        saved_bare, lambda data: _declare_size(data, "model.weights.h5", 2 << 30)))
    _refused(model_file, rf"model\.keras/model\.weights\.h5 declares 2,147,483,648 bytes, "
                         rf"{_limit('MAX_KERAS_BYTES', 1 << 30)}; not read\.$")

    def bomb(data):
        inner = _members(data)
        inner["model.weights.h5"] = bytes(2 << 20)
        return _zip(inner)

    model_file.write_bytes(_inner_keras(saved_bare, bomb))
    _refused(model_file, r"model\.keras/model\.weights\.h5 would expand from [\d,]+ to "
                         r"2,097,152 bytes, more than 100 times")

    def crowd(data):
        inner = _members(data)
        inner.update({f"assets/{i}": b"" for i in range(64)})
        return _zip(inner)

    model_file.write_bytes(_inner_keras(saved_bare, crowd))
    _refused(model_file, r"its Keras model model\.keras lists 67 members in a directory of "
                         r"[\d,]+ bytes, over the limit of 64 members "
                         r"\(skcatdog\.persistence\.MAX_MEMBERS\); not read\.$")


def test_too_many_members_are_refused_before_the_directory_is_read(model_file, saved_bare):
    members = _members(saved_bare)
    members.update({f"junk{i}": b"" for i in range(63)})
    model_file.write_bytes(_zip(members))
    _refused(model_file, r"the archive lists 65 members in a directory of [\d,]+ bytes, over the "
                         r"limit of 64 members \(skcatdog\.persistence\.MAX_MEMBERS\)")


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA, 99])
@pytest.mark.parametrize("member", ["params.json", "model.keras"])
def test_only_stored_and_deflated_members_are_read(model_file, saved_bare, method, member):
    if method == 99:  # no such method: zipfile itself would raise NotImplementedError
        data = _patch_headers(saved_bare, member, 8, 10, "<H", 99)
    else:
        members = _members(saved_bare)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, content in members.items():
                archive.writestr(name, content,
                                 compress_type=method if name == member else zipfile.ZIP_STORED)
        data = buffer.getvalue()
    model_file.write_bytes(data)
    _refused(model_file, rf"{re.escape(member)} uses compression method {method}: unknown "
                         r"compression \(skcatdog reads only stored and deflated members\)\.$")


def test_encrypted_member_is_refused(model_file, saved_bare):
    model_file.write_bytes(_patch_headers(saved_bare, "params.json", 6, 8, "<H", 0x1))
    _refused(model_file, r"params\.json is encrypted; not read\.$")


# 2. Arrays are checked before they are allocated.


def _edit_classes(path, **node):
    _rewrite_params(path, lambda d: d["estimator"]["fitted"]["classes_"].update(node))


WHERE = r"the estimator \(SimpleCNNClassifier\)"


@pytest.mark.parametrize(
    "node, message",
    [
        ({"shape": [10**9]}, r"its arrays would take 8,000,000,000 bytes, over the limit of "
                             r"67,108,864 \(skcatdog\.persistence\.MAX_ARRAY_BYTES\); not "
                             r"allocated\.$"),
        ({"shape": [2**40, 2**40]}, "its arrays would take"),
        ({"shape": "x"}, r"the array shape 'x' is not a list of at most 8 non-negative ints\."),
        ({"shape": [-1]}, r"the array shape \[-1\] is not a list"),
        ({"shape": [1.5]}, r"the array shape \[1\.5\] is not a list"),
        ({"shape": [True, True]}, r"the array shape \[True, True\] is not a list"),
        ({"shape": [1] * 9}, r"the array shape \[1(, 1){8}\] is not a list of at most 8"),
        ({"dtype": "V8"}, r"'V8' is not a dtype skcatdog loads \(booleans, numbers, strings of at "
                          r"most 65,536 bytes, or 'object'\)\.$"),
        ({"dtype": "M8[ns]"}, "'M8\\[ns\\]' is not a dtype skcatdog loads"),
        ({"dtype": "f8,i4"}, "'f8,i4' is not a dtype"),
        ({"dtype": "(2,)i4"}, r"'\(2,\)i4' is not a dtype"),
        ({"dtype": "<c16"}, "'<c16' is not a dtype"),
        ({"dtype": "|S5"}, r"'\|S5' is not a dtype"),
        ({"dtype": "<U100000"}, "'<U100000' is not a dtype"),
        ({"dtype": "no such type"}, "'no such type' is not a dtype"),
        ({"dtype": {"names": ["a"], "formats": ["<i8"]}}, r"\{'names': \['a'\], 'formats': "
                                                         r"\['<i8'\]\} is not a dtype"),
        ({"shape": [3]}, r"the array data do not match its shape \[3\] and dtype int64\.$"),
        ({"__ndarray__": [0, "a"]},
         r"the array data do not match its shape \[2\] and dtype int64"),
        ({"__ndarray__": [[0], [1]]}, r"the array data do not match its shape \[2\]"),
        ({"__ndarray__": 5}, r"the array data do not match its shape \[2\]"),
        ({"__ndarray__": [0, 300], "dtype": "|u1"},
         r"the array data do not fit its dtype uint8: Python integer 300 out of bounds"),
        ({"__ndarray__": [0, 2**70]}, "the array data do not fit its dtype int64"),
        ({"__ndarray__": [0, float("nan")]},
         "the array data do not fit its dtype int64: cannot convert float NaN to integer"),
        ({"unexpected": 1}, r"unexpected key 'unexpected'\.$"),
    ],
)
def test_arrays_are_checked_before_allocating(model_file, node, message):
    _edit_classes(model_file, **node)
    _refused(model_file, rf"{WHERE}\.classes_: {message}")


def test_array_without_dtype_is_refused(model_file):
    _rewrite_params(model_file, lambda d: d["estimator"]["fitted"]["classes_"].pop("dtype"))
    _refused(model_file, rf"{WHERE}\.classes_: an __ndarray__ needs a dtype and a shape\.$")


def test_arrays_count_against_one_budget_per_file(model_file):
    # Each array is under MAX_ARRAY_BYTES (600 strings of 64 KiB: 39 MB); the
    # second one takes the file over it (with classes_' 16 bytes), and neither
    # is allocated.
    big = {"__ndarray__": [""] * 600, "dtype": "<U16384", "shape": [600]}
    _rewrite_params(model_file, lambda d: d["estimator"]["fitted"].update(a_=big, b_=big))
    tracemalloc.start()
    try:
        _refused(model_file, rf"{WHERE}\.b_: its arrays would take 78,643,216 bytes, "
                             r"over the limit of 67,108,864")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < persistence.MAX_ARRAY_BYTES  # a_ was allocated, b_ was not


@pytest.mark.parametrize("spec", ["V8", "M8", "<c8", 5, None, ["<i8"]])
def test_dtype_nodes_are_checked(model_file, spec):
    _rewrite_params(model_file,
                    lambda d: d["estimator"]["fitted"].update(X_dtype_={"__dtype__": spec}))
    _refused(model_file, rf"{WHERE}\.X_dtype_: .* is not a dtype skcatdog loads")


def test_the_fitted_input_size_is_bounded(model_file):
    _rewrite_params(model_file, lambda d: d["estimator"]["fitted"].update(n_features_in_=10**12))
    _refused(model_file, rf"{WHERE}: its arrays would take 1,000,000,000,016 bytes")


# 3. Only the class's own parameters and fitted attributes.


@pytest.mark.parametrize("name", ["predict", "fit", "predict_proba", "__class__", "__init__",
                                  "_validate_params", "__dict__", "__tuple__", "model",
                                  "build_fn", "feature_encoder", "initialized_", "nonsense",
                                  "optimizer__", "callbacks__0"])
def test_only_real_parameters_are_set(model_file, name):
    _rewrite_params(model_file, lambda d: d["estimator"]["params"].update({name: "x"}))
    _refused(model_file,
             rf"{WHERE}: '{re.escape(name)}' is not a parameter of SimpleCNNClassifier\.$")


@pytest.mark.parametrize("name", ["predict", "fit", "predict_proba", "__class__", "__init__",
                                  "_validate_params", "__dict__", "model_", "target_encoder_",
                                  "feature_encoder", "initialized_", "_private", "bad-name_"])
def test_only_fitted_attributes_that_shadow_nothing_are_set(model_file, name):
    _rewrite_params(model_file, lambda d: d["estimator"]["fitted"].update({name: "x"}))
    _refused(model_file,
             rf"{WHERE}: '{re.escape(name)}' is not a fitted attribute skcatdog restores\.$")


def test_routed_parameters_are_real_parameters(model_file):
    _rewrite_params(model_file, lambda d: d["estimator"]["params"].update(optimizer__beta_1=0.8))
    again = load_model(model_file)
    assert again.get_params()["optimizer__beta_1"] == 0.8


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("dropout", "x", r"The 'dropout' parameter of SimpleCNNClassifier must be a float in the "
                         r"range \[0(\.0)?, 1(\.0)?\)\. Got 'x' instead\.$"),
        ("dropout", float("nan"), r"The 'dropout' parameter of SimpleCNNClassifier must be"),
        ("epochs", -1, "The 'epochs' parameter of SimpleCNNClassifier must be an int"),
        ("lr_schedule", "rm -rf /", "The 'lr_schedule' parameter of SimpleCNNClassifier must be a "
                                    "str among"),
        ("optimizer", 5, "The 'optimizer' parameter of SimpleCNNClassifier must be"),
        ("augmentation", "x", "The 'augmentation' parameter of SimpleCNNClassifier must be"),
        ("loader", {"a": 1}, "The 'loader' parameter of SimpleCNNClassifier must be"),
        ("callbacks", "x", "The 'callbacks' parameter of SimpleCNNClassifier must be"),
    ],
)
def test_parameter_values_are_validated(model_file, name, value, message):
    _rewrite_params(model_file, lambda d: d["estimator"]["params"].update({name: value}))
    _refused(model_file, rf"{WHERE}: invalid parameter: {message}")


def _in_pipeline(document, **extra):
    document["estimator"] = {
        "__estimator__": "sklearn.pipeline.Pipeline",
        "params": {"steps": [{"__tuple__": ["cnn", document["estimator"]]}], "memory": None,
                   "transform_input": None, "verbose": False},
        **extra,
    }


def test_pipeline_steps_and_attributes_are_checked(model_file, tmp_path, saved_bare):
    _rewrite_params(model_file, _in_pipeline)
    assert isinstance(load_model(model_file), Pipeline)
    pipe = r"the estimator \(Pipeline\)"

    model_file.write_bytes(saved_bare)
    _rewrite_params(model_file, lambda d: _in_pipeline(d, fitted={"classes_": [0, 1]}))
    _refused(model_file, rf"{pipe}: 'classes_' is not a fitted attribute skcatdog restores\.$")

    for steps, message in [
        ([5], r"the steps are not a list of \(name, estimator\) pairs\.$"),
        ([{"__tuple__": ["a", "b", "c"]}], r"the steps are not a list of \(name, estimator\)"),
        ([{"__tuple__": ["a", "x"]}], "invalid steps: Last step of Pipeline should implement fit"),
        ("steps", r"invalid parameter: The 'steps' parameter of Pipeline must be"),
    ]:
        model_file.write_bytes(saved_bare)
        _rewrite_params(model_file, _in_pipeline)
        _rewrite_params(model_file, _set(E, P, "steps", value=steps))
        _refused(model_file, rf"{pipe}: {message}")

    model_file.write_bytes(saved_bare)
    _rewrite_params(model_file,
                    lambda d: _in_pipeline(d, keras_model="model.keras"))
    _refused(model_file, rf"{pipe}: a Pipeline holds no Keras model\.$")


# 4. Special files are refused from os.stat, without blocking.


def _loads_within(path, seconds):
    """What load_model(path) raised, run in a thread that must end within ``seconds``."""
    outcome = []

    def load():
        try:
            load_model(path)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():  # blocked opening the FIFO: give it a writer, so that it ends
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(seconds)
        pytest.fail(f"load_model({path}) blocked")
    return outcome[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
@pytest.mark.parametrize("name", FORMATS)
def test_fifo_is_refused_without_blocking(tmp_path, name):
    path = tmp_path / name
    os.mkfifo(path)
    error = _loads_within(path, 5)
    assert isinstance(error, ModelFileError)
    assert str(error) == f"{path}: not a regular file (a FIFO, device or socket?); not opened."


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
@pytest.mark.parametrize("name", [None, *FORMATS])
def test_devices_are_refused(tmp_path, device, name):
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    path = device
    if name is not None:  # a link with a model's name: os.stat follows it
        path = tmp_path / name
        path.symlink_to(device)
    _refused(path, r"not a regular file \(a FIFO, device or socket\?\); not opened\.$")


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no Unix sockets")
def test_socket_is_refused():
    with tempfile.TemporaryDirectory(dir="/tmp") as folder:  # socket paths must be short
        path = os.path.join(folder, "m.skcatdog")
        with socket.socket(socket.AF_UNIX) as server:
            server.bind(path)
            _refused(path, "not a regular file")


@pytest.mark.parametrize("name", FORMATS)
def test_huge_file_is_refused_from_its_size(tmp_path, name, monkeypatch):
    path = tmp_path / name
    with open(path, "wb") as f:  # sparse: 3 GiB that take no disk
        f.truncate(3 << 30)
    opened = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda p, *a, **k: opened.append(p) or real_open(p, *a, **k))
    _refused(path, r"file too large: 3,221,225,472 bytes, over the limit of 2,147,483,648 "
                   r"\(skcatdog\.persistence\.MAX_MODEL_FILE_BYTES\); not read\.$")
    assert os.fspath(path) not in [os.fspath(p) for p in opened]  # refused from its size


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="needs file permissions that bind the user")
def test_unreadable_file_raises_permission_error(model_file):
    model_file.chmod(0)
    with pytest.raises(PermissionError):
        load_model(model_file)


# 5. Every corruption is a ModelFileError naming the file.


def test_bad_crc_is_a_model_file_error(model_file, saved_bare):
    data = bytearray(_zip(_members(saved_bare), zipfile.ZIP_STORED))
    data[_data_offset(bytes(data), "params.json") + 2] ^= 0x20
    model_file.write_bytes(bytes(data))
    _refused(model_file, r"damaged or truncated archive: BadZipFile: Bad CRC-32 for file "
                         r"'params\.json'$")
    data = bytearray(saved_bare)
    data[_data_offset(saved_bare, "model.keras") + 1000] ^= 0x01
    model_file.write_bytes(bytes(data))
    _refused(model_file, r"Bad CRC-32 for file 'model\.keras'$")


def test_damaged_deflate_stream_is_a_model_file_error(model_file, saved_bare):
    data = bytearray(saved_bare)
    data[_data_offset(saved_bare, "params.json")] = 0xFF  # block type 3: reserved
    model_file.write_bytes(bytes(data))
    _refused(model_file, r"damaged or truncated archive: error: Error -3 while decompressing "
                         r"data: invalid block type$")


def _write_params(path, saved_bare, text):
    members = _members(saved_bare)
    members["params.json"] = text if isinstance(text, bytes) else text.encode()
    path.write_bytes(_zip(members))


@pytest.mark.parametrize("depth", [62, 100, 100_000])
def test_deeply_nested_json_is_refused(model_file, saved_bare, depth):
    document = json.loads(_members(saved_bare)["params.json"])
    document["estimator"]["fitted"]["history_"] = "DEEP"
    text = json.dumps(document).replace('"DEEP"', "[" * depth + "]" * depth)
    _write_params(model_file, saved_bare, text)
    _refused(model_file, r"params\.json nests more than 64 levels deep "
                         r"\(skcatdog\.persistence\.MAX_NESTING\)\.$")


def test_nesting_up_to_the_limit_loads(model_file, saved_bare):
    document = json.loads(_members(saved_bare)["params.json"])
    # document > estimator > fitted > history_ are 3 levels: 61 more lists.
    document["estimator"]["fitted"]["history_"] = "DEEP"
    text = json.dumps(document).replace('"DEEP"', "[" * 61 + "]" * 61)
    _write_params(model_file, saved_bare, text)
    assert load_model(model_file).history_ == json.loads("[" * 61 + "]" * 61)


@pytest.mark.parametrize(
    "text, message",
    [
        (b"\xff\xfe{}", r"params\.json is not UTF-8 text: 'utf-8' codec can't decode byte 0xff"),
        ("{\"format\": ", r"params\.json is not valid JSON: Expecting value"),
        ("[1, 2]", r"params\.json does not describe a skcatdog model\.$"),
        ("{\"format\": \"skcatdog-model\", \"format_version\": 1, \"n\": 1" + "0" * 5000 + "}",
         r"params\.json is not valid JSON: Exceeds the limit \(4300 digits\)"),
    ],
)
def test_params_that_are_not_json_documents(model_file, saved_bare, text, message):
    _write_params(model_file, saved_bare, text)
    _refused(model_file, message)


def _set(*keys, value):
    def edit(document):
        node = document
        for key in keys[:-1]:
            node = node[key]
        if value is _DROP:
            del node[keys[-1]]
        else:
            node[keys[-1]] = value

    return edit


_DROP = object()
E, P, F = "estimator", "params", "fitted"


@pytest.mark.parametrize(
    "edit, message",
    [
        (_set(E, value=5), r"params\.json holds no estimator\.$"),
        (_set(E, value=_DROP), r"params\.json holds no estimator\.$"),
        (_set("format_version", value=True), r"unknown format version True\.$"),
        (_set("format_version", value="1"), r"unknown format version '1'\.$"),
        (_set(E, "__estimator__", value=5), r"the estimator: a class name is a int, not a string"),
        (_set(E, "__estimator__", value=["os.system"]), r"the estimator: a class name is a list"),
        (_set(E, P, value=5), rf"{WHERE}: the parameters are a int, not an object\.$"),
        (_set(E, P, value=[]), rf"{WHERE}: the parameters are a list, not an object\.$"),
        (_set(E, P, "image_shape", "__tuple__", value=3),
         rf"{WHERE}\.image_shape: a __tuple__ holds a int, not a list\.$"),
        (_set(E, P, "image_shape", "extra", value=3),
         rf"{WHERE}\.image_shape: unexpected key 'extra'\.$"),
        (_set(E, "keras_model", value=5),
         r": 5 does not name a Keras model member \(model\.keras, model_1\.keras, \.\.\.\)\.$"),
        (_set(E, "keras_model", value="../../etc/passwd"),
         r": '\.\./\.\./etc/passwd' does not name a Keras model member"),
        (_set(E, "keras_model", value="model_1.keras"),
         r": the Keras model 'model_1\.keras' is missing\.$"),
        (_set(E, "code", value="import os"), r"the estimator: unexpected key 'code'\.$"),
        (_set(E, F, value=5), rf"{WHERE}: the fitted state of SimpleCNNClassifier is malformed"),
        (_set(E, F, "history_", value={"__dict__": 3}),
         rf"{WHERE}\.history_: a __dict__ must hold a list of \[key, value\] pairs\.$"),
        (_set(E, F, "history_", value={"__dict__": [[[1], 2]]}),
         rf"{WHERE}\.history_: a dict key is a list\.$"),
        (_set(E, F, "history_", value={"__evil__": 1}),
         rf"{WHERE}\.history_: unexpected key '__evil__'\.$"),
        (_set(E, F, "history_", value={"__dtype__": "<i8", "x": 1}),
         rf"{WHERE}\.history_: unexpected key 'x'\.$"),
        (_set(E, F, "n_features_in_", value="x"),
         rf"{WHERE}: the fitted state lacks classes_, or n_features_in_ and X_dtype_ are not a "
         r"positive int and a dtype\.$"),
        (_set(E, F, "n_features_in_", value=float("nan")), rf"{WHERE}: the fitted state lacks"),
        (_set(E, F, "classes_", value=_DROP), rf"{WHERE}: the fitted state lacks classes_"),
        (_set(E, F, "classes_", value=[]),
         rf"{WHERE}: its fitted state does not fit a scikeras classifier: ValueError: Found "
         r"array with 0 sample\(s\)"),
    ],
)
def test_malformed_params_are_model_file_errors(model_file, edit, message):
    _rewrite_params(model_file, edit)
    _refused(model_file, message)


def test_a_keras_model_that_fails_to_load_is_a_model_file_error(model_file, saved_bare):
    members = _members(saved_bare)
    for keras_bytes, message in [
        (b"not a zip", r"its Keras model model\.keras is not a zip archive\.$"),
        (_zip({"hello.txt": b"hi"}), r"its Keras model model\.keras cannot be loaded: "),
        (_zip({**_members(members["model.keras"]), "config.json": b"{"}),
         r"its Keras model model\.keras cannot be loaded: "),
    ]:
        model_file.write_bytes(_zip({**members, "model.keras": keras_bytes}))
        _refused(model_file, message)


def test_keras_lambda_layers_are_refused(model_file, saved_bare, tmp_path):
    import keras

    target = tmp_path / "pwned"
    model = keras.Sequential([keras.Input((64,)),
                              keras.layers.Lambda(lambda x, t=str(target): (open(t, "w"), x)[1])])
    model.save(tmp_path / "lambda.keras")
    target.unlink()  # building the model ran the lambda; loading it must not
    model_file.write_bytes(_zip({**_members(saved_bare),
                                 "model.keras": (tmp_path / "lambda.keras").read_bytes()}))
    _refused(model_file, r"its Keras model model\.keras cannot be loaded: ValueError: .*"
                         r"Lambda.*safe_mode")
    assert not target.exists()


# 6. Pickles: still loaded from Python, and told apart by name.


def test_is_pickle_file():
    assert "is_pickle_file" in persistence.__all__
    for name in ["m.joblib", "m.PKL", "a/b/m.pickle", "m.skcatdog.joblib"]:
        assert is_pickle_file(name) and is_pickle_file(Path(name))
    for name in ["m.skcatdog", "m", "joblib", "m.joblib.skcatdog", "m.json"]:
        assert not is_pickle_file(name)
    assert "can run arbitrary code" in " ".join(load_model.__doc__.split())


def test_weights_keras_leaves_unread_are_refused_not_left_at_random(tmp_path, fitted_bare,
                                                                     monkeypatch):
    """Keras only warns when weights it cannot match leave layers freshly
    initialised (its nested-container fallback, seen while fuzzing)."""
    import warnings

    import keras

    path = save_model(fitted_bare[0], tmp_path / "model.skcatdog")
    real_load = keras.saving.load_model

    def load_and_warn(*args, **kwargs):
        model = real_load(*args, **kwargs)
        warnings.warn("Skipping nested container at 'layers': no matching group found in the "
                      "saved file. Affected layers will retain their freshly-initialized "
                      "weights.", stacklevel=2)
        return model

    monkeypatch.setattr(keras.saving, "load_model", load_and_warn)
    with pytest.raises(ModelFileError, match=r"model\.skcatdog: the weights of its Keras model "
                                             r"model\.keras cannot all be read: Skipping"):
        load_model(path)


def _with_keras_member(saved, name, change):
    """The model file ``saved`` with ``change(bytes)`` applied to its .keras zip's ``name``."""
    members = _members(saved)
    inner = _members(members["model.keras"])
    inner[name] = change(inner[name])
    members["model.keras"] = _zip(inner, zipfile.ZIP_STORED)
    return _zip(members)


def test_a_config_declaring_huge_layers_is_refused_before_keras_allocates(model_file,
                                                                          saved_bare):
    """Keras builds variables from config.json before reading a weight: a 10**9-unit
    Dense layer (tens of GB) must not be allocated."""
    def huge_dense(config):
        document = json.loads(config)
        dense = [layer for layer in document["config"]["layers"]
                 if layer["class_name"] == "Dense"][0]
        dense["config"]["units"] = 10**9
        return json.dumps(document).encode()

    model_file.write_bytes(_with_keras_member(saved_bare, "config.json", huge_dense))
    _refused(model_file, r"its Keras model model\.keras would create a variable of "
                         r"[\d,]+ bytes, over what its weights file allows \([\d,]+ bytes for "
                         r"all of them\); not created\.$")


def test_weights_declaring_more_than_they_hold_are_refused(model_file, saved_bare):
    import h5py

    def inflated(weights):
        buffer = io.BytesIO(weights)
        with h5py.File(buffer, "r+") as h5:  # 4 GB of zeros, compressed to nothing
            h5.create_dataset("layers/huge", shape=(10**9,), dtype="float32",
                              chunks=(1 << 20,), compression="gzip")
        return buffer.getvalue()

    model_file.write_bytes(_with_keras_member(saved_bare, "model.weights.h5", inflated))
    _refused(model_file, r"its Keras model model\.keras's weights declare 4,000,[\d,]+ bytes "
                         r"of arrays in a file of [\d,]+; not loaded\.$")


def test_the_variable_budget_holds_only_while_a_file_loads(model_file):
    """After load_model, Keras' variables are not counted: any size may be created."""
    import keras

    from skcatdog import persistence

    load_model(model_file)
    assert keras.Variable.__init__.skcatdog_counting  # the counter is installed
    assert persistence._variable_budget.left is None
    big = keras.Variable(initializer="zeros", shape=(4096, 4096 + 1024))  # 80 MiB
    assert big.shape == (4096, 5120)


# -- files written by the previous release ------------------------------------------

OLD = Path(__file__).parent / "data"


def test_release_0_1_files_of_the_notebook_networks_load_and_predict_the_same():
    X, expected = np.load(OLD / "images-0.1.0.npy"), np.load(OLD / "deep-0.1.0-proba.npy")
    for clf in (load_model(OLD / "deep-0.1.0.skcatdog"), joblib.load(OLD / "deep-0.1.0.joblib")):
        np.testing.assert_allclose(clf.predict_proba(X), expected, rtol=1e-6)
        # Parameters added since take their defaults; a clone refits as today's.
        assert clf.get_params()["warmup_fraction"] == 0.0
        assert clone(clf).fit(X, ["cat", "dog"] * 12).predict(X).shape == (24,)


def test_release_0_1_files_of_the_tuned_network_are_refused_naming_the_version():
    with pytest.raises(ModelFileError, match=r"saved by skcatdog 0\.1\.0; TunedCNNClassifier's "
                                             r"network changed in skcatdog 0\.2\.0"):
        load_model(OLD / "tuned-0.1.0.skcatdog")
    with pytest.raises(TypeError, match=r"pickled by skcatdog 0\.1\.0; its network changed"):
        joblib.load(OLD / "tuned-0.1.0.joblib")


def test_skops_round_trips_a_fitted_pipeline(fitted_pipeline, demo_files):
    """skops (MLflow 3's default format) reads the state as plain data: the network
    travels as its .keras bytes, and only our own classes need trusting."""
    sio = pytest.importorskip("skops.io")

    data = sio.dumps(fitted_pipeline)
    untrusted = sio.get_untrusted_types(data=data)
    assert sorted(untrusted) == ["skcatdog.augmentation.ImageAugmenter",
                                 "skcatdog.loading.ImageLoader",
                                 "skcatdog.models.DeepCNNClassifier"]
    again = sio.loads(data, trusted=untrusted)
    np.testing.assert_allclose(again.predict_proba(demo_files.data),
                               fitted_pipeline.predict_proba(demo_files.data), atol=1e-6)
    assert list(again.predict(demo_files.data)) == list(fitted_pipeline.predict(demo_files.data))


def test_pickle_keeps_warm_start_and_history(fitted_bare):
    clf, X, y = fitted_bare
    again = pickle.loads(pickle.dumps(clf))
    assert again.history_ == clf.history_ and again.best_epoch_ == clf.best_epoch_
    assert again.X_dtype_ == clf.X_dtype_ and again.target_encoder_ is not None
    np.testing.assert_allclose(again.predict_proba(X), clf.predict_proba(X), atol=1e-6)
    for a, b in zip(again.model_.get_weights(), clf.model_.get_weights()):
        np.testing.assert_array_equal(a, b)
    again.set_params(warm_start=True, epochs=1).fit(X, y)  # trains on from the restored network
    assert again.model_.optimizer.iterations.numpy() > clf.model_.optimizer.iterations.numpy()


def test_mlflow_logs_and_loads_a_fitted_pipeline(fitted_pipeline, demo_files, tmp_path,
                                                 monkeypatch):
    """MLflow 3's default format (skops), with our classes trusted; both flavours predict."""
    pytest.importorskip("mlflow")
    import mlflow.pyfunc
    import mlflow.sklearn

    from skcatdog.persistence import skops_trusted_types

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # a local store, no server
    mlflow.set_tracking_uri((tmp_path / "mlruns").as_uri())
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            fitted_pipeline, name="model",
            skops_trusted_types=skops_trusted_types(fitted_pipeline))
    paths = np.asarray(demo_files.data)
    expected = fitted_pipeline.predict(paths)
    loaded = mlflow.sklearn.load_model(info.model_uri)
    np.testing.assert_allclose(loaded.predict_proba(paths),
                               fitted_pipeline.predict_proba(paths), atol=1e-6)
    assert list(mlflow.pyfunc.load_model(info.model_uri).predict(paths)) == list(expected)
