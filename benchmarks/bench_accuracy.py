"""Test accuracy of the notebook's two networks under the notebook's protocol.

575 fixed test images; the classifier trains on 4,800 images and validates on
600 (held out from the other 5,400 with its own ``random_state``), 50x50 RGB,
shear 0.1 / zoom 0.1 / horizontal flips, 17 epochs, best validation epoch
restored. The simple network is trained with ``random_state`` 0 to 4, the
deep one with 0, 1 and 2 (the split stays fixed), and compared with the
notebook's 0.70 / 0.78.

Reproduce::

    .venv/bin/python benchmarks/bench_accuracy.py            # ~8 x 17 epochs
    .venv/bin/python benchmarks/bench_accuracy.py --epochs 1 --seeds 0   # timing probe

Writes ``benchmarks/out/bench_accuracy.json`` (after every run, so a partial
record survives an interruption) and ``--json PATH`` if given.
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _protocol as P  # noqa: E402

#: The seeds each network is trained with by default.
SEEDS = {"simple": [0, 1, 2, 3, 4], "deep": [0, 1, 2]}


def make_classifier(name, seed, epochs, verbose=0, **overrides):
    from skcatdog.models import DeepCNNClassifier, SimpleCNNClassifier

    cls = {"simple": SimpleCNNClassifier, "deep": DeepCNNClassifier}[name]
    return cls(
        epochs=epochs,
        augmentation=P.notebook_augmenter(),
        validation_fraction=P.VALIDATION_FRACTION,
        random_state=seed,
        verbose=verbose,
        **overrides,
    )


def run_one(name, clf, X_train, y_train, X_test, y_test, seed):
    """Fit ``clf``, score it on the test images; a dict record."""
    load_before = P.load_average()[0]
    start = time.perf_counter()
    cpu_start = time.process_time()
    clf.fit(X_train, y_train)
    fit_s = time.perf_counter() - start
    cpu_s = time.process_time() - cpu_start
    start = time.perf_counter()
    test_accuracy = float(np.mean(clf.predict(X_test) == y_test))
    predict_s = time.perf_counter() - start
    history = clf.history_
    return {
        "model": name,
        "random_state": seed,
        "epochs": len(history["loss"]),
        "best_epoch": clf.best_epoch_ + 1,
        "val_accuracy": float(history["val_accuracy"][clf.best_epoch_]),
        "test_accuracy": test_accuracy,
        "fit_s": fit_s,
        "s_per_epoch": fit_s / len(history["loss"]),
        "cpu_s": cpu_s,
        "predict_s": predict_s,
        "load_1min_before": load_before,
        "load_1min_after": P.load_average()[0],
        "history": {k: [float(v) for v in vals] for k, vals in history.items()},
    }


def summarise(runs, reference=None):
    """Mean, standard deviation, min and max of test accuracy per model."""
    rows = []
    for name in dict.fromkeys(r["model"] for r in runs):
        acc = np.array([r["test_accuracy"] for r in runs if r["model"] == name])
        fit = np.array([r["fit_s"] for r in runs if r["model"] == name])
        rows.append({
            "model": name,
            "runs": len(acc),
            "test_acc_mean": float(acc.mean()),
            "test_acc_std": float(acc.std(ddof=1)) if len(acc) > 1 else 0.0,
            "test_acc_min": float(acc.min()),
            "test_acc_max": float(acc.max()),
            "notebook": (reference or {}).get(name, ""),
            "fit_s_mean": float(fit.mean()),
        })
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["simple", "deep"],
                        choices=["simple", "deep"])
    parser.add_argument("--seeds", nargs="+", type=int, default=None,
                        help="random_state of each fit; default 0-4 (simple), 0-2 (deep)")
    parser.add_argument("--epochs", type=int, default=P.EPOCHS)
    parser.add_argument("--verbose", type=int, default=0)
    parser.add_argument("--set", type=eval, default=None,
                        help="dict of parameters overriding the defaults (an alternative)")
    parser.add_argument("--json", default=None, help="also write the record here")
    args = parser.parse_args(argv)

    paths_train, paths_test, y_train, y_test = P.load_split()
    X_train, load_s = P.load_pixels(paths_train)
    X_test, _ = P.load_pixels(paths_test)
    record = {"benchmark": "accuracy", "environment": P.environment(),
              "protocol": {"n_train_and_val": len(y_train), "n_test": len(y_test),
                           "n_validation": P.N_VALIDATION, "image_size": P.IMAGE_SIZE,
                           "epochs": args.epochs, "augmentation": repr(P.notebook_augmenter())},
              "overrides": repr(args.set), "decode_s_train": load_s, "runs": []}
    seeds = {name: args.seeds or SEEDS[name] for name in args.models}
    for seed in sorted(set().union(*seeds.values())):  # alternate the models: load hits both
        for name in [name for name in args.models if seed in seeds[name]]:
            clf = make_classifier(name, seed, args.epochs, args.verbose, **(args.set or {}))
            run = run_one(name, clf, X_train, y_train, X_test, y_test, seed)
            record["runs"].append(run)
            print(f"{name} seed={seed}: test {run['test_accuracy']:.4f} "
                  f"val {run['val_accuracy']:.4f} (epoch {run['best_epoch']}) "
                  f"fit {run['fit_s']:.0f} s, load {run['load_1min_before']:.1f}", flush=True)
            record["summary"] = summarise(record["runs"], P.NOTEBOOK_ACCURACY)
            P.write_json("bench_accuracy" + ("_alt" if args.set else ""), record, args.json)
    print()
    P.print_table(record["runs"], ["model", "random_state", "test_accuracy", "val_accuracy",
                                   "best_epoch", "fit_s", "s_per_epoch", "load_1min_before"])
    print()
    P.print_table(record["summary"], ["model", "runs", "test_acc_mean", "test_acc_std",
                                      "test_acc_min", "test_acc_max", "notebook", "fit_s_mean"])
    print(f"\nload average now: {P.load_average()}")
    return record


if __name__ == "__main__":
    main()
