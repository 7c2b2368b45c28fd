"""The command line end to end, in subprocesses, on small generated photos.

One trained run folder is shared by the module (training, even tiny, costs
seconds); tests that change a run folder work on a copy.
"""

import csv
import io
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from skcatdog.cli import MODELS, _RunFolder, main

TIMEOUT = 240
N_GOOD = 40  # 20 cats, 20 dogs
TRAIN = ["--image-size", "16", "--epochs", "2", "--batch-size", "16", "--random-state", "0"]


def run_cli(*args, timeout=TIMEOUT):
    return subprocess.run([sys.executable, "-m", "skcatdog", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


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


def test_models_registry():
    assert set(MODELS) == {"simple", "deep", "tuned"}
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
        ["train", "data", "--out", "x", "--model", "huge"],
        ["train", "data", "--out", "x", "--shear", "2"],
        ["train", "data", "--out", "x", "--n-jobs", "0"],
        ["predict", "model.skcatdog"],  # no PATH
    ],
)
def test_usage_errors_exit_2(argv, capsys):
    assert main(argv) == 2
    assert "usage:" in capsys.readouterr().err


def test_missing_data_folder_exit_1(tmp_path):
    result = run_cli("train", tmp_path / "nowhere", "--out", tmp_path / "run")
    assert result.returncode == 1
    assert result.stderr.strip() == f"skcatdog: error: No such folder: {tmp_path / 'nowhere'}"
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


def test_train_metrics_json(trained):
    out, _ = trained
    metrics = json.loads((out / "metrics.json").read_text())
    assert 0 <= metrics["accuracy"] <= 1
    assert set(metrics) >= {"roc_auc", "average_precision", "confusion_matrix", "per_class"}
    assert metrics["n_train"] + metrics["n_test"] == N_GOOD
    assert metrics["n_test"] == 8  # --test-size 0.2 of 40
    assert set(metrics["timings"]) >= {"load_seconds", "train_seconds", "evaluate_seconds"}
    assert metrics["parameters"]["epochs"] == 2
    assert metrics["parameters"]["image_size"] == [16, 16]
    augmentation = metrics["parameters"]["augmentation"]
    assert "shear_range=0.1" in augmentation and "horizontal_flip=True" in augmentation
    assert metrics["versions"]["tensorflow"]
    history = list(csv.DictReader(io.StringIO((out / "history.csv").read_text())))
    assert len(history) == 2
    assert sum(int(row["kept"]) for row in history) == 1


def test_train_skips_bad_and_unlabelled_files(trained):
    out, result = trained
    skipped = {Path(s["path"]).name: s["reason"]
               for s in json.loads((out / "metrics.json").read_text())["skipped"]}
    assert set(skipped) == {"cat.99.jpg", "dog.99.jpg", "IMG_1.jpg"}
    assert "empty file" in skipped["cat.99.jpg"]
    assert "HTML" in skipped["dog.99.jpg"]
    assert "no label" in skipped["IMG_1.jpg"]
    assert "skipped 3 of 43 image files" in result.stderr
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
    assert len(rows) == N_GOOD + 3 + 1  # every image file in the folder, and the missing one
    by_name = {Path(r["path"]).name: r for r in rows}
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
    np.testing.assert_array_equal([r["label"] for r in good],
                                  model.predict([r["path"] for r in good]))
    assert "3 of 44 files could not be read" in result.stderr  # two broken, one missing


def test_predict_to_file_from_model_file(trained, data_dir, tmp_path, capsys):
    out, _ = trained
    target = tmp_path / "predictions.csv"
    code = main(["predict", str(out / "model.skcatdog"), str(data_dir / "cat.1.jpg"),
                 str(data_dir / "dog.2.jpg"), "--out", str(target), "--quiet"])
    assert code == 0
    assert capsys.readouterr().out == ""
    rows = _read_csv(target.read_text())
    assert [Path(r["path"]).name for r in rows] == ["cat.1.jpg", "dog.2.jpg"]
    assert all(r["label"] in ("cat", "dog") for r in rows)


def test_evaluate(trained, data_dir, tmp_path):
    out, _ = trained
    target = tmp_path / "eval"
    result = run_cli("evaluate", out, data_dir, "--out", target)
    assert result.returncode == 0, result.stderr
    _assert_complete(target)
    metrics = json.loads((target / "metrics.json").read_text())
    assert metrics["command"] == "evaluate"
    assert metrics["n_test"] == N_GOOD
    assert len(metrics["skipped"]) == 3
    assert "accuracy:" in result.stdout


@pytest.mark.parametrize("damage", ["truncate", "text"])
def test_bad_model_file_exit_1(trained, data_dir, tmp_path, damage, capsys):
    out, _ = trained
    bad = tmp_path / "model.skcatdog"
    data = (out / "model.skcatdog").read_bytes()
    bad.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"hello")
    assert main(["predict", str(bad), str(data_dir / "cat.1.jpg")]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("skcatdog: error: ") and str(bad) in lines[0]


def test_test_size_too_large_exit_1(data_dir, tmp_path, capsys):
    assert main(["train", str(data_dir), "--out", str(tmp_path / "run"), "--test-size", "39",
                 "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "--test-size 39" in err and len(err.strip().splitlines()) == 1 + 4  # + skip summary
    assert not (tmp_path / "run").exists()


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


def test_tuned_model_takes_its_own_defaults(data_dir, tmp_path, capsys):
    from skcatdog import cli
    from skcatdog.tuned import TunedCNNClassifier

    out = tmp_path / "tuned"
    assert cli.main(["train", str(data_dir), "--model", "tuned", "--epochs", "1",
                     "--image-size", "16", "--test-size", "8", "--validation-size", "4",
                     "--out", str(out), "--quiet"]) == 0
    parameters = json.loads((out / "metrics.json").read_text())["parameters"]
    defaults = TunedCNNClassifier().get_params()
    assert parameters["model"] == "tuned" and parameters["epochs"] == 1
    assert parameters["batch_size"] == defaults["batch_size"]
    assert parameters["augmentation"] == repr(defaults["augmentation"])
    assert parameters["validation_size"] == 4
