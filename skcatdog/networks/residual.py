"""Same-padded convolution blocks, optionally residual, with global average pooling.

The family of the modern small image networks (VGG-style blocks with batch
normalisation, ResNet's shortcuts, the global pooling head of the Keras
"image classification from scratch" example): "same" padding keeps each map
at the input's size until its block's 2x2 pooling, so a 64x64 image is still
4x4 after four blocks, and global average pooling makes the head independent
of the image size. :class:`~skcatdog.TunedCNNClassifier` is this family.
"""

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval

from skcatdog.networks import head, layer_seeds, per_block, stem

__all__ = ["build", "parameter_constraints"]

parameter_constraints = {
    "n_conv_layers": [Interval(Integral, 1, None, closed="left")],
    "filters": [Interval(Integral, 1, None, closed="left"), "array-like"],
    "kernel_size": [Interval(Integral, 1, None, closed="left")],
    "stem_stride": [Interval(Integral, 1, None, closed="left")],
    "convs_per_block": [Interval(Integral, 1, None, closed="left"), "array-like"],
    "residual": ["boolean"],
    "batch_norm_momentum": [Interval(Real, 0, 1, closed="neither")],
    "dense_units": [Interval(Integral, 0, None, closed="left")],
    "dropout": [Interval(Real, 0, 1, closed="left")],
}


def build(
    image_shape,
    n_classes,
    *,
    n_conv_layers=4,
    filters=(32, 64, 128, 256),
    kernel_size=3,
    stem_stride=1,
    convs_per_block=2,
    residual=False,
    batch_norm_momentum=0.99,
    dense_units=0,
    dropout=0.3,
    augmentation_layers=(),
    seed=None,
):
    """Build (uncompiled) a network of same-padded blocks and global pooling.

    Images of ``image_shape`` with pixel values in ``[0, 255]`` pass the
    augmentation layers (active only while training) and are scaled to
    ``[-1, 1]``; then ``n_conv_layers`` blocks of ``convs_per_block``
    convolutions ("same" padding, no bias), each followed by batch
    normalisation and a ReLU, and a 2x2 max-pooling while the map is at least
    2 pixels wide; global average pooling, an optional ReLU ``Dense`` layer,
    dropout and the output.

    With ``residual=True`` each block adds its input to its last
    normalised convolution before that convolution's ReLU (through a 1x1
    convolution and batch normalisation where the number of channels
    changes, after a ``stem_stride`` average pooling in the first block), as
    ResNet's basic blocks do (ResNet-D's shortcut where it strides).

    Parameters
    ----------
    image_shape : tuple of int
        ``(height, width, channels)``.
    n_classes : int
        Number of classes, at least 2.
    n_conv_layers : int, default=4
        Number of blocks.
    filters : int or sequence of int, default=(32, 64, 128, 256)
        Filters of each block's convolutions (one int for all blocks, or one
        per block; a short sequence repeats its last value).
    kernel_size : int, default=3
        Side of the square kernels.
    stem_stride : int, default=1
        Stride of the first convolution. 2 halves the image at once: a
        128x128 image then costs what a 64x64 one costs with stride 1, while
        the first convolution still sees every pixel.
    convs_per_block : int or sequence of int, default=2
        Convolutions in each block (one int for all blocks, or one per block,
        as ``filters``: ``(1, 2)`` spends less on the largest maps).
    residual : bool, default=False
        Add a shortcut around each block.
    batch_norm_momentum : float, default=0.99
        Momentum of the batch-normalisation moving statistics (Keras' default).
    dense_units : int, default=0
        Units of a ReLU ``Dense`` layer after the pooling; 0 for none.
    dropout : float, default=0.3
        Dropout rate before the output layer; 0 for none.
    augmentation_layers : sequence of keras.layers.Layer, default=()
        Applied first, to pixels in ``[0, 255]``.
    seed : int or None, default=None
        Seeds the initial weights and the dropout masks
        (:func:`~skcatdog.networks.layer_seeds`); ``None``: Keras' defaults.

    Returns
    -------
    model : keras.Model
        Layers are named ``conv{block}_{i}``, ``bn{block}_{i}``,
        ``relu{block}_{i}``, ``pool{block}`` (and ``shortcut_pool1``, ``shortcut{block}``,
        ``add{block}``), ``global_pool``, ``dense``, ``dropout`` and
        ``output``.

    Examples
    --------
    >>> from skcatdog.networks import residual
    >>> model = residual.build((64, 64, 3), 2)
    >>> model.get_layer("pool4").output.shape
    (None, 4, 4, 256)
    >>> model.count_params()
    1175393
    >>> residual.build((8, 8, 3), 2, n_conv_layers=2, filters=4, residual=True).count_params()
    637
    """
    from keras import layers

    from skcatdog._quiet import keras

    layer_seed = layer_seeds(seed)

    def conv(n_filters, size, name, strides=1):
        return layers.Conv2D(n_filters, size, strides=strides, padding="same", use_bias=False,
                             name=name,
                             kernel_initializer=keras.initializers.GlorotUniform(
                                 seed=layer_seed()))

    def batch_norm(name):
        return layers.BatchNormalization(momentum=batch_norm_momentum, name=name)

    inputs, x = stem(image_shape, augmentation_layers, 1.0 / 127.5, offset=-1.0)
    width = -(-min(image_shape[0], image_shape[1]) // stem_stride)
    blocks = zip(per_block(filters, n_conv_layers),
                 per_block(convs_per_block, n_conv_layers, "convs_per_block"))
    for block, (n_filters, n_convs) in enumerate(blocks, start=1):
        block_input = x
        for i in range(1, n_convs + 1):
            strides = stem_stride if block == 1 and i == 1 else 1
            x = conv(n_filters, kernel_size, f"conv{block}_{i}", strides)(x)
            x = batch_norm(f"bn{block}_{i}")(x)
            if residual and i == n_convs:
                shortcut = block_input
                strided = block == 1 and stem_stride > 1
                if strided:
                    # Average, then a 1x1 convolution (ResNet-D): every pixel
                    # reaches the shortcut. A strided 1x1 convolution would skip
                    # most of them, and TensorFlow 2.21's oneDNN kernels corrupt
                    # the heap training one on inputs of 96x96 and larger.
                    shortcut = layers.AveragePooling2D(
                        stem_stride, padding="same", name="shortcut_pool1")(shortcut)
                if strided or block_input.shape[-1] != n_filters:
                    shortcut = conv(n_filters, 1, f"shortcut{block}")(shortcut)
                    shortcut = batch_norm(f"shortcut_bn{block}")(shortcut)
                x = layers.Add(name=f"add{block}")([x, shortcut])
            x = layers.ReLU(name=f"relu{block}_{i}")(x)
        if width >= 2:
            x = layers.MaxPooling2D(2, name=f"pool{block}")(x)
            width //= 2
    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    return head(inputs, x, n_classes, dense_units, dropout, layer_seed)
