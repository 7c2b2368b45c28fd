"""The tuned network under the protocol, against the plain Keras recipe in the same run.

``final``
    :class:`skcatdog.tuned.TunedCNNClassifier` with its defaults on the
    protocol (validation 600 of 5,400, scored each epoch; the best epoch's
    weights kept), for each ``random_state``: test accuracy on the 575 test
    images (decoded once, at the end), training wall and CPU time, load.
    Before each fit, two epochs of the plain Keras recipe (``bench_recipe.py``,
    the anchor), run as its users run it: a plain script in a fresh process
    with TensorFlow's default threads. Fifteen times their time is the
    budget, the time that recipe takes for its 30 epochs on this machine
    now, and ``budget_ratio`` is the tuned fit's time over it.
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

    .venv/bin/python benchmarks/bench_tuned.py final --seeds 0   # and --seeds 1, --seeds 2
    .venv/bin/python benchmarks/bench_accuracy.py                 # the simple and deep points
    .venv/bin/python benchmarks/bench_tuned.py plot

JSON goes to ``benchmarks/out/bench_tuned_final_s<SEEDS>.json`` and ``--json PATH``.
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _protocol as P  # noqa: E402


def budget_probe():
    """Two epochs of the plain recipe in a fresh process, with TensorFlow's own threads."""
    import json
    import subprocess

    env = {k: v for k, v in os.environ.items()
           if k not in ("SKCATDOG_TF_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")}
    subprocess.run([sys.executable, str(P.REPO / "benchmarks" / "bench_recipe.py"),
                    "--epochs", "2", "--tag", "budget_probe"], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return json.loads((P.OUT_DIR / "bench_recipe_budget_probe.json").read_text())


def cmd_final(args):
    from skcatdog.tuned import TUNED_IMAGE_SIZE, TunedCNNClassifier

    paths_train, paths_test, y_train, y_test = P.load_split()
    X_train, decode_s = P.load_pixels(paths_train, TUNED_IMAGE_SIZE)
    runs = []
    for seed in args.seeds:
        # The anchor runs as its users run it: a plain script in a fresh
        # process, with TensorFlow's default thread pools (the pools are fixed
        # once a process has started TensorFlow, so it cannot share ours).
        anchor = budget_probe()
        budget_s = 15 * sum(epoch["seconds"] for epoch in anchor["history"])
        print(f"budget: 15 x {budget_s / 15:.0f} s (2 epochs of the plain recipe) = "
              f"{budget_s:.0f} s", flush=True)
        extra = {"epochs": args.epochs} if args.epochs else {}
        extra.update(args.set or {})
        clf = TunedCNNClassifier(validation_fraction=P.VALIDATION_FRACTION, random_state=seed,
                                 verbose=args.verbose, **extra)
        load = P.load_average()[0]
        start, cpu = time.perf_counter(), time.process_time()
        clf.fit(X_train, y_train)
        fit_s, cpu_s = time.perf_counter() - start, time.process_time() - cpu
        X_test, _ = P.load_pixels(paths_test, TUNED_IMAGE_SIZE)  # chosen: now the test
        acc = float(np.mean(clf.predict(X_test) == y_test))
        h = clf.history_
        runs.append({"random_state": seed, "epochs": len(h["loss"]),
                     "best_epoch": clf.best_epoch_ + 1,
                     "val_accuracy": float(h["val_accuracy"][clf.best_epoch_]),
                     "test_accuracy": acc, "fit_s": fit_s, "cpu_s": cpu_s,
                     "budget_s": budget_s, "budget_ratio": fit_s / budget_s,
                     "anchor_epoch_s": [epoch["seconds"] for epoch in anchor["history"]],
                     "load_1min_before": load, "load_1min_after": P.load_average()[0],
                     "history": {k: [float(v) for v in vs] for k, vs in h.items()}})
        print(f"tuned seed={seed}: test {acc:.4f} val {runs[-1]['val_accuracy']:.4f} "
              f"(epoch {runs[-1]['best_epoch']}) fit {fit_s:.0f} s = {fit_s / budget_s:.2f} "
              f"budgets, load {load:.1f}", flush=True)
        P.write_json("bench_tuned_final_partial_s" + "-".join(map(str, args.seeds))
                     + (f"_e{args.epochs}" if args.epochs else "") + ("_alt" if args.set else ""),
                     {"runs": runs, "params": repr(clf)})
    acc = np.array([r["test_accuracy"] for r in runs])
    summary = {"test_acc_mean": float(acc.mean()),
               "test_acc_std": float(acc.std(ddof=1)) if len(acc) > 1 else 0.0,
               "test_acc_min": float(acc.min()), "test_acc_max": float(acc.max()),
               "fit_s_mean": float(np.mean([r["fit_s"] for r in runs]))}
    P.print_table(runs, ["random_state", "test_accuracy", "val_accuracy", "best_epoch",
                         "epochs", "fit_s", "budget_s", "budget_ratio", "load_1min_before"])
    print(summary)
    return {"params": repr(TunedCNNClassifier(**({"epochs": args.epochs} if args.epochs else {}))),
            "overrides": repr(args.set), "image_size": TUNED_IMAGE_SIZE, "decode_s": decode_s,
            "anchor_environment": anchor["environment"], "runs": runs,
            "summary": summary}


def cmd_plot(args):
    """Test accuracy against training time: simple, deep (bench_accuracy), tuned."""
    import json

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    accuracy = json.loads((P.OUT_DIR / "bench_accuracy.json").read_text())
    # final runs may be split over processes (--seeds 0, --seeds 1, ...): merge them
    tuned = {"runs": sorted({r["random_state"]: r for f in sorted(
        P.OUT_DIR.glob("bench_tuned_final_s*.json"))
        if "partial" not in f.name and "_e" not in f.name and "_alt" not in f.name
        for r in json.loads(f.read_text())["runs"]}.values(), key=lambda r: r["random_state"])}
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4), sharey=True, layout="constrained")
    runs = {"simple (notebook)": [r for r in accuracy["runs"] if r["model"] == "simple"],
            "deep (notebook)": [r for r in accuracy["runs"] if r["model"] == "deep"],
            "tuned": tuned["runs"]}
    points = {}
    budgets = [r["budget_s"] / 60 for r in tuned["runs"] if "budget_s" in r]
    budget = float(np.mean(budgets)) if budgets else 15
    for ax, key, limit, xlabel in (
        (axes[0], "fit_s", budget, "training wall time, minutes (see RESULTS.md for the load)"),
        (axes[1], "cpu_s", 2 * budget, "training CPU time, CPU-minutes (all threads)"),
    ):
        for (label, rs), marker in zip(runs.items(), "os^D"):
            rs = [r for r in rs if key in r]
            if not rs:
                continue
            t = np.array([r[key] for r in rs]) / 60
            a = np.array([r["test_accuracy"] for r in rs])
            points.setdefault(label, []).append(list(zip(t.tolist(), a.tolist())))
            ax.scatter(t, a, marker=marker, s=40, label=f"{label}: mean {a.mean():.3f}")
        for name, acc in P.NOTEBOOK_ACCURACY.items():
            ax.axhline(acc, color="grey", lw=0.8, ls=":")
            ax.annotate(f"notebook {name} {acc:.2f}", (0, acc), xytext=(2, 2),
                        textcoords="offset points", fontsize=8, color="grey")
        ax.axvline(limit, color="red", lw=0.8, ls="--")
        ax.annotate("budget: the plain recipe's 30 epochs" + (" x 2 cores" if key == "cpu_s"
                                                              else ""),
                    (limit, 0.52), rotation=90, fontsize=8, color="red", xytext=(-10, 0),
                    textcoords="offset points")
        ax.set_xlabel(xlabel)
        ax.set_xlim(0, max(ax.get_xlim()[1], limit * 1.12))
    axes[0].set_ylabel("test accuracy, 575 images")
    axes[1].legend(loc="lower right", fontsize=8)
    axes[0].legend(loc="lower center", fontsize=8)
    fig.suptitle("Cats vs dogs, notebook protocol (4,800 train / 600 val / 575 test), "
                 "3 seeds each; 2-core AMD EPYC")
    out = P.REPO / "benchmarks" / "accuracy_vs_time.png"
    fig.savefig(out, dpi=120)
    print(f"wrote {out}")
    rows = [{"network": label, "random_state": r.get("random_state", ""),
             "test_accuracy": r["test_accuracy"], "fit_s": r["fit_s"]}
            for label, rs in runs.items() for r in rs]
    P.print_table(rows, ["network", "random_state", "test_accuracy", "fit_s"])
    return {"points": points}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("final")
    f.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    f.add_argument("--epochs", type=int, default=None, help="override the tuned default")
    f.add_argument("--verbose", type=int, default=0)
    f.add_argument("--set", type=eval, default=None,
                   help="dict of parameters overriding the tuned defaults (an alternative)")
    f.add_argument("--json", default=None)
    sub.add_parser("plot")
    args = parser.parse_args(argv)
    if args.command == "plot":
        return cmd_plot(args)
    record = {"benchmark": "tuned_final", "environment": P.environment()}
    record.update(cmd_final(args))
    record["environment"]["load_average_end"] = P.load_average()
    suffix = ("_s" + "-".join(map(str, args.seeds)) + (f"_e{args.epochs}" if args.epochs else "")
              + ("_alt" if args.set else ""))
    P.write_json(f"bench_tuned_final{suffix}", record, args.json)
    return record


if __name__ == "__main__":
    main()
