"""Fuzzing: a hostile ``.skcatdog`` file loads or raises ModelFileError, nothing else.

The inputs are two valid model files -- a bare ``SimpleCNNClassifier`` with an
``ImageAugmenter``, and a ``Pipeline`` of an ``ImageLoader`` and that
classifier -- damaged in three ways:

- the archive's bytes: bit flips, truncation, overwritten, inserted and
  deleted bytes;
- one member's bytes (``params.json``, ``model.keras`` or a member of the
  ``.keras`` zip), re-zipped with correct CRCs so that the damage reaches the
  JSON, zip and Keras readers;
- the ``params.json`` document: random JSON values put at random places of the
  real document, values swapped for other types or special nodes
  (``__tuple__``, ``__ndarray__``, ``__estimator__``, ...), keys added (method
  names, private names) or removed, deep nesting, arrays with huge or wrong
  shapes and odd dtypes.

For each one, ``load_model`` either returns an estimator (whose ``repr``
works) or raises ``ModelFileError`` with a message that starts with the path,
within the hypothesis deadline.

The default run is short. A long run, with a tally of the outcomes:

    SKCATDOG_FUZZ_EXAMPLES=2000 .venv/bin/pytest -p no:xdist \\
        tests/test_fuzz_persistence.py --hypothesis-show-statistics
"""

import io
import json
import os
import random
import re
import tempfile
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator

from skcatdog.persistence import ModelFileError, load_model, save_model

MAX_EXAMPLES = int(os.environ.get("SKCATDOG_FUZZ_EXAMPLES", "50"))

FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    # Most inputs fail before Keras; those that reach it load a network, which
    # takes a fraction of a second but more on a busy machine.
    deadline=10_000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


def _members(data):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _zip(members):
    """A .skcatdog-like zip: params.json deflated, the rest stored, as save_model writes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED
                             if name.endswith(".json") else zipfile.ZIP_STORED)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def seeds():
    """The bytes of the two valid model files, each checked to load."""
    from sklearn.pipeline import Pipeline

    from skcatdog import ImageAugmenter, ImageLoader, SimpleCNNClassifier

    rng = np.random.RandomState(0)
    X = rng.randint(0, 256, size=(20, 8 * 8 * 1)).astype(np.uint8)
    y = np.array(["cat", "dog"] * 10)
    clf = SimpleCNNClassifier(
        epochs=1, filters=2, dense_units=2, image_shape=(8, 8, 1), random_state=0,
        augmentation=ImageAugmenter(horizontal_flip=True, shear_range=0.1),
    ).fit(X, y)
    pipe = Pipeline([("load", ImageLoader(image_size=(8, 8), color_mode="grayscale")),
                     ("cnn", clf)])
    out = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, estimator in [("bare", clf), ("pipeline", pipe)]:
            path = save_model(estimator, os.path.join(folder, f"{name}.skcatdog"))
            out[name] = path.read_bytes()
            assert repr(load_model(path)) == repr(estimator)  # also warms Keras up
    return out


@pytest.fixture(scope="module")
def scratch():
    with tempfile.TemporaryDirectory() as folder:
        yield os.path.join(folder, "fuzz.skcatdog")


def _kind(message):
    """A short, stable name for a refusal, for --hypothesis-show-statistics."""
    if message.startswith("the estimator"):  # drop where in the tree it happened
        message = message.split(": ", 1)[-1]
    message = re.sub(r"'[^']*'|\"[^\"]*\"|\[[^\]]*\]|\d[\d,.]*", "_", message)
    return message[:60]


def _load_or_refuse(path, data):
    with open(path, "wb") as f:
        f.write(data)
    try:
        estimator = load_model(path)
    except ModelFileError as exc:
        message = str(exc)
        assert message.startswith(f"{path}: "), message
        event(_kind(message[len(path) + 2:]))
        return
    assert isinstance(estimator, BaseEstimator)
    repr(estimator)
    event("loaded")


def _damage(draw, data):
    """``data`` with 1 to 3 random flips, truncations, overwrites, insertions or deletions."""
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 3))):
        if not data:
            break
        kind = draw(st.sampled_from(["flip", "truncate", "overwrite", "insert", "delete"]))
        pos = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            for _ in range(draw(st.integers(1, 8))):
                data[draw(st.integers(0, len(data) - 1))] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            del data[pos:]
        elif kind == "overwrite":  # sizes, offsets, counts, methods in the headers
            chunk = draw(st.binary(min_size=1, max_size=4)
                         | st.sampled_from([b"\xff\xff\xff\xff", b"\x00\x00\x00\x80"]))
            data[pos:pos + len(chunk)] = chunk
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        else:
            del data[pos:pos + draw(st.integers(1, 64))]
    return bytes(data)


@FUZZ_SETTINGS
@given(data=st.data())
def test_damaged_archive_bytes(seeds, scratch, data):
    seed = seeds[data.draw(st.sampled_from(sorted(seeds)), label="seed")]
    _load_or_refuse(scratch, _damage(data.draw, seed))


@FUZZ_SETTINGS
@given(data=st.data())
def test_damaged_member_bytes(seeds, scratch, data):
    members = _members(seeds[data.draw(st.sampled_from(sorted(seeds)), label="seed")])
    inner = _members(members["model.keras"])
    name = data.draw(st.sampled_from(["params.json"] + [f"model.keras/{n}" for n in inner]
                                     + ["model.keras"]), label="member")
    if name.startswith("model.keras/"):
        inner_name = name.split("/", 1)[1]
        inner[inner_name] = _damage(data.draw, inner[inner_name])
        members["model.keras"] = _zip(inner)
    else:
        members[name] = _damage(data.draw, members[name])
    _load_or_refuse(scratch, _zip(members))


# -- params.json documents -------------------------------------------------------

CLASS_NAMES = ["sklearn.pipeline.Pipeline", "skcatdog.loading.ImageLoader",
               "skcatdog.augmentation.ImageAugmenter", "skcatdog.models.SimpleCNNClassifier",
               "skcatdog.models.DeepCNNClassifier", "skcatdog.tuned.TunedCNNClassifier",
               "skcatdog._compat.KerasClassifier", "builtins.eval", "os.system",
               "skcatdog.cli.main", "skcatdog.__main__.sys", "sklearn.svm.SVC"]
DTYPES = ["<i8", "|u1", "|b1", "<f4", "<f8", ">f8", "<U3", "<U16384", "<U100000", "object",
          "O", "V8", "M8[ns]", "<m8", "f8,i4", "(2,)i4", "<c16", "|S5", "float128", "int0",
          "", "x"]
NAMES = ["predict", "fit", "predict_proba", "__class__", "__init__", "__dict__",
         "_validate_params",
         "model", "model_", "target_encoder_", "initialized_", "classes_", "n_features_in_",
         "X_dtype_", "history_", "image_shape_", "_random_state", "optimizer__beta_1",
         "callbacks__0", "steps", "memory", "dropout", "augmentation", "loader", "image_size",
         "__tuple__", "__dict__", "__dtype__", "__ndarray__", "dtype", "shape", "__estimator__",
         "params", "fitted", "keras_model", "format", "format_version", "estimator"]
STRINGS = CLASS_NAMES + DTYPES + NAMES + ["model.keras", "model_1.keras", "../model.keras",
                                          "skcatdog-model", "cosine", "rgb", "passthrough"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70),
    st.sampled_from([0, 1, -1, 2**31, 2**63, 10**12]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(STRINGS),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=6) | st.sampled_from(NAMES), inner, max_size=4),
    ),
    max_leaves=10,
)
shapes = st.one_of(
    st.lists(st.integers(0, 4), max_size=3),
    st.lists(st.sampled_from([0, 1, 2, -1, 2**20, 2**40, 10**12]), max_size=10),
    json_values,
)
arrays = st.fixed_dictionaries(
    {"__ndarray__": json_values | st.lists(st.integers(0, 3), max_size=4),
     "dtype": st.sampled_from(DTYPES) | json_values, "shape": shapes}
)
estimators = st.fixed_dictionaries(
    {"__estimator__": st.sampled_from(CLASS_NAMES) | json_values},
    optional={"params": json_values, "fitted": json_values,
              "keras_model": st.sampled_from(["model.keras", "model_1.keras"]) | json_values},
)
special_nodes = st.one_of(
    arrays,
    estimators,
    st.builds(lambda v: {"__tuple__": v}, json_values),
    st.builds(lambda v: {"__dict__": v}, json_values),
    st.builds(lambda v: {"__dtype__": v}, st.sampled_from(DTYPES) | json_values),
)
DEEP = "@@DEEP@@"  # replaced by deep nesting once the document is text


def _places(node):
    """Every place below ``node`` in a JSON document: (the list or object holding it, its key)."""
    if isinstance(node, dict):
        items = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return
    for key, value in items:
        yield node, key
        yield from _places(value)


def _place(draw, document):
    """A random place in a JSON document, uniformly drawn."""
    places = list(_places(document))
    # Hypothesis favours the first items of a list: shuffle it, so that the
    # favourite is a different place each time, not always "format".
    random.Random(draw(st.integers(0, 2**32))).shuffle(places)
    return draw(st.sampled_from(places))


def _swapped(value):
    """The same value as another type, or wrapped in a special node."""
    return st.sampled_from([
        str(value)[:20], [value], {"__tuple__": value}, {"__dict__": value},
        {"__dtype__": value}, {"__estimator__": value},
        {"__ndarray__": value, "dtype": "<i8", "shape": [2]}, None, -1, 2**64, float("nan"),
        True, {"k": value},
    ])


@st.composite
def documents(draw, seed):
    """The text of a params.json that is the real one, damaged."""
    document = json.loads(_members(seed)["params.json"])
    deep = None
    for _ in range(draw(st.integers(1, 3))):
        if not document:
            break
        parent, key = _place(draw, document)
        kind = draw(st.sampled_from(["replace", "swap", "special", "add", "delete", "deep"]))
        if kind == "replace":
            parent[key] = draw(json_values)
        elif kind == "swap":
            parent[key] = draw(_swapped(parent[key]))
        elif kind == "special":
            parent[key] = draw(special_nodes)
        elif kind == "add":  # to the object drawn, else to the one holding it
            target = parent[key] if isinstance(parent[key], dict) else parent
            if isinstance(target, dict):
                target[draw(st.sampled_from(NAMES) | st.text(max_size=6))] = draw(json_values)
        elif kind == "delete" and isinstance(parent, dict):
            del parent[key]
        elif kind == "deep" and deep is None:
            deep = draw(st.integers(1, 3000))
            parent[key] = DEEP
    text = json.dumps(document, allow_nan=True)
    if deep is not None:
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a": ', "}")]))
        text = text.replace(json.dumps(DEEP), opener * deep + "1" + closer * deep, 1)
    return text.encode()


@FUZZ_SETTINGS
@given(data=st.data())
def test_damaged_params_documents(seeds, scratch, data):
    seed = seeds[data.draw(st.sampled_from(sorted(seeds)), label="seed")]
    members = _members(seed)
    members["params.json"] = data.draw(documents(seed), label="params.json")
    _load_or_refuse(scratch, _zip(members))
