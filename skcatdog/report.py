"""Evaluate a fitted classifier on test images and write one self-contained HTML report.

:func:`compute_metrics` returns the numbers as a JSON-serialisable dict;
:func:`write_report` draws the pictures and writes ``report.html`` (every
picture embedded as a base64 PNG, nothing fetched from elsewhere) with the
PNGs beside it. Every file is written atomically with
:func:`skcatdog._atomic.atomic_write_bytes`: a temporary file in
the same folder, renamed over the target, so an interrupted run never leaves
a truncated file.
"""

import base64
import html
import io
import json
import os
from numbers import Integral, Real
from pathlib import Path
from typing import NamedTuple

import numpy as np

from skcatdog._atomic import atomic_write_bytes, atomic_write_text
from skcatdog._baseline import SUGGESTION, compare_with_baseline

__all__ = ["SECTIONS", "Section", "compute_metrics", "write_report"]

#: Feature maps the report shows: layers (spread over the network) and channels
#: per layer; and, one click away, at most these many.
SHOWN_MAP_LAYERS = 4
SHOWN_MAP_CHANNELS = 8
MAX_MAP_LAYERS = 8
MAX_MAP_CHANNELS = 64

def _metrics_from_proba(classes, y_true, proba):
    from sklearn.metrics import (
        accuracy_score,
        average_precision_score,
        confusion_matrix,
        precision_recall_fscore_support,
        roc_auc_score,
    )

    classes = np.asarray(classes)
    y_true = np.asarray(y_true)
    proba = np.asarray(proba, dtype=np.float64)
    if len(y_true) != len(proba):
        raise ValueError(f"X_test has {len(proba)} samples but y_test has {len(y_true)}.")
    if len(y_true) == 0:
        raise ValueError("No test samples.")
    y_pred = classes[np.argmax(proba, axis=1)]
    metrics = {"n_samples": int(len(y_true)), "accuracy": float(accuracy_score(y_true, y_pred))}
    present = np.isin(classes, y_true)
    if len(classes) == 2:
        metrics["positive_class"] = _json_label(classes[1])
        positive = y_true == classes[1]
        if present.all():
            metrics["roc_auc"] = float(roc_auc_score(positive, proba[:, 1]))
            metrics["average_precision"] = float(average_precision_score(positive, proba[:, 1]))
        else:  # undefined with one class; null rather than a misleading number
            metrics["roc_auc"] = metrics["average_precision"] = None
    else:
        metrics["roc_auc"] = (
            float(roc_auc_score(y_true, proba, multi_class="ovr", labels=classes))
            if present.all() else None
        )
    matrix = confusion_matrix(y_true, y_pred, labels=classes)
    metrics["confusion_matrix"] = {
        "labels": [_json_label(c) for c in classes],
        "matrix": matrix.astype(int).tolist(),
    }
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=classes, zero_division=0
    )
    metrics["per_class"] = {
        str(_json_label(c)): {
            "precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)
        }
        for c, p, r, f, s in zip(classes, precision, recall, f1, support)
    }
    metrics["baseline"] = compare_with_baseline(y_true, y_pred, proba)._asdict()
    return metrics


def _json_label(label):
    return label.item() if isinstance(label, np.generic) else label


def compute_metrics(estimator, X_test, y_test):
    """Test-set metrics of a fitted classifier, as a JSON-serialisable dict.

    Predictions are the most probable class of ``predict_proba`` (what
    ``predict`` returns), so the test images pass the network once.

    Parameters
    ----------
    estimator : fitted classifier or Pipeline
        Anything with ``predict_proba`` and ``classes_``.
    X_test : array-like
        Test images (paths for a pipeline that loads them).
    y_test : array-like of shape (n_samples,)
        Their labels.

    Returns
    -------
    metrics : dict
        ``n_samples``; ``accuracy``; ``roc_auc`` (one-vs-rest macro average
        for more than two classes; None when ``y_test`` lacks a class); for
        two classes ``positive_class`` (``classes_[1]``) and
        ``average_precision``; ``confusion_matrix`` as ``{"labels": [...],
        "matrix": [[...], ...]}`` (rows true, columns predicted, in the order
        of ``classes_``); ``per_class``: label to ``precision``, ``recall``,
        ``f1`` and ``support``; ``baseline``: the comparison with always
        answering the most common class (``baseline_accuracy``, ``margin``,
        ``beats_baseline``, ``class_counts``, ``constant_prediction``,
        ``proba_std``, ``learned_nothing``, ...), what the report's first box shows.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skcatdog.report import compute_metrics
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> y = np.array(["cat", "cat", "dog", "dog"])
    >>> metrics = compute_metrics(LogisticRegression().fit(X, y), X, y)
    >>> metrics["accuracy"], metrics["roc_auc"], metrics["confusion_matrix"]
    (1.0, 1.0, {'labels': ['cat', 'dog'], 'matrix': [[2, 0], [0, 2]]})
    >>> metrics["per_class"]["dog"]
    {'precision': 1.0, 'recall': 1.0, 'f1': 1.0, 'support': 2}
    """
    from skcatdog.inspection import _predict_proba

    proba = _predict_proba(estimator, X_test, len(y_test))
    return _metrics_from_proba(estimator.classes_, y_test, proba)


# -- HTML ------------------------------------------------------------------------

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em auto;
       max-width: 1100px; padding: 0 1em; color: #222; background: #fff; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.7em; text-align: right; }
th { background: #f3f3f3; } td.key, th.key { text-align: left; }
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
pre { background: #f7f7f7; padding: 0.6em; overflow-x: auto; font-size: 0.85em; }
.row { display: flex; flex-wrap: wrap; gap: 1em; } .row figure { flex: 1 1 400px; }
.baseline { border: 1px solid #ccc; border-left: 6px solid #2a7; padding: 0.5em 1em;
            margin: 1em 0; background: #f6fbf8; }
.baseline.warning { border-color: #c00; background: #fff0f0; }
.baseline.warning strong { color: #b00; }
"""


def _format(value):
    if isinstance(value, bool) or value is None:
        return "—" if value is None else str(value)
    if isinstance(value, Integral):
        return str(int(value))
    if isinstance(value, Real):
        return f"{float(value):.4g}"
    return str(value)


def _flatten(metrics, prefix=""):
    """Scalar entries as ``(dotted key, value)`` rows; the tables are drawn elsewhere."""
    rows = []
    for key, value in metrics.items():
        if not prefix and key in ("confusion_matrix", "per_class", "baseline"):
            continue
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows.extend(_flatten(value, prefix=f"{name}."))
        elif isinstance(value, (list, tuple)):
            rows.append((name, ", ".join(_format(v) for v in value)))
        else:
            rows.append((name, _format(value)))
    return rows


def _metrics_html(metrics):
    e = html.escape
    parts = ['<table class="summary"><tr><th class="key">metric</th><th>value</th></tr>']
    parts += [f'<tr><td class="key">{e(k)}</td><td>{e(v)}</td></tr>' for k, v in _flatten(metrics)]
    parts.append("</table>")
    per_class = metrics.get("per_class")
    if isinstance(per_class, dict) and per_class:
        columns = list(next(iter(per_class.values())))
        parts.append('<table class="per-class"><tr><th class="key">class</th>'
                     + "".join(f"<th>{e(c)}</th>" for c in columns) + "</tr>")
        for label, row in per_class.items():
            parts.append(f'<tr><td class="key">{e(str(label))}</td>'
                         + "".join(f"<td>{e(_format(row.get(c)))}</td>" for c in columns)
                         + "</tr>")
        parts.append("</table>")
    matrix = metrics.get("confusion_matrix")
    if isinstance(matrix, dict) and "matrix" in matrix:
        labels = [str(label) for label in matrix.get("labels", [])]
        parts.append('<table class="confusion"><tr><th class="key">true \\ predicted</th>'
                     + "".join(f"<th>{e(label)}</th>" for label in labels) + "</tr>")
        for label, row in zip(labels, matrix["matrix"]):
            parts.append(f'<tr><th class="key">{e(label)}</th>'
                         + "".join(f"<td>{e(_format(v))}</td>" for v in row) + "</tr>")
        parts.append("</table>")
    return "\n".join(parts)


def _baseline_html(comparison):
    """The box comparing with the majority class: red, with the reasons, when it is not beaten."""
    e = html.escape
    summary = comparison.summary()
    summary = f"<p>{e(summary[0].upper() + summary[1:])}.</p>"
    problem = comparison.problem()
    if problem is None:
        return f'<div class="baseline">{summary}</div>'
    nothing = comparison.nothing_learned()
    flag = (f'<p class="learned-nothing"><strong>Learned nothing:</strong> {e(nothing)}.</p>'
            if nothing else "")
    return (f'<div class="baseline warning"><p><strong>Warning:</strong> {e(problem)}</p>'
            f"{flag}{summary}<p>{e(SUGGESTION)}</p></div>")


def _png_bytes(fig):
    # No "Software" tag: it would carry matplotlib's web address into the report.
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return buffer.getvalue()


def _balanced_examples(y, classes, n):
    """Up to ``n`` positions of ``y``, taking the classes in turn (first ones first)."""
    queues = [list(np.flatnonzero(y == c)) for c in classes]
    chosen = []
    while len(chosen) < n and any(queues):
        for queue in queues:
            if queue and len(chosen) < n:
                chosen.append(queue.pop(0))
    return np.array(sorted(chosen), dtype=int)


# -- sections --------------------------------------------------------------------
#
# Each builder takes the evaluated test set and returns its Sections (none when it
# does not apply); write_report draws them in the order of SECTIONS.


class _Evaluated(NamedTuple):
    """What every section draws from: the test set, decoded once, and its predictions."""

    clf: object
    name: str
    images: np.ndarray
    y_test: np.ndarray
    names: list
    classes: np.ndarray
    proba: np.ndarray
    y_pred: np.ndarray
    examples: np.ndarray


class Section(NamedTuple):
    """One heading of the report: a figure (written as ``file_name`` too) and HTML.

    ``details`` is an optional second ``(file_name, summary, Figure)`` shown
    folded, one click away; ``html`` is drawn after the figure.
    """

    file_name: str
    heading: str
    caption: str
    figure: object
    details: tuple = None
    html: str = ""


def _training_curves(ev):
    from matplotlib.figure import Figure

    from skcatdog.plotting import TrainingHistoryDisplay

    if not getattr(ev.clf, "history_", None):
        return []
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    TrainingHistoryDisplay(ev.clf.history_, best_epoch=getattr(ev.clf, "best_epoch_", None),
                           estimator_name=ev.name).plot(ax=fig.subplots(1, 2))
    return [Section("training_history.png", "Training curves",
                    "Accuracy and loss per epoch; the dashed line marks the epoch whose "
                    "weights were kept.", fig)]


def _roc_pr_curves(ev):
    from matplotlib.figure import Figure
    from sklearn.metrics import PrecisionRecallDisplay, RocCurveDisplay

    if len(ev.classes) != 2 or not np.isin(ev.classes, ev.y_test).all():
        return []
    fig = Figure(figsize=(10, 4.2), layout="constrained")
    roc_ax, pr_ax = fig.subplots(1, 2)
    positive = ev.classes[1]
    RocCurveDisplay.from_predictions(ev.y_test, ev.proba[:, 1], pos_label=positive,
                                     name=ev.name, ax=roc_ax, plot_chance_level=True)
    PrecisionRecallDisplay.from_predictions(ev.y_test, ev.proba[:, 1], pos_label=positive,
                                            name=ev.name, ax=pr_ax, plot_chance_level=True)
    roc_ax.set_title("ROC curve")
    pr_ax.set_title("Precision-recall curve")
    return [Section("roc_pr_curves.png", "ROC and precision-recall curves",
                    f"Positive class: {positive}.", fig)]


def _confusion_matrix(ev):
    from matplotlib.figure import Figure
    from sklearn.metrics import ConfusionMatrixDisplay

    fig = Figure(figsize=(4.5, 4), layout="constrained")
    ConfusionMatrixDisplay.from_predictions(ev.y_test, ev.y_pred, labels=ev.classes,
                                            ax=fig.subplots(), colorbar=False)
    return [Section("confusion_matrix.png", "Confusion matrix",
                    "Rows: true class; columns: predicted class.", fig)]


def _spread(names, n):
    """At most ``n`` of ``names``, spread evenly from the first to the last."""
    if len(names) <= n:
        return list(names)
    return [names[i] for i in sorted({round(i * (len(names) - 1) / (n - 1)) for i in range(n)})]


def _maps_figure(maps, image, n_layers, n_channels):
    from matplotlib.figure import Figure

    from skcatdog.plotting import FeatureMapsDisplay

    display = FeatureMapsDisplay({k: maps[k] for k in _spread(list(maps), n_layers)},
                                 image=image)
    n_cols = min(16, n_channels)
    fig = Figure(figsize=display._figsize(n_cols=n_cols, max_channels=n_channels),
                 layout="constrained")
    display.plot(fig, n_cols=n_cols, max_channels=n_channels, mosaic=True)
    return fig


def _feature_maps(ev):
    from skcatdog.inspection import feature_maps

    if not len(ev.examples):
        return []
    first = ev.examples[0]
    maps = feature_maps(ev.clf, ev.images[first])
    # Poolings are downsampled copies of the convolutions before them: leave them out.
    maps = {k: v for k, v in maps.items() if not k.startswith(("pool", "global_pool"))}
    shown = _maps_figure(maps, ev.images[first], SHOWN_MAP_LAYERS, SHOWN_MAP_CHANNELS)
    more = _maps_figure(maps, ev.images[first], MAX_MAP_LAYERS, MAX_MAP_CHANNELS)
    more_layers = (f"all {len(maps)} layers" if len(maps) <= MAX_MAP_LAYERS
                   else f"{MAX_MAP_LAYERS} of the {len(maps)} layers")
    return [Section("feature_maps.png", "Feature maps",
                    f"Activations for test photo {ev.names[first]} (true class "
                    f"{ev.y_test[first]}): the first {SHOWN_MAP_CHANNELS} channels of "
                    f"{min(len(maps), SHOWN_MAP_LAYERS)} layers, each scaled to its own range.",
                    shown, details=("feature_maps_all.png", f"More: {more_layers}, up to "
                                    f"{MAX_MAP_CHANNELS} channels each", more))]


def _saliency(ev):
    from matplotlib.figure import Figure

    from skcatdog.plotting import SaliencyDisplay

    if not len(ev.examples):
        return []
    fig = Figure(figsize=(8.8, 2.3 * len(ev.examples)), layout="constrained")
    SaliencyDisplay.from_estimator(ev.clf, ev.images[ev.examples], ev.y_test[ev.examples],
                                   random_state=0, fig=fig)
    return [Section("saliency.png", "Where the network looks",
                    "Gradient saliency, SmoothGrad and Grad-CAM (last convolution) of the "
                    "predicted class, over the photo in grey: "
                    + ", ".join(ev.names[i] for i in ev.examples) + ".", fig)]


def _mistakes(ev):
    from matplotlib.figure import Figure

    from skcatdog.inspection import _rank_mistakes
    from skcatdog.plotting import MistakesDisplay

    indices, y_wrong, confidence = _rank_mistakes(ev.classes, ev.y_test, ev.proba, n=8)
    names = [ev.names[i] for i in indices]
    display = MistakesDisplay(ev.images[indices], ev.y_test[indices], y_wrong, confidence,
                              indices=indices, names=[Path(n).name for n in names])
    fig = Figure(figsize=display._figsize(), layout="constrained")
    display.plot(fig)
    e = html.escape
    rows = "".join(f'<tr><td class="key">{e(n)}</td><td>{e(str(t))}</td><td>{e(str(p))}</td>'
                   f"<td>{c:.3f}</td></tr>"
                   for n, t, p, c in zip(names, ev.y_test[indices], y_wrong, confidence))
    table = ('<table class="mistakes"><tr><th class="key">photo</th><th>true</th>'
             f"<th>predicted</th><th>probability</th></tr>{rows}</table>" if rows else "")
    return [Section("mistakes.png", "Most confident mistakes",
                    f"{int((ev.y_pred != ev.y_test).sum())} of {len(ev.y_test)} test photos "
                    f"are misclassified; the {len(indices)} most confident are shown with the "
                    "predicted probability.", fig, html=table)]


#: The report's figures, in order: each a function of the evaluated test set
#: returning a list of :class:`Section`.
SECTIONS = (_training_curves, _roc_pr_curves, _confusion_matrix, _feature_maps, _saliency,
            _mistakes)


def _figure_html(file_name, heading, caption, fig, out_dir):
    """Write ``fig`` as ``out_dir/file_name``; return its ``<figure>`` holding the same PNG."""
    e = html.escape
    png = _png_bytes(fig)
    atomic_write_bytes(out_dir / file_name, png)
    data = base64.b64encode(png).decode("ascii")
    return (f"<figure><img src=\"data:image/png;base64,{data}\" alt=\"{e(heading)}\">"
            f"<figcaption>{e(caption)} ({e(file_name)})</figcaption></figure>")


def _about_html(about, skipped):
    e = html.escape
    parts = []
    if about:
        parts.append('<table class="about">' + "".join(
            f'<tr><th class="key">{e(str(k))}</th><td class="key">{e(_format(v))}</td></tr>'
            for k, v in about.items()) + "</table>")
    if skipped:
        items = "".join(f"<li>{e(str(path))}: {e(str(reason))}</li>" for path, reason in skipped)
        parts.append(f"<details><summary>{len(skipped)} skipped files</summary><ul>{items}</ul>"
                     "</details>")
    return "\n".join(parts)


def write_report(
    estimator,
    X_test,
    y_test,
    out_dir,
    *,
    metrics=None,
    title="skcatdog report",
    n_examples=4,
    sample_names=None,
    about=None,
    skipped=None,
    progress=None,
):
    """Evaluate a fitted CNN on test images and write a self-contained HTML report.

    ``out_dir/report.html`` opens with the facts of the run (``about``, the
    skipped files) and a box comparing the accuracy with the majority-class
    baseline (red when the model does no better, flagging one that predicts
    a single class or near-constant probabilities: it learned nothing), then
    holds a metrics table and the figures of :data:`SECTIONS`: the training
    curves, the ROC and precision-recall curves (two classes), the confusion
    matrix, a few feature maps of one test photo (more one click away),
    gradient / SmoothGrad / Grad-CAM saliency for ``n_examples`` test photos
    (classes in turn) and the most confident mistakes, named. Every picture
    is embedded as a base64 PNG data URI and also written beside the report
    as a PNG file; the page loads no fonts, scripts or images from anywhere
    else. Files are written atomically.

    Figures are drawn on bare :class:`matplotlib.figure.Figure` objects
    (Agg rendering, no pyplot), so the caller's backend and open figures are
    left alone.

    Parameters
    ----------
    estimator : fitted classifier or Pipeline
        A fitted :class:`~skcatdog.SimpleCNNClassifier` /
        :class:`~skcatdog.DeepCNNClassifier`, or a fitted Pipeline ending in one
        (e.g. ``ImageLoader`` then the classifier, taking paths).
    X_test : array-like
        Test images, as the estimator takes them.
    y_test : array-like of shape (n_samples,)
        Their labels.
    out_dir : str or path-like
        Folder for ``report.html`` and the PNGs; created if missing.
    metrics : dict, default=None
        The numbers to show; None computes them with :func:`compute_metrics`.
        Pass your own (e.g. with timings added) to show extra entries: nested
        dicts of scalars appear as dotted keys.
    title : str, default="skcatdog report"
        Page title and heading.
    n_examples : int, default=4
        Number of test photos in the saliency figure (0 for none).
    sample_names : array-like of str of shape (n_samples,), default=None
        The test photos' names (their paths), shown with the mistakes and the
        examples. None takes ``X_test`` itself when it holds paths, and the
        positions (``#12``) otherwise.
    about : dict, default=None
        Facts shown under the title, in order (the data folder, the date, the
        run time...).
    skipped : list of (str, str), default=None
        Files left out of the run, with the reason: listed, folded.
    progress : callable, default=None
        Called as ``progress(done, total)`` after each figure is written.

    Returns
    -------
    path : pathlib.Path
        The ``report.html`` written.

    See Also
    --------
    compute_metrics : The numbers alone.
    skcatdog.plotting : The Display objects behind the pictures.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from skcatdog import SimpleCNNClassifier
    >>> from skcatdog.report import write_report
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randint(0, 256, size=(12, 8, 8, 3)).astype(np.uint8)
    >>> y = np.array(["cat", "dog"] * 6)
    >>> clf = SimpleCNNClassifier(epochs=1, filters=2, dense_units=2,
    ...                           validation_fraction=0, random_state=0).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as out:
    ...     path = write_report(clf, X, y, out, n_examples=2, about={"data": "random"})
    ...     page = path.read_text(encoding="utf-8")
    >>> path.name, page.count('src="data:image/png;base64,')
    ('report.html', 7)
    """
    from skcatdog.inspection import _images, _predict_proba, _split_estimator

    if not isinstance(n_examples, Integral) or n_examples < 0:
        raise ValueError(f"n_examples must be a non-negative int; got {n_examples!r}.")
    _, clf = _split_estimator(estimator)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    y_test = np.asarray(y_test)
    # Load (decode) the test images once; everything after works on the arrays.
    images = _images(estimator, X_test)
    if len(images) != len(y_test):
        raise ValueError(f"X_test has {len(images)} samples but y_test has {len(y_test)}.")
    names = _sample_names(X_test, sample_names, len(y_test))
    classes = np.asarray(clf.classes_)
    proba = _predict_proba(clf, images, len(images))
    y_pred = classes[np.argmax(proba, axis=1)]
    if metrics is None:
        metrics = _metrics_from_proba(classes, y_test, proba)
    evaluated = _Evaluated(clf, type(clf).__name__, images, y_test, names, classes, proba,
                           y_pred, _balanced_examples(y_test, classes, n_examples))

    e = html.escape
    body = [f"<h1>{e(title)}</h1>",
            f"<p>{e(evaluated.name)} on {len(y_test)} test images of shape "
            f"{e(str(tuple(clf.image_shape_)))}; classes {e(', '.join(map(str, classes)))}.</p>",
            _about_html(about, skipped),
            # From the predictions, not ``metrics``: a caller's own dict may lack it.
            _baseline_html(compare_with_baseline(y_test, y_pred, proba)),
            "<h2>Metrics</h2>", _metrics_html(metrics),
            "<details><summary>Estimator</summary><pre>" + e(repr(estimator)) + "</pre></details>"]
    for done, build in enumerate(SECTIONS, 1):
        for section in build(evaluated):
            body.append(f"<h2>{e(section.heading)}</h2>")
            body.append(_figure_html(section.file_name, section.heading, section.caption,
                                     section.figure, out_dir))
            if section.details is not None:
                file_name, summary, fig = section.details
                body.append(f"<details><summary>{e(summary)}</summary>"
                            + _figure_html(file_name, summary, summary, fig, out_dir)
                            + "</details>")
            body.append(section.html)
        if progress is not None:
            progress(done, len(SECTIONS))
    page = (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{e(title)}</title><style>{_CSS}</style></head>\n<body>\n"
        + "\n".join(part for part in body if part)
        + "\n<script type=\"application/json\" id=\"metrics\">"
        + json.dumps(metrics, default=str).replace("</", "<\\/")
        + "</script>\n</body></html>\n"
    )
    return atomic_write_text(out_dir / "report.html", page)


def _sample_names(X_test, sample_names, n):
    if sample_names is not None:
        names = [str(name) for name in sample_names]
        if len(names) != n:
            raise ValueError(f"sample_names has {len(names)} names for {n} test images.")
        return names
    if n and all(isinstance(x, (str, os.PathLike)) for x in X_test):
        return [os.fspath(x) for x in X_test]
    return [f"#{i}" for i in range(n)]
