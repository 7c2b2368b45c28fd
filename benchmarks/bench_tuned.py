"""The tuned network under the protocol, against the plain Keras recipe in the same run.

``final``
    :class:`skcatdog.tuned.TunedCNNClassifier` with its defaults on the
    protocol (all 5,400 training and validation images, the last epoch's
    weights; ``--set "{'validation_fraction': 0.1}"`` holds the protocol's
    600 out, scores each epoch on them and keeps the best), for each
    ``random_state``: test accuracy on the 575 test images (decoded once, at
    the end), training wall and CPU time, load.
    Beside each fit, in the same process and taking turns epoch by epoch, the
    plain Keras recipe (``bench_recipe.py``, the anchor) trains its 30 epochs
    on the same images with the same seed: their time is the budget, and
    ``budget_ratio`` is the tuned fit's time over it. Taking turns matters on
    a shared machine whose speed changes from minute to minute (up to 2x
    here): both fits see the same minutes. The anchor's own test accuracy is
    recorded too. ``--anchor-epochs 10`` runs only its first ten epochs,
    spread over the tuned fit, and takes 30 times the mean of the nine warm
    ones as the budget (the issue allows "two epochs times 15", but the
    anchor's epochs take either about 43 s or about 85 s, and two of them
    catch that or miss it), for a third of the time. Alternatives to the
    shipped configuration: ``--set`` (a dict of parameters) and
    ``--image-size``; ``--validation-only`` never decodes the test images,
    for choosing between them. ``--views 4 8`` also scores
    the fitted model's validation images (and, unless ``--validation-only``,
    its test images) with test-time views at more positions: each image and
    its mirror image at its place and shifted diagonally by each given number
    of pixels (the classifier's ``test_time_shift``), ten views per shift.
``rescore``
    Score the classifiers a ``final --save`` run pickled again, on the same
    validation and test images, with the prediction parameters that
    ``TunedCNNClassifier`` has now (``test_time_flip``, ``test_time_shift``),
    and write them as that run's record with these test accuracies: the
    fits, budgets and histories stay the run's own.
``plot``
    ``accuracy_vs_time.png``: test accuracy against training time for the
    simple and deep networks (``bench_accuracy.py``) and the tuned one, each
    seed a point, and the table beside it.

How its configuration was chosen (validation accuracy against training
seconds, one idea at a time on top of the anchor) is ``bench_recipe.py``'s
job; the searches that chose the previous tuned network (valid padding,
Flatten and a dense head) are in the history of this file and of
``RESULTS.md`` up to skcatdog 0.1.0.

Reproduce::

    .venv/bin/python benchmarks/bench_tuned.py final --seeds 0 1 2 --anchor-epochs 10
    .venv/bin/python benchmarks/bench_accuracy.py   # the simple and deep points
    .venv/bin/python benchmarks/bench_tuned.py plot

JSON goes to ``benchmarks/out/bench_tuned_final_s<SEEDS>.json`` and ``--json PATH``.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import keras
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _protocol as P  # noqa: E402


class TakingTurns(keras.callbacks.Callback):
    """After each epoch of the tuned fit, the anchor catches up.

    After the tuned network's epoch ``k`` of ``n``, the anchor (a
    :class:`bench_recipe.Recipe`) trains until it has done ``round(m * k / n)``
    of its ``m`` epochs (all 30, or the first few for a probe), so both see
    the machine in the same minutes. ``seconds`` adds up the time spent here,
    which is not the tuned fit's; ``epoch_seconds`` holds each of the tuned
    fit's epochs.
    """

    def __init__(self, anchor, n_epochs, anchor_epochs):
        super().__init__()
        self.anchor, self.n_epochs, self.anchor_epochs = anchor, n_epochs, anchor_epochs
        self.seconds, self.epoch_seconds = 0.0, []

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        start = time.perf_counter()
        self.epoch_seconds.append(start - self._epoch_start)
        while self.anchor.done < round(self.anchor_epochs * (epoch + 1) / self.n_epochs):
            self.anchor.run_epoch()
        self.seconds += time.perf_counter() - start


def cmd_final(args):
    import bench_recipe

    from skcatdog.tuned import TUNED_IMAGE_SIZE, TunedCNNClassifier

    paths_train, paths_test, y_train, y_test = P.load_split()
    image_size = tuple(args.image_size or TUNED_IMAGE_SIZE)
    X_train, decode_s = P.load_pixels(paths_train, image_size)
    runs = []
    for seed in args.seeds:
        # The anchor trains on the same 4,800 images and validates on the same
        # 600, with the same seed; its epochs take turns with the tuned fit's.
        anchor = bench_recipe.Recipe(bench_recipe.parser().parse_args(["--seed", str(seed)]),
                                     paths_train, y_train,
                                     P.validation_indices(y_train, seed))
        extra = {"epochs": args.epochs} if args.epochs else {}
        extra.update(args.set or {})
        clf = TunedCNNClassifier(random_state=seed, verbose=args.verbose, **extra)
        if clf.validation_fraction:  # the protocol's 600; 0 trains on all 5,400
            clf.set_params(validation_fraction=P.VALIDATION_FRACTION)
        n_anchor = min(args.anchor_epochs, len(anchor.sizes))
        turns = TakingTurns(anchor, clf.epochs, n_anchor)
        clf.set_params(callbacks=[turns])
        load = P.load_average()[0]
        start, cpu = time.perf_counter(), time.process_time()
        clf.fit(X_train, y_train)
        fit_s = time.perf_counter() - start - turns.seconds
        cpu_s = time.process_time() - cpu  # both fits
        while anchor.done < n_anchor:  # a fit stopped early leaves the anchor behind
            anchor.run_epoch()
        seconds = [epoch["seconds"] for epoch in anchor.history]
        if n_anchor == len(anchor.sizes):
            budget_s = sum(seconds)
        else:  # a probe: all epochs as long as its warm ones (the first builds the graph)
            budget_s = len(anchor.sizes) * float(np.mean(seconds[1:]))
        acc = anchor_acc = X_test = None
        if not args.validation_only:
            X_test, _ = P.load_pixels(paths_test, image_size)  # chosen: now the test
            acc = float(np.mean(clf.predict(X_test) == y_test))
            if n_anchor == len(anchor.sizes):
                anchor.finish()
                anchor_acc = anchor.test_accuracy(paths_test, y_test)
        views = _view_accuracies(clf, X_train, y_train, X_test, y_test, seed,
                                 args.views) if args.views else None
        if args.save:  # for scoring the fitted model again later (gitignored)
            import joblib

            clf.set_params(callbacks=None)  # the anchor does not pickle
            joblib.dump(clf, P.OUT_DIR / f"bench_tuned_model{_suffix(args)}_{seed}.pkl")
        h = clf.history_
        runs.append({"views": views, "random_state": seed, "epochs": len(h["loss"]),
                     "best_epoch": clf.best_epoch_ + 1,
                     "val_accuracy": (float(h["val_accuracy"][clf.best_epoch_])
                                      if "val_accuracy" in h else None),
                     "test_accuracy": acc, "fit_s": fit_s, "cpu_s_both": cpu_s,
                     "budget_s": budget_s, "budget_ratio": fit_s / budget_s,
                     "epoch_s": turns.epoch_seconds,
                     "anchor_val_accuracy": anchor.best, "anchor_test_accuracy": anchor_acc,
                     "anchor_history": anchor.history,
                     "load_1min_before": load, "load_1min_after": P.load_average()[0],
                     "history": {k: [float(v) for v in vs] for k, vs in h.items()}})
        print(f"tuned seed={seed}: test {acc} val {runs[-1]['val_accuracy']} "
              f"(epoch {runs[-1]['best_epoch']}) fit {fit_s:.0f} s = {fit_s / budget_s:.2f} "
              f"of the anchor's {budget_s:.0f} s (its test {anchor_acc}, val "
              f"{anchor.best:.4f}), load {load:.1f}", flush=True)
        P.write_json("bench_tuned_final_partial" + _suffix(args),
                     {"runs": runs, "params": repr(clf)})
    acc = np.array([r["test_accuracy"] for r in runs], dtype=float)  # nan: not scored
    summary = {"test_acc_mean": float(acc.mean()),
               "test_acc_std": float(acc.std(ddof=1)) if len(acc) > 1 else 0.0,
               "test_acc_min": float(acc.min()), "test_acc_max": float(acc.max()),
               "fit_s_mean": float(np.mean([r["fit_s"] for r in runs])),
               "budget_ratio_max": float(max(r["budget_ratio"] for r in runs))}
    P.print_table(runs, ["random_state", "test_accuracy", "val_accuracy", "best_epoch",
                         "epochs", "fit_s", "budget_s", "budget_ratio", "anchor_test_accuracy",
                         "anchor_val_accuracy", "load_1min_before"])
    print(summary)
    return {"params": repr(TunedCNNClassifier(**({"epochs": args.epochs} if args.epochs else {}))),
            "overrides": repr(args.set), "image_size": image_size, "decode_s": decode_s,
            "runs": runs, "summary": summary}


def _view_accuracies(clf, X_train, y_train, X_test, y_test, seed, shifts):
    """Accuracy of the fitted ``clf`` with the mirror view alone and at more positions."""
    import copy

    def scores(X, y):
        sets = {"mirror": 0, **{f"mirror at 5 positions, {s} px": s for s in shifts}}
        return {name: float(np.mean(
                    copy.copy(clf).set_params(test_time_flip=True, test_time_shift=shift)
                    .predict(X) == np.asarray(y)))
                for name, shift in sets.items()}

    held_out = _validation_images(clf, X_train, y_train, seed)
    result = {} if held_out is None else {"val": scores(*held_out)}
    if X_test is not None:
        result["test"] = scores(X_test, y_test)
    print(f"views, seed {seed}: {result}", flush=True)
    return result


def _validation_images(clf, X_train, y_train, seed):
    """``(X, y)`` of the protocol's 600 validation images, or None if ``clf`` trained on them."""
    if not clf.validation_fraction:
        return None
    _, val = P.validation_indices(y_train, seed)
    return X_train[val], np.asarray(y_train)[val]


def cmd_rescore(args):
    """A saved final run's classifiers, predicting as the package does now."""
    import copy
    import json

    import joblib

    from skcatdog.tuned import TunedCNNClassifier

    record = json.loads(Path(args.record).read_text())
    shipped = TunedCNNClassifier().get_params()
    prediction = {name: shipped[name] for name in ("test_time_flip", "test_time_shift")}
    paths_train, paths_test, y_train, y_test = P.load_split()
    image_size = tuple(record["image_size"])
    X_train, _ = P.load_pixels(paths_train, image_size)
    X_test, _ = P.load_pixels(paths_test, image_size)
    runs = []
    for run in record["runs"]:
        seed = run["random_state"]
        clf = joblib.load(f"{args.models}_{seed}.pkl").set_params(**prediction)
        run = copy.deepcopy(run)
        run["test_accuracy_as_trained"] = run["test_accuracy"]
        run["test_accuracy"] = float(np.mean(clf.predict(X_test) == y_test))
        held_out = _validation_images(clf, X_train, y_train, seed)
        if held_out is not None:
            run["val_accuracy_rescored"] = float(np.mean(clf.predict(held_out[0]) == held_out[1]))
        runs.append(run)
    P.print_table(runs, ["random_state", "test_accuracy", "test_accuracy_as_trained",
                         "val_accuracy_rescored", "fit_s", "budget_ratio"])
    acc = np.array([r["test_accuracy"] for r in runs])
    return {**record, "rescored_from": args.record, "prediction": prediction, "runs": runs,
            "summary": {**record["summary"], "test_acc_mean": float(acc.mean()),
                        "test_acc_min": float(acc.min()), "test_acc_max": float(acc.max()),
                        "test_acc_std": float(acc.std(ddof=1)) if len(acc) > 1 else 0.0}}


def cmd_plot(args):
    """Test accuracy against training time: simple, deep (bench_accuracy), tuned."""
    import json

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    accuracy = json.loads((P.OUT_DIR / "bench_accuracy.json").read_text())
    # final runs may be split over processes (--seeds 0, --seeds 1, ...): merge them
    shipped = [f for f in sorted(P.OUT_DIR.glob("bench_tuned_final_s*.json"))
               if not any(tag in f.name for tag in ("partial", "_e", "_alt", "_val"))]
    tuned = {"runs": sorted({r["random_state"]: r for f in args.tuned or shipped
                             for r in json.loads(Path(f).read_text())["runs"]}.values(),
                            key=lambda r: r["random_state"])}
    fig, ax = plt.subplots(figsize=(7.5, 4.6), layout="constrained")
    runs = {"simple (notebook)": [r for r in accuracy["runs"] if r["model"] == "simple"],
            "deep (notebook)": [r for r in accuracy["runs"] if r["model"] == "deep"],
            "tuned": tuned["runs"]}
    points = {}
    for (label, rs), marker in zip(runs.items(), "os^"):
        t = np.array([r["fit_s"] for r in rs]) / 60
        a = np.array([r["test_accuracy"] for r in rs])
        points[label] = list(zip(t.tolist(), a.tolist()))
        ax.scatter(t, a, marker=marker, s=40, label=f"{label}: mean {a.mean():.3f}")
    anchor = [r for r in tuned["runs"] if r.get("anchor_test_accuracy") is not None]
    if anchor:
        t = np.array([r["budget_s"] for r in anchor]) / 60
        a = np.array([r["anchor_test_accuracy"] for r in anchor])
        points["plain Keras recipe (anchor)"] = list(zip(t.tolist(), a.tolist()))
        ax.scatter(t, a, marker="x", s=40, color="black",
                   label=f"plain Keras recipe, 64x64 (the budget): mean {a.mean():.3f}")
    for i, run in enumerate(r for r in tuned["runs"] if "budget_s" in r):
        ax.axvline(run["budget_s"] / 60, color="red", lw=0.6, ls="--",
                   label=None if i else "budget: the plain Keras recipe's 30 epochs, same run")
    for name, acc in P.NOTEBOOK_ACCURACY.items():
        ax.axhline(acc, color="grey", lw=0.8, ls=":")
        ax.annotate(f"notebook {name} {acc:.2f}", (0, acc), xytext=(2, 2),
                    textcoords="offset points", fontsize=8, color="grey")
    ax.set_xlabel("training wall time, minutes (2 cores; the load is in RESULTS.md)")
    ax.set_ylabel("test accuracy, 575 images")
    ax.set_xlim(left=0)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Cats vs dogs, notebook protocol (4,800 train, 600 val, 575 test; the tuned\n"
                 "network trains on the 5,400), one point per seed", fontsize=10)
    out = P.REPO / "benchmarks" / "accuracy_vs_time.png"
    fig.savefig(out, dpi=120)
    print(f"wrote {out}")
    rows = [{"network": label, "random_state": r.get("random_state", ""),
             "test_accuracy": r["test_accuracy"], "fit_s": r["fit_s"]}
            for label, rs in runs.items() for r in rs]
    rows += [{"network": "plain Keras recipe (anchor)", "random_state": r["random_state"],
              "test_accuracy": r["anchor_test_accuracy"], "fit_s": r["budget_s"]}
             for r in anchor]
    P.print_table(rows, ["network", "random_state", "test_accuracy", "fit_s"])
    return {"points": points}


def _suffix(args):
    """The JSON name's tail: seeds, and what makes the run other than the shipped one."""
    return ("_s" + "-".join(map(str, args.seeds)) + (f"_e{args.epochs}" if args.epochs else "")
            + ("_alt" if args.set or args.image_size else "")
            + ("_val" if args.validation_only else ""))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("final")
    f.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    f.add_argument("--epochs", type=int, default=None, help="override the tuned default")
    f.add_argument("--anchor-epochs", type=int, default=30,
                   help="anchor epochs taking turns: 30 (its whole fit and test accuracy), or "
                        "a probe, e.g. 3: the budget is 30 times its warm epochs' mean")
    f.add_argument("--verbose", type=int, default=0)
    f.add_argument("--set", type=eval, default=None,
                   help="dict of parameters overriding the tuned defaults (an alternative)")
    f.add_argument("--image-size", nargs=2, type=int, default=None, metavar=("H", "W"),
                   help="load the images at this size instead of TUNED_IMAGE_SIZE "
                        "(an alternative, with --set)")
    f.add_argument("--validation-only", action="store_true",
                   help="never decode the test images: choose between configurations "
                        "(with --set) on validation accuracy and the budget ratio")
    f.add_argument("--views", nargs="+", type=int, default=None, metavar="PX",
                   help="also score test-time views shifted diagonally by these pixels")
    f.add_argument("--save", action="store_true",
                   help="pickle each fitted classifier to benchmarks/out/")
    f.add_argument("--json", default=None)
    r = sub.add_parser("rescore")
    r.add_argument("record", help="the JSON of a final run made with --save")
    r.add_argument("--models", required=True,
                   help="the pickles' path up to _<seed>.pkl, e.g. "
                        "benchmarks/out/bench_tuned_model_s0-1-2")
    r.add_argument("--json", required=True,
                   help="where to write the rescored record (bench_tuned_final_s*.json "
                        "is what plot reads)")
    p = sub.add_parser("plot")
    p.add_argument("--tuned", nargs="+", default=None, metavar="JSON",
                   help="the tuned network's final-run records (default: the shipped "
                        "configuration's bench_tuned_final_s*.json in benchmarks/out/)")
    args = parser.parse_args(argv)
    if args.command == "plot":
        return cmd_plot(args)
    if args.command == "rescore":
        record = cmd_rescore(args)
        P.write_json("bench_tuned_rescored", record, args.json)
        return record
    record = {"benchmark": "tuned_final", "environment": P.environment()}
    record.update(cmd_final(args))
    record["environment"]["load_average_end"] = P.load_average()
    P.write_json(f"bench_tuned_final{_suffix(args)}", record, args.json)
    return record


if __name__ == "__main__":
    main()
