"""The convolutional networks and the scikit-learn classifiers that train them.

:func:`build_cnn` builds the Keras model; :class:`SimpleCNNClassifier` and
:class:`DeepCNNClassifier` wrap it for scikit-learn (through scikeras, mended
in :mod:`skcatdog._compat`). Their defaults are the classic Kaggle notebook's
networks, layer for layer; every architectural choice is a constructor
parameter, so ``GridSearchCV`` can tune it.
"""

import copy
import inspect
import math
import random
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, check_random_state

from skcatdog import _keras_layers  # noqa: F401  (registers our saveable layers)
from skcatdog._compat import KerasClassifier
from skcatdog._images import infer_image_shape, to_images
from skcatdog.parallel import limit_tf_threads

__all__ = ["build_cnn", "SimpleCNNClassifier", "DeepCNNClassifier"]


def _filters_per_block(filters, n_blocks):
    """One filter count per block: an int for all, or a sequence padded with its last."""
    if isinstance(filters, Integral):
        return [int(filters)] * n_blocks
    filters = [int(f) for f in filters]
    if not filters or min(filters) < 1:
        raise ValueError(f"filters must be positive integers; got {filters!r}.")
    return (filters + [filters[-1]] * n_blocks)[:n_blocks]


def build_cnn(
    image_shape,
    n_classes,
    *,
    n_conv_layers=3,
    filters=(32, 64, 64),
    kernel_size=3,
    convs_per_block=1,
    batch_normalization=False,
    batch_norm_momentum=0.9,
    global_pooling=False,
    dense_units=128,
    dropout=0.5,
    augmentation_layers=(),
    seed=None,
):
    """Build (uncompiled) the Keras network behind the classifiers.

    Input images of ``image_shape`` with pixel values in ``[0, 255]`` pass the
    augmentation layers (active only while training), ``Rescaling(1/255)``,
    then ``n_conv_layers`` blocks of ``convs_per_block`` convolutions with ReLU
    (with batch normalisation before the ReLU if asked) and a 2x2 max-pooling,
    then ``Flatten`` (or global average pooling), a ReLU ``Dense`` layer, dropout
    and the output: one sigmoid unit for two classes, a softmax otherwise.

    Convolutions use "valid" padding, as the notebook did, while the feature map
    is at least ``kernel_size`` wide; smaller maps are padded ("same") and
    pooling stops at one pixel, so any image size, even 1x1, builds.

    Parameters
    ----------
    image_shape : tuple of int
        ``(height, width, channels)``.
    n_classes : int
        Number of classes, at least 2.
    n_conv_layers, filters, kernel_size, convs_per_block, batch_normalization,
    batch_norm_momentum, global_pooling, dense_units, dropout :
        As in :class:`DeepCNNClassifier`.
    augmentation_layers : sequence of keras.layers.Layer, default=()
        Applied first, to pixels in ``[0, 255]``.
    seed : int or None, default=None
        Seeds the initial weights and the dropout masks. Each random layer gets
        its own seed, drawn from ``random.Random(seed)`` in the order Keras
        would draw them from Python's global ``random`` after
        ``random.seed(seed)`` -- the same network, without reading global
        state that other threads (a Dask worker's event loop, for one) also
        draw from. ``None``: Keras' defaults.

    Returns
    -------
    model : keras.Model
        Layers are named ``conv{block}_{i}``, ``pool{block}``, ``flatten``,
        ``dense``, ``dropout`` and ``output``, for inspection.

    Examples
    --------
    >>> from skcatdog.models import build_cnn
    >>> model = build_cnn((50, 50, 3), 2, n_conv_layers=1, filters=32, dense_units=32, dropout=0)
    >>> [layer.name for layer in model.layers]
    ['input', 'rescaling', 'conv1_1', 'pool1', 'flatten', 'dense', 'output']
    >>> model.count_params()
    590785
    """
    import keras
    from keras import layers

    seeds = random.Random(seed) if seed is not None else None

    def layer_seed():
        # keras.random.make_default_seed's draw, from our own generator
        return None if seeds is None else seeds.randint(1, int(1e9))

    def kernel_initializer():
        return keras.initializers.GlorotUniform(seed=layer_seed())

    inputs = keras.Input(shape=tuple(image_shape), name="input")
    x = inputs
    for layer in augmentation_layers:
        x = layer(x)
    x = layers.Rescaling(1.0 / 255, name="rescaling")(x)
    height, width = image_shape[0], image_shape[1]
    for block, n_filters in enumerate(_filters_per_block(filters, n_conv_layers), start=1):
        for i in range(1, convs_per_block + 1):
            padding = "valid" if min(height, width) >= kernel_size else "same"
            name = f"conv{block}_{i}"
            if batch_normalization:
                x = layers.Conv2D(n_filters, kernel_size, padding=padding, use_bias=False,
                                  kernel_initializer=kernel_initializer(), name=name)(x)
                x = layers.BatchNormalization(momentum=batch_norm_momentum,
                                              name=f"bn{block}_{i}")(x)
                x = layers.ReLU(name=f"relu{block}_{i}")(x)
            else:
                x = layers.Conv2D(n_filters, kernel_size, padding=padding, activation="relu",
                                  kernel_initializer=kernel_initializer(), name=name)(x)
            if padding == "valid":
                height, width = height - kernel_size + 1, width - kernel_size + 1
        if min(height, width) >= 2:
            x = layers.MaxPooling2D(2, name=f"pool{block}")(x)
            height, width = height // 2, width // 2
    if global_pooling:
        x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    else:
        x = layers.Flatten(name="flatten")(x)
    if dense_units:
        x = layers.Dense(dense_units, activation="relu", kernel_initializer=kernel_initializer(),
                         name="dense")(x)
    if dropout:
        x = layers.Dropout(dropout, seed=layer_seed(), name="dropout")(x)
    if n_classes == 2:
        outputs = layers.Dense(1, activation="sigmoid", kernel_initializer=kernel_initializer(),
                               name="output")(x)
    else:
        outputs = layers.Dense(n_classes, activation="softmax",
                               kernel_initializer=kernel_initializer(), name="output")(x)
    return keras.Model(inputs, outputs, name="cnn")


def _streaming():
    # Imported on use: only classifiers given a loader need it.
    from skcatdog import streaming

    return streaming


class _CNNClassifierBase(KerasClassifier):
    """Shared machinery of the CNN classifiers; the subclasses set the defaults."""

    # scikeras reads these attributes; we fix them rather than expose them.
    model = None
    build_fn = None
    loss = None
    metrics = None
    validation_batch_size = None
    validation_split = 0.0
    shuffle = True
    run_eagerly = False

    _parameter_constraints = {
        "n_conv_layers": [Interval(Integral, 1, None, closed="left")],
        "filters": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "convs_per_block": [Interval(Integral, 1, None, closed="left")],
        "batch_normalization": ["boolean"],
        "batch_norm_momentum": [Interval(Real, 0, 1, closed="neither")],
        "global_pooling": ["boolean"],
        "dense_units": [Interval(Integral, 0, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "optimizer": [str, HasMethods(["apply_gradients"]), type],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "lr_schedule": [StrOptions({"constant", "cosine"})],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "augmentation": [HasMethods(["build_layers"]), None],
        "image_shape": ["array-like", None],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "patience": [Interval(Integral, 1, None, closed="left"), None],
        "restore_best_weights": ["boolean"],
        "test_time_flip": ["boolean"],
        "callbacks": [list, None],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "loader": [HasMethods(["transform"]), None],
    }

    def __init__(
        self,
        *,
        n_conv_layers,
        filters,
        kernel_size,
        convs_per_block,
        batch_normalization,
        batch_norm_momentum,
        global_pooling,
        dense_units,
        dropout,
        optimizer,
        learning_rate,
        lr_schedule,
        epochs,
        batch_size,
        augmentation,
        image_shape,
        validation_fraction,
        patience,
        test_time_flip,
        callbacks,
        class_weight,
        warm_start,
        random_state,
        verbose,
        loader=None,
        restore_best_weights=True,
        **kwargs,
    ):
        self.n_conv_layers = n_conv_layers
        self.filters = filters
        self.kernel_size = kernel_size
        self.convs_per_block = convs_per_block
        self.batch_normalization = batch_normalization
        self.batch_norm_momentum = batch_norm_momentum
        self.global_pooling = global_pooling
        self.dense_units = dense_units
        self.dropout = dropout
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.epochs = epochs
        self.batch_size = batch_size
        self.augmentation = augmentation
        self.image_shape = image_shape
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.restore_best_weights = restore_best_weights
        self.test_time_flip = test_time_flip
        self.callbacks = callbacks
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.loader = loader
        # scikeras' routed parameters (optimizer__beta_1=..., callbacks__0__...).
        vars(self).update(kwargs)

    # -- model ---------------------------------------------------------------

    def _keras_build_fn(self, meta):
        # The integer scikeras seeds this fit with (drawn from a RandomState
        # instance when one was given); None leaves Keras unseeded.
        seed = getattr(self, "_random_state", None)
        augmentation_layers = (
            self.augmentation.build_layers(seed=seed) if self.augmentation is not None else []
        )
        model = build_cnn(
            self.image_shape_,
            meta["n_classes_"],
            n_conv_layers=self.n_conv_layers,
            filters=self.filters,
            kernel_size=self.kernel_size,
            convs_per_block=self.convs_per_block,
            batch_normalization=self.batch_normalization,
            batch_norm_momentum=self.batch_norm_momentum,
            global_pooling=self.global_pooling,
            dense_units=self.dense_units,
            dropout=self.dropout,
            augmentation_layers=augmentation_layers,
            # scikeras seeds Python's global random with this seed, but another
            # thread (a Dask worker's event loop) may draw from it mid-build: the
            # network takes the same seeds from a generator nobody else shares.
            seed=seed,
        )
        binary = meta["n_classes_"] == 2
        model.compile(
            optimizer=self._make_optimizer(n_samples=meta["X_shape_"][0]),
            loss="binary_crossentropy" if binary else "sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    def _make_optimizer(self, n_samples):
        from scikeras._utils import (
            get_optimizer_class,
            route_params,
            try_to_convert_strings_to_classes,
            unflatten_params,
        )

        optimizer = try_to_convert_strings_to_classes(self.optimizer, get_optimizer_class)
        if not inspect.isclass(optimizer):
            return copy.deepcopy(optimizer)  # an instance the user built: refits get a fresh one
        routed = route_params(
            self.get_params(), destination="optimizer", pass_filter=set(), strict=True
        )
        learning_rate = self.learning_rate
        if self.lr_schedule == "cosine":
            import keras

            n_train = n_samples * (1 - self.validation_fraction)
            steps = max(1, math.ceil(n_train / self.batch_size)) * self.epochs
            learning_rate = keras.optimizers.schedules.CosineDecay(learning_rate, steps)
        routed.setdefault("learning_rate", learning_rate)
        return unflatten_params(items=optimizer, params=routed)

    @property
    def feature_encoder(self):
        """Reshape flat rows into the images the Keras model takes."""
        if self.loader is not None:  # X holds paths (skcatdog.streaming)
            return _streaming().feature_encoder()
        return FunctionTransformer(to_images, kw_args={"image_shape": self.image_shape_})

    def _validate_data(self, X=None, y=None, reset=False, y_numeric=False):
        if self.loader is not None:  # X holds paths (skcatdog.streaming)
            return _streaming().validate_data(self, X, y, reset=reset)
        X, y = super()._validate_data(X, y, reset=reset, y_numeric=y_numeric)
        if X is not None and reset:
            self.image_shape_ = infer_image_shape(X, self.image_shape, name=type(self).__name__)
        elif X is not None and X.ndim == 4 and X.shape[1:] != self.image_shape_:
            raise ValueError(
                f"X holds images of shape {X.shape[1:]}, but {type(self).__name__} was "
                f"fitted on images of shape {self.image_shape_}."
            )
        return X, y

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
            or 4-D image arrays.
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
        _, counts = np.unique(y, return_counts=True)
        n_val = math.ceil(self.validation_fraction * n_samples)
        if counts.min() < 2 or n_val < counts.size or n_samples - n_val < counts.size:
            warnings.warn(
                f"{type(self).__name__}: {n_samples} images are too few to hold out a "
                f"stratified validation_fraction={self.validation_fraction}; training "
                "without validation, keeping the weights of the last epoch.",
                UserWarning,
                stacklevel=4,
            )
            return None
        seed = check_random_state(self.random_state).randint(2**31 - 1)
        return train_test_split(
            np.arange(n_samples), test_size=n_val, stratify=y, random_state=seed
        )

    def _fit_keras_model(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs):
        import keras

        split = self._validation_split(y)
        monitor = "accuracy"
        if split is not None and "validation_data" not in kwargs:
            train, val = split
            kwargs["validation_data"] = (X[val], y[val])
            X, y = X[train], y[train]
            sample_weight = None if sample_weight is None else sample_weight[train]
            monitor = "val_accuracy"
        self._initialize_callbacks()  # scikeras skips this on warm starts
        user_callbacks = self._fit_callbacks
        restore = self.restore_best_weights and monitor == "val_accuracy"
        best = keras.callbacks.EarlyStopping(
            monitor=monitor,
            mode="max",
            patience=self.patience or epochs + 1,
            restore_best_weights=restore,
            verbose=0,
        )
        self._fit_callbacks = [*user_callbacks, best]
        if self.loader is not None:  # paths become batches decoded on the fly
            X, y, sample_weight, kwargs = _streaming().fit_arguments(
                self, X, y, sample_weight, kwargs, n_epochs=epochs - initial_epoch
            )
        try:
            super()._fit_keras_model(
                X, y, sample_weight=sample_weight, warm_start=warm_start, epochs=epochs,
                initial_epoch=initial_epoch, **kwargs,
            )
        finally:
            self._fit_callbacks = user_callbacks
            for batches in (X, kwargs.get("validation_data")):
                if hasattr(batches, "close"):  # streaming: drop the decoded-pixel files
                    batches.close()
        self.history_ = dict(self.history_)
        scores = self.history_.get(monitor, [])
        self.best_epoch_ = int(np.argmax(scores)) if restore else len(scores) - 1

    # -- prediction ----------------------------------------------------------

    def _predict_raw(self, X, **kwargs):
        limit_tf_threads()
        if self.loader is not None:  # decode and predict batch by batch
            return _streaming().predict_raw(self, X, **kwargs)
        proba = super()._predict_raw(X, **kwargs)
        if self.test_time_flip:
            X = check_array(X, allow_nd=True, dtype=["float32", "uint8"])
            flipped = to_images(X, self.image_shape_)[:, :, ::-1].reshape(X.shape)
            proba = (proba + super()._predict_raw(flipped, **kwargs)) / 2
        return proba

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

    def __repr__(self):
        # scikit-learn's repr (only non-default parameters), not scikeras' one
        # line per parameter.
        from sklearn.base import BaseEstimator

        return BaseEstimator.__repr__(self)


_FIT_DOC = """
    Parameters
    ----------
    n_conv_layers : int, default={n_conv_layers}
        Number of convolution blocks, each ending in a 2x2 max-pooling.
    filters : int or sequence of int, default={filters}
        Filters of each block's convolutions: one int for all blocks, or one per
        block (the first ``n_conv_layers`` are used; a short sequence repeats its
        last value).
    kernel_size : int, default=3
        Side of the square convolution kernels.
    convs_per_block : int, default={convs_per_block}
        Convolutions in each block before its pooling.
    batch_normalization : bool, default={batch_normalization}
        Batch normalisation between each convolution and its ReLU.
    batch_norm_momentum : float, default=0.9
        Momentum of the batch-normalisation moving statistics. Keras' 0.99
        lags behind weights that change fast: after a few epochs at a high
        learning rate a network scored ~0.72 in training mode but ~0.52 at
        prediction (benchmarks/RESULTS.md).
    global_pooling : bool, default={global_pooling}
        Global average pooling instead of ``Flatten`` after the last block.
    dense_units : int, default={dense_units}
        Units of the hidden ReLU ``Dense`` layer; 0 for none.
    dropout : float, default={dropout}
        Dropout rate before the output layer; 0 for none.
    optimizer : str, keras optimizer class or instance, default="{optimizer}"
        Keras optimizer. Its options can be routed as ``optimizer__<name>``
        (scikeras' convention), e.g. ``optimizer__weight_decay=1e-4``.
    learning_rate : float, default={learning_rate}
        Initial learning rate (ignored for an optimizer instance).
    lr_schedule : {{"constant", "cosine"}}, default="{lr_schedule}"
        ``"cosine"`` decays the learning rate to zero over all epochs.
    epochs : int, default={epochs}
        Passes over the training images.
    batch_size : int, default={batch_size}
        Images per gradient step (and per prediction batch).
    augmentation : ImageAugmenter, default={augmentation}
        Random perturbation of training images, fresh each epoch; never applied
        when predicting.
    image_shape : tuple of int, default=None
        ``(height, width, channels)`` when ``X`` holds flat rows of another
        shape than a square RGB or square grayscale image. ``None`` infers it.
    validation_fraction : float, default=0.1
        Fraction of the training images held out (stratified, shuffled with
        ``random_state``) to score each epoch (``history_``) and, with
        ``restore_best_weights``, to pick the best one. 0 trains on everything
        and keeps the last epoch's weights.
    patience : int, default=None
        Stop after this many epochs without a better validation accuracy;
        ``None`` trains all ``epochs``.
    restore_best_weights : bool, default={restore_best_weights}
        Keep the weights of the epoch with the best validation accuracy (the
        notebook's ``ModelCheckpoint(save_best_only=True)``), as Keras'
        ``EarlyStopping(restore_best_weights=True)`` does; ``False`` keeps the
        last epoch's. Without validation images the last epoch is kept.
    test_time_flip : bool, default={test_time_flip}
        Average the predicted probabilities of each image and its mirror image.
    callbacks : list of keras.callbacks.Callback, default=None
        Extra Keras callbacks for ``fit``.
    class_weight : dict or "balanced", default=None
        Weights of the classes in the loss.
    warm_start : bool, default=False
        Keep training the current network on the next ``fit``.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the validation split, the shuffling and the
        augmentation. With an int, fitting twice on the same data gives
        identical predictions: the fit runs with TensorFlow's op determinism
        switched on (and off again afterwards). That holds on one machine and
        one software stack; another CPU type, a GPU, or another TensorFlow
        version may round differently.
    verbose : int, default=0
        Keras' progress output: 0 silent, 1 progress bar, 2 one line per epoch.
    loader : transformer, default=None
        When given (usually an :class:`ImageLoader`), ``X`` holds image file
        paths, decoded batch by batch while training and predicting, so the
        data set never sits in memory whole (see :mod:`skcatdog.streaming`).
        ``None``: ``X`` holds pixels.
    **kwargs : dict
        scikeras' routed parameters (``optimizer__*``, ``callbacks__*``,
        ``fit__*``, ``predict__*``).

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
        The trained network (see :func:`build_cnn` for its layer names).
    history_ : dict of list
        Per-epoch ``loss``, ``accuracy``, ``val_loss`` and ``val_accuracy``.
    best_epoch_ : int
        Index into ``history_`` of the epoch whose weights were kept.
"""


class DeepCNNClassifier(_CNNClassifierBase):
    __doc__ = (
        """The notebook's "deep" network: three convolution blocks and dropout.

    Defaults reproduce it layer for layer: Conv2D 32, 64, 64 (3x3, ReLU), each
    followed by 2x2 max-pooling, ``Flatten``, ``Dense(128, relu)``,
    ``Dropout(0.5)`` and one sigmoid unit; Adam, binary cross-entropy, 17
    epochs, batches of 32, pixels scaled by 1/255 inside the model. With more
    than two classes the output is a softmax.
"""
        + _FIT_DOC.format(
            n_conv_layers=3, filters="(32, 64, 64)", convs_per_block=1,
            batch_normalization=False, global_pooling=False, dense_units=128, dropout=0.5,
            optimizer="adam", learning_rate=0.001, lr_schedule="constant", epochs=17,
            batch_size=32, augmentation=None, test_time_flip=False,
            restore_best_weights=True,
        )
        + """
    See Also
    --------
    SimpleCNNClassifier : the notebook's one-convolution network.
    ImageLoader : turns file paths into the pixel rows this classifier takes.
    ImageAugmenter : random augmentation while training.

    Examples
    --------
    >>> import numpy as np
    >>> from skcatdog import DeepCNNClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randint(0, 256, size=(40, 16 * 16 * 3)).astype(np.uint8)
    >>> y = np.array(["cat", "dog"] * 20)
    >>> X[y == "dog"] //= 4  # dark dogs
    >>> clf = DeepCNNClassifier(epochs=2, random_state=0).fit(X, y)
    >>> clf.classes_.tolist()
    ['cat', 'dog']
    >>> clf.predict_proba(X[:3]).shape
    (3, 2)
    >>> clf.image_shape_
    (16, 16, 3)
"""
    )

    def __init__(
        self,
        *,
        n_conv_layers=3,
        filters=(32, 64, 64),
        kernel_size=3,
        convs_per_block=1,
        batch_normalization=False,
        batch_norm_momentum=0.9,
        global_pooling=False,
        dense_units=128,
        dropout=0.5,
        optimizer="adam",
        learning_rate=0.001,
        lr_schedule="constant",
        epochs=17,
        batch_size=32,
        augmentation=None,
        image_shape=None,
        validation_fraction=0.1,
        patience=None,
        restore_best_weights=True,
        test_time_flip=False,
        callbacks=None,
        class_weight=None,
        warm_start=False,
        random_state=None,
        verbose=0,
        loader=None,
        **kwargs,
    ):
        super().__init__(**{k: v for k, v in locals().items() if k not in ("self", "__class__")
                            and k != "kwargs"}, **kwargs)


class SimpleCNNClassifier(_CNNClassifierBase):
    __doc__ = (
        """The notebook's "simple" network: one convolution block.

    Defaults reproduce it layer for layer: Conv2D 32 (3x3, ReLU), 2x2
    max-pooling, ``Flatten``, ``Dense(32, relu)`` and one sigmoid unit; Adam,
    binary cross-entropy, 17 epochs, batches of 32, pixels scaled by 1/255
    inside the model. It takes the same parameters as
    :class:`DeepCNNClassifier`, only the defaults differ.
"""
        + _FIT_DOC.format(
            n_conv_layers=1, filters=32, convs_per_block=1, batch_normalization=False,
            global_pooling=False, dense_units=32, dropout=0.0, optimizer="adam",
            learning_rate=0.001, lr_schedule="constant", epochs=17, batch_size=32,
            augmentation=None, test_time_flip=False,
            restore_best_weights=True,
        )
        + """
    See Also
    --------
    DeepCNNClassifier : the notebook's three-convolution network.

    Examples
    --------
    >>> import numpy as np
    >>> from skcatdog import SimpleCNNClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randint(0, 256, size=(40, 8, 8, 1)).astype(np.uint8)
    >>> y = np.array(["cat", "dog"] * 20)
    >>> clf = SimpleCNNClassifier(epochs=1, random_state=0).fit(X, y)
    >>> clf.predict(X[:2]).shape
    (2,)
"""
    )

    def __init__(
        self,
        *,
        n_conv_layers=1,
        filters=32,
        kernel_size=3,
        convs_per_block=1,
        batch_normalization=False,
        batch_norm_momentum=0.9,
        global_pooling=False,
        dense_units=32,
        dropout=0.0,
        optimizer="adam",
        learning_rate=0.001,
        lr_schedule="constant",
        epochs=17,
        batch_size=32,
        augmentation=None,
        image_shape=None,
        validation_fraction=0.1,
        patience=None,
        restore_best_weights=True,
        test_time_flip=False,
        callbacks=None,
        class_weight=None,
        warm_start=False,
        random_state=None,
        verbose=0,
        loader=None,
        **kwargs,
    ):
        super().__init__(**{k: v for k, v in locals().items() if k not in ("self", "__class__")
                            and k != "kwargs"}, **kwargs)
