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
    scikeras and Keras that wrote it.

Files are written atomically: the bytes go to a hidden temporary file in the
target's folder, which is then renamed over the target, so an interrupted save
leaves the previous file (or none), never half a file.

This module does not import TensorFlow until a model is saved or loaded.
"""

import importlib
import io
import json
import os
import re
import tempfile
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["FORMAT_VERSION", "ModelFileError", "load_model", "save_model"]

#: Version of the ``.skcatdog`` layout this skcatdog writes and the newest it reads.
FORMAT_VERSION = 1

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
# Keeps a hostile params.json from eating the memory.
_MAX_PARAMS_BYTES = 16 << 20
_KERAS_NAME = re.compile(r"^model(_\d+)?\.keras$")


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
            f"{path}: names the class {name!r}, which skcatdog does not load "
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
            if value.dtype.kind not in "biufUO":
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
        if "_random_state" in vars(est):
            fitted["_random_state"] = est._random_state
        if fitted:
            node["fitted"] = self.value(fitted, f"{where}.fitted")
        model = vars(est).get("model_")
        if model is not None:
            archive_name = "model.keras" if not self.models else f"model_{len(self.models)}.keras"
            self.models.append((archive_name, model))
            node["keras_model"] = archive_name
        return node


def _decode(value, path, models):
    if isinstance(value, list):
        return [_decode(v, path, models) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tuple__" in value:
        return tuple(_decode(v, path, models) for v in value["__tuple__"])
    if "__dict__" in value:
        return {_decode(k, path, models): _decode(v, path, models) for k, v in value["__dict__"]}
    if "__dtype__" in value:
        return np.dtype(value["__dtype__"])
    if "__ndarray__" in value:
        dtype = object if value["dtype"] == "object" else np.dtype(value["dtype"])
        array = np.empty(tuple(value["shape"]), dtype=dtype)
        array[...] = value["__ndarray__"] if array.ndim else value["__ndarray__"]
        return array
    if "__estimator__" in value:
        return _build_estimator(value, path, models)
    return {k: _decode(v, path, models) for k, v in value.items()}


def _build_estimator(node, path, models):
    cls = _resolve(node["__estimator__"], path)
    params = _decode(node.get("params", {}), path, models)
    try:
        est = cls(**params)
    except TypeError as exc:
        raise ModelFileError(f"{path}: parameters of {cls.__name__} do not fit: {exc}") from None
    fitted = _decode(node.get("fitted", {}), path, models)
    if not isinstance(fitted, dict):
        raise ModelFileError(f"{path}: the fitted state of {cls.__name__} is malformed.")
    for key in fitted:
        # Only fitted attributes as save_model writes them: no methods, no private state.
        if not isinstance(key, str) or key in _REBUILT or not (
            key == "_random_state" or (key.endswith("_") and not key.startswith("_"))
        ):
            raise ModelFileError(f"{path}: {key!r} is not a fitted attribute skcatdog restores.")
    vars(est).update(fitted)
    if "keras_model" in node:
        _restore_keras_state(est, models[node["keras_model"]])
    return est


def _restore_keras_state(clf, model):
    """Give a scikeras classifier the fitted state ``predict_proba`` reads."""
    clf.model_ = model
    # scikeras' target_encoder takes its categories from classes_.
    clf.target_encoder_ = clf.target_encoder.fit(np.asarray(clf.classes_))
    vars(clf).update(getattr(clf.target_encoder_, "get_metadata", dict)())
    dummy = np.zeros((1, clf.n_features_in_), dtype=clf.X_dtype_)
    clf.feature_encoder_ = clf.feature_encoder.fit(dummy)
    vars(clf).update(getattr(clf.feature_encoder_, "get_metadata", dict)())
    clf._initialize_callbacks()


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
    import keras

    import skcatdog

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


def _is_pickle_name(path):
    return Path(path).suffix.lower() in PICKLE_SUFFIXES


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
    if _is_pickle_name(path):
        import joblib

        buffer = io.BytesIO()
        joblib.dump(estimator, buffer)
        data = buffer.getvalue()
    else:
        data = _skcatdog_bytes(estimator)
    return atomic_write_bytes(path, data)


# -- loading -------------------------------------------------------------------


def _load_pickle(path):
    import joblib
    from sklearn.base import BaseEstimator

    try:
        estimator = joblib.load(path)
    except (FileNotFoundError, PermissionError, MemoryError):
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


def _read_document(archive, path):
    try:
        info = archive.getinfo("params.json")
    except KeyError:
        raise ModelFileError(
            f"{path}: a zip file but not a skcatdog model (no params.json inside)."
        ) from None
    if info.file_size > _MAX_PARAMS_BYTES:
        raise ModelFileError(f"{path}: params.json is implausibly large ({info.file_size} bytes).")
    try:
        document = json.loads(archive.read(info).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{path}: params.json is not valid JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != _FORMAT_NAME:
        raise ModelFileError(f"{path}: params.json does not describe a skcatdog model.")
    version = document.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{path}: unknown format version {version!r}.")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: written in format version {version} by skcatdog "
            f"{document.get('skcatdog_version', '?')}; this skcatdog reads versions up to "
            f"{FORMAT_VERSION}. Upgrade skcatdog to load it."
        )
    return document


def _load_skcatdog(path):
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        with open(path, "rb") as f:
            head = f.read(4)
        hint = (" It looks like a pickle: if you trust its source, give it a .joblib name."
                if head[:1] == b"\x80" else "")
        raise ModelFileError(
            f"{path}: not a skcatdog model file (not a zip archive, or truncated).{hint}"
        ) from None
    with archive, tempfile.TemporaryDirectory() as tmp:
        document = _read_document(archive, path)
        names = set(archive.namelist())
        models = {}
        try:
            for name in _keras_names(document["estimator"]):
                if not _KERAS_NAME.match(name) or name not in names:
                    raise ModelFileError(f"{path}: the Keras model {name!r} is missing.")
                target = os.path.join(tmp, name)
                with open(target, "wb") as f:
                    f.write(archive.read(name))
                models[name] = _load_keras(target, name, path)
            return _decode(document["estimator"], path, models)
        except ModelFileError:
            raise
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
            raise ModelFileError(f"{path}: damaged or truncated archive: {exc}") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(
                f"{path}: params.json is malformed: {type(exc).__name__}: {exc}"
            ) from None


def _keras_names(node):
    if isinstance(node, dict):
        if "keras_model" in node and "__estimator__" in node:
            yield node["keras_model"]
        for value in node.values():
            yield from _keras_names(value)
    elif isinstance(node, list):
        for value in node:
            yield from _keras_names(value)


def _load_keras(file, name, path):
    import keras

    try:
        return keras.saving.load_model(file, safe_mode=True)
    except Exception as exc:
        raise ModelFileError(
            f"{path}: its Keras model {name} cannot be loaded: {type(exc).__name__}: {exc}"
        ) from None


def load_model(path):
    """Load an estimator saved by :func:`save_model`.

    The format follows the file name: ``.joblib``, ``.pkl`` and ``.pickle``
    files are unpickled -- **which can run arbitrary code: load only pickles
    you trust** -- and every other file is read as the safe ``.skcatdog``
    format, whatever its content (a pickle renamed ``.skcatdog`` is refused,
    not unpickled).

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
    ModelFileError
        If the file is not a skcatdog model, is truncated or damaged, comes
        from a newer format version, or names a class outside the allow-list.
        The message names the file.

    See Also
    --------
    save_model : Write one.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No such model file: {str(path)!r}")
    if path.is_dir():
        raise ModelFileError(f"{path}: is a folder, not a model file.")
    if _is_pickle_name(path):
        return _load_pickle(path)
    return _load_skcatdog(path)
