"""Network families: one module each, a builder function and its parameters.

A family is a module holding two things:

``build(image_shape, n_classes, *, augmentation_layers=(), seed=None, **architecture)``
    Returns an uncompiled ``keras.Model`` from images of ``image_shape`` with
    pixel values in ``[0, 255]`` to class probabilities (one sigmoid unit for
    two classes, a softmax otherwise). ``augmentation_layers`` come first
    (Keras runs them only while training); the family scales the pixels the
    way its first layer wants them. ``seed`` seeds every initialiser and
    dropout mask, drawn by :func:`layer_seeds`.
``parameter_constraints``
    scikit-learn's constraints of the architecture keywords.

A classifier is a family plus the training written once in
:class:`skcatdog.training.CNNClassifier`: its class attribute ``network``
names the family, and the builder's keywords become the classifier's own
parameters, with the family's defaults unless the classifier's ``defaults``
say otherwise::

    class DeepCNNClassifier(CNNClassifier):
        network = skcatdog.networks.plain
        defaults = {"n_conv_layers": 3, "filters": (32, 64, 64), ...}

Why this shape. The anchors route a network's options through a prefix:
skorch's ``NeuralNet(module=MyModule, module__num_units=10)`` and scikeras'
``KerasClassifier(model=build_fn, model__hidden=10)``. Both make the network
one parameter, which is general, but every grid would then read
``cnn__model__n_conv_layers``, and every grid, script and model file our
users already have names ``cnn__n_conv_layers``. Keras Applications shows
the other half: a family is a plain builder function, testable on its own,
whose keyword arguments are its whole configuration. So the builder is the
family, and its keywords are flat parameters of the classifier: listed by
``get_params``, searched by ``GridSearchCV``, validated in ``fit`` and saved in
model files like any other. Adding a family is one module here (and a
classifier that names it); no training code changes.
"""

import random
from numbers import Integral

__all__ = ["per_block", "head", "layer_seeds", "stem"]


def layer_seeds(seed):
    """A function giving each random layer its own seed, or ``None`` for Keras' defaults.

    The seeds are drawn from ``random.Random(seed)`` in the order Keras would
    draw them from Python's global ``random`` after ``random.seed(seed)``:
    the same network, without reading global state that other threads (a
    Dask worker's event loop, for one) also draw from.

    >>> next_seed = layer_seeds(0)
    >>> next_seed() == layer_seeds(0)(), layer_seeds(None)()
    (True, None)
    """
    draws = random.Random(seed) if seed is not None else None

    def next_seed():
        # keras.random.make_default_seed's draw, from our own generator
        return None if draws is None else draws.randint(1, int(1e9))

    return next_seed


def stem(image_shape, augmentation_layers, scale, offset=0.0):
    """``(inputs, x)``: the input, the augmentation layers, then ``pixels * scale + offset``."""
    from skcatdog._quiet import keras

    inputs = keras.Input(shape=tuple(image_shape), name="input")
    x = inputs
    for layer in augmentation_layers:
        x = layer(x)
    return inputs, keras.layers.Rescaling(scale, offset=offset, name="rescaling")(x)


def head(inputs, x, n_classes, dense_units, dropout, next_seed):
    """The model from ``inputs`` through ``x``, an optional ReLU ``Dense`` layer,
    dropout and the output: a sigmoid unit for two classes, else a softmax.

    The output layer is named ``"output"``: inspection reads the scores
    before its activation. It computes in float32 whatever Keras' dtype
    policy: probabilities keep their precision under mixed precision.
    """
    from keras import layers

    from skcatdog._quiet import keras

    def initializer():
        return keras.initializers.GlorotUniform(seed=next_seed())

    if dense_units:
        x = layers.Dense(dense_units, activation="relu", kernel_initializer=initializer(),
                         name="dense")(x)
    if dropout:
        x = layers.Dropout(dropout, seed=next_seed(), name="dropout")(x)
    binary = n_classes == 2
    outputs = layers.Dense(1 if binary else n_classes,
                           activation="sigmoid" if binary else "softmax",
                           kernel_initializer=initializer(), dtype="float32",
                           name="output")(x)
    return keras.Model(inputs, outputs, name="cnn")


def per_block(values, n_blocks, name="filters"):
    """One value per block: an int for all, or a sequence padded with its last.

    ``name`` is the parameter's, for the error message.

    >>> per_block((16, 32), 3), per_block(8, 2)
    ([16, 32, 32], [8, 8])
    """
    if isinstance(values, Integral):
        return [int(values)] * n_blocks
    values = [int(v) for v in values]
    if not values or min(values) < 1:
        raise ValueError(f"{name} must be positive integers; got {values!r}.")
    return (values + [values[-1]] * n_blocks)[:n_blocks]
