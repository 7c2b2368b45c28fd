"""Keras layers mended for saving: imported by :mod:`skcatdog.models`, so any
process that unpickles or loads one of our models has them registered."""

import keras


@keras.saving.register_keras_serializable(package="skcatdog")
class RandomShear(keras.layers.RandomShear):
    """``keras.layers.RandomShear`` that can be loaded back after saving.

    Keras 3.15 saves a symmetric factor ``a`` as ``(-a, a)`` and its own
    constructor then refuses the negative bound, so every saved, pickled or
    deep-copied model with a shear layer failed to load. We save ``a``.
    """

    def get_config(self):
        config = super().get_config()
        for name in ("x_factor", "y_factor"):
            lower, upper = config[name]
            if lower == -upper:
                config[name] = upper
        return config
