"""The network families and the one training they share."""

import inspect
import types
from numbers import Integral

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils._param_validation import Interval

from skcatdog.networks import plain, residual
from skcatdog.training import TRAINING_DEFAULTS, CNNClassifier


def test_residual_family_keeps_maps_until_global_pooling():
    model = residual.build((64, 64, 3), 2)
    # "same" padding: 64 -> 32 -> 16 -> 8 -> 4 after the four poolings.
    assert model.get_layer("pool4").output.shape == (None, 4, 4, 256)
    assert model.get_layer("global_pool").output.shape == (None, 256)
    # 3x3 convs without bias, batch norm (4 weights per channel), one sigmoid unit.
    convs = [(3, 32), (32, 32), (32, 64), (64, 64), (64, 128), (128, 128), (128, 256),
             (256, 256)]
    expected = sum(9 * i * o + 4 * o for i, o in convs) + 256 + 1
    assert model.count_params() == expected == 1175393
    assert model.get_layer("rescaling").scale == pytest.approx(1 / 127.5)
    # Any image size builds, down to a single pixel.
    assert residual.build((1, 1, 1), 3, n_conv_layers=2, filters=2).output.shape == (None, 3)


def test_a_strided_stem_takes_twice_the_image_at_the_same_size_of_maps():
    small = residual.build((64, 64, 3), 2)
    large = residual.build((128, 128, 3), 2, stem_stride=2)
    assert large.get_layer("conv1_1").output.shape == (None, 64, 64, 32)
    assert large.get_layer("pool4").output.shape == small.get_layer("pool4").output.shape
    assert large.count_params() == small.count_params()
    # With shortcuts, block 1's shortcut averages over the same stride.
    shortcuts = residual.build((9, 9, 3), 2, n_conv_layers=2, filters=4, residual=True,
                               stem_stride=2)
    assert shortcuts.get_layer("shortcut_pool1").output.shape == (None, 5, 5, 3)
    assert shortcuts.get_layer("add1").output.shape == (None, 5, 5, 4)


def test_a_strided_residual_network_trains_on_large_images():
    # A strided 1x1 shortcut convolution corrupted the heap in oneDNN's
    # training kernels at 96x96 and larger (the process aborted).
    import keras

    model = residual.build((128, 128, 3), 2, n_conv_layers=1, filters=4, residual=True,
                           stem_stride=2, seed=0)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    X = np.random.RandomState(0).randint(0, 256, (8, 128, 128, 3)).astype("float32")
    history = model.fit(X, np.arange(8) % 2, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert isinstance(model.get_layer("shortcut1"), keras.layers.Conv2D)


@pytest.mark.parametrize("family", [plain, residual])
def test_convolutions_per_block_may_differ_by_block(family):
    model = family.build((16, 16, 3), 2, n_conv_layers=2, filters=4, convs_per_block=(1, 2))
    convs = [layer.name for layer in model.layers if layer.name.startswith("conv")]
    assert convs == ["conv1_1", "conv2_1", "conv2_2"]
    with pytest.raises(ValueError, match=r"convs_per_block must be positive .* got \[1, 0\]"):
        family.build((16, 16, 3), 2, n_conv_layers=2, convs_per_block=(1, 0))


def test_residual_shortcuts_add_each_blocks_input():
    model = residual.build((8, 8, 3), 2, n_conv_layers=2, filters=(4, 4), residual=True)
    names = [layer.name for layer in model.layers]
    # Channels change in block 1 only: a 1x1 projection there, the identity in block 2.
    assert "shortcut1" in names and "shortcut2" not in names
    assert model.get_layer("add2").input[1] is model.get_layer("pool1").output


def test_a_family_is_a_builder_and_its_constraints():
    # A new family needs no training code: a builder and its constraints.
    def build(image_shape, n_classes, *, width=2, augmentation_layers=(), seed=None):
        import keras

        inputs = keras.Input(image_shape)
        x = keras.layers.Conv2D(width, 3, name="conv")(inputs)
        x = keras.layers.GlobalAveragePooling2D()(x)
        return keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid",
                                                      name="output")(x))

    family = types.SimpleNamespace(
        build=build, parameter_constraints={"width": [Interval(Integral, 1, None, closed="left")]})

    class TinyClassifier(CNNClassifier):
        network = family
        defaults = {"epochs": 1}

    params = inspect.signature(TinyClassifier).parameters
    assert params["width"].default == 2 and params["epochs"].default == 1
    assert set(TinyClassifier().get_params()) == {"width", *TRAINING_DEFAULTS}
    rng = np.random.RandomState(0)
    X = rng.randint(0, 256, size=(12, 8, 8, 3)).astype(np.uint8)
    clf = TinyClassifier(width=3, validation_fraction=0, random_state=0).fit(X, [0, 1] * 6)
    assert clf.model_.get_layer("conv").filters == 3
    with pytest.raises(ValueError, match="width"):
        TinyClassifier(width=0).fit(X, [0, 1] * 6)
    with pytest.raises(TypeError, match="unexpected keyword argument 'widht'"):
        TinyClassifier(widht=3)


def test_presets_share_one_training():
    from skcatdog import DeepCNNClassifier, SimpleCNNClassifier, TunedCNNClassifier

    for cls in (SimpleCNNClassifier, DeepCNNClassifier, TunedCNNClassifier):
        assert cls.fit is CNNClassifier.fit
        assert cls._fit_network is CNNClassifier._fit_network
        assert cls._predict_network is CNNClassifier._predict_network
        assert clone(cls()).get_params() == cls().get_params()
    assert DeepCNNClassifier.network is plain and TunedCNNClassifier.network is residual
    assert "%(parameters)s" not in DeepCNNClassifier.__doc__
    assert "    residual : bool, default=False" in TunedCNNClassifier.__doc__
    with pytest.raises(TypeError, match="base class"):
        CNNClassifier()


def test_warm_up_then_cosine(toy_images):
    from skcatdog import DeepCNNClassifier

    clf = DeepCNNClassifier(learning_rate=3e-3, lr_schedule="cosine", warmup_fraction=0.1,
                            epochs=10, batch_size=9, validation_fraction=0.1)
    # 45 images: 40 train in 5 steps per epoch, 50 steps, 5 of warm-up.
    schedule = clf._learning_rate(45)
    rates = [float(schedule(step)) for step in (0, 5, 50)]
    np.testing.assert_allclose(rates, [1e-4, 3e-3, 0.0], atol=1e-9)
    constant = clf.set_params(lr_schedule="constant")._learning_rate(45)
    np.testing.assert_allclose([float(constant(s)) for s in (0, 5, 50)], [1e-4, 3e-3, 3e-3],
                               rtol=1e-6)
    assert clf.set_params(warmup_fraction=0)._learning_rate(45) == 3e-3
    # Too few steps for any warm-up: the constant rate stays constant.
    assert clf.set_params(warmup_fraction=0.01)._learning_rate(45) == 3e-3


def test_label_smoothing_and_weight_decay_reach_keras(toy_images):
    from skcatdog import DeepCNNClassifier

    X, y = toy_images
    clf = DeepCNNClassifier(epochs=1, filters=4, dense_units=4, label_smoothing=0.2,
                            optimizer="adamw", weight_decay=0.01, random_state=0).fit(X, y)
    assert clf.model_.loss.get_config()["label_smoothing"] == 0.2
    assert clf.model_.optimizer.weight_decay == 0.01
    # More than two classes: smoothed one-hot targets, predictions in the labels.
    three = np.array(["a", "b", "c"])[np.arange(30) % 3]
    clf.fit(X[:30], three)
    assert clf.model_.loss.get_config()["label_smoothing"] == 0.2
    assert clf.predict_proba(X[:4]).shape == (4, 3)
    assert set(clf.predict(X[:30])) <= set(three)


def test_best_weights_callback_is_replaceable(toy_images):
    import keras

    from skcatdog import DeepCNNClassifier
    from skcatdog.callbacks import BestWeights

    X, y = toy_images
    mine = BestWeights(monitor="val_loss", mode="min")
    clf = DeepCNNClassifier(epochs=3, filters=4, dense_units=4, callbacks=[mine],
                            random_state=0).fit(X, y)
    # Ours was not added beside it: the kept epoch is the one of lowest val_loss.
    assert clf.best_epoch_ == int(np.argmin(clf.history_["val_loss"])) == mine.best_epoch
    # Users' own callbacks still run.
    seen = []
    logger = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
    DeepCNNClassifier(epochs=2, filters=4, dense_units=4, callbacks=[logger],
                      random_state=0).fit(X, y)
    assert seen == [0, 1]


def test_scikeras_private_api_is_used_in_compat_only():
    import re
    from pathlib import Path

    import skcatdog

    private = re.compile(r"scikeras\._|from scikeras|\b_initialize_callbacks|\b_fit_callbacks\b|"
                         r"\b_predict_callbacks|\b_fit_keras_model|\b_predict_raw|"
                         r"\b_keras_build_fn|route_params|\b_random_state\b")
    package = Path(skcatdog.__file__).parent
    users = sorted(str(path.relative_to(package)) for path in package.rglob("*.py")
                   if private.search(path.read_text()))
    assert users == ["_compat.py"]


def test_mixed_bfloat16_computes_in_bfloat16_and_answers_in_float32(toy_images):
    from skcatdog import ImageAugmenter
    from skcatdog.tuned import TunedCNNClassifier

    X, y = toy_images
    clf = TunedCNNClassifier(epochs=1, filters=4, dtype_policy="mixed_bfloat16",
                             augmentation=ImageAugmenter(horizontal_flip=True),
                             random_state=0).fit(X, y)
    model = clf.model_
    assert clf.dtype_policy_ == "mixed_bfloat16"
    assert model.get_layer("conv1_1").compute_dtype == "bfloat16"
    assert model.get_layer("conv1_1").variable_dtype == "float32"
    assert model.get_layer("output").compute_dtype == "float32"
    assert all(layer.compute_dtype == "float32" for layer in model.layers
               if layer.name.startswith("random"))
    proba = clf.predict_proba(X)
    assert proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    # The policy applied to this network only.
    import keras

    assert keras.config.dtype_policy().name == "float32"
    assert clf.set_params(dtype_policy="float32").fit(X, y).model_.get_layer(
        "conv1_1").compute_dtype == "float32"


@pytest.mark.parametrize("flags, expected", [("fpu avx2 avx512_bf16", True),
                                             ("fpu avx2 amx_bf16 amx_tile", True),
                                             ("fpu avx2 avx512f", False)])
def test_native_bfloat16_reads_the_cpu_flags(tmp_path, flags, expected):
    import tensorflow as tf

    from skcatdog.training import native_bfloat16

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
    gpu = bool(tf.config.list_physical_devices("GPU"))  # then float32 whatever the CPU
    assert native_bfloat16(cpuinfo) is (expected and not gpu)
    assert native_bfloat16(tmp_path / "missing") is False
