"""compute_metrics, write_report and the atomic writers."""

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from html import escape as html_escape
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    confusion_matrix,
    roc_auc_score,
)
from sklearn.pipeline import make_pipeline

from skcatdog._atomic import atomic_write_bytes, atomic_write_text
from skcatdog.report import compute_metrics, write_report

ROOT = Path(__file__).resolve().parents[1]


def test_compute_metrics_matches_sklearn(shapes_clf, shapes_data):
    _, (X, y, _) = shapes_data
    metrics = compute_metrics(shapes_clf, X, y)
    json.dumps(metrics)  # serialisable as is
    y_pred = shapes_clf.predict(X)
    assert metrics["accuracy"] == accuracy_score(y, y_pred)
    # the fixture has learnt the shapes: measured 0.91-1.00 over 20 fits (seeds
    # 0-9, 1 and 2 threads), 0.99 for the one the tests get; bar 0.85
    assert metrics["accuracy"] >= 0.85, metrics["accuracy"]
    assert metrics["n_samples"] == len(y)
    proba = shapes_clf.predict_proba(X)[:, 1]
    assert metrics["roc_auc"] == pytest.approx(roc_auc_score(y == "dog", proba))
    assert metrics["average_precision"] == pytest.approx(
        average_precision_score(y == "dog", proba))
    assert metrics["positive_class"] == "dog"
    assert metrics["confusion_matrix"]["labels"] == ["cat", "dog"]
    assert metrics["confusion_matrix"]["matrix"] == confusion_matrix(y, y_pred).tolist()
    dog = metrics["per_class"]["dog"]
    assert dog["support"] == int((y == "dog").sum())
    assert dog["recall"] == pytest.approx(np.mean(y_pred[y == "dog"] == "dog"))
    baseline = metrics["baseline"]
    assert baseline["class_counts"] == {"cat": int((y == "cat").sum()), "dog": dog["support"]}
    assert baseline["accuracy"] == metrics["accuracy"]
    assert baseline["beats_baseline"] is True and baseline["learned_nothing"] is False


def test_compute_metrics_one_class_and_one_sample(shapes_clf, shapes_data):
    _, (X, y, _) = shapes_data
    metrics = compute_metrics(shapes_clf, X[:1], y[:1])
    assert metrics["n_samples"] == 1
    assert metrics["roc_auc"] is None and metrics["average_precision"] is None
    json.dumps(metrics)


def _images_in(page):
    return re.findall(r'<img\b[^>]*src="data:image/png;base64,([^"]+)"', page)


def test_write_report_self_contained(shapes_clf, shapes_data, tmp_path):
    _, (X, y, _) = shapes_data
    metrics = compute_metrics(shapes_clf, X, y)
    metrics["timings"] = {"fit_seconds": 12.5, "predict_seconds": 0.25}
    path = write_report(shapes_clf, X, y, tmp_path / "out", metrics=metrics,
                        title="Cats <&> dogs", n_examples=3)
    assert path == tmp_path / "out" / "report.html"
    page = path.read_text(encoding="utf-8")
    # nothing outside the page: no http(s) address outside the base64 payloads
    assert "http" not in re.sub(r"data:image/png;base64,[^\"]+", "", page)
    assert not re.search(r"""\b(?:src|href)\s*=\s*(?!["']?data:)""", page)
    payloads = _images_in(page)
    names = ["training_history.png", "roc_pr_curves.png", "confusion_matrix.png",
             "feature_maps.png", "feature_maps_all.png", "saliency.png", "mistakes.png"]
    assert len(payloads) == len(names) == page.count("<img")
    for name, payload in zip(names, payloads):
        png = base64.b64decode(payload)
        assert png.startswith(b"\x89PNG") and b"matplotlib.org" not in png
        assert (path.parent / name).read_bytes() == png
    assert sorted(p.name for p in path.parent.iterdir()) == sorted(names + ["report.html"])
    assert "Cats &lt;&amp;&gt; dogs" in page  # escaped
    assert "timings.fit_seconds" in page and "12.5" in page
    assert f"{metrics['accuracy']:.4g}" in page
    # A model that learned the shapes: the baseline box, not red, no flag.
    assert '<div class="baseline">' in page and ": beaten." in page
    assert "baseline warning" not in page and "Learned nothing" not in page


def _metrics_in(page):
    script = re.search(r'<script type="application/json" id="metrics">(.*?)</script>', page, re.S)
    return json.loads(script.group(1))  # "<\/" is JSON for "</"


@pytest.mark.parametrize("p_dog, reason", [
    (lambda n: np.full(n, 0.4), "it answers cat for every image"),
    # cat, cat, dog, dog, ...: half right on the interleaved labels, both classes predicted
    (lambda n: 0.499 + 0.002 * (np.arange(n) // 2 % 2), "its probabilities vary by 0.0010"),
])
def test_write_report_flags_a_model_that_learned_nothing(fitted_deep, toy_images, tmp_path,
                                                         monkeypatch, p_dog, reason):
    # Forced, not hoped for: predict_proba gives the same answer, or almost, for every photo.
    X, y = toy_images

    def predict_proba(self, X):
        p = p_dog(len(X))
        return np.column_stack([1 - p, p])

    monkeypatch.setattr(type(fitted_deep), "predict_proba", predict_proba)
    page = write_report(fitted_deep, X[:20], y[:20], tmp_path, n_examples=0).read_text(
        encoding="utf-8")
    box = page.index('<div class="baseline warning">')
    assert box < page.index("<h2>Metrics</h2>")  # near the top, before the numbers
    assert "does no better than always answering the majority class, cat." in page
    assert f"<strong>Learned nothing:</strong> {reason}" in page
    assert "cat: 10, dog: 10" in page and "--model pretrained" in page
    baseline = _metrics_in(page)["baseline"]
    assert baseline["beats_baseline"] is False and baseline["learned_nothing"] is True
    assert baseline["baseline_accuracy"] == 0.5


def test_write_report_pipeline_of_files(shapes_clf, shapes_data, tmp_path):
    from PIL import Image

    from skcatdog import ImageLoader

    _, (X, y, _) = shapes_data
    paths = []
    for k in range(0, 80, 8):  # 10 files, both classes
        path = tmp_path / f"{y[k]}.{k}.jpg"
        Image.fromarray(X[k]).save(path, quality=95)
        paths.append(str(path))
    pipe = make_pipeline(ImageLoader(image_size=(48, 48)), shapes_clf)
    pipe[0].fit(paths)
    y_files = y[::8]
    metrics = compute_metrics(pipe, np.array(paths), y_files)
    assert metrics["accuracy"] == accuracy_score(y_files, pipe.predict(np.array(paths)))
    calls = []
    path = write_report(pipe, np.array(paths), y_files, tmp_path / "report", n_examples=2,
                        about={"data folder": str(tmp_path), "run time": "3 s"},
                        skipped=[("broken.jpg", "truncated file")],
                        progress=lambda done, total: calls.append((done, total)))
    page = path.read_text(encoding="utf-8")
    assert len(_images_in(page)) == 7
    assert "ImageLoader" in page
    assert calls == [(k, 6) for k in range(1, 7)]
    # The facts of the run under the title, the skipped files one click away.
    assert page.index("data folder") < page.index("<h2>Metrics</h2>")
    assert "<summary>1 skipped files</summary><ul><li>broken.jpg: truncated file</li>" in page
    # Each photo is named: the mistakes (a table of paths), the examples.
    y_forced = np.where(y_files == "cat", "dog", "cat")  # every photo a mistake
    page = write_report(pipe, np.array(paths), y_forced, tmp_path / "wrong",
                        n_examples=2).read_text(encoding="utf-8")
    table = page[page.index('<table class="mistakes">'):]
    assert sum(html_escape(p) in table for p in paths) == 8  # the eight most confident
    assert html_escape(os.path.basename(paths[0])) in page[page.index("Where the network"):]
    with pytest.raises(ValueError, match="sample_names has 2 names for 10 test images"):
        write_report(pipe, np.array(paths), y_files, tmp_path / "x", sample_names=["a", "b"])


def test_write_report_no_examples_and_bad_args(fitted_deep, toy_images, tmp_path):
    X, y = toy_images
    path = write_report(fitted_deep, X[:10], y[:10], tmp_path, n_examples=0)
    page = path.read_text(encoding="utf-8")
    assert len(_images_in(page)) == 4
    # Pixel rows have no file name: a mistake is named by its position.
    flipped = np.where(y[:10] == "cat", "dog", "cat")
    page = write_report(fitted_deep, X[:10], flipped, tmp_path / "flipped",
                        n_examples=0).read_text(encoding="utf-8")
    assert re.findall(r'<td class="key">(#\d+)</td>', page)
    with pytest.raises(ValueError, match="n_examples"):
        write_report(fitted_deep, X[:10], y[:10], tmp_path, n_examples=-1)
    with pytest.raises(ValueError, match="y_test has 9"):
        write_report(fitted_deep, X[:10], y[:9], tmp_path)


def test_write_report_keeps_pyplot_alone(fitted_deep, toy_images, tmp_path):
    import matplotlib.pyplot as plt

    X, y = toy_images
    before = plt.get_fignums()
    write_report(fitted_deep, X[:10], y[:10], tmp_path, n_examples=1)
    assert plt.get_fignums() == before


def test_atomic_write_replaces_whole_file(tmp_path):
    target = tmp_path / "a.txt"
    atomic_write_text(target, "old")
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask())
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_atomic_write_interrupted_leaves_old_file(tmp_path, monkeypatch):
    target = tmp_path / "report.html"
    atomic_write_text(target, "complete old report")

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_text(target, "half")
    assert target.read_text() == "complete old report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temp file left


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_report_renders_in_chromium(fitted_deep, toy_images, tmp_path):
    X, y = toy_images
    path = write_report(fitted_deep, X[:12], y[:12], tmp_path, n_examples=2)
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "check_report_in_browser.py"), str(path),
         "--screenshot", str(tmp_path / "shot.png")],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "shot.png").stat().st_size > 10_000
