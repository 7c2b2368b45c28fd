"""Training written once: :class:`CNNClassifier`, the base of every classifier.

A classifier is a network family (:mod:`skcatdog.networks`) plus defaults::

    class DeepCNNClassifier(CNNClassifier):
        network = networks.plain
        defaults = {"n_conv_layers": 3, "filters": (32, 64, 64), "dense_units": 128}

Everything about fitting lives here, the same for every family: the
stratified validation split, the best epoch's weights
(:class:`~skcatdog.callbacks.BestWeights`) and early stopping, the learning
rate schedule with its warm-up, label smoothing, seeding, test-time flips,
and the one data path: pixels in memory and paths decoded from disk (a
``loader``) both reach Keras as :class:`~skcatdog.streaming.ImageBatches`, so
shuffling, validation, test-time views and prediction are each written once.
scikeras (behind :mod:`skcatdog._compat`) keeps routing, warm starts,
history and pickling.

The parameters of a classifier are the training parameters below and the
keywords of its family's ``build``; ``__init__``'s signature lists them all
with the class's defaults (scikit-learn's ``get_params``, ``clone`` and
``repr`` read it), and ``__init__`` only stores them.
"""

import contextlib
import inspect
import math
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, check_random_state

from skcatdog import (
    _keras_layers,  # noqa: F401  (registers our saveable layers)
    streaming,
)
from skcatdog._compat import (
    REBUILT_WHEN_LOADED,
    KerasClassifier,
    keras_model_bytes,
    keras_model_from_bytes,
)
from skcatdog._images import infer_image_shape
from skcatdog._views import n_views
from skcatdog.callbacks import BestWeights
from skcatdog.parallel import limit_tf_threads

__all__ = ["CNNClassifier", "TRAINING_DEFAULTS", "resolve_dtype_policy"]

#: The training parameters and their defaults (the notebook's training).
TRAINING_DEFAULTS = {
    "optimizer": "adam",
    "learning_rate": 0.001,
    "weight_decay": None,
    "lr_schedule": "constant",
    "warmup_fraction": 0.0,
    "label_smoothing": 0.0,
    "epochs": 17,
    "batch_size": 32,
    "augmentation": None,
    "image_shape": None,
    "validation_fraction": 0.1,
    "patience": None,
    "restore_best_weights": True,
    "test_time_flip": False,
    "test_time_shift": 0,
    "callbacks": None,
    "class_weight": None,
    "warm_start": False,
    "random_state": None,
    "verbose": 0,
    "loader": None,
    "dtype_policy": "float32",
}

# Warm-up starts from this fraction of the learning rate (1e-4 for 3e-3).
_WARMUP_START = 1 / 30

_TRAINING_DOC = {
    "optimizer": ('str, keras optimizer class or instance', """
        Keras optimizer. Its options can be routed as ``optimizer__<name>``
        (scikeras' convention), e.g. ``optimizer__weight_decay=1e-4``."""),
    "learning_rate": ("float", """
        Peak learning rate (ignored for an optimizer instance)."""),
    "weight_decay": ("float or None", """
        Weight decay of the optimizer (AdamW's decoupled decay; an L2 penalty
        for others that take ``weight_decay``); ``None`` leaves the
        optimizer's own default."""),
    "lr_schedule": ('{"constant", "cosine"}', """
        ``"cosine"`` decays the learning rate to zero over all epochs."""),
    "warmup_fraction": ("float", """
        Fraction of the training steps over which the learning rate first
        rises linearly from ``learning_rate / 30`` to ``learning_rate`` (then
        stays, or decays on the cosine); 0 for none."""),
    "label_smoothing": ("float", """
        Pull the targets towards uniform by this amount (Keras'
        ``BinaryCrossentropy`` or, for more than two classes,
        ``CategoricalCrossentropy(label_smoothing=...)``)."""),
    "epochs": ("int", """
        Passes over the training images."""),
    "batch_size": ("int", """
        Images per gradient step (and per prediction batch)."""),
    "augmentation": ("ImageAugmenter", """
        Random perturbation of training images, fresh each epoch; never applied
        when predicting."""),
    "image_shape": ("tuple of int", """
        ``(height, width, channels)`` when ``X`` holds flat rows of another
        shape than a square RGB or square grayscale image. ``None`` infers it."""),
    "validation_fraction": ("float", """
        Fraction of the training images held out (stratified, shuffled with
        ``random_state``) to score each epoch (``history_``) and, with
        ``restore_best_weights``, to pick the best one. 0 trains on everything
        and keeps the last epoch's weights."""),
    "patience": ("int", """
        Stop after this many epochs without a better validation accuracy
        (``keras.callbacks.EarlyStopping``); ``None`` trains all ``epochs``."""),
    "restore_best_weights": ("bool", """
        Keep the weights of the epoch with the best validation accuracy (the
        notebook's ``ModelCheckpoint(save_best_only=True)``): adds a
        :class:`~skcatdog.callbacks.BestWeights` unless ``callbacks`` holds
        one. ``False`` keeps the last epoch's. Without validation images the
        last epoch is kept."""),
    "test_time_flip": ("bool", """
        Average the predicted probabilities of each image and its mirror image."""),
    "test_time_shift": ("int", """
        Average the predicted probabilities over the image in place and four
        copies shifted diagonally by this many pixels each way (borders
        reflected; by at most the image's height or width less one pixel),
        each with its mirror image under ``test_time_flip``: five times the
        prediction cost, no training cost. 0 for none."""),
    "callbacks": ("list of keras.callbacks.Callback", """
        Extra Keras callbacks for ``fit``."""),
    "class_weight": ('dict or "balanced"', """
        Weights of the classes in the loss."""),
    "warm_start": ("bool", """
        Keep training the current network on the next ``fit``."""),
    "random_state": ("int, RandomState instance or None", """
        Seeds the weights, the validation split, the shuffling and the
        augmentation. With an int, fitting twice on the same data gives
        identical predictions: the fit runs with TensorFlow's op determinism
        switched on (and off again afterwards). That holds on one machine and
        one software stack; another CPU type, a GPU, or another TensorFlow
        version may round differently."""),
    "verbose": ("int", """
        Keras' progress output: 0 silent, 1 progress bar, 2 one line per epoch."""),
    "dtype_policy": ('{"float32", "mixed_bfloat16", "auto"}', """
        Keras' dtype policy of the network's layers. ``"mixed_bfloat16"``
        computes in bfloat16 and keeps the weights (and the output layer) in
        float32: on CPUs that multiply bfloat16 natively (AVX512-BF16, AMX)
        a training step takes much less time (``benchmarks/RESULTS.md``),
        elsewhere more. ``"auto"`` chooses ``"mixed_bfloat16"`` on such a CPU
        when TensorFlow sees no GPU, ``"float32"`` otherwise; the choice is
        ``dtype_policy_``. Augmentation always runs in float32."""),
    "loader": ("transformer", """
        When given (usually an :class:`ImageLoader`), ``X`` holds image file
        paths, decoded batch by batch while training and predicting, so the
        data set never sits in memory whole (see :mod:`skcatdog.streaming`).
        ``None``: ``X`` holds pixels."""),
}

_ATTRIBUTES_DOC = """
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels, sorted, as given in ``y``.
    n_classes_ : int
        Number of classes.
    n_features_in_ : int
        Pixel values per image, ``height * width * channels``.
    image_shape_ : tuple of int
        ``(height, width, channels)`` the network takes.
    model_ : keras.Model
        The trained network (its family's ``build`` names the layers).
    history_ : dict of list
        Per-epoch ``loss``, ``accuracy``, ``val_loss`` and ``val_accuracy``.
    best_epoch_ : int
        Index into ``history_`` of the epoch whose weights were kept.
    dtype_policy_ : str
        The dtype policy the network was built with.
"""

#: Builder keywords that the training supplies rather than the user.
_SUPPLIED = ("image_shape", "n_classes", "augmentation_layers", "seed")


def architecture_defaults(network):
    """The architecture keywords of a family's ``build`` and their defaults."""
    return {
        name: p.default for name, p in inspect.signature(network.build).parameters.items()
        if p.kind is p.KEYWORD_ONLY and name not in _SUPPLIED
    }


def _architecture_doc(network, names):
    """The numpydoc entries of ``names`` from the family builder's docstring."""
    lines = inspect.getdoc(network.build).splitlines()
    entries, current = {}, None
    for line in lines:
        head = line.split(" : ", 1)[0]
        if not line.startswith(" ") and " : " in line:
            current = head if head in names else None
            if current:
                entries[current] = [line.split(" : ", 1)[1].split(", default=")[0]]
        elif current and line.startswith(" "):
            entries[current].append("    " + line)
        elif not line.strip() or not line.startswith(" "):
            current = None
    return {name: (entries[name][0], "\n" + "\n".join(entries[name][1:]))
            for name in names if name in entries}


def _parameters_doc(cls):
    docs = {**_architecture_doc(cls.network, cls._architecture_names),
            **_TRAINING_DOC, **vars(cls).get("parameter_docs", {})}
    text = ["    Parameters", "    ----------"]
    for name, default in cls._defaults.items():
        kind, description = docs[name]
        shown = f'"{default}"' if isinstance(default, str) else repr(default)
        text.append(f"    {name} : {kind}, default={shown}")
        text.extend(line for line in description.splitlines() if line.strip())
    text += ["    **kwargs : dict",
             "        scikeras' routed parameters (``optimizer__*``, ``callbacks__*``,",
             "        ``fit__*``, ``predict__*``)."]
    return "\n".join(text) + "\n" + _ATTRIBUTES_DOC


class CNNClassifier(KerasClassifier):
    """Base of the classifiers: a network family trained the same way.

    Subclasses set ``network`` (a module of :mod:`skcatdog.networks`) and
    ``defaults`` (training and architecture defaults that differ from
    :data:`TRAINING_DEFAULTS` and the family's own); their docstring's
    ``%(parameters)s`` becomes the Parameters and Attributes sections.
    """

    #: The network family (a module of :mod:`skcatdog.networks`).
    network = None
    #: Defaults of this classifier that differ from the training's and the family's.
    defaults = {}

    #: What scores an epoch for ``restore_best_weights`` and ``patience``: a
    #: Keras ``logs`` name (``val_`` prepended when validating) and whether
    #: higher (``"max"``) or lower (``"min"``) is better.
    best_epoch_metric = ("accuracy", "max")
    #: Names ``augmentation`` may take: name -> function returning an ImageAugmenter.
    augmentation_presets = {}

    # scikeras reads these attributes; we fix them rather than expose them.
    model = None
    build_fn = None
    metrics = None
    validation_batch_size = None
    validation_split = 0.0
    shuffle = True
    run_eagerly = False

    @property
    def loss(self):
        # scikeras' target encoder reads this name: one-hot targets for more
        # than two classes when they are smoothed, ordinal ones otherwise.
        return "categorical_crossentropy" if self.label_smoothing else None

    _training_constraints = {
        "optimizer": [str, HasMethods(["apply_gradients"]), type],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left"), None],
        "lr_schedule": [StrOptions({"constant", "cosine"})],
        "warmup_fraction": [Interval(Real, 0, 1, closed="left")],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "augmentation": [HasMethods(["build_layers"]), None],
        "image_shape": ["array-like", None],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "patience": [Interval(Integral, 1, None, closed="left"), None],
        "restore_best_weights": ["boolean"],
        "test_time_flip": ["boolean"],
        "test_time_shift": [Interval(Integral, 0, None, closed="left")],
        "callbacks": [list, None],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "loader": [HasMethods(["transform"]), None],
        "dtype_policy": [StrOptions({"float32", "mixed_bfloat16", "auto"})],
    }

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.network is None:
            return
        cls._architecture_names = tuple(architecture_defaults(cls.network))
        # What a parameter was before it existed: a pickle or model file of an
        # earlier release that does not name it trained this way.
        cls._neutral_defaults = {**architecture_defaults(cls.network), **TRAINING_DEFAULTS}
        inherited = {}
        for base in reversed(cls.__mro__[1:]):
            inherited.update(vars(base).get("defaults", {}))
        cls._defaults = {**architecture_defaults(cls.network), **TRAINING_DEFAULTS,
                         **inherited, **vars(cls).get("defaults", {})}
        cls._parameter_constraints = {
            **CNNClassifier._training_constraints, **cls.network.parameter_constraints,
            **vars(cls).get("_parameter_constraints", {}),
        }

        def __init__(self, **params):
            CNNClassifier.__init__(self, **params)

        # The parameters, with this class's defaults. scikeras' routed ones
        # (optimizer__beta_1=...) are accepted too, but are not parameters of
        # the signature: scikit-learn's checks call it with every name it lists.
        keyword = inspect.Parameter.KEYWORD_ONLY
        __init__.__signature__ = inspect.Signature([
            inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
            *(inspect.Parameter(name, keyword, default=default)
              for name, default in cls._defaults.items()),
        ])
        __init__.__qualname__ = f"{cls.__qualname__}.__init__"
        cls.__init__ = __init__
        if cls.__doc__ and "%(parameters)s" in cls.__doc__:
            cls.__doc__ = cls.__doc__.replace("%(parameters)s", _parameters_doc(cls))

    def __init__(self, **params):
        defaults = type(self).__dict__.get("_defaults") or getattr(self, "_defaults", None)
        if defaults is None:
            raise TypeError("CNNClassifier is a base class: use one of its subclasses, "
                            "or subclass it with a network family.")
        for name in params:
            if name not in defaults and "__" not in name:
                raise TypeError(f"{type(self).__name__}.__init__() got an unexpected keyword "
                                f"argument {name!r}.")
        # Every parameter is stored as given; scikeras' routed ones
        # (optimizer__beta_1=..., callbacks__0__...) too.
        vars(self).update({**defaults, **params})

    # -- the network ---------------------------------------------------------

    def _augmenter(self):
        """The ImageAugmenter of this fit, or None; a name stands for a preset of the class.

        A preset is a function making a fresh ImageAugmenter: an instance as a
        default would be shared by every classifier, and set_params would edit it.
        """
        if isinstance(self.augmentation, str):
            return self.augmentation_presets[self.augmentation]()
        return self.augmentation

    def _build_network(self, n_classes, n_samples):
        seed = self._fit_seed
        augmenter = self._augmenter()
        # Built before the policy applies: augmentation stays in float32.
        augmentation_layers = augmenter.build_layers(seed=seed) if augmenter else []
        self.dtype_policy_ = resolve_dtype_policy(self.dtype_policy)
        with _dtype_policy(self.dtype_policy_):
            model = self.network.build(
                self.image_shape_, n_classes,
                augmentation_layers=augmentation_layers,
                # scikeras seeds Python's global random with this seed, but another
                # thread (a Dask worker's event loop) may draw from it mid-build: the
                # network takes the same seeds from a generator nobody else shares.
                seed=seed,
                **{name: getattr(self, name) for name in self._architecture_names},
            )
        import keras

        if not self.label_smoothing:
            loss = "binary_crossentropy" if n_classes == 2 else "sparse_categorical_crossentropy"
        elif n_classes == 2:
            loss = keras.losses.BinaryCrossentropy(label_smoothing=self.label_smoothing)
        else:
            loss = keras.losses.CategoricalCrossentropy(label_smoothing=self.label_smoothing)
        options = {"learning_rate": self._learning_rate(n_samples)}
        if self.weight_decay is not None:
            options["weight_decay"] = self.weight_decay
        model.compile(optimizer=self._make_optimizer(**options), loss=loss, metrics=["accuracy"])
        return model

    def _learning_rate(self, n_samples):
        """``learning_rate``, or a Keras schedule for the cosine and the warm-up."""
        if self.lr_schedule == "constant" and not self.warmup_fraction:
            return self.learning_rate
        import keras

        n_train = n_samples * (1 - self.validation_fraction)
        steps = max(1, math.ceil(n_train / self.batch_size)) * self.epochs
        warmup = int(self.warmup_fraction * steps)
        if not warmup:  # too few steps for a warm-up
            if self.lr_schedule == "constant":
                return self.learning_rate
            return keras.optimizers.schedules.CosineDecay(self.learning_rate, steps)
        # CosineDecay rises linearly to warmup_target first; alpha=1 holds it there.
        return keras.optimizers.schedules.CosineDecay(
            self.learning_rate * _WARMUP_START, max(1, steps - warmup),
            alpha=0.0 if self.lr_schedule == "cosine" else 1.0,
            warmup_target=self.learning_rate, warmup_steps=warmup,
        )

    # -- data ----------------------------------------------------------------

    @property
    def feature_encoder(self):
        """Pixels and paths reach the network as they are; ImageBatches shapes them."""
        return FunctionTransformer()

    def _validate_data(self, X=None, y=None, reset=False, y_numeric=False):
        if self.loader is not None:  # X holds paths
            X, y = streaming.validate_paths(self, X, y, reset=reset)
            return X, y
        X, y = super()._validate_data(X, y, reset=reset, y_numeric=y_numeric)
        if X is not None and reset:
            self.image_shape_ = infer_image_shape(X, self.image_shape, name=type(self).__name__)
        elif X is not None and X.ndim == 4 and X.shape[1:] != self.image_shape_:
            raise ValueError(
                f"X holds images of shape {X.shape[1:]}, but {type(self).__name__} was "
                f"fitted on images of shape {self.image_shape_}."
            )
        return X, y

    def _batches(self, X, batch_size, **kwargs):
        """``X`` (pixels or paths) as the ImageBatches Keras reads."""
        return streaming.ImageBatches(X, self.loader, self.image_shape_, batch_size, **kwargs)

    # -- training ------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None, **kwargs):
        """Build the network and train it on ``(X, y)``.

        A stratified, shuffled ``validation_fraction`` of the data is held out;
        with ``restore_best_weights`` the weights of the epoch with the best
        validation accuracy are restored at the end (the notebook's
        ``ModelCheckpoint(save_best_only=True)``).
        An interrupted fit (``KeyboardInterrupt`` or any error) leaves the
        estimator as it was before.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w, c)
            Images with pixel values in ``[0, 255]``: rows of
            ``height*width*channels`` values (as :class:`ImageLoader` returns),
            or 4-D image arrays; with a ``loader``, file paths.
        y : array-like of shape (n_samples,)
            Labels, e.g. ``"cat"`` and ``"dog"``.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-image weights in the training loss.
        **kwargs : dict
            Passed on to ``keras.Model.fit``.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        limit_tf_threads()  # a worker of a parallel search keeps to its share of the cores
        before = dict(vars(self))
        weights = (
            self.model_.get_weights() if self.warm_start and hasattr(self, "model_") else None
        )
        try:
            return super().fit(X, y, sample_weight=sample_weight, **kwargs)
        except BaseException:
            vars(self).clear()
            vars(self).update(before)
            if weights is not None:
                self.model_.set_weights(weights)
            raise

    def _validation_split(self, y):
        """Indices of a stratified, shuffled train/validation split, or None."""
        if not self.validation_fraction:
            return None
        n_samples = len(y)
        # One-hot targets (smoothed, more than two classes) count by row.
        _, counts = np.unique(y, axis=0 if np.ndim(y) > 1 else None, return_counts=True)
        n_val = math.ceil(self.validation_fraction * n_samples)
        if counts.min() < 2 or n_val < counts.size or n_samples - n_val < counts.size:
            warnings.warn(
                f"{type(self).__name__}: {n_samples} images are too few to hold out a "
                f"stratified validation_fraction={self.validation_fraction}; training "
                "without validation, keeping the weights of the last epoch.",
                UserWarning,
                stacklevel=5,
            )
            return None
        seed = check_random_state(self.random_state).randint(2**31 - 1)
        return train_test_split(
            np.arange(n_samples), test_size=n_val, stratify=y, random_state=seed
        )

    def _training_callbacks(self, monitor, mode):
        """The callbacks this fit adds after the user's: best weights, early stopping."""
        import keras

        callbacks = []
        user = self._user_fit_callbacks()
        if (self.restore_best_weights and monitor.startswith("val_")
                and not any(isinstance(c, BestWeights) for c in user)):
            callbacks.append(BestWeights(monitor=monitor, mode=mode))
        if self.patience:
            callbacks.append(keras.callbacks.EarlyStopping(monitor=monitor, mode=mode,
                                                           patience=self.patience))
        return callbacks

    def _fit_network(self, X, y, sample_weight, *, epochs, initial_epoch, **kwargs):
        batch_size = kwargs.pop("batch_size", None) or self.batch_size
        shuffle = kwargs.pop("shuffle", True)
        # One epoch reads each file once anyway; more read decoded pixels back.
        keep_decoded = self.loader is not None and epochs - initial_epoch > 1
        validation = kwargs.pop("validation_data", None)
        if validation is not None:  # the user's own (X, y): encode it as ours
            X_val, _ = self._validate_data(validation[0])
            validation = (X_val, self.target_encoder_.transform(validation[1]))
        else:
            split = self._validation_split(y)
            if split is not None:
                train, val = split
                validation = (X[val], y[val])
                X, y = X[train], y[train]
                sample_weight = None if sample_weight is None else sample_weight[train]
        train_batches = self._batches(X, batch_size, y=y, sample_weight=sample_weight,
                                      shuffle=shuffle, random_state=_int_seed(self._fit_seed),
                                      keep_decoded=keep_decoded)
        batches = [train_batches]
        if validation is not None:
            batches.append(self._batches(validation[0], batch_size, y=validation[1],
                                         keep_decoded=keep_decoded))
            kwargs["validation_data"] = batches[-1]
        metric, mode = self.best_epoch_metric
        monitor = f"val_{metric}" if validation is not None else metric
        callbacks = self._training_callbacks(monitor, mode)
        try:
            self._run_keras_fit(train_batches, None, None, callbacks=callbacks,
                                epochs=epochs, initial_epoch=initial_epoch,
                                batch_size=None, shuffle=False, **kwargs)
        finally:
            for each in batches:
                each.close()  # streaming: drop the decoded-pixel files now
        self.history_ = dict(self.history_)
        n_epochs = len(self.history_.get("loss", ()))
        best = [c for c in [*self._user_fit_callbacks(), *callbacks]
                if isinstance(c, BestWeights)]
        if best and best[0].best_epoch is not None:  # history_ may hold earlier fits too
            self.best_epoch_ = n_epochs - best[0].n_epochs + best[0].best_epoch
        else:
            self.best_epoch_ = n_epochs - 1

    # -- prediction ----------------------------------------------------------

    def _predict_network(self, X, **kwargs):
        limit_tf_threads()
        X, _ = self._validate_data(X=X)
        args = self._predict_arguments(**kwargs)
        batch_size = args.pop("batch_size", None) or self.batch_size
        flip, shift = bool(self.test_time_flip), int(self.test_time_shift)
        # Every batch is full (the last one padded): one shape, one trace of the step.
        batches = self._batches(X, batch_size, flip=flip, shift=shift, pad=True)
        proba = self.model_.predict(batches, **args)
        # Each batch came as the views of batch_size images, one view after the other.
        proba = proba.reshape(len(batches), n_views(flip, shift), batch_size,
                              *proba.shape[1:])
        return proba.mean(axis=1).reshape(-1, *proba.shape[3:])[: len(X)]

    def predict_proba(self, X, **kwargs):
        """Probability of each class for each image.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w, c)
            Images, as in :meth:`fit`.
        **kwargs : dict
            Passed on to ``keras.Model.predict``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        check_is_fitted(self, "model_")
        return super().predict_proba(X, **kwargs)

    def predict(self, X, **kwargs):
        """Most probable class of each image.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w, c)
            Images, as in :meth:`fit`.
        **kwargs : dict
            Passed on to ``keras.Model.predict``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        check_is_fitted(self, "model_")
        return super().predict(X, **kwargs)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "model_")

    # -- pickling across releases --------------------------------------------

    def __getstate__(self):
        import skcatdog

        state = {**super().__getstate__(), "_skcatdog_version": skcatdog.__version__}
        if "model_" in state:
            # Plain data only, so that skops (which walks the state, and recurses
            # forever through a Keras model) reads it as well as pickle: the
            # network as its .keras bytes; scikeras' encoders and callbacks are
            # rebuilt from the other fitted attributes when loading.
            state["_keras_model"] = keras_model_bytes(state["model_"])
            for name in ("X_dtype_", "y_dtype_"):  # numpy.dtype is not plain data to skops
                if name in state:
                    state[name] = np.dtype(state[name]).str
            for name in REBUILT_WHEN_LOADED:
                state.pop(name, None)
        return state

    def __setstate__(self, state):
        from skcatdog.persistence import _older

        state = dict(state)
        version = state.pop("_skcatdog_version", "0.1.0")  # 0.1 wrote none
        changed = getattr(type(self), "network_changed_in", None)
        if changed and _older(version, changed):
            raise TypeError(
                f"This {type(self).__name__} was pickled by skcatdog {version}; its network "
                f"changed in skcatdog {changed}, so it cannot be loaded. Train it again "
                "with this version."
            )
        keras_model = state.pop("_keras_model", None)
        # Parameters added since the pickle was written take the values that
        # train as its release did.
        super().__setstate__({**self._defaults, **self._neutral_defaults, **state})
        if keras_model is not None:
            for name in ("X_dtype_", "y_dtype_"):
                if name in state:
                    setattr(self, name, np.dtype(state[name]))
            self._restore_fitted(keras_model_from_bytes(keras_model))

    def __repr__(self):
        # scikit-learn's repr (only non-default parameters), not scikeras' one
        # line per parameter.
        from sklearn.base import BaseEstimator

        return BaseEstimator.__repr__(self)


def native_bfloat16(cpuinfo="/proc/cpuinfo"):
    """True when the CPU multiplies bfloat16 natively and TensorFlow sees no GPU.

    Read from the CPU flags Linux reports in ``cpuinfo`` (``avx512_bf16``,
    ``amx_bf16``); elsewhere False.
    """
    try:
        with open(cpuinfo, encoding="ascii", errors="replace") as lines:
            flags = next((line.split(":", 1)[1].split() for line in lines
                          if line.startswith("flags")), [])
    except OSError:
        return False
    if not {"avx512_bf16", "amx_bf16"} & set(flags):
        return False
    import tensorflow as tf

    return not tf.config.list_physical_devices("GPU")


def resolve_dtype_policy(dtype_policy):
    """The Keras dtype policy ``dtype_policy`` stands for on this machine.

    >>> resolve_dtype_policy("float32"), resolve_dtype_policy("mixed_bfloat16")
    ('float32', 'mixed_bfloat16')
    >>> resolve_dtype_policy("auto") in ("float32", "mixed_bfloat16")
    True
    """
    if dtype_policy != "auto":
        return dtype_policy
    return "mixed_bfloat16" if native_bfloat16() else "float32"


@contextlib.contextmanager
def _dtype_policy(name):
    """Keras' default dtype policy set to ``name`` while layers are made.

    Keras keeps that default per thread, so other threads' models are not
    affected.
    """
    import keras

    before = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(before)


def _int_seed(seed):
    return int(seed) if isinstance(seed, Integral) else None
