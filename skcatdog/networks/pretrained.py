"""A pretrained backbone with a new head: the family that transfer learning trains.

The backbone (:func:`skcatdog.backbones.load_backbone`: EfficientNet-Lite
offline, any ``keras.applications`` network, or a local weights file) sits
in the network as one nested model, frozen, and is called in inference mode,
so its batch normalisation keeps ImageNet's statistics even once it is
unfrozen for fine-tuning (Keras' transfer-learning guide does the same).
Global average pooling, optional dense units, dropout and the output follow.
:class:`~skcatdog.pretrained.PretrainedCNNClassifier` is this family.
"""

import os
from numbers import Integral, Real

from sklearn.utils._param_validation import Interval

from skcatdog.networks import head, layer_seeds

__all__ = ["build", "parameter_constraints"]

parameter_constraints = {
    "backbone": [str],
    "weights": [str, os.PathLike, None],
    "dense_units": [Interval(Integral, 0, None, closed="left")],
    "dropout": [Interval(Real, 0, 1, closed="left")],
}


def build(
    image_shape,
    n_classes,
    *,
    backbone="efficientnet_lite0",
    weights="imagenet",
    dense_units=0,
    dropout=0.2,
    augmentation_layers=(),
    seed=None,
):
    """Build (uncompiled) a frozen pretrained backbone with a new head.

    Parameters
    ----------
    image_shape : tuple of int
        ``(height, width, 3)``; the backbones were trained on 224x224 images.
    n_classes : int
        Number of classes, at least 2.
    backbone : str, default="efficientnet_lite0"
        A network of :data:`skcatdog.backbones.BACKBONES`, or the name of a
        ``keras.applications`` network (``"MobileNetV2"``, ``"ResNet50"``...).
    weights : "imagenet", path or None, default="imagenet"
        Where the backbone's weights come from (:mod:`skcatdog.backbones`).
    dense_units : int, default=0
        Units of a ReLU ``Dense`` layer after the pooling; 0 for none.
    dropout : float, default=0.2
        Dropout rate before the output layer; 0 for none.
    augmentation_layers : sequence of keras.layers.Layer, default=()
        Applied first, to pixels in ``[0, 255]``.
    seed : int or None, default=None
        Seeds the head's initial weights and dropout masks.

    Returns
    -------
    model : keras.Model
        Layers: ``input``, the augmentation layers, the backbone (a nested
        model named after it, ``trainable=False``), ``global_pool``,
        ``dense``, ``dropout`` and ``output``.

    Examples
    --------
    >>> from skcatdog.networks import pretrained
    >>> model = pretrained.build((32, 32, 3), 2, backbone="MobileNetV2", weights=None)
    >>> [layer.name for layer in model.layers][1:]
    ['mobilenetv2_1.00_32', 'global_pool', 'dropout', 'output']
    >>> model.layers[1].trainable, model.count_params() - model.layers[1].count_params()
    (False, 1281)
    """
    from skcatdog._quiet import keras
    from skcatdog.backbones import load_backbone

    network = load_backbone(backbone, weights, image_shape)
    network.trainable = False
    inputs = keras.Input(shape=tuple(image_shape), name="input")
    x = inputs
    for layer in augmentation_layers:
        x = layer(x)
    x = network(x, training=False)
    x = keras.layers.GlobalAveragePooling2D(name="global_pool")(x)
    return head(inputs, x, n_classes, dense_units, dropout, layer_seeds(seed))
