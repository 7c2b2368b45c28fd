"""Export for serving: a SavedModel (and ONNX) giving predict_proba's probabilities."""

import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest

from skcatdog.export import export_model

HAS_ONNX = all(importlib.util.find_spec(m) for m in ("tf2onnx", "onnxruntime"))

# Served without skcatdog or scikeras: TensorFlow and numpy only (TensorFlow imports
# scikit-learn itself where it is installed, for keras.wrappers; nothing here needs it).
SERVE = """
import json, sys
import numpy as np
import tensorflow as tf
served = tf.saved_model.load(sys.argv[1]).signatures["serve"]
pixels = np.load(sys.argv[2])
proba = served(pixels=tf.constant(pixels))["probabilities"].numpy()
np.save(sys.argv[3], proba)
print(sorted(m for m in ("skcatdog", "scikeras") if m in sys.modules))
"""


def _pixels(X, clf):
    return np.asarray(X).reshape(-1, *clf.image_shape_).astype(np.uint8)


def test_savedmodel_serves_predict_proba_without_skcatdog(fitted_deep, toy_images,
                                                               tmp_path):
    X, _ = toy_images
    pixels = _pixels(X[:25], fitted_deep)  # not a multiple of the batch size
    path = export_model(fitted_deep, tmp_path / "served")
    np.save(tmp_path / "pixels.npy", pixels)
    result = subprocess.run([sys.executable, "-c", SERVE, str(path), str(tmp_path / "pixels.npy"),
                             str(tmp_path / "proba.npy")], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[-2] == "[]"
    served = np.load(tmp_path / "proba.npy")
    np.testing.assert_allclose(served, fitted_deep.predict_proba(X[:25]), atol=1e-5)
    about = json.loads((path / "classes.json").read_text(encoding="utf-8"))
    assert about == {"classes": ["cat", "dog"], "input": "pixels", "output": "probabilities",
                     "image_shape": [16, 16, 3], "dtype": "uint8"}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left


@pytest.mark.parametrize("params", [
    {"test_time_flip": False},                            # no mirror view
    {"dtype_policy": "mixed_bfloat16"},                   # bfloat16 inside, float32 out
    {"test_time_flip": True, "test_time_shift": 3},       # ten views, reflected borders
])
def test_savedmodel_variants(toy_images, tmp_path, params):
    import tensorflow as tf

    from skcatdog import SimpleCNNClassifier

    X, y = toy_images
    y3 = np.array(["cat", "dog", "fox"] * 20) if "test_time_flip" in params else y
    clf = SimpleCNNClassifier(epochs=1, filters=4, dense_units=4, random_state=0,
                              **params).fit(X, y3)
    path = export_model(clf, tmp_path / "m")
    served = tf.saved_model.load(str(path)).signatures["serve"]
    proba = served(pixels=tf.constant(_pixels(X[:9], clf)))["probabilities"].numpy()
    assert proba.shape == (9, len(clf.classes_))
    np.testing.assert_allclose(proba, clf.predict_proba(X[:9]), atol=1e-5)


@pytest.mark.skipif(not HAS_ONNX, reason="tf2onnx and onnxruntime are not installed")
def test_onnx_serves_predict_proba(fitted_deep, toy_images, tmp_path):
    import onnxruntime

    X, _ = toy_images
    path = export_model(fitted_deep, tmp_path / "model.onnx", format="onnx")
    session = onnxruntime.InferenceSession(str(path))
    assert [i.name for i in session.get_inputs()] == ["pixels"]
    (proba,) = session.run(["probabilities"], {"pixels": _pixels(X[:11], fitted_deep)})
    np.testing.assert_allclose(proba, fitted_deep.predict_proba(X[:11]), atol=1e-5)


def test_export_refuses_what_it_must_not_replace(fitted_deep, tmp_path):
    (tmp_path / "taken").mkdir()
    with pytest.raises(FileExistsError, match="taken exists"):
        export_model(fitted_deep, tmp_path / "taken")
    with pytest.raises(ValueError, match="format must be one of savedmodel, onnx"):
        export_model(fitted_deep, tmp_path / "m", format="tflite")
    with pytest.raises(TypeError, match="not a skcatdog CNN classifier"):
        from sklearn.dummy import DummyClassifier

        export_model(DummyClassifier().fit([[0]], [0]), tmp_path / "m")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_the_command_line_offers_every_format():
    from skcatdog.cli import _parser
    from skcatdog.export import EXPORT_FORMATS

    export = _parser()._subparsers._group_actions[0].choices["export"]
    (action,) = [a for a in export._actions if a.dest == "format"]
    assert tuple(action.choices) == EXPORT_FORMATS
