"""Shapes of images held as flat rows: the one rule both the classifiers and
the augmenter use to tell ``(n, h*w*c)`` rows apart from ``(n, h, w, c)`` images."""

import math

import numpy as np


def infer_image_shape(X, image_shape=None, *, name="estimator"):
    """``(height, width, channels)`` of the images in ``X``.

    4-D ``X`` carries its shape. For 2-D ``X`` an explicit ``image_shape`` must
    match the row length; without one, a row is taken as a square RGB image,
    then a square grayscale image, and otherwise as a one-pixel-high grayscale
    strip, so that any numeric table (scikit-learn's checks use many) fits.
    """
    n_features = int(np.prod(X.shape[1:]))
    if image_shape is not None:
        shape = tuple(int(v) for v in image_shape)
        if len(shape) == 2:
            shape = (*shape, 1)
        if len(shape) != 3 or min(shape) < 1 or math.prod(shape) != n_features:
            raise ValueError(
                f"{name}: image_shape={tuple(image_shape)} does not fit images of "
                f"{n_features} values each (X of shape {X.shape}); give (height, width, "
                "channels) with height*width*channels equal to the row length."
            )
        if X.ndim == 4 and shape != X.shape[1:]:
            raise ValueError(
                f"{name}: image_shape={shape} but X holds images of shape {X.shape[1:]}."
            )
        return shape
    if X.ndim == 4:
        return tuple(int(v) for v in X.shape[1:])
    for channels in (3, 1):
        side = math.isqrt(n_features // channels)
        if side * side * channels == n_features:
            return (side, side, channels)
    return (1, n_features, 1)


def to_images(X, image_shape):
    """View ``X`` as a 4-D ``(n, height, width, channels)`` array (no copy)."""
    return np.reshape(X, (-1, *image_shape))
