"""Keras callbacks that the classifiers add to every fit, in the open.

Keras' own ``EarlyStopping(restore_best_weights=True)`` ties two ideas
together; skorch keeps them apart (``Checkpoint(load_best=True)`` and
``EarlyStopping``), and so do we: :class:`BestWeights` keeps the weights of the
best epoch, and ``patience`` adds a plain ``keras.callbacks.EarlyStopping``.
A classifier with ``restore_best_weights=True`` adds a ``BestWeights`` of its
own unless ``callbacks`` already holds one, so replacing it is passing
another::

    DeepCNNClassifier(callbacks=[BestWeights(monitor="val_loss", mode="min")])

:class:`ProgressiveResizing` is what ``progressive_resizing`` adds: it sets
the size of the network's :class:`~skcatdog._keras_layers.TrainingResize`
layer at the start of each epoch.
"""

import numpy as np

from skcatdog._quiet import keras

__all__ = ["BestWeights", "ProgressiveResizing"]


class BestWeights(keras.callbacks.Callback):
    """Keep the weights of the epoch with the best score, and restore them at the end.

    The notebook's ``ModelCheckpoint(save_best_only=True)`` without a file:
    the weights are copied in memory. Ties keep the earlier epoch.

    Parameters
    ----------
    monitor : str, default="val_accuracy"
        The ``logs`` entry that scores an epoch.
    mode : {"max", "min"}, default="max"
        Whether a higher or a lower score is better.

    Attributes
    ----------
    best : float or None
        The best score seen in the last training run.
    best_epoch : int or None
        Index of that epoch among the epochs of the last run (0 for its first).
    n_epochs : int
        Epochs the last run trained.

    Examples
    --------
    >>> import numpy as np, keras
    >>> from skcatdog.callbacks import BestWeights
    >>> model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> best = BestWeights(monitor="loss", mode="min")
    >>> _ = model.fit(np.ones((4, 1)), np.ones(4), epochs=3, verbose=0, callbacks=[best])
    >>> best.best_epoch  # the loss fell every epoch
    2
    """

    def __init__(self, monitor="val_accuracy", mode="max"):
        super().__init__()
        if mode not in ("max", "min"):
            raise ValueError(f"BestWeights: mode must be 'max' or 'min', got {mode!r}.")
        self.monitor = monitor
        self.mode = mode

    def on_train_begin(self, logs=None):
        self.best = None
        self.best_epoch = None
        self._weights = None
        self.n_epochs = 0

    def on_epoch_end(self, epoch, logs=None):
        score = (logs or {}).get(self.monitor)
        if score is not None and np.isfinite(score) and (
            self.best is None or (score > self.best if self.mode == "max" else score < self.best)
        ):
            self.best, self.best_epoch = float(score), self.n_epochs
            self._weights = self.model.get_weights()
        self.n_epochs += 1

    def on_train_end(self, logs=None):
        if self._weights is not None:
            self.model.set_weights(self._weights)
            self._weights = None


class ProgressiveResizing(keras.callbacks.Callback):
    """Train the first epochs on smaller images, the rest at full size.

    fastai's progressive resizing: the early epochs, which only need the
    coarse shapes, train on images scaled by ``scale``, at a fraction of the
    cost; the later ones, which refine, on the images as they are.
    Validation and prediction always see the full size. The network must
    hold a :class:`~skcatdog._keras_layers.TrainingResize` layer named
    ``layer_name`` (a classifier with ``progressive_resizing`` builds one)
    and take any image size (global pooling).

    Parameters
    ----------
    scale : float
        Factor of the image's height and width in the early epochs, in (0, 1].
    fraction : float
        Fraction of the fit's epochs trained at that scale (rounded to the
        nearest epoch).
    layer_name : str, default="training_resize"
        The network's resizing layer.

    Examples
    --------
    >>> import numpy as np, keras
    >>> from skcatdog._keras_layers import TrainingResize
    >>> from skcatdog.callbacks import ProgressiveResizing
    >>> inputs = keras.Input((8, 8, 1))
    >>> x = TrainingResize(name="training_resize")(inputs)
    >>> x = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(1, 3)(x))
    >>> model = keras.Model(inputs, keras.layers.Dense(1)(x))
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> resizing = ProgressiveResizing(scale=0.5, fraction=0.5)
    >>> _ = model.fit(np.ones((4, 8, 8, 1)), np.ones(4), epochs=4, verbose=0,
    ...               callbacks=[resizing])
    >>> resizing.sizes_  # the image size of each epoch
    [(4, 4), (4, 4), (8, 8), (8, 8)]
    """

    def __init__(self, scale, fraction, layer_name="training_resize"):
        super().__init__()
        self.scale = scale
        self.fraction = fraction
        self.layer_name = layer_name

    def on_train_begin(self, logs=None):
        try:
            self._layer = self.model.get_layer(self.layer_name)
        except ValueError:
            raise ValueError(
                f"ProgressiveResizing: the network has no layer named {self.layer_name!r} "
                "(a TrainingResize layer) to resize the training images with."
            ) from None
        self._full = tuple(self.model.input_shape[1:3])
        self.sizes_ = []

    def on_epoch_begin(self, epoch, logs=None):
        small = epoch < round(self.fraction * self.params["epochs"])
        size = (tuple(max(1, round(side * self.scale)) for side in self._full)
                if small and self.scale < 1 else None)
        self._resize(size)
        self.sizes_.append(size or self._full)

    def on_train_end(self, logs=None):
        self._resize(None)  # a later fit, or Keras' own loop, starts at full size

    def _resize(self, size):
        if size != self._layer.size:
            self._layer.size = size
            # Keras reads the layer when it traces the step: trace again.
            self.model.train_function = None
            self.model.make_train_function()
