"""Save fitted skcatdog models to a file and load them back.

Two formats, chosen by the file name's extension:

``.skcatdog`` (the default, and what the command line writes)
    A zip archive holding ``params.json`` -- the estimator's structure: each
    step's class, taken from an allow-list of skcatdog and scikit-learn
    classes, its parameters and the classifier's fitted attributes, all as
    plain JSON -- and the Keras network as ``model.keras``, loaded with
    ``keras.saving.load_model(..., safe_mode=True)``. Loading such a file
    builds only allow-listed classes and runs no code stored in the file.
    Estimators with parameters that JSON cannot hold (a callback, an
    optimizer instance, a ``RandomState``) cannot be saved this way.

``.joblib`` (also ``.pkl``, ``.pickle``)
    A pickle of the estimator, written by :func:`joblib.dump`. It holds any
    estimator, but **loading a pickle can run arbitrary code: only load
    ``.joblib`` files that you wrote yourself or that come from a source you
    trust.** The pickle also ties the file to the versions of scikit-learn,
    scikeras and Keras that wrote it. :func:`is_pickle_file` tells such a
    name from the others.

Files are written atomically: the bytes go to a hidden temporary file in the
target's folder, which is then renamed over the target, so an interrupted save
leaves the previous file (or none), never half a file.

Limits
------
A ``.skcatdog`` file is data from someone else, so :func:`load_model` bounds
what it costs before spending it, with module-level settings read at every
load (assign a new value to change them):

- the path must be a regular file (a FIFO, device or socket is refused from
  ``os.stat`` alone, without opening it) of at most
  :data:`MAX_MODEL_FILE_BYTES`; this applies to pickles too;
- the archive, and the zip inside each ``.keras`` member, may list at most
  :data:`MAX_MEMBERS` members, stored or deflated (no other compression, no
  encryption), none expanding more than :data:`MAX_COMPRESSION_RATIO` times
  (members under 1 MiB excepted);
- ``params.json`` may declare at most :data:`MAX_PARAMS_BYTES`, each
  ``.keras`` member (and the members inside it, together) at most
  :data:`MAX_KERAS_BYTES`; the declared sizes are checked before a byte is
  decompressed, and the real ones while reading, chunk by chunk;
- the JSON may nest at most :data:`MAX_NESTING` levels, and the arrays it
  describes (numbers, booleans, strings; at most 8 dimensions, items of at
  most 64 KiB) may take :data:`MAX_ARRAY_BYTES` together, checked from
  their declared shape and dtype before any is allocated;
- an estimator gets only the parameters its class's ``__init__`` takes
  (plus scikeras' routed ``optimizer__...``-style ones), checked by its own
  ``_parameter_constraints``, and only fitted attributes ending in ``_``
  that shadow nothing of its class.

Anything else wrong with a file -- truncation, a bad CRC, a damaged deflate
stream, JSON of the wrong shape, a Keras model that does not load or whose
weights Keras leaves partly unread -- raises
:class:`ModelFileError` with a message starting with the file's path.
Keras builds a model's variables from its ``config.json`` before reading a
weight: the weights file's declared arrays must fit its size, and while Keras
builds the model the variables it creates may take at most twice what the
weights file declares (plus 16 MiB), checked before each is allocated.

This module does not import TensorFlow until a model is saved or loaded.
"""

import importlib
import io
import json
import math
import os
import re
import stat
import tempfile
import threading
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np

__all__ = [
    "FORMAT_VERSION",
    "MAX_ARRAY_BYTES",
    "MAX_COMPRESSION_RATIO",
    "MAX_KERAS_BYTES",
    "MAX_MEMBERS",
    "MAX_MODEL_FILE_BYTES",
    "MAX_NESTING",
    "MAX_PARAMS_BYTES",
    "ModelFileError",
    "is_pickle_file",
    "load_model",
    "save_model",
    "skops_trusted_types",
]

#: Version of the ``.skcatdog`` layout this skcatdog writes and the newest it reads.
FORMAT_VERSION = 1

#: Largest model file :func:`load_model` opens, in bytes (2 GiB), either
#: format: a bigger one is refused from its size alone.
MAX_MODEL_FILE_BYTES = 2 << 30

#: Most members a ``.skcatdog`` archive, or the zip of one of its ``.keras``
#: members, may list (64); checked from the archive's end record before its
#: directory is read.
MAX_MEMBERS = 64

#: Largest ``params.json`` read, in bytes (16 MiB); a real one takes a few KiB.
MAX_PARAMS_BYTES = 16 << 20

#: Largest ``.keras`` member, in bytes (1 GiB), and the most its own members
#: may declare together.
MAX_KERAS_BYTES = 1 << 30

#: Most a member over 1 MiB may expand (100 times its compressed size);
#: deflate reaches about 1000 on runs of zeros, real members 1 to 10.
MAX_COMPRESSION_RATIO = 100

#: Most memory the arrays of one ``params.json`` may take together, in bytes
#: (64 MiB), from their declared shapes and dtypes.
MAX_ARRAY_BYTES = 64 << 20

#: Deepest nesting of ``params.json``'s lists and objects (64 levels); a real
#: one nests about 12.
MAX_NESTING = 64

_FORMAT_NAME = "skcatdog-model"
PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")

# The classes a .skcatdog file may name besides skcatdog's own estimators
# (any scikit-learn estimator class defined in a skcatdog module). Loading
# imports only these; a file naming anything else is refused.
_ALLOWED_CLASSES = frozenset(
    {
        "sklearn.pipeline.Pipeline",
        "skcatdog.loading.ImageLoader",
        "skcatdog.augmentation.ImageAugmenter",
        "skcatdog.models.SimpleCNNClassifier",
        "skcatdog.models.DeepCNNClassifier",
    }
)

# Fitted attributes rebuilt on load rather than stored.
_REBUILT = frozenset({"model_", "target_encoder_", "feature_encoder_"})
_KERAS_NAME = re.compile(r"^model(_\d+)?\.keras$")
# The keys each kind of JSON node may have; anything else is not save_model's.
_ESTIMATOR_KEYS = frozenset({"__estimator__", "params", "fitted", "keras_model"})
_ARRAY_KEYS = frozenset({"__ndarray__", "dtype", "shape"})
_ARRAY_KINDS = "biufUO"  # bool, int, uint, float, str, object (of str)
_MAX_NDIM = 8
_MAX_ITEMSIZE = 64 << 10  # a U16384 string
# Members this small may compress well (a few KiB of zeros) and harm nothing.
_RATIO_EXEMPT_BYTES = 1 << 20
# A zip's central directory: ~100 bytes a member, so MAX_MEMBERS fit many times.
_MAX_DIRECTORY_BYTES = 1 << 20
_CHUNK = 1 << 20
_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


class ModelFileError(ValueError):
    """A file cannot be loaded as a skcatdog model.

    Raised for files that are not models, are truncated or damaged, come from
    a newer format version, or name classes outside the allow-list. The
    message names the file.
    """


def _qualname(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def _is_skcatdog_estimator(cls, module):
    from sklearn.base import BaseEstimator

    return (isinstance(cls, type) and issubclass(cls, BaseEstimator)
            and cls.__module__ == module)


def _public_name(cls):
    """The name a .skcatdog file knows ``cls`` by, or None if it is not allowed."""
    name = _qualname(cls)
    if name in _ALLOWED_CLASSES:
        return name
    # skcatdog's own estimators are allowed wherever they live (a new classifier
    # needs no entry), as long as the name leads back to the class.
    module = cls.__module__
    if (module == "skcatdog" or module.startswith("skcatdog.")) and "." not in cls.__qualname__:
        if getattr(importlib.import_module(module), cls.__qualname__, None) is cls:
            return name
    return None


def _resolve(name, path):
    module, _, attr = name.rpartition(".")
    allowed = name in _ALLOWED_CLASSES or module == "skcatdog" or module.startswith("skcatdog.")
    cls = None
    if allowed and attr.isidentifier() and not attr.startswith("__"):
        try:
            cls = getattr(importlib.import_module(module), attr, None)
        except ImportError:
            cls = None
    if cls is None or (name not in _ALLOWED_CLASSES and not _is_skcatdog_estimator(cls, module)):
        raise ModelFileError(
            f"{path}: names the class {name!r:.80}, which skcatdog does not load "
            "(only its own estimators and scikit-learn's Pipeline)."
        )
    return cls


# -- JSON encoding -------------------------------------------------------------


class _Encoder:
    """Turn an estimator tree into JSON values; Keras models go to ``self.models``."""

    def __init__(self):
        self.models = []  # (archive name, keras.Model)

    def value(self, value, where):
        from sklearn.base import BaseEstimator

        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, (int, float)):
            return value
        if isinstance(value, np.generic) and not isinstance(value, (np.str_, np.bytes_)):
            return value.item()
        if isinstance(value, np.str_):
            return str(value)
        if isinstance(value, tuple):
            return {"__tuple__": [self.value(v, f"{where}[{i}]") for i, v in enumerate(value)]}
        if isinstance(value, list):
            return [self.value(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, dict):
            items = [[self.value(k, where), self.value(v, f"{where}[{k!r}]")]
                     for k, v in value.items()]
            if all(isinstance(k, str) and not k.startswith("__") for k in value):
                return {k: v for k, v in items}
            return {"__dict__": items}
        if isinstance(value, np.dtype):
            if value.fields is not None:
                raise TypeError(f"{where}: structured dtypes cannot be saved")
            return {"__dtype__": value.str if value.kind != "O" else "object"}
        if isinstance(value, np.ndarray):
            if value.dtype.kind == "O" and not all(isinstance(v, str) for v in value.flat):
                raise TypeError(f"{where}: an object array holding non-strings")
            if value.dtype.kind not in _ARRAY_KINDS:
                raise TypeError(f"{where}: an array of dtype {value.dtype}")
            dtype = "object" if value.dtype.kind == "O" else value.dtype.str
            return {"__ndarray__": value.tolist(), "dtype": dtype, "shape": list(value.shape)}
        if isinstance(value, BaseEstimator):
            return self.estimator(value, where)
        raise TypeError(f"{where} is a {type(value).__module__}.{type(value).__qualname__}")

    def estimator(self, est, where):
        name = _public_name(type(est))
        if name is None:
            raise TypeError(f"{where} is a {_qualname(type(est))}, not one of skcatdog's "
                            "own estimators or scikit-learn's Pipeline")
        node = {
            "__estimator__": name,
            "params": self.value(est.get_params(deep=False), f"{where}.params"),
        }
        fitted = {
            k: v for k, v in vars(est).items()
            if k.endswith("_") and not k.startswith("_") and k not in _REBUILT
        }
        from skcatdog._compat import SEED_ATTRIBUTE

        if SEED_ATTRIBUTE in vars(est):
            fitted[SEED_ATTRIBUTE] = vars(est)[SEED_ATTRIBUTE]
        if fitted:
            node["fitted"] = self.value(fitted, f"{where}.fitted")
        model = vars(est).get("model_")
        if model is not None:
            archive_name = "model.keras" if not self.models else f"model_{len(self.models)}.keras"
            self.models.append((archive_name, model))
            node["keras_model"] = archive_name
        return node


# -- JSON decoding -------------------------------------------------------------


def _parameter_names(cls):
    """The parameters of ``cls``: those its ``__init__`` names, as ``get_params`` lists them."""
    from sklearn.base import BaseEstimator

    # scikeras turns _get_param_names into an instance method reading vars(self):
    # scikit-learn's own reads the signature, which is what a file may set.
    return set(BaseEstimator.__dict__["_get_param_names"].__func__(cls))


def _is_routed(name, cls):
    """Whether ``name`` is one of scikeras' routed parameters, like ``optimizer__beta_1``."""
    prefix, sep, rest = name.partition("__")
    return (bool(sep) and bool(rest) and prefix in getattr(cls, "_routing_prefixes", ())
            and name.isidentifier())


def _older(version, than):
    """Whether release ``version`` ("0.1.0") comes before ``than``; unreadable ones do.

    >>> _older("0.1.0", "0.2.0"), _older("0.10.0", "0.2.0"), _older("?", "0.2.0")
    (True, False, True)
    """
    def key(text):
        return tuple(int(part) for part in text.split("."))

    try:
        return key(version) < key(than)
    except ValueError:
        return True


def _is_fitted_name(name, cls):
    # Fitted attributes as save_model writes them: public, ending in "_", and
    # shadowing nothing of the class (no method, property or class attribute).
    from skcatdog._compat import SEED_ATTRIBUTE

    return (
        name not in _REBUILT
        and (name == SEED_ATTRIBUTE or (name.endswith("_") and not name.startswith("_")))
        and name.isidentifier()
        and not hasattr(cls, name)
    )


def _nested(data, shape, leaf):
    """Whether ``data`` is lists nested exactly as ``shape`` says, with ``leaf`` items."""
    if not shape:
        return isinstance(data, leaf)
    return (isinstance(data, list) and len(data) == shape[0]
            and all(_nested(item, shape[1:], leaf) for item in data))


def _check_nesting(document, path):
    """Refuse JSON nested deeper than MAX_NESTING, so that decoding it can recurse."""
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > MAX_NESTING:
                raise ModelFileError(
                    f"{path}: params.json nests more than {MAX_NESTING} levels deep "
                    "(skcatdog.persistence.MAX_NESTING)."
                )
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict)
                                                  else value))


class _Decoder:
    """Rebuild what :class:`_Encoder` wrote, refusing anything it would not write.

    ``keras_model(name)`` loads the archive's Keras model ``name``; it is
    called only once the estimator holding it has passed every other check.
    The document's depth is bounded beforehand (:func:`_check_nesting`), so
    the recursion is too; ``array_bytes`` counts against :data:`MAX_ARRAY_BYTES`.
    """

    def __init__(self, path, keras_model, version=None):
        self.path = path
        self.keras_model = keras_model
        self.version = version if isinstance(version, str) else "?"
        self.array_bytes = 0

    def error(self, where, message):
        return ModelFileError(f"{self.path}: {where}: {message}")

    def keys(self, node, allowed, where):
        unknown = sorted(set(node) - allowed)
        if unknown:
            raise self.error(where, f"unexpected key {unknown[0]!r:.60}.")

    def value(self, value, where):
        if isinstance(value, list):
            return [self.value(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if not isinstance(value, dict):
            return value  # str, int, float (NaN included), bool or None
        if "__estimator__" in value:
            return self.estimator(value, where)
        if "__ndarray__" in value:
            return self.array(value, where)
        if "__dtype__" in value:
            self.keys(value, {"__dtype__"}, where)
            return self.dtype(value["__dtype__"], where)
        if "__tuple__" in value:
            self.keys(value, {"__tuple__"}, where)
            items = value["__tuple__"]
            if not isinstance(items, list):
                raise self.error(where, f"a __tuple__ holds a {type(items).__name__}, not a list.")
            return tuple(self.value(v, f"{where}[{i}]") for i, v in enumerate(items))
        if "__dict__" in value:
            self.keys(value, {"__dict__"}, where)
            return self.dict(value["__dict__"], where)
        self.keys(value, {k for k in value if not k.startswith("__")}, where)
        return {k: self.value(v, f"{where}[{k!r:.40}]") for k, v in value.items()}

    def dict(self, items, where):
        if not isinstance(items, list) or not all(
            isinstance(item, list) and len(item) == 2 for item in items
        ):
            raise self.error(where, "a __dict__ must hold a list of [key, value] pairs.")
        result = {}
        for key, value in items:
            key = self.value(key, where)
            try:
                hash(key)
            except TypeError:
                raise self.error(where, f"a dict key is a {type(key).__name__}.") from None
            result[key] = self.value(value, f"{where}[{key!r:.40}]")
        return result

    def dtype(self, spec, where):
        dtype = None
        if spec == "object":
            return np.dtype(object)
        if isinstance(spec, str) and len(spec) <= 16:
            try:
                dtype = np.dtype(spec)
            except Exception:  # numpy's parser: TypeError, ValueError, SyntaxError, ...
                dtype = None
        if (dtype is None or dtype.kind not in _ARRAY_KINDS or dtype.fields is not None
                or dtype.subdtype is not None or dtype.itemsize > _MAX_ITEMSIZE):
            raise self.error(
                where, f"{spec!r:.60} is not a dtype skcatdog loads (booleans, numbers, strings "
                f"of at most {_MAX_ITEMSIZE:,} bytes, or 'object')."
            )
        return dtype

    def reserve(self, n_bytes, where):
        self.array_bytes += n_bytes
        if self.array_bytes > MAX_ARRAY_BYTES:
            raise self.error(
                where, f"its arrays would take {self.array_bytes:,} bytes, over the limit of "
                f"{MAX_ARRAY_BYTES:,} (skcatdog.persistence.MAX_ARRAY_BYTES); not allocated."
            )

    def array(self, node, where):
        self.keys(node, _ARRAY_KEYS, where)
        if set(node) != _ARRAY_KEYS:
            raise self.error(where, "an __ndarray__ needs a dtype and a shape.")
        dtype = self.dtype(node["dtype"], where)
        shape = node["shape"]
        if not (isinstance(shape, list) and len(shape) <= _MAX_NDIM
                and all(type(n) is int and n >= 0 for n in shape)):
            raise self.error(where, f"the array shape {shape!r:.60} is not a list of at most "
                                    f"{_MAX_NDIM} non-negative ints.")
        self.reserve(math.prod(shape) * dtype.itemsize, where)
        data = node["__ndarray__"]
        if not _nested(data, shape, str if dtype.kind in "UO" else (bool, int, float)):
            raise self.error(where, f"the array data do not match its shape {shape} and dtype "
                                    f"{dtype}.")
        try:
            return np.array(data, dtype=dtype).reshape(shape)
        except (ValueError, TypeError, OverflowError) as exc:  # NaN or 300 as uint8, ...
            raise self.error(where, f"the array data do not fit its dtype {dtype}: "
                                    f"{exc}") from None

    def estimator(self, node, where):
        from sklearn.pipeline import Pipeline

        self.keys(node, _ESTIMATOR_KEYS, where)
        name = node["__estimator__"]
        if not isinstance(name, str):
            raise self.error(where, f"a class name is a {type(name).__name__}, not a string.")
        cls = _resolve(name, self.path)
        where = f"{where} ({cls.__name__})"
        est = self.construct(cls, node.get("params", {}), where)
        if isinstance(est, Pipeline):
            self.check_steps(est, where)
        fitted = node.get("fitted", {})
        if not isinstance(fitted, dict):
            raise self.error(where, f"the fitted state of {cls.__name__} is malformed.")
        for key in fitted:
            if not _is_fitted_name(key, cls):
                raise self.error(where,
                                 f"{key!r:.60} is not a fitted attribute skcatdog restores.")
        vars(est).update({k: self.value(v, f"{where}.{k:.40}") for k, v in fitted.items()})
        if "keras_model" in node:
            from skcatdog._compat import KerasClassifier

            if not issubclass(cls, KerasClassifier):
                raise self.error(where, f"a {cls.__name__} holds no Keras model.")
            model = self.keras_model(node["keras_model"])
            try:
                self.restore_keras_state(est, model, where)
            except ModelFileError:
                raise
            except Exception as exc:  # classes_ that scikeras' target encoder refuses, ...
                raise self.error(where, f"its fitted state does not fit a scikeras classifier: "
                                        f"{type(exc).__name__}: {exc}") from None
        return est

    def construct(self, cls, params, where):
        if not isinstance(params, dict):
            raise self.error(where, f"the parameters are a {type(params).__name__}, not an "
                                    "object.")
        names = _parameter_names(cls)
        for key in params:
            if key not in names and not (_is_routed(key, cls) and not hasattr(cls, key)):
                changed = getattr(cls, "network_changed_in", None)
                if changed and _older(self.version, changed):
                    raise self.error(where, (
                        f"saved by skcatdog {self.version:.20}; {cls.__name__}'s network "
                        f"changed in skcatdog {changed}, so this model cannot be loaded. "
                        "Train it again with this version."))
                raise self.error(where, f"{key!r:.60} is not a parameter of {cls.__name__}.")
        params = {k: self.value(v, f"{where}.{k}") for k, v in params.items()}
        # A parameter added since the file was written takes the value that
        # trains as the file's release did, not today's preset.
        params = {**getattr(cls, "_neutral_defaults", {}), **params}
        try:
            est = cls(**params)
        except TypeError as exc:
            raise self.error(where, f"parameters of {cls.__name__} do not fit: {exc}") from None
        if hasattr(cls, "_parameter_constraints"):
            try:
                est._validate_params()
            except (ValueError, TypeError) as exc:  # sklearn's InvalidParameterError is both
                raise self.error(where, f"invalid parameter: {exc}") from None
        return est

    def check_steps(self, pipe, where):
        steps = pipe.steps
        if not (isinstance(steps, list) and all(
            isinstance(step, tuple) and len(step) == 2 and isinstance(step[0], str)
            for step in steps
        )):
            raise self.error(where, "the steps are not a list of (name, estimator) pairs.")
        try:
            pipe._validate_steps()
        except (ValueError, TypeError) as exc:
            raise self.error(where, f"invalid steps: {exc}") from None

    def restore_keras_state(self, clf, model, where):
        """Give a scikeras classifier the fitted state ``predict_proba`` reads."""
        n_features, dtype = getattr(clf, "n_features_in_", None), getattr(clf, "X_dtype_", None)
        if (type(n_features) is not int or n_features < 1 or not isinstance(dtype, np.dtype)
                or not hasattr(clf, "classes_")):
            raise self.error(where, "the fitted state lacks classes_, or n_features_in_ and "
                                    "X_dtype_ are not a positive int and a dtype.")
        self.reserve(n_features * dtype.itemsize, where)
        clf._restore_fitted(model)


# -- saving --------------------------------------------------------------------


def _check_fitted(estimator):
    from sklearn.base import BaseEstimator
    from sklearn.utils.validation import check_is_fitted

    if not isinstance(estimator, BaseEstimator):
        raise TypeError(
            f"save_model takes a fitted scikit-learn estimator; got {type(estimator).__name__}."
        )
    check_is_fitted(estimator)


def _skcatdog_bytes(estimator):
    import skcatdog
    from skcatdog._quiet import keras

    encoder = _Encoder()
    try:
        tree = encoder.estimator(estimator, "the estimator")
    except TypeError as exc:
        raise ValueError(
            f"This estimator cannot be saved in the .skcatdog format: {exc}. Save it with a "
            "'.joblib' file name instead (a pickle: only load it from a trusted source)."
        ) from None
    document = {
        "format": _FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "skcatdog_version": skcatdog.__version__,
        "keras_version": keras.__version__,
        "estimator": tree,
    }
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(
        buffer, "w", compression=zipfile.ZIP_DEFLATED
    ) as archive:
        archive.writestr("params.json", json.dumps(document, indent=1, allow_nan=True))
        for name, model in encoder.models:
            file = os.path.join(tmp, name)
            model.save(file)
            # A .keras file is a zip already: store it without compressing twice.
            archive.write(file, name, compress_type=zipfile.ZIP_STORED)
    return buffer.getvalue()


def skops_trusted_types(estimator):
    """The skcatdog classes in ``estimator``, named as skops names them.

    skops (and MLflow 3, which saves scikit-learn models with it) loads only
    the types it is told to trust, and trusts scikit-learn's own; a
    skcatdog classifier pickles as plain data (its network as ``.keras``
    bytes, loaded in Keras' safe mode), so trusting our classes is all it
    takes::

        skops.io.load(file, trusted=skops_trusted_types(pipe))
        mlflow.sklearn.log_model(pipe, name="model",
                                 skops_trusted_types=skops_trusted_types(pipe))

    Parameters
    ----------
    estimator : estimator
        A step, a Pipeline, or anything whose parameters hold estimators.

    Returns
    -------
    names : list of str
        ``"module.Class"`` of each skcatdog class found, sorted.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from skcatdog import DeepCNNClassifier, ImageLoader
    >>> skops_trusted_types(make_pipeline(ImageLoader(), DeepCNNClassifier()))
    ['skcatdog.loading.ImageLoader', 'skcatdog.models.DeepCNNClassifier']
    """
    found = set()

    def walk(value):
        if isinstance(value, (list, tuple)):
            for item in value:
                walk(item)
        elif hasattr(value, "get_params") and not isinstance(value, type):
            cls = type(value)
            if cls.__module__.split(".")[0] == "skcatdog":
                found.add(f"{cls.__module__}.{cls.__qualname__}")
            for param in value.get_params(deep=False).values():
                walk(param)

    walk(estimator)
    return sorted(found)


def save_model(estimator, path):
    """Save a fitted estimator to ``path``, atomically.

    Parameters
    ----------
    estimator : fitted estimator
        A fitted ``Pipeline([("load", ImageLoader(...)), ("cnn", ...)])`` or a
        bare fitted :class:`~skcatdog.SimpleCNNClassifier` /
        :class:`~skcatdog.DeepCNNClassifier`.
    path : str or path-like
        The file to write; its folder must exist. A name ending in
        ``.joblib``, ``.pkl`` or ``.pickle`` writes a pickle (any estimator;
        **unsafe to load from untrusted sources**); any other name writes the
        safe ``.skcatdog`` zip format (recommended: ``model.skcatdog``).

    Returns
    -------
    path : pathlib.Path
        The file written.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    ValueError
        If the estimator holds something the ``.skcatdog`` format cannot
        (a callback, an optimizer instance, a class outside skcatdog); the
        message names it.

    See Also
    --------
    load_model : Load it back.

    Examples
    --------
    >>> import tempfile, os
    >>> import numpy as np
    >>> from skcatdog import SimpleCNNClassifier
    >>> from skcatdog.persistence import save_model, load_model
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randint(0, 256, size=(20, 8, 8, 3)).astype(np.uint8)
    >>> y = np.array(["cat", "dog"] * 10)
    >>> clf = SimpleCNNClassifier(epochs=1, filters=2, dense_units=2, random_state=0).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = save_model(clf, os.path.join(folder, "model.skcatdog"))
    ...     again = load_model(path)
    >>> np.array_equal(again.predict_proba(X), clf.predict_proba(X))
    True
    """
    from skcatdog._atomic import atomic_write_bytes

    _check_fitted(estimator)
    path = Path(path)
    if is_pickle_file(path):
        import joblib

        buffer = io.BytesIO()
        joblib.dump(estimator, buffer)
        data = buffer.getvalue()
    else:
        data = _skcatdog_bytes(estimator)
    return atomic_write_bytes(path, data)


# -- loading -------------------------------------------------------------------


def is_pickle_file(path):
    """Tell whether :func:`load_model` would unpickle ``path``, from its name alone.

    Parameters
    ----------
    path : str or path-like
        A model file name; the file need not exist.

    Returns
    -------
    is_pickle : bool
        True for names ending in ``.joblib``, ``.pkl`` or ``.pickle`` (any
        case): :func:`load_model` unpickles those, **which can run arbitrary
        code**. A program that loads files from others can refuse them
        unless told the source is trusted.

    Examples
    --------
    >>> from skcatdog.persistence import is_pickle_file
    >>> is_pickle_file("run/model.joblib"), is_pickle_file("run/model.skcatdog")
    (True, False)
    """
    return Path(path).suffix.lower() in PICKLE_SUFFIXES


# Non-blocking: should the path have become a FIFO since it was checked, opening
# it returns at once (and fstat then refuses it) instead of waiting for a writer.
_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
               | getattr(os, "O_BINARY", 0))


def _check_regular(path, st):
    if stat.S_ISDIR(st.st_mode):
        raise ModelFileError(f"{path}: is a folder, not a model file.")
    if not stat.S_ISREG(st.st_mode):  # a FIFO or device could block or never end
        raise ModelFileError(f"{path}: not a regular file (a FIFO, device or socket?); "
                             "not opened.")
    if st.st_size > MAX_MODEL_FILE_BYTES:
        raise ModelFileError(
            f"{path}: file too large: {st.st_size:,} bytes, over the limit of "
            f"{MAX_MODEL_FILE_BYTES:,} (skcatdog.persistence.MAX_MODEL_FILE_BYTES); not read."
        )


def _open_model_file(path):
    """The regular file ``path``, opened for reading once ``os.stat`` says it is one."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"No such model file: {str(path)!r}") from None
    _check_regular(path, st)
    fd = os.open(path, _OPEN_FLAGS)
    try:
        _check_regular(path, os.fstat(fd))  # it may have been swapped since
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _load_pickle(file, path):
    import joblib
    from sklearn.base import BaseEstimator

    try:
        estimator = joblib.load(file)
    except MemoryError:
        raise
    except Exception as exc:  # truncated or foreign bytes raise almost anything
        raise ModelFileError(
            f"{path}: not a readable .joblib model file (truncated or not a pickle?): "
            f"{type(exc).__name__}: {exc}"
        ) from None
    if not isinstance(estimator, BaseEstimator):
        raise ModelFileError(
            f"{path}: holds a {type(estimator).__name__}, not a scikit-learn estimator."
        )
    return estimator


def _open_zip(file, path, what):
    """``zipfile.ZipFile(file)``, once its end record says the directory is small.

    Returns None when ``file`` has no end record (not a zip); ZipFile raises
    for a damaged directory.
    """
    # ZipFile reads the whole directory the end record points to, a ZipInfo per
    # entry, before anyone can count them: check the record first. It is read
    # with zipfile's own function so that both see the same record.
    end = zipfile._EndRecData(file)
    if end is None:
        return None
    members, size = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]
    if members > MAX_MEMBERS or size > _MAX_DIRECTORY_BYTES:
        raise ModelFileError(
            f"{path}: {what} lists {members:,} members in a directory of {size:,} bytes, "
            f"over the limit of {MAX_MEMBERS} members (skcatdog.persistence.MAX_MEMBERS); "
            "not read."
        )
    archive = zipfile.ZipFile(file)
    if len(archive.infolist()) > MAX_MEMBERS:  # more entries than the record said
        archive.close()
        raise ModelFileError(f"{path}: {what} holds more than {MAX_MEMBERS} members "
                             "(skcatdog.persistence.MAX_MEMBERS).")
    return archive


def _check_member(info, limit_name, path, where):
    """Refuse a member whose header asks for more than skcatdog reads, before reading it."""
    limit = globals()[limit_name]  # read at every load, so that a new value takes effect
    if info.flag_bits & 0x1:
        raise ModelFileError(f"{path}: {where} is encrypted; not read.")
    if info.compress_type not in _COMPRESSIONS:
        raise ModelFileError(
            f"{path}: {where} uses compression method {info.compress_type}: unknown "
            "compression (skcatdog reads only stored and deflated members)."
        )
    if info.file_size > limit:
        raise ModelFileError(
            f"{path}: {where} declares {info.file_size:,} bytes, over the limit of {limit:,} "
            f"(skcatdog.persistence.{limit_name}); not read."
        )
    if (info.file_size > _RATIO_EXEMPT_BYTES
            and info.file_size > MAX_COMPRESSION_RATIO * info.compress_size):
        raise ModelFileError(
            f"{path}: {where} would expand from {info.compress_size:,} to {info.file_size:,} "
            f"bytes, more than {MAX_COMPRESSION_RATIO} times "
            "(skcatdog.persistence.MAX_COMPRESSION_RATIO); not read."
        )


def _read_member(archive, info, limit_name, out, path):
    """Copy a checked member to ``out`` chunk by chunk, never past its declared size."""
    _check_member(info, limit_name, path, info.filename)
    size = 0
    with archive.open(info) as member:
        while chunk := member.read(_CHUNK):
            size += len(chunk)
            # zipfile stops at the declared size itself; this holds should it ever not.
            if size > info.file_size:
                raise ModelFileError(f"{path}: {info.filename} holds more than the "
                                     f"{info.file_size:,} bytes it declares; not read further.")
            out.write(chunk)


def _read_document(archive, path):
    try:
        info = archive.getinfo("params.json")
    except KeyError:
        raise ModelFileError(
            f"{path}: a zip file but not a skcatdog model (no params.json inside)."
        ) from None
    buffer = io.BytesIO()
    _read_member(archive, info, "MAX_PARAMS_BYTES", buffer, path)
    try:
        text = buffer.getvalue().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelFileError(f"{path}: params.json is not UTF-8 text: {exc}") from None
    del buffer
    try:
        document = json.loads(text)
    except RecursionError:
        raise ModelFileError(f"{path}: params.json nests more than {MAX_NESTING} levels deep "
                             "(skcatdog.persistence.MAX_NESTING).") from None
    except ValueError as exc:
        raise ModelFileError(f"{path}: params.json is not valid JSON: {exc}") from None
    _check_nesting(document, path)
    if not isinstance(document, dict) or document.get("format") != _FORMAT_NAME:
        raise ModelFileError(f"{path}: params.json does not describe a skcatdog model.")
    version = document.get("format_version")
    if type(version) is not int or version < 1:
        raise ModelFileError(f"{path}: unknown format version {version!r:.40}.")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: written in format version {version} by skcatdog "
            f"{str(document.get('skcatdog_version', '?')):.40}; this skcatdog reads versions "
            f"up to {FORMAT_VERSION}. Upgrade skcatdog to load it."
        )
    estimator = document.get("estimator")
    if not isinstance(estimator, dict) or "__estimator__" not in estimator:
        raise ModelFileError(f"{path}: params.json holds no estimator.")
    return document


def _check_keras_archive(file, name, path):
    """Refuse a ``.keras`` zip whose members declare more than Keras should read."""
    what = f"its Keras model {name}"
    with open(file, "rb") as f:
        try:
            inner = _open_zip(f, path, what)
        except ModelFileError:
            raise
        except Exception as exc:  # as for the archive: BadZipFile, but more besides
            raise ModelFileError(f"{path}: {what} is a damaged zip: {exc}") from None
        if inner is None:
            raise ModelFileError(f"{path}: {what} is not a zip archive.")
        with inner:
            total = 0
            for info in inner.infolist():
                _check_member(info, "MAX_KERAS_BYTES", path, f"{name}/{info.filename}")
                total += info.file_size
            if total > MAX_KERAS_BYTES:
                raise ModelFileError(
                    f"{path}: {what}'s members declare {total:,} bytes together, over the limit "
                    f"of {MAX_KERAS_BYTES:,} (skcatdog.persistence.MAX_KERAS_BYTES); not loaded."
                )
            return _weights_bytes(inner, path, what)


def _weights_bytes(inner, path, what):
    """The bytes the arrays of a ``.keras`` zip's weights file declare.

    Keras writes them uncompressed, so a genuine file declares no more than it
    holds; a file declaring more (compressed HDF5 chunks, a huge fill-valued
    dataset) would make Keras allocate what the bytes never held.
    """
    import h5py

    try:
        info = inner.getinfo("model.weights.h5")
    except KeyError:
        return 0  # Keras itself says what is missing
    declared = 0

    def count(_, item):
        nonlocal declared
        if isinstance(item, h5py.Dataset):
            declared += int(item.size) * item.dtype.itemsize

    try:
        with inner.open(info) as member, h5py.File(member, "r") as weights:
            weights.visititems(count)
    except (OSError, ValueError, TypeError):
        return 0  # not readable HDF5: Keras refuses it with its own message
    if declared > 2 * info.file_size + _VARIABLE_SLACK_BYTES:
        raise ModelFileError(
            f"{path}: {what}'s weights declare {declared:,} bytes of arrays in a file of "
            f"{info.file_size:,}; not loaded."
        )
    return declared


# Keras builds every layer's (and the optimizer's) variables from config.json
# before it reads a weight, so a config declaring a huge layer would allocate it.
# A genuine model's variables are all in its weights file: while a model file is
# loaded, the variables this thread creates may take twice what that file
# declares, plus this much for state Keras does not save.
_VARIABLE_SLACK_BYTES = 16 << 20
_variable_budget = threading.local()


class _VariablesOverBudget(Exception):
    """Raised inside Keras when a variable would exceed the file's budget."""


def _counting(init):
    """``keras.Variable.__init__``, refusing a variable over this thread's budget."""

    def counted(self, *args, **kwargs):
        left = getattr(_variable_budget, "left", None)
        if left is not None:
            shape = kwargs.get("shape", args[1] if len(args) > 1 else None)
            dtype = kwargs.get("dtype", args[2] if len(args) > 2 else None)
            n_bytes = _variable_bytes(shape, dtype)
            if n_bytes > left:
                _variable_budget.exceeded = n_bytes
                raise _VariablesOverBudget(f"a variable of shape {shape} is over the budget")
            _variable_budget.left = left - n_bytes
        init(self, *args, **kwargs)

    counted.skcatdog_counting = True
    return counted


def _variable_bytes(shape, dtype):
    from skcatdog._quiet import keras

    try:
        n = math.prod(int(d) for d in shape) if shape is not None else 0
        itemsize = np.dtype(keras.backend.standardize_dtype(dtype)).itemsize
    except (TypeError, ValueError):
        return 0  # a shape or dtype Keras will refuse itself
    return n * itemsize


_UNLOADED_WEIGHTS = re.compile(r"could not be loaded|freshly[- ]initiali[sz]ed")


def _load_keras(archive, name, folder, path):
    from skcatdog._quiet import keras

    file = os.path.join(folder, name)
    with open(file, "wb") as out:
        _read_member(archive, archive.getinfo(name), "MAX_KERAS_BYTES", out, path)
    declared = _check_keras_archive(file, name, path)
    if not getattr(keras.Variable.__init__, "skcatdog_counting", False):
        keras.Variable.__init__ = _counting(keras.Variable.__init__)
    budget = 2 * declared + _VARIABLE_SLACK_BYTES
    _variable_budget.left, _variable_budget.exceeded = budget, None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = keras.saving.load_model(file, safe_mode=True)
    except Exception as exc:
        if _variable_budget.exceeded is not None:
            raise ModelFileError(
                f"{path}: its Keras model {name} would create a variable of "
                f"{_variable_budget.exceeded:,} bytes, over what its weights file allows "
                f"({budget:,} bytes for all of them); not created."
            ) from None
        raise ModelFileError(
            f"{path}: its Keras model {name} cannot be loaded: {type(exc).__name__}: {exc}"
        ) from None
    finally:
        _variable_budget.left = None
    # Keras only warns when weights it cannot read leave layers freshly
    # initialised: such a model would predict at random, so it is refused.
    for warning in caught:
        message = str(warning.message)
        if _UNLOADED_WEIGHTS.search(message):
            raise ModelFileError(f"{path}: the weights of its Keras model {name} cannot all "
                                 f"be read: {message.splitlines()[0]}")
        warnings.warn_explicit(warning.message, warning.category, warning.filename,
                               warning.lineno)
    return model


def _load_skcatdog(file, path):
    head = file.read(4)
    file.seek(0)
    try:
        archive = _open_zip(file, path, "the archive")
    except ModelFileError:
        raise
    except Exception:  # zipfile raises BadZipFile, but a damaged directory more besides
        archive = None
    if archive is None:
        hint = (" It looks like a pickle: if you trust its source, give it a .joblib name."
                if head[:1] == b"\x80" else "")
        raise ModelFileError(
            f"{path}: not a skcatdog model file (not a zip archive, or truncated).{hint}"
        )
    with archive, tempfile.TemporaryDirectory() as folder:
        try:
            document = _read_document(archive, path)
            members = set(archive.namelist())
            models = {}

            def keras_model(name):
                if not isinstance(name, str) or not _KERAS_NAME.fullmatch(name):
                    raise ModelFileError(
                        f"{path}: {name!r:.60} does not name a Keras model member "
                        "(model.keras, model_1.keras, ...)."
                    )
                if name not in members:
                    raise ModelFileError(f"{path}: the Keras model {name!r} is missing.")
                if name not in models:
                    models[name] = _load_keras(archive, name, folder, path)
                return models[name]

            return _Decoder(path, keras_model, document.get("skcatdog_version")).estimator(
                document["estimator"], "the estimator")
        except (ModelFileError, MemoryError):
            raise
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error, OSError) as exc:
            raise ModelFileError(
                f"{path}: damaged or truncated archive: {type(exc).__name__}: {exc}"
            ) from None
        except NotImplementedError as exc:  # a zip feature such as strong encryption
            raise ModelFileError(f"{path}: uses a zip feature skcatdog does not read: "
                                 f"{exc}") from None
        except Exception as exc:  # a well-formed value that a step's own code refuses
            raise ModelFileError(
                f"{path}: params.json is malformed: {type(exc).__name__}: {exc}"
            ) from None


def load_model(path):
    """Load an estimator saved by :func:`save_model`.

    The format follows the file name (see :func:`is_pickle_file`):

    - ``.joblib``, ``.pkl`` and ``.pickle`` files are unpickled. **Unpickling
      can run arbitrary code: load only pickles you wrote yourself or that
      come from a source you trust.**
    - Every other file is read as the safe ``.skcatdog`` format, whatever its
      content (a pickle renamed ``.skcatdog`` is refused, not unpickled):
      plain JSON and a Keras model loaded with ``safe_mode=True``, from which
      only allow-listed classes are built, with only their own parameters.

    Every path is checked with ``os.stat`` before it is opened: a FIFO, a
    device or a socket is refused without blocking, and so is a file larger
    than :data:`MAX_MODEL_FILE_BYTES`. A ``.skcatdog`` file's members are
    checked from their headers before they are read, and their real sizes
    while reading: at most :data:`MAX_MEMBERS` members (in the archive and in
    each ``.keras`` zip), stored or deflated, expanding at most
    :data:`MAX_COMPRESSION_RATIO` times; ``params.json`` at most
    :data:`MAX_PARAMS_BYTES`, nested at most :data:`MAX_NESTING` levels, its
    arrays at most :data:`MAX_ARRAY_BYTES` together (checked from their shape
    and dtype before allocating); each ``.keras`` member, and its own
    members together, at most :data:`MAX_KERAS_BYTES`. The limits are read
    at every call.

    Parameters
    ----------
    path : str or path-like
        The model file.

    Returns
    -------
    estimator : fitted estimator
        Its ``predict`` and ``predict_proba`` give what the saved one gave.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    PermissionError
        If the file cannot be read.
    ModelFileError
        If the file is not a regular file, is over a limit, is not a skcatdog
        model, is truncated or damaged in any way, comes from a newer format
        version, names a class outside the allow-list, or sets what is not
        a parameter or fitted attribute of its class. The message starts
        with the file's path.

    See Also
    --------
    save_model : Write one.
    is_pickle_file : Whether a name is loaded as a pickle.
    """
    path = Path(path)
    with _open_model_file(path) as file:
        if is_pickle_file(path):
            return _load_pickle(file, path)
        return _load_skcatdog(file, path)
