"""The one place that mends scikeras 0.13 for current scikit-learn.

scikeras' ``KerasClassifier`` still fits, predicts, pickles and grid-searches on
scikit-learn >= 1.6, but it declares its tags through ``_more_tags`` (ignored
since scikit-learn 1.6) and puts ``ClassifierMixin`` to the right of its base.
scikit-learn therefore does not see a classifier: ``is_classifier`` is False,
``cross_val_score`` and ``GridSearchCV`` fall back to unstratified ``KFold``, and
``RocCurveDisplay.from_estimator`` refuses it.  A class with the mixin on the
left mends all of that at once, and
input validation goes through scikit-learn's own ``check_array`` so that error
messages are the ones scikit-learn users (and ``check_estimator``) expect.
"""

import contextlib
import copy
import inspect
import os

import numpy as np

from skcatdog._quiet import keras  # noqa: F401  (TensorFlow quietly, before scikeras imports it)

# isort: split
from scikeras._saving_utils import pack_keras_model, unpack_keras_model
from scikeras._utils import (
    get_optimizer_class,
    route_params,
    try_to_convert_strings_to_classes,
    unflatten_params,
)
from scikeras.wrappers import BaseWrapper
from scikeras.wrappers import KerasClassifier as _ScikerasClassifier
from scipy.sparse import issparse
from sklearn import config_context
from sklearn.base import ClassifierMixin
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, column_or_1d

__all__ = ["KerasClassifier", "REBUILT_WHEN_LOADED", "SEED_ATTRIBUTE", "keras_model_bytes",
           "keras_model_from_bytes"]

#: The fitted attribute holding the integer seed scikeras drew for a fit.
SEED_ATTRIBUTE = "_random_state"

#: Fitted attributes a pickled classifier rebuilds rather than stores: the
#: network travels as ``.keras`` bytes (:func:`keras_model_bytes`), and
#: scikeras' encoders and callbacks follow from the other attributes
#: (``KerasClassifier._restore_fitted``).
REBUILT_WHEN_LOADED = ("model_", "target_encoder_", "feature_encoder_", "_fit_callbacks",
                       "_predict_callbacks")


def keras_model_bytes(model):
    """``model`` as the ``.keras`` archive bytes scikeras pickles it as (uint8 array)."""
    _, (data,) = pack_keras_model(model)
    return np.asarray(data, dtype=np.uint8)


def keras_model_from_bytes(data):
    """The model of :func:`keras_model_bytes`; Keras' safe mode (its default there)
    builds only registered layers and runs no code from the archive."""
    return unpack_keras_model(np.asarray(data, dtype=np.uint8).tobytes())


# scikit-learn >= 1.6 ignores ``_more_tags``; scikeras defines it on BaseWrapper
# without ``__sklearn_tags__``, which scikit-learn's checks reject for every
# subclass. The method is dead code here, so it goes (the only patch we apply
# to scikeras itself).
if "_more_tags" in vars(BaseWrapper):
    del BaseWrapper._more_tags


def _looks_like_paths(X):
    """True when X holds strings or path objects rather than pixels."""
    if issparse(X) or getattr(getattr(X, "dtype", None), "kind", "O") not in "OUS":
        return False  # numbers: the common case, answered without a copy
    try:
        first = np.asarray(X, dtype=object).ravel()[:1]
    except (TypeError, ValueError):
        return False
    return first.size == 1 and isinstance(first[0], (str, bytes, os.PathLike))


@contextlib.contextmanager
def _restored_op_determinism():
    """Undo the op determinism that scikeras' seeded fits leave switched on.

    ``scikeras.utils.random_state.tensorflow_random_state`` sets
    ``TF_DETERMINISTIC_OPS=1`` *before* asking whether determinism was on, so it
    reads "on" and never switches it off again; every later unseeded fit in the
    process then fails with "Random ops require a seed".
    """
    from tensorflow.python.framework import config

    was_enabled = config.is_op_determinism_enabled()
    try:
        yield
    finally:
        if not was_enabled:
            config.disable_op_determinism()


class KerasClassifier(ClassifierMixin, BaseWrapper):
    """scikeras' ``KerasClassifier``, seen by scikit-learn as the classifier it is.

    scikeras' own class lists ``ClassifierMixin`` after ``BaseWrapper``, so no
    subclass can move the mixin in front (Python's method resolution order
    forbids it). We build on ``BaseWrapper`` instead and take scikeras'
    classifier pieces as they are. Everything else of scikeras is kept: routed
    ``optimizer__``/``callbacks__``/``fit__``/``predict__`` parameters,
    ``random_state``, ``warm_start`` and pickling of the Keras model as
    in-memory ``.keras`` bytes.
    """

    # scikeras' classifier pieces that need no ``super()``: label encoding to
    # ordinal targets, the target-type rule and (n, n_classes) probabilities.
    _fit_kwargs = _ScikerasClassifier._fit_kwargs
    _type_of_target = _ScikerasClassifier._type_of_target
    target_encoder = _ScikerasClassifier.target_encoder

    # scikeras encodes X and y with scikit-learn transformers, which follow
    # set_config(transform_output="pandas") and hand it DataFrames it then
    # indexes by position: its encoders always give arrays here.

    def predict_proba(self, X, **kwargs):
        with config_context(transform_output="default"):
            proba = _ScikerasClassifier.predict_proba(self, X, **kwargs)
        # scikeras squeezes a single sample's (1, n_classes) to (n_classes,).
        return np.reshape(proba, (-1, len(self.classes_)))

    def predict(self, X, **kwargs):
        with config_context(transform_output="default"):
            return super().predict(X, **kwargs)

    def fit(self, X, y, sample_weight=None, **kwargs):
        self.classes_ = None
        if self.class_weight is not None:
            weights = compute_sample_weight(class_weight=self.class_weight, y=y)
            sample_weight = weights if sample_weight is None else sample_weight * weights
        with _restored_op_determinism(), config_context(transform_output="default"):
            return super().fit(X, y, sample_weight=sample_weight, **kwargs)

    def partial_fit(self, X, y, classes=None, sample_weight=None, **kwargs):
        self.classes_ = classes if classes is not None else getattr(self, "classes_", None)
        with _restored_op_determinism(), config_context(transform_output="default"):
            return super().partial_fit(X, y, sample_weight=sample_weight, **kwargs)

    # -- the door: scikeras' private hooks hand over to ours ------------------

    def _keras_build_fn(self, meta):
        return self._build_network(n_classes=meta["n_classes_"], n_samples=meta["X_shape_"][0])

    def _build_network(self, n_classes, n_samples):
        """The compiled Keras model for ``n_classes`` and ``n_samples``; subclasses override it."""
        raise NotImplementedError

    def _fit_keras_model(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs):
        self._initialize_callbacks()  # scikeras skips this on warm starts
        self._fit_network(X, y, sample_weight, warm_start=warm_start, epochs=epochs,
                          initial_epoch=initial_epoch, **kwargs)

    def _fit_network(self, X, y, sample_weight, **kwargs):
        """Train ``model_`` on encoded ``X`` and ``y``; subclasses override it."""
        self._run_keras_fit(X, y, sample_weight, **kwargs)

    def _run_keras_fit(self, x, y, sample_weight, *, callbacks=(), **kwargs):
        """``model_.fit`` as scikeras runs it (routed ``fit__`` parameters, the
        user's callbacks and then ``callbacks``, the fit's seed), appending to
        ``history_``."""
        user_callbacks = self._fit_callbacks
        self._fit_callbacks = [*user_callbacks, *callbacks]
        try:
            BaseWrapper._fit_keras_model(self, x, y, sample_weight=sample_weight, **kwargs)
        finally:
            self._fit_callbacks = user_callbacks

    def _predict_raw(self, X, **kwargs):
        return self._predict_network(X, **kwargs)

    def _predict_network(self, X, **kwargs):
        """Raw network output for ``X``; subclasses override it."""
        return BaseWrapper._predict_raw(self, X, **kwargs)

    def _predict_arguments(self, **kwargs):
        """Arguments of ``model_.predict``: routed ``predict__`` ones, callbacks, ``kwargs``."""
        args = route_params(self.get_params(), destination="predict",
                            pass_filter=self._predict_kwargs, strict=True)
        args = {k: v for k, v in args.items() if not k.startswith("callbacks")}
        args["callbacks"] = self._predict_callbacks
        args.update(kwargs)
        return args

    def _restore_fitted(self, model):
        """Make a classifier whose fitted attributes were read from a file predict
        with ``model``: scikeras' encoders and callbacks, rebuilt from them."""
        self.model_ = model
        # scikeras' target_encoder takes its categories from classes_.
        self.target_encoder_ = self.target_encoder.fit(np.asarray(self.classes_))
        vars(self).update(getattr(self.target_encoder_, "get_metadata", dict)())
        dummy = np.zeros((1, self.n_features_in_), dtype=self.X_dtype_)
        self.feature_encoder_ = self.feature_encoder.fit(dummy)
        vars(self).update(getattr(self.feature_encoder_, "get_metadata", dict)())
        self._initialize_callbacks()

    def _user_fit_callbacks(self):
        """The user's callbacks of this fit (``callbacks`` and ``fit__callbacks``)."""
        return list(self._fit_callbacks)

    def _reset_callbacks(self):
        """Rebuild the user's callbacks from the ``callbacks`` parameters."""
        self._initialize_callbacks()

    @property
    def _fit_seed(self):
        """The integer seed of this fit (drawn from a RandomState given), or None."""
        return getattr(self, SEED_ATTRIBUTE, None)

    def _make_optimizer(self, **options):
        """The ``optimizer`` parameter as a fresh Keras optimizer.

        A name or class is built with the routed ``optimizer__*`` parameters
        and ``options`` (where not routed); an instance the user built is
        copied, so that refits start from a fresh one.
        """
        optimizer = try_to_convert_strings_to_classes(self.optimizer, get_optimizer_class)
        if not inspect.isclass(optimizer):
            return copy.deepcopy(optimizer)
        routed = route_params(self.get_params(), destination="optimizer", pass_filter=set(),
                              strict=True)
        return unflatten_params(items=optimizer, params={**options, **routed})

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True
        tags.classifier_tags.multi_label = False
        tags.input_tags.two_d_array = True
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags

    def _validate_data(self, X=None, y=None, reset=False, y_numeric=False):
        """Check X and y the way scikit-learn does, and remember their shapes."""
        name = type(self).__name__
        if X is not None:
            if _looks_like_paths(X):
                raise ValueError(
                    f"{name} expects images as pixel arrays of shape (n_samples, "
                    "height*width*channels) or (n_samples, height, width, channels), "
                    "but got strings or paths. Put skcatdog.ImageLoader before it: "
                    "Pipeline([('load', ImageLoader()), ('cnn', ...)])."
                )
            # uint8 stays uint8 (4x less memory; the model rescales); anything
            # else becomes float32, Keras' working precision.
            X = check_array(
                X,
                accept_sparse=False,
                allow_nd=True,
                dtype=["float32", "uint8"],
                input_name="X",
                estimator=self,
            )
            if X.ndim not in (2, 4):
                raise ValueError(
                    f"{name} expects X of shape (n_samples, n_features) or "
                    f"(n_samples, height, width, channels); got an array of shape {X.shape}."
                )
            n_features = int(np.prod(X.shape[1:]))
            if reset:
                self.n_features_in_ = n_features
                self.X_dtype_ = X.dtype
                self.X_shape_ = X.shape
            elif n_features != self.n_features_in_:
                raise ValueError(
                    f"X has {n_features} features, but {name} is expecting "
                    f"{self.n_features_in_} features as input."
                )
        if y is not None:
            y = column_or_1d(y, warn=True)
            if X is not None and len(y) != len(X):
                raise ValueError(
                    f"X and y have inconsistent numbers of samples: {len(X)} images "
                    f"but {len(y)} labels."
                )
            if reset:
                check_classification_targets(y)
                classes = np.unique(y)
                if classes.size < 2:
                    only = classes[0].item() if hasattr(classes[0], "item") else classes[0]
                    raise ValueError(
                        f"{name} needs at least two classes in y to learn to tell them "
                        f"apart; got one class only: {only!r}."
                    )
                self.target_type_ = self._type_of_target(y)
                self.y_dtype_ = y.dtype
                self.y_ndim_ = y.ndim
        return X, y
