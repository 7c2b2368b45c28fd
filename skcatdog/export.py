"""Export a fitted classifier for serving without scikit-learn or skcatdog.

:func:`export_model` writes a TensorFlow SavedModel (or, where ``tf2onnx``
converts it, an ONNX file) whose one function takes a batch of ``uint8``
pixels, ``(n, height, width, channels)`` at the classifier's image size, and
returns the class probabilities in the order of ``classes_``: what
``predict_proba`` returns for the same pixels, test-time views (mirror
image, shifted copies) included. Decoding and resizing photos stay outside, as
:class:`~skcatdog.ImageLoader` does them (Pillow, ``reducing_gap=None``
resampling): a server that resizes otherwise sees slightly different pixels.

The SavedModel is written with Keras' own ``keras.export.ExportArchive``, the
supported way to export a Keras 3 model for TensorFlow Serving; the class
names travel beside it in ``classes.json``.
"""

import json
import os
import shutil
import tempfile
from pathlib import Path

from skcatdog.inspection import _split_estimator

__all__ = ["EXPORT_FORMATS", "export_model"]

#: What :func:`export_model` writes: a SavedModel folder, or one ONNX file.
EXPORT_FORMATS = ("savedmodel", "onnx")

#: The SavedModel's serving function and the names of its input and output.
ENDPOINT, INPUT_NAME, OUTPUT_NAME = "serve", "pixels", "probabilities"


def _serving_function(clf):
    """A function of uint8 pixel batches returning ``predict_proba``'s probabilities."""
    from skcatdog._quiet import import_tensorflow, keras
    from skcatdog._views import n_views, views

    tf = import_tensorflow()
    model, flip = clf.model_, bool(clf.test_time_flip)
    shift = int(clf.test_time_shift)
    count = n_views(flip, shift)

    def probabilities(pixels):
        images = tf.cast(pixels, tf.float32)
        # the mean of the views' probabilities, as predict_proba averages them
        p = tf.cast(model(views(images, flip, shift, xp=keras.ops), training=False),
                    tf.float32)
        p = tf.reduce_mean(tf.reshape(p, [count, -1, p.shape[-1]]), axis=0)
        if p.shape[-1] == 1:  # one sigmoid unit: the second class's probability
            p = tf.concat([1 - p, p], axis=-1)
        return {OUTPUT_NAME: p}

    return probabilities


def _write_savedmodel(clf, folder):
    from skcatdog._quiet import import_tensorflow, keras

    tf = import_tensorflow()
    archive = keras.export.ExportArchive()
    archive.track(clf.model_)
    spec = tf.TensorSpec([None, *clf.image_shape_], tf.uint8, name=INPUT_NAME)
    archive.add_endpoint(ENDPOINT, _serving_function(clf), input_signature=[spec])
    archive.write_out(str(folder), verbose=False)
    classes = [c.item() if hasattr(c, "item") else c for c in clf.classes_]
    (folder / "classes.json").write_text(
        json.dumps({"classes": classes, "input": INPUT_NAME, "output": OUTPUT_NAME,
                    "image_shape": list(clf.image_shape_), "dtype": "uint8"}, indent=2) + "\n",
        encoding="utf-8")


def _write_onnx(clf, savedmodel):
    try:
        import tf2onnx
    except ImportError:
        raise ImportError(
            "Exporting to ONNX needs tf2onnx (pip install tf2onnx); the SavedModel format "
            "needs nothing more."
        ) from None
    from skcatdog._quiet import import_tensorflow

    tf = import_tensorflow()
    loaded = tf.saved_model.load(str(savedmodel))
    function = loaded.signatures[ENDPOINT]
    proto, _ = tf2onnx.convert.from_function(
        tf.function(lambda pixels: function(pixels=pixels)),
        input_signature=[tf.TensorSpec([None, *clf.image_shape_], tf.uint8, name=INPUT_NAME)],
        opset=17, output_path=None)
    names = [output.name for output in proto.graph.output]
    if names != [OUTPUT_NAME]:
        raise RuntimeError(f"tf2onnx named the outputs {names}, not [{OUTPUT_NAME!r}].")
    return proto.SerializeToString()


def export_model(estimator, path, *, format="savedmodel"):
    """Write a fitted classifier as a model that serves without scikit-learn.

    Parameters
    ----------
    estimator : fitted classifier or Pipeline
        A fitted skcatdog CNN classifier, or a Pipeline ending in one (its
        loader is not exported: the served model takes decoded pixels).
    path : str or path-like
        The folder to create (``"savedmodel"``) or the file to write
        (``"onnx"``). An existing one is refused, not replaced.
    format : {"savedmodel", "onnx"}, default="savedmodel"
        A TensorFlow SavedModel folder, with ``classes.json`` beside the
        model; or an ONNX file (needs ``tf2onnx``).

    Returns
    -------
    path : pathlib.Path
        What was written; it appears whole or not at all.

    Examples
    --------
    >>> import tempfile, json
    >>> import numpy as np
    >>> import tensorflow as tf
    >>> from skcatdog import SimpleCNNClassifier
    >>> from skcatdog.export import export_model
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randint(0, 256, size=(12, 8, 8, 3)).astype(np.uint8)
    >>> y = np.array(["cat", "dog"] * 6)
    >>> clf = SimpleCNNClassifier(epochs=1, filters=2, dense_units=2,
    ...                           validation_fraction=0, random_state=0).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = export_model(clf, f"{folder}/model")
    ...     served = tf.saved_model.load(str(path)).signatures["serve"]
    ...     proba = served(pixels=tf.constant(X))["probabilities"].numpy()
    ...     classes = json.loads((path / "classes.json").read_text())["classes"]
    >>> classes, bool(np.allclose(proba, clf.predict_proba(X), atol=1e-5))
    (['cat', 'dog'], True)
    """
    if format not in EXPORT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(EXPORT_FORMATS)}; got {format!r}.")
    _, clf = _split_estimator(estimator)
    target = Path(path)
    if target.exists():
        raise FileExistsError(f"{target} exists; export writes a new {format} path.")
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target under a hidden name, then renamed: whole or absent.
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        savedmodel = staging / "savedmodel"
        _write_savedmodel(clf, savedmodel)
        if format == "savedmodel":
            os.replace(savedmodel, target)
        else:
            (staging / "model.onnx").write_bytes(_write_onnx(clf, savedmodel))
            os.replace(staging / "model.onnx", target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
