"""Train and predict on more images than fit in memory, straight from their files.

A classifier given a ``loader`` takes file paths as ``X`` and decodes them
batch by batch while it trains, instead of holding every decoded image at
once (pixels in memory take the same road, :class:`ImageBatches`, without
decoding)::

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

Decoding a JPEG costs far more than reading its decoded pixels back, and on a
small machine it competes with training for the same cores. So when a fit
runs more than one epoch, each image is decoded once: its pixels go to a
temporary file on disk (``height * width * channels`` bytes per image: 1.2 GB
for 25,000 images at 128x128), and later epochs read them back from there,
as ``tf.data.Dataset.cache(filename)`` does. The file is created in
:func:`tempfile.gettempdir` (set ``TMPDIR`` to choose the disk), is unlinked
from the start -- the operating system removes it when the fit ends, even if
the process is killed -- and is never mapped into memory: the pixels are read
with ``os.preadv`` into each batch, so they do not count towards the
process's resident memory. If the disk fills up, a warning says so and the
remaining images are decoded every epoch instead.

A loader with ``cache=True`` also keeps the decoded images in the
per-process memory cache, up to ``skcatdog.loading.CACHE_MAX_BYTES`` (1 GiB).
For a data set larger than memory, pass ``cache=False``.
"""

import errno
import math
import os
import tempfile
import threading
import warnings

import numpy as np
from sklearn.base import clone

from skcatdog._images import infer_image_shape
from skcatdog._quiet import keras
from skcatdog._views import views
from skcatdog.loading import _as_paths, _effective_n_jobs

__all__ = ["ImageBatches", "validate_paths"]


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


class _DecodedRows:
    """Decoded pixel rows in an unlinked temporary file, read back by index.

    Rows are written (``os.pwrite``) and read (``os.preadv``) at their own
    offsets, so the worker threads of a PyDataset can use the file side by
    side: within an epoch each row belongs to one batch. A row is marked
    stored only once it is completely written.
    """

    def __init__(self, n_rows):
        self.stored = np.zeros(n_rows, dtype=bool)
        self._file = None
        self._row = None  # (n_values, dtype) of one row, from the first write
        self._full = False
        self._lock = threading.Lock()

    def read(self, idx):
        n_values, dtype = self._row
        rows = np.empty((len(idx), n_values), dtype=dtype)
        size = rows.itemsize * n_values
        fd = self._file.fileno()
        for k, i in enumerate(idx):
            got = os.preadv(fd, [rows[k]], int(i) * size)
            if got != size:  # pragma: no cover - the file is ours alone
                raise OSError(f"short read of decoded image {i}: {got} of {size} bytes")
        return rows

    def write(self, idx, rows):
        rows = np.ascontiguousarray(rows)
        try:
            with self._lock:
                if self._full:
                    return
                if self._file is None:
                    self._row = (rows.shape[1], rows.dtype)
                    self._file = tempfile.TemporaryFile(prefix="skcatdog-decoded-")
            size = rows.itemsize * rows.shape[1]
            fd = self._file.fileno()
            for k, i in enumerate(idx):
                written = os.pwrite(fd, rows[k], int(i) * size)
                if written != size:  # a disk that filled up mid-row
                    raise OSError(errno.ENOSPC, f"wrote {written} of {size} bytes")
                self.stored[i] = True
        except OSError as error:
            self._give_up(error)

    def _give_up(self, error):
        with self._lock:
            if self._full:
                return
            self._full = True
        warnings.warn(
            f"Cannot keep decoded images in a temporary file in "
            f"{tempfile.gettempdir()!r}: {error}. "
            "The remaining images are decoded again every epoch; set TMPDIR to a disk "
            "with room for them.",
            RuntimeWarning, stacklevel=3,
        )

    def close(self):
        if self._file is not None:
            self._file.close()


class ImageBatches(keras.utils.PyDataset):
    """Batches of images for Keras: pixels in memory, or decoded from their files.

    A ``keras.utils.PyDataset``: ``len(batches)`` batches;
    ``batches[i]`` takes the images of batch ``i`` (decoding their files
    with ``loader`` when there is one) and returns ``(images,)``,
    ``(images, y)`` or ``(images, y, sample_weight)``. With ``shuffle=True``
    the order is drawn again after every epoch. Every classifier trains and
    predicts through it, whether its ``X`` holds pixels or paths.

    Parameters
    ----------
    X : array-like of shape (n_samples,) or (n_samples, ...)
        Image files; without a loader, the images' pixels (rows of
        ``height*width*channels`` values, or 4-D images).
    loader : transformer or None
        Turns a list of paths into ``(n, height*width*channels)`` pixel rows;
        usually an :class:`~skcatdog.ImageLoader`. ``None``: ``X`` holds
        pixels.
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
    shift : int, default=0
        Also give each batch shifted diagonally by this many pixels each way
        (test-time views, in the order of ``skcatdog._views.views``): with
        ``flip``, a batch of ``b`` files gives ``10 * b`` images.
    pad : bool, default=False
        Fill a short last batch up to ``batch_size`` with copies of its last
        image, so that every batch has one shape (for prediction: Keras then
        traces its predict step once per model, not again for each new
        remainder). The caller drops the outputs past ``len(X)``.
    workers : int, default=None
        Threads decoding batches; ``None`` uses the loader's ``n_jobs``, at
        least 2 (pixels in memory need none: 1).
    max_queue_size : int, default=4
        Decoded batches waiting for the network.
    keep_decoded : bool, default=False
        Decode each file once: keep its pixels in an unlinked temporary file
        (in :func:`tempfile.gettempdir`) and read them from there the next
        time the file's batch comes round.
    """

    def __init__(
        self, X, loader, image_shape, batch_size=32, *, y=None, sample_weight=None,
        shuffle=False, random_state=None, flip=False, shift=0, pad=False, workers=None,
        max_queue_size=4, keep_decoded=False,
    ):
        if workers is None:
            workers = 1 if loader is None else _n_workers(loader)
        super().__init__(workers=workers, use_multiprocessing=False,
                         max_queue_size=max_queue_size)
        self.X = np.asarray(X, dtype=object) if loader is not None else X
        self.loader = _single_threaded(loader) if loader is not None else None
        self.image_shape = tuple(image_shape)
        self.batch_size = int(batch_size)
        self.y = None if y is None else np.asarray(y)
        self.sample_weight = None if sample_weight is None else np.asarray(sample_weight)
        self.shuffle = shuffle
        self.flip = flip
        self.shift = shift
        self.pad = pad
        self._rng = np.random.RandomState(random_state)
        self._order = self._rng.permutation(len(self.X)) if shuffle else None
        keep_decoded = keep_decoded and loader is not None  # pixels are in memory already
        self._decoded = _DecodedRows(len(self.X)) if keep_decoded else None

    def __len__(self):
        return math.ceil(len(self.X) / self.batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} of {len(self)}")
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        idx = self._order[rows] if self._order is not None else np.arange(len(self.X))[rows]
        images = self._pixels(idx).reshape(-1, *self.image_shape)
        if self.pad and len(images) < self.batch_size:
            images = np.concatenate(
                [images, np.repeat(images[-1:], self.batch_size - len(images), axis=0)])
        images = views(images, self.flip, self.shift)
        if self.y is None:
            return (images,)
        if self.sample_weight is None:
            return images, self.y[idx]
        return images, self.y[idx], self.sample_weight[idx]

    def _pixels(self, idx):
        if self.loader is None:
            return self.X[idx]
        if self._decoded is None:
            return np.asarray(self.loader.transform(self.X[idx]))
        stored = self._decoded.stored[idx]
        if stored.all():
            return self._decoded.read(idx)
        fresh = np.asarray(self.loader.transform(self.X[idx[~stored]]))
        self._decoded.write(idx[~stored], fresh)
        if not stored.any():
            return fresh
        rows = np.empty((len(idx), fresh.shape[1]), dtype=fresh.dtype)
        rows[~stored] = fresh
        rows[stored] = self._decoded.read(idx[stored])
        return rows

    def on_epoch_end(self):
        if self.shuffle:
            self._order = self._rng.permutation(len(self.X))

    def close(self):
        """Remove the temporary file of decoded images now (else when collected)."""
        if self._decoded is not None:
            self._decoded.close()


# -- paths as a classifier's X ---------------------------------------------------


def validate_paths(estimator, X=None, y=None, reset=False):
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
