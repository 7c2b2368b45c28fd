"""Keras callbacks that the classifiers add to every fit, in the open.

Keras' own ``EarlyStopping(restore_best_weights=True)`` ties two ideas
together; skorch keeps them apart (``Checkpoint(load_best=True)`` and
``EarlyStopping``), and so do we: :class:`BestWeights` keeps the weights of the
best epoch, and ``patience`` adds a plain ``keras.callbacks.EarlyStopping``.
A classifier with ``restore_best_weights=True`` adds a ``BestWeights`` of its
own unless ``callbacks`` already holds one, so replacing it is passing
another::

    DeepCNNClassifier(callbacks=[BestWeights(monitor="val_loss", mode="min")])
"""

import numpy as np

from skcatdog._quiet import keras

__all__ = ["BestWeights"]


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
