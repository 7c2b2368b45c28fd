"""``PretrainedFeatures``: images in, a pretrained backbone's pooled features out.

A scikit-learn transformer, so that any scikit-learn classifier can learn
from what an ImageNet network sees::

    Pipeline([("load", ImageLoader(image_size=(224, 224))),
              ("embed", PretrainedFeatures(backbone="efficientnet_lite0")),
              ("clf", LogisticRegression(max_iter=1000))])

The backbone is fixed, so an image's features depend on nothing but its
pixels and the backbone: they are computed once per process and kept in a
bounded in-memory cache keyed by a hash of the pixels. A ``GridSearchCV``
over ``clf__C`` then runs the backbone once per image for the whole search,
not once per candidate and fold (scikit-learn clones the transformer for
each fit, which is why the cache is not an attribute).
"""

import hashlib
import os
import threading
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from skcatdog._images import infer_image_shape, to_images
from skcatdog.loading import _LRUCache
from skcatdog.parallel import limit_tf_threads

__all__ = ["PretrainedFeatures", "clear_feature_cache"]

#: Features kept in memory across fits, at most (the oldest go first).
CACHE_BYTES = 512 * 2**20


_FEATURES = _LRUCache(lambda: CACHE_BYTES)
_FEATURES.misses = 0  # images the backbone had to compute
_NETWORKS = {}
_NETWORKS_LOCK = threading.Lock()


def clear_feature_cache():
    """Forget every cached feature vector and loaded backbone of this process."""
    _FEATURES.clear()
    _FEATURES.misses = 0
    with _NETWORKS_LOCK:
        _NETWORKS.clear()


def _weights_key(weights):
    if weights is None or weights == "imagenet":
        return weights
    stat = os.stat(weights)  # another file at the same path gives other features
    return (os.fspath(weights), stat.st_size, stat.st_mtime_ns)


def _pooled_network(backbone, weights, image_shape, data_home):
    """The backbone plus global average pooling, loaded once per process."""
    key = (backbone, _weights_key(weights), tuple(image_shape))
    with _NETWORKS_LOCK:
        if key not in _NETWORKS:
            from skcatdog._quiet import keras
            from skcatdog.backbones import load_backbone

            network = load_backbone(backbone, weights, image_shape, data_home=data_home)
            pooled = keras.layers.GlobalAveragePooling2D(name="avg_pool")(network.output)
            _NETWORKS[key] = (key, keras.Model(network.input, pooled, name=network.name))
        return _NETWORKS[key]


class PretrainedFeatures(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Turn images into a pretrained backbone's globally pooled features.

    Parameters
    ----------
    backbone : str, default="efficientnet_lite0"
        A network of :data:`skcatdog.backbones.BACKBONES`, or the name of a
        ``keras.applications`` network (``"MobileNetV2"``, ``"ResNet50"``...).
    weights : "imagenet", path or None, default="imagenet"
        Where the weights come from: see :mod:`skcatdog.backbones` (the
        ``skcatdog[pretrained]`` extra for EfficientNet-Lite0 offline, Keras'
        download for the others, or a local weights file). ``None`` draws
        random weights once per process: for tests only.
    image_shape : tuple of int, default=None
        ``(height, width, 3)`` when ``X`` holds flat rows that are not square
        RGB images; ``None`` infers it. The backbones were trained on
        224x224 images.
    batch_size : int, default=32
        Images per forward pass.
    cache : bool, default=True
        Keep each image's features in this process's memory (up to
        :data:`CACHE_BYTES`), so that fitting again on the same images, as a
        grid search does for each candidate and fold, reuses them.
    data_home : str or path-like, default=None
        Where converted weights are cached (:func:`~skcatdog.datasets.get_data_home`).

    Attributes
    ----------
    n_features_in_ : int
        Pixel values per image.
    image_shape_ : tuple of int
        ``(height, width, 3)``.
    n_features_out_ : int
        Features per image (1,280 for EfficientNet-Lite0).

    See Also
    --------
    PretrainedCNNClassifier : fine-tunes the backbone with a new head.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from skcatdog.features import PretrainedFeatures
    >>> X = np.random.RandomState(0).randint(0, 256, size=(6, 32 * 32 * 3), dtype=np.uint8)
    >>> embed = PretrainedFeatures(backbone="MobileNetV2", weights=None)
    >>> embed.fit_transform(X).shape
    (6, 1280)
    >>> pipe = make_pipeline(embed, LogisticRegression()).fit(X, [0, 1] * 3)
    """

    _parameter_constraints = {
        "backbone": [str],
        "weights": [str, os.PathLike, None],
        "image_shape": ["array-like", None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "cache": ["boolean"],
        "data_home": [str, os.PathLike, None],
    }

    def __init__(self, backbone="efficientnet_lite0", weights="imagenet", *, image_shape=None,
                 batch_size=32, cache=True, data_home=None):
        self.backbone = backbone
        self.weights = weights
        self.image_shape = image_shape
        self.batch_size = batch_size
        self.cache = cache
        self.data_home = data_home

    def _check_X(self, X, reset):
        """``X`` as validated flat rows, and 4-D ``X``'s image shape (else None)."""
        X = check_array(X, allow_nd=True, dtype=None, ensure_min_features=3)
        if X.dtype.kind not in "uif":
            raise ValueError(f"PretrainedFeatures takes pixel values; got dtype {X.dtype}.")
        shape = X.shape[1:] if X.ndim == 4 else None
        # n_features_in_ counts pixel values per image, whichever the layout.
        flat = validate_data(self, X.reshape(len(X), -1), reset=reset, dtype=None)
        return flat, shape

    def fit(self, X, y=None):
        """Load the backbone for images like ``X`` (nothing is learned).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w, 3)
            Images with pixel values in ``[0, 255]``, as :class:`ImageLoader` returns.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        self._validate_params()
        X, shape = self._check_X(X, reset=True)
        self.image_shape_ = infer_image_shape(X if shape is None else X.reshape(-1, *shape),
                                              self.image_shape, name="PretrainedFeatures")
        limit_tf_threads()
        _, network = _pooled_network(self.backbone, self.weights, self.image_shape_,
                                     self.data_home)
        self.n_features_out_ = int(network.output.shape[-1])
        self._n_features_out = self.n_features_out_  # read by get_feature_names_out
        return self

    def transform(self, X):
        """The backbone's globally pooled features of each image.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w, 3)
            Images like those seen in ``fit``.

        Returns
        -------
        features : ndarray of shape (n_samples, n_features_out_), float32
        """
        check_is_fitted(self)
        X, _ = self._check_X(X, reset=False)
        images = to_images(X, self.image_shape_)
        limit_tf_threads()
        key, network = _pooled_network(self.backbone, self.weights, self.image_shape_,
                                       self.data_home)
        features = np.empty((len(images), self.n_features_out_), dtype="float32")
        if not self.cache:
            if len(images):
                features[:] = network.predict(images, batch_size=self.batch_size, verbose=0)
            return features
        digests = [(key, str(images.dtype), hashlib.blake2b(
            np.ascontiguousarray(image).data, digest_size=16).digest()) for image in images]
        missing = []
        for i, digest in enumerate(digests):
            cached = _FEATURES.get(digest)
            if cached is None:
                missing.append(i)
            else:
                features[i] = cached
        if missing:
            # No copy of the pixels when every image is new (the first transform).
            todo = images if len(missing) == len(images) else images[missing]
            computed = network.predict(todo, batch_size=self.batch_size, verbose=0)
            _FEATURES.misses += len(missing)
            for i, row in zip(missing, computed):
                features[i] = row
                _FEATURES.put(digests[i], features[i].copy())
        return features
