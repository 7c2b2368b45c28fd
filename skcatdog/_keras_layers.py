"""Keras layers of ours, registered for saving: imported by :mod:`skcatdog.training`,
so any process that unpickles or loads one of our models has them registered."""

import math

from skcatdog._quiet import keras


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


@keras.saving.register_keras_serializable(package="skcatdog")
class RandomAffine(keras.layers.Layer):
    """Flips, rotation, shear, zoom and shifts as one random affine transform per image.

    ``ImageDataGenerator`` composed its geometric augmentations into one
    matrix and resampled each image once; Keras 3 has one layer per
    transform, and each resamples the whole batch again (at 128x128, four of
    them took more than a third of the time of a training step of the tuned
    network). This layer draws every parameter per image, composes them
    about the image's centre and resamples once, with
    ``keras.ops.image.affine_transform``. It changes images while training
    only.

    The ranges mean what the Keras layers' do: ``rotation`` in degrees either
    way; ``shear``, a shear factor in ``[-shear, shear]`` along each axis
    (about the centre); ``zoom``, a factor in ``[1 - zoom, 1 + zoom]`` of the
    part of the image shown (above 1 zooms out), the same for both axes;
    ``height_shift`` and ``width_shift``, fractions of the height and width.

    Examples
    --------
    >>> import numpy as np
    >>> from skcatdog._keras_layers import RandomAffine
    >>> images = np.arange(2 * 4 * 4 * 1, dtype="float32").reshape(2, 4, 4, 1)
    >>> layer = RandomAffine(horizontal_flip=True, seed=0)
    >>> np.array_equal(np.asarray(layer(images)), images)  # not training: as they are
    True
    >>> draw = layer.get_random_transformation(images, seed=3)
    >>> flipped = np.asarray(layer.transform_images(images, draw))
    >>> all(np.array_equal(f, i) or np.array_equal(f, i[:, ::-1]) for f, i in zip(flipped, images))
    True
    """

    def __init__(self, rotation=0.0, shear=0.0, zoom=0.0, height_shift=0.0, width_shift=0.0,
                 horizontal_flip=False, vertical_flip=False, fill_mode="reflect",
                 interpolation="bilinear", seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rotation, self.shear, self.zoom = rotation, shear, zoom
        self.height_shift, self.width_shift = height_shift, width_shift
        self.horizontal_flip, self.vertical_flip = horizontal_flip, vertical_flip
        self.fill_mode, self.interpolation, self.seed = fill_mode, interpolation, seed
        self.generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=None):
        if not training:
            return images
        return self.transform_images(images, self.get_random_transformation(images))

    def get_random_transformation(self, images, training=True, seed=None):
        """Each image's ``affine_transform`` parameters, shape ``(n, 8)``.

        ``seed``: an int (a draw of its own), or None for the layer's generator.
        """
        ops = keras.ops
        seed = self.generator if seed is None else keras.random.SeedGenerator(seed)
        n = ops.shape(images)[0]
        height = ops.cast(ops.shape(images)[1], "float32")
        width = ops.cast(ops.shape(images)[2], "float32")

        def uniform(limit):
            return keras.random.uniform((n,), -limit, limit, seed=seed)

        def sign(flip):
            if not flip:
                return ops.ones((n,))
            return ops.where(keras.random.uniform((n,), seed=seed) < 0.5, -1.0, 1.0)

        angle = uniform(self.rotation * math.pi / 180)
        shear_x, shear_y = uniform(self.shear), uniform(self.shear)
        zoom = 1.0 + uniform(self.zoom)
        flip_x, flip_y = sign(self.horizontal_flip), sign(self.vertical_flip)
        shift_x, shift_y = uniform(self.width_shift) * width, uniform(self.height_shift) * height
        cos, sin = ops.cos(angle), ops.sin(angle)
        # Output pixel (x, y) reads the input at c + A (x - c) + shift, with
        # A = rotation @ shear @ zoom @ flips and c the centre.
        a00 = (cos - sin * shear_y) * zoom * flip_x
        a01 = (cos * shear_x - sin) * zoom * flip_y
        a10 = (sin + cos * shear_y) * zoom * flip_x
        a11 = (sin * shear_x + cos) * zoom * flip_y
        cx, cy = (width - 1) / 2, (height - 1) / 2
        zero = ops.zeros((n,))
        return ops.stack([a00, a01, cx + shift_x - a00 * cx - a01 * cy,
                          a10, a11, cy + shift_y - a10 * cx - a11 * cy, zero, zero], axis=1)

    def transform_images(self, images, transformation, training=True):
        images = keras.ops.cast(images, self.compute_dtype)
        return keras.ops.image.affine_transform(
            images, transformation, interpolation=self.interpolation,
            fill_mode=self.fill_mode)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rotation": self.rotation, "shear": self.shear,
                "zoom": self.zoom, "height_shift": self.height_shift,
                "width_shift": self.width_shift, "horizontal_flip": self.horizontal_flip,
                "vertical_flip": self.vertical_flip, "fill_mode": self.fill_mode,
                "interpolation": self.interpolation, "seed": self.seed}
