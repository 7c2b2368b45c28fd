"""``ImageAugmenter``: the augmentation parameters, turned into Keras layers.

Keras 3 dropped ``ImageDataGenerator``. Its random preprocessing layers do the
same job inside the model: they run only while training, with fresh draws every
batch and epoch, and are the identity at prediction time. ``ImageAugmenter``
holds the familiar ``ImageDataGenerator``-style parameters as a scikit-learn
estimator (so ``GridSearchCV`` can tune ``cnn__augmentation__zoom_range``) and
builds those layers for the classifiers' ``augmentation`` parameter.
"""

import zlib
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, check_random_state

from skcatdog._images import infer_image_shape, to_images

__all__ = ["ImageAugmenter"]


class ImageAugmenter(TransformerMixin, BaseEstimator):
    """Random image augmentation, applied by the classifiers while training only.

    Give an instance to a classifier's ``augmentation`` parameter: the model
    then perturbs every training batch afresh each epoch, and predicts on the
    images as they are. Call :meth:`transform` to look at what it does.

    As ``ImageDataGenerator`` did, the geometric parameters (flips, rotation,
    shear, zoom, shifts) make one random affine transform per image, applied
    in one resampling (:class:`skcatdog._keras_layers.RandomAffine`); contrast
    and brightness follow as Keras' own layers.

    Parameters
    ----------
    shear_range : float, default=0.0
        Shear factor along each axis, drawn in ``[-shear_range, shear_range]``
        (as ``keras.layers.RandomShear``, but about the image's centre).
        Unlike ``ImageDataGenerator``, whose ``shear_range`` was in degrees,
        ``0.1`` here is a visible shear.
    zoom_range : float, default=0.0
        Zoom in or out by up to this fraction (``0.1``: 90% to 110%), keeping
        the aspect ratio (as ``keras.layers.RandomZoom``).
    rotation_range : float, default=0.0
        Rotate by up to this many degrees either way.
    width_shift_range, height_shift_range : float, default=0.0
        Shift by up to this fraction of the width or height.
    horizontal_flip, vertical_flip : bool, default=False
        Flip at random, each image with probability 1/2.
    contrast_range : float, default=0.0
        Scale contrast by a random factor in ``[1 - c, 1 + c]``
        (``keras.layers.RandomContrast``).
    brightness_range : float, default=0.0
        Shift brightness by up to this fraction of the value range
        (``keras.layers.RandomBrightness``).
    fill_mode : {"reflect", "constant", "nearest", "wrap"}, default="reflect"
        How pixels outside the image are filled after a geometric transform.
    image_shape : tuple of int, default=None
        ``(height, width, channels)`` of the images when ``X`` is 2-D. ``None``
        infers it (square RGB, then square grayscale). 4-D ``X`` carries it.
    random_state : int, RandomState instance or None, default=None
        Seeds :meth:`transform` and the layers built for a classifier.

    Attributes
    ----------
    image_shape_ : tuple of int
        ``(height, width, channels)`` of the images seen in :meth:`fit`.
    n_features_in_ : int
        Number of pixel values per image, ``height * width * channels``.

    See Also
    --------
    SimpleCNNClassifier, DeepCNNClassifier : take an ``ImageAugmenter`` as
        their ``augmentation`` parameter.

    Notes
    -----
    :meth:`transform` gives each image its own random draw, seeded from
    ``random_state`` and the image's pixels, so the same image is always
    augmented the same way however it is batched or ordered. Training draws
    afresh every batch instead.

    Examples
    --------
    >>> import numpy as np
    >>> from skcatdog import ImageAugmenter
    >>> images = np.zeros((2, 8, 8, 3), dtype=np.uint8)
    >>> images[:, :, :4] = 255  # left half white
    >>> flipped = ImageAugmenter(horizontal_flip=True, random_state=0).fit_transform(images)
    >>> flipped.shape, flipped.dtype
    ((2, 8, 8, 3), dtype('uint8'))
    """

    _parameter_constraints = {
        "shear_range": [Interval(Real, 0, 1, closed="both")],
        "zoom_range": [Interval(Real, 0, 1, closed="left")],
        "rotation_range": [Interval(Real, 0, 180, closed="both")],
        "width_shift_range": [Interval(Real, 0, 1, closed="both")],
        "height_shift_range": [Interval(Real, 0, 1, closed="both")],
        "horizontal_flip": ["boolean"],
        "vertical_flip": ["boolean"],
        "contrast_range": [Interval(Real, 0, 1, closed="both")],
        "brightness_range": [Interval(Real, 0, 1, closed="both")],
        "fill_mode": [StrOptions({"reflect", "constant", "nearest", "wrap"})],
        "image_shape": [tuple, list, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        shear_range=0.0,
        zoom_range=0.0,
        rotation_range=0.0,
        width_shift_range=0.0,
        height_shift_range=0.0,
        horizontal_flip=False,
        vertical_flip=False,
        contrast_range=0.0,
        brightness_range=0.0,
        fill_mode="reflect",
        image_shape=None,
        random_state=None,
    ):
        self.shear_range = shear_range
        self.zoom_range = zoom_range
        self.rotation_range = rotation_range
        self.width_shift_range = width_shift_range
        self.height_shift_range = height_shift_range
        self.horizontal_flip = horizontal_flip
        self.vertical_flip = vertical_flip
        self.contrast_range = contrast_range
        self.brightness_range = brightness_range
        self.fill_mode = fill_mode
        self.image_shape = image_shape
        self.random_state = random_state

    def build_layers(self, seed=None):
        """Return the Keras preprocessing layers for these parameters.

        Parameters
        ----------
        seed : int, default=None
            Base seed of the layers' random draws; ``None`` draws from
            ``random_state``.

        Returns
        -------
        layers : list of keras.layers.Layer
            Empty when every range is zero and no flip is asked for. The layers
            expect pixel values in ``[0, 255]``.
        """
        self._validate_params()
        from skcatdog._quiet import keras
        layers = keras.layers

        from skcatdog._keras_layers import RandomAffine

        if seed is None:
            seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        out = []
        geometric = {
            "rotation": self.rotation_range, "shear": self.shear_range,
            "zoom": self.zoom_range, "height_shift": self.height_shift_range,
            "width_shift": self.width_shift_range,
            "horizontal_flip": bool(self.horizontal_flip),
            "vertical_flip": bool(self.vertical_flip),
        }
        if any(geometric.values()):
            out.append(RandomAffine(**geometric, fill_mode=self.fill_mode, seed=seed,
                                    name="random_affine"))
        if self.contrast_range:
            out.append(
                layers.RandomContrast(self.contrast_range, seed=seed + 5, name="random_contrast")
            )
        if self.brightness_range:
            out.append(
                layers.RandomBrightness(
                    self.brightness_range, value_range=(0, 255), seed=seed + 6,
                    name="random_brightness",
                )
            )
        return out

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the images and remember their shape.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w, c)
            Images, pixel values in ``[0, 255]``.
        y : None
            Ignored.

        Returns
        -------
        self : ImageAugmenter
        """
        X = self._check_X(X, reset=True)
        return self

    def transform(self, X):
        """Augment each image with its own random draw.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w, c)
            Images, pixel values in ``[0, 255]``.

        Returns
        -------
        X_augmented : ndarray of the same shape and dtype as ``X``
            Integer images are rounded and clipped to their range.
        """
        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        layers = self.build_layers(seed=0)
        if not layers:
            return X.copy()
        images = to_images(X, self.image_shape_).astype(np.float32)
        base = int(check_random_state(self.random_state).randint(2**31 - 1))
        out = np.empty_like(images)
        for i, image in enumerate(images):
            # A seed from the pixels: one image gets one draw, whatever the batch.
            seed = (base + zlib.crc32(np.ascontiguousarray(X[i]).tobytes())) % (2**31 - 1)
            batch = image[np.newaxis]
            for k, layer in enumerate(layers):
                draw = layer.get_random_transformation(batch, training=True, seed=seed + k)
                batch = layer.transform_images(batch, draw, training=True)
            out[i] = np.asarray(batch)[0]
        if np.issubdtype(X.dtype, np.integer):
            info = np.iinfo(X.dtype)
            out = np.clip(np.rint(out), info.min, info.max)
        return out.astype(X.dtype, copy=False).reshape(X.shape)

    def _check_X(self, X, *, reset):
        X = check_array(
            X, allow_nd=True, dtype=["float32", "float64", "uint8"], estimator=self
        )
        if X.ndim not in (2, 4):
            raise ValueError(
                "ImageAugmenter expects X of shape (n_samples, n_features) or "
                f"(n_samples, height, width, channels); got shape {X.shape}."
            )
        n_features = int(np.prod(X.shape[1:]))
        if reset:
            self.n_features_in_ = n_features
            self.image_shape_ = infer_image_shape(X, self.image_shape, name="ImageAugmenter")
        elif n_features != self.n_features_in_:
            raise ValueError(
                f"X has {n_features} features, but ImageAugmenter is expecting "
                f"{self.n_features_in_} features as input."
            )
        return X

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.allow_nan = False
        return tags

