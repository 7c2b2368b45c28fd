"""Train and predict on more images than fit in memory, straight from their files.

A classifier given a ``loader`` takes file paths as ``X`` and decodes them
batch by batch while it trains, instead of holding every decoded image at
once::

    clf = DeepCNNClassifier(loader=ImageLoader(image_size=(128, 128), cache=False))
    clf.fit(paths, labels)          # paths: 1-D array of file names
    clf.predict(more_paths)

Everything else stays as it is: the stratified, shuffled validation split
(now a split of the paths), best-epoch weights, augmentation (Keras layers
inside the network, fresh each epoch), ``class_weight``/``sample_weight``,
``test_time_flip``, ``GridSearchCV`` and ``cross_val_score`` over the paths.

How
---
:class:`ImageBatches` is a ``keras.utils.PyDataset``: batch ``i`` is the
``i``-th slice of a per-epoch shuffled order of the paths, decoded by the
loader when Keras asks for it. Keras' enqueuer keeps a few batches decoding
on worker threads (JPEG decoding releases the GIL) while the network trains
on the current one, so decoding and training overlap. Memory holds the
network, one queue of decoded batches (``max_queue_size`` batches) and the
paths -- not the data set.

A loader with ``cache=True`` keeps the decoded images in the per-process
cache up to ``skcatdog.loading.CACHE_MAX_BYTES`` (1 GiB): later epochs then
read memory instead of decoding. For a data set larger than memory, pass
``cache=False``.
"""

import math
from numbers import Integral

import keras
import numpy as np
from sklearn.base import clone
from sklearn.preprocessing import FunctionTransformer

from skcatdog._images import infer_image_shape
from skcatdog.loading import _as_paths, _effective_n_jobs

__all__ = ["ImageBatches"]


def _single_threaded(loader):
    """The loader, decoding each batch on one thread (batches run side by side)."""
    if hasattr(loader, "get_params") and "n_jobs" in loader.get_params():
        return clone(loader).set_params(n_jobs=1)
    return loader


def _n_workers(loader):
    # At least two batches in flight, so that one is decoded while the
    # network trains on the other; the loader's n_jobs asks for more.
    n_jobs = loader.get_params().get("n_jobs") if hasattr(loader, "get_params") else None
    return max(2, _effective_n_jobs(n_jobs))


class ImageBatches(keras.utils.PyDataset):
    """Batches of images decoded from their files when Keras asks for them.

    A ``keras.utils.PyDataset``: ``len(batches)`` batches;
    ``batches[i]`` decodes the files of batch ``i`` with ``loader`` and
    returns ``images``, ``(images, y)`` or ``(images, y, sample_weight)``.
    With ``shuffle=True`` the order of the files is drawn again after every
    epoch.

    Parameters
    ----------
    paths : array-like of shape (n_samples,)
        Image files.
    loader : transformer
        Turns a list of paths into ``(n, height*width*channels)`` pixel rows;
        usually an :class:`~skcatdog.ImageLoader`.
    image_shape : tuple of (int, int, int)
        ``(height, width, channels)`` of one decoded image.
    batch_size : int, default=32
        Images per batch.
    y, sample_weight : array-like of shape (n_samples,), default=None
        Targets and weights returned with each batch (for training).
    shuffle : bool, default=False
        Draw a new order of the files for every epoch.
    random_state : int or None, default=None
        Seed of the shuffling.
    flip : bool, default=False
        Follow each batch by its mirror images (for test-time flipping):
        a batch of ``b`` files gives ``2 * b`` images.
    workers : int, default=None
        Threads decoding batches; ``None`` uses the loader's ``n_jobs``, at
        least 2.
    max_queue_size : int, default=4
        Decoded batches waiting for the network.
    """

    def __init__(
        self, paths, loader, image_shape, batch_size=32, *, y=None, sample_weight=None,
        shuffle=False, random_state=None, flip=False, workers=None, max_queue_size=4,
    ):
        super().__init__(
            workers=_n_workers(loader) if workers is None else workers,
            use_multiprocessing=False,
            max_queue_size=max_queue_size,
        )
        self.paths = np.asarray(paths, dtype=object)
        self.loader = _single_threaded(loader)
        self.image_shape = tuple(image_shape)
        self.batch_size = int(batch_size)
        self.y = None if y is None else np.asarray(y)
        self.sample_weight = None if sample_weight is None else np.asarray(sample_weight)
        self.shuffle = shuffle
        self.flip = flip
        self._rng = np.random.RandomState(random_state)
        self._order = self._rng.permutation(len(self.paths)) if shuffle else None

    def __len__(self):
        return math.ceil(len(self.paths) / self.batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} of {len(self)}")
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        idx = self._order[rows] if self._order is not None else np.arange(len(self.paths))[rows]
        images = np.asarray(self.loader.transform(self.paths[idx]))
        images = images.reshape(-1, *self.image_shape)
        if self.flip:
            images = np.concatenate([images, images[:, :, ::-1]])
        if self.y is None:
            return (images,)
        if self.sample_weight is None:
            return images, self.y[idx]
        return images, self.y[idx], self.sample_weight[idx]

    def on_epoch_end(self):
        if self.shuffle:
            self._order = self._rng.permutation(len(self.paths))


# -- the hooks the classifiers call when they have a loader ---------------------


def validate_data(estimator, X=None, y=None, reset=False):
    """Check paths (instead of pixels) and labels; on reset, learn the image shape."""
    from skcatdog._compat import KerasClassifier

    name = type(estimator).__name__
    if X is not None:
        X = np.asarray(_as_paths(X), dtype=object)
        if X.shape[0] == 0:
            raise ValueError(f"{name} got no paths: X is empty.")
        if reset:
            shape = _image_shape(estimator, X)
            estimator.image_shape_ = shape
            estimator.n_features_in_ = math.prod(shape)
            estimator.X_dtype_ = np.dtype(np.uint8)
            estimator.X_shape_ = (X.shape[0], estimator.n_features_in_)
    if y is not None and X is not None and len(y) != len(X):
        raise ValueError(
            f"X and y have inconsistent numbers of samples: {len(X)} paths "
            f"but {len(y)} labels."
        )
    _, y = KerasClassifier._validate_data(estimator, None, y, reset=reset)
    return X, y


def _image_shape(estimator, paths):
    loader = estimator.loader
    shape = getattr(loader, "image_shape", None)
    if shape is None:  # any transformer of paths: look at one decoded image
        row = np.asarray(loader.transform(paths[:1]))
        shape = infer_image_shape(row, estimator.image_shape, name=type(estimator).__name__)
    shape = tuple(int(v) for v in shape)
    if estimator.image_shape is not None and tuple(estimator.image_shape) != shape:
        raise ValueError(
            f"{type(estimator).__name__}: image_shape={tuple(estimator.image_shape)} but "
            f"the loader makes images of shape {shape}."
        )
    return shape


def feature_encoder():
    """Paths stay paths until a batch is decoded."""
    return FunctionTransformer()


def _seed(estimator):
    seed = getattr(estimator, "_random_state", None)
    return int(seed) if isinstance(seed, Integral) else None


def fit_arguments(estimator, X, y, sample_weight, kwargs):
    """Turn the paths of a fit (and its validation split) into ImageBatches."""
    batch_size = kwargs.pop("batch_size", None) or estimator.batch_size
    train = ImageBatches(
        X, estimator.loader, estimator.image_shape_, batch_size, y=y,
        sample_weight=sample_weight, shuffle=kwargs.pop("shuffle", True),
        random_state=_seed(estimator),
    )
    validation = kwargs.get("validation_data")
    if isinstance(validation, tuple) and _is_paths(validation[0]):
        X_val, y_val = validation[:2]
        kwargs["validation_data"] = ImageBatches(
            X_val, estimator.loader, estimator.image_shape_, batch_size, y=y_val
        )
    # Keras takes the batches, targets and weights from the PyDataset itself.
    kwargs.update(batch_size=None, shuffle=False)
    return train, None, None, kwargs


def _is_paths(X):
    X = np.asarray(X, dtype=object) if not isinstance(X, np.ndarray) else X
    return X.dtype.kind in "OUS" and X.ndim == 1


def predict_raw(estimator, X, **kwargs):
    """Predicted probabilities, decoding the files batch by batch."""
    from scikeras._utils import route_params

    X, _ = estimator._validate_data(X=X)
    params = estimator.get_params()
    pred_args = route_params(
        params, destination="predict", pass_filter=estimator._predict_kwargs, strict=True
    )
    pred_args = {k: v for k, v in pred_args.items() if not k.startswith("callbacks")}
    pred_args["callbacks"] = estimator._predict_callbacks
    pred_args.update(kwargs)
    batch_size = pred_args.pop("batch_size", None) or estimator.batch_size
    flip = bool(estimator.test_time_flip)
    batches = ImageBatches(X, estimator.loader, estimator.image_shape_, batch_size, flip=flip)
    proba = estimator.model_.predict(batches, **pred_args)
    if flip:  # each batch came as [b images, their b mirror images]
        parts, start = [], 0
        for i in range(len(batches)):
            b = min(batch_size, len(X) - i * batch_size)
            both = proba[start : start + 2 * b]
            parts.append((both[:b] + both[b:]) / 2)
            start += 2 * b
        proba = np.concatenate(parts)
    return proba
