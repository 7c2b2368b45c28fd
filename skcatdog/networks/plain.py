"""The notebook's family: "valid" convolution blocks, ``Flatten`` and a dense layer.

:class:`~skcatdog.SimpleCNNClassifier` and :class:`~skcatdog.DeepCNNClassifier`
are this family with the notebook's two sets of defaults.
"""

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval

from skcatdog.networks import head, layer_seeds, per_block, stem

__all__ = ["build", "parameter_constraints"]

parameter_constraints = {
    "n_conv_layers": [Interval(Integral, 1, None, closed="left")],
    "filters": [Interval(Integral, 1, None, closed="left"), "array-like"],
    "kernel_size": [Interval(Integral, 1, None, closed="left")],
    "convs_per_block": [Interval(Integral, 1, None, closed="left"), "array-like"],
    "batch_normalization": ["boolean"],
    "batch_norm_momentum": [Interval(Real, 0, 1, closed="neither")],
    "global_pooling": ["boolean"],
    "dense_units": [Interval(Integral, 0, None, closed="left")],
    "dropout": [Interval(Real, 0, 1, closed="left")],
}


def build(
    image_shape,
    n_classes,
    *,
    n_conv_layers=3,
    filters=(32, 64, 64),
    kernel_size=3,
    convs_per_block=1,
    batch_normalization=False,
    batch_norm_momentum=0.9,
    global_pooling=False,
    dense_units=128,
    dropout=0.5,
    augmentation_layers=(),
    seed=None,
):
    """Build (uncompiled) the notebook-style network.

    Input images of ``image_shape`` with pixel values in ``[0, 255]`` pass the
    augmentation layers (active only while training), ``Rescaling(1/255)``,
    then ``n_conv_layers`` blocks of ``convs_per_block`` convolutions with ReLU
    (with batch normalisation before the ReLU if asked) and a 2x2 max-pooling,
    then ``Flatten`` (or global average pooling), a ReLU ``Dense`` layer, dropout
    and the output: one sigmoid unit for two classes, a softmax otherwise.

    Convolutions use "valid" padding, as the notebook did, while the feature map
    is at least ``kernel_size`` wide; smaller maps are padded ("same") and
    pooling stops at one pixel, so any image size, even 1x1, builds.

    Parameters
    ----------
    image_shape : tuple of int
        ``(height, width, channels)``.
    n_classes : int
        Number of classes, at least 2.
    n_conv_layers : int, default=3
        Number of convolution blocks, each ending in a 2x2 max-pooling.
    filters : int or sequence of int, default=(32, 64, 64)
        Filters of each block's convolutions: one int for all blocks, or one per
        block (the first ``n_conv_layers`` are used; a short sequence repeats its
        last value).
    kernel_size : int, default=3
        Side of the square convolution kernels.
    convs_per_block : int or sequence of int, default=1
        Convolutions in each block before its pooling (one int for all
        blocks, or one per block, as ``filters``).
    batch_normalization : bool, default=False
        Batch normalisation between each convolution and its ReLU.
    batch_norm_momentum : float, default=0.9
        Momentum of the batch-normalisation moving statistics. Keras' 0.99
        lags behind weights that change fast: after a few epochs at a high
        learning rate a network scored ~0.72 in training mode but ~0.52 at
        prediction.
    global_pooling : bool, default=False
        Global average pooling instead of ``Flatten`` after the last block.
    dense_units : int, default=128
        Units of the hidden ReLU ``Dense`` layer; 0 for none.
    dropout : float, default=0.5
        Dropout rate before the output layer; 0 for none.
    augmentation_layers : sequence of keras.layers.Layer, default=()
        Applied first, to pixels in ``[0, 255]``.
    seed : int or None, default=None
        Seeds the initial weights and the dropout masks
        (:func:`~skcatdog.networks.layer_seeds`); ``None``: Keras' defaults.

    Returns
    -------
    model : keras.Model
        Layers are named ``conv{block}_{i}``, ``pool{block}``, ``flatten``,
        ``dense``, ``dropout`` and ``output``, for inspection.

    Examples
    --------
    >>> from skcatdog.networks import plain
    >>> model = plain.build((50, 50, 3), 2, n_conv_layers=1, filters=32, dense_units=32, dropout=0)
    >>> [layer.name for layer in model.layers]
    ['input', 'rescaling', 'conv1_1', 'pool1', 'flatten', 'dense', 'output']
    >>> model.count_params()
    590785
    """
    from keras import layers

    from skcatdog._quiet import keras

    layer_seed = layer_seeds(seed)

    def kernel_initializer():
        return keras.initializers.GlorotUniform(seed=layer_seed())

    inputs, x = stem(image_shape, augmentation_layers, 1.0 / 255)
    height, width = image_shape[0], image_shape[1]
    blocks = zip(per_block(filters, n_conv_layers),
                 per_block(convs_per_block, n_conv_layers, "convs_per_block"))
    for block, (n_filters, n_convs) in enumerate(blocks, start=1):
        for i in range(1, n_convs + 1):
            padding = "valid" if min(height, width) >= kernel_size else "same"
            name = f"conv{block}_{i}"
            if batch_normalization:
                x = layers.Conv2D(n_filters, kernel_size, padding=padding, use_bias=False,
                                  kernel_initializer=kernel_initializer(), name=name)(x)
                x = layers.BatchNormalization(momentum=batch_norm_momentum,
                                              name=f"bn{block}_{i}")(x)
                x = layers.ReLU(name=f"relu{block}_{i}")(x)
            else:
                x = layers.Conv2D(n_filters, kernel_size, padding=padding, activation="relu",
                                  kernel_initializer=kernel_initializer(), name=name)(x)
            if padding == "valid":
                height, width = height - kernel_size + 1, width - kernel_size + 1
        if min(height, width) >= 2:
            x = layers.MaxPooling2D(2, name=f"pool{block}")(x)
            height, width = height // 2, width // 2
    if global_pooling:
        x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    else:
        x = layers.Flatten(name="flatten")(x)
    return head(inputs, x, n_classes, dense_units, dropout, layer_seed)
