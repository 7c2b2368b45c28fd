"""The tuned network: how it was chosen, and its test accuracy under the protocol.

Each step is its own sub-command:

``probe``
    Seconds per epoch (on 4,800 images) of candidate architectures, from two
    epochs on 1,600 training images, to size the epochs to the 15-minute budget.
``search``
    ``GridSearchCV`` over small grids, one stage after another, scored on
    validation images only: the classifier trains on the 4,800 training images
    and is scored on the 600 validation images that ``random_state=0`` holds
    out (a ``PredefinedSplit`` of the 5,400 non-test images). The 575 test
    images are not loaded. Candidates train for a short proxy budget of
    epochs (cosine schedule over those epochs).
``final``
    :class:`skcatdog.tuned.TunedCNNClassifier` with its defaults on the
    protocol (validation 600 of 5,400, scored each epoch; the last epoch's
    weights kept), ``random_state`` 0, 1, 2; test accuracy on the 575 test
    images, training wall time, load.
``ensemble``
    Two tuned networks trained side by side (one TensorFlow thread each: on
    this 2-core machine two trainings at once take about as long as one
    alone) and averaged: ``VotingClassifier(voting="soft", n_jobs=2)`` fitted
    on the 4,800 training images of the ``random_state=0`` split (members
    ``validation_fraction=0``); validation and test accuracy of each member
    and of the pair, and the wall time of the whole fit.
``variants``
    Single changes to the tuned network (``VARIANTS``: mixup, residual
    shortcuts with label smoothing, a moving average of the weights, weight
    decay, weaker augmentation, wider blocks), validation only: each
    trains on the 4,800 training images of the ``random_state=0`` split
    (``validation_fraction=0``) and is scored on its 600 validation images;
    the test images are not loaded. Run two at once with one TensorFlow
    thread each (``SKCATDOG_TF_THREADS=1``) to compare with the tuned
    network's own side-by-side runs.

Reproduce::

    .venv/bin/python benchmarks/bench_tuned.py probe
    .venv/bin/python benchmarks/bench_tuned.py search --stage 1
    .venv/bin/python benchmarks/bench_tuned.py final --seeds 0 1 2
    .venv/bin/python benchmarks/bench_tuned.py ensemble --pairs 4,5 0,1 2,3
    .venv/bin/python benchmarks/bench_tuned.py plot    # accuracy_vs_time.png
    SKCATDOG_TF_THREADS=1 .venv/bin/python benchmarks/bench_tuned.py variants --names mixup

JSON goes to ``benchmarks/out/bench_tuned_<command>[_stageN|_sSEEDS].json`` and
``--json PATH``. On a shared machine the three seeds of ``final`` may run as
three processes (``--seeds 0``, ``--seeds 1``, ``--seeds 2``); ``plot`` merges them.
"""

import argparse
import os
import random
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _protocol as P  # noqa: E402

BASE = dict(
    n_conv_layers=4, filters=(32, 64, 128, 256), convs_per_block=2, batch_normalization=True,
    global_pooling=True, dense_units=0, dropout=0.3, optimizer="adamw", learning_rate=3e-3,
    lr_schedule="cosine", batch_size=64, test_time_flip=True,
)

PROBES = {
    "w32-d4-64px": dict(image_size=64),
    "w16-d4-64px": dict(image_size=64, filters=(16, 32, 64, 128)),
    "w24-d4-64px": dict(image_size=64, filters=(24, 48, 96, 192)),
    "w16-d4-72px": dict(image_size=72, filters=(16, 32, 64, 128)),
    "w32-d3-cpb1-64px": dict(image_size=64, n_conv_layers=3, convs_per_block=1,
                             filters=(32, 64, 128)),
}


def epoch_timer():
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._start)

    return EpochTimer()


def classifier(params, estimator_class=None, **extra):
    """``estimator_class`` (default TunedCNNClassifier) with ``params`` and ``extra``."""
    from skcatdog.tuned import TunedCNNClassifier

    params = {**params, **extra}
    params.pop("image_size", None)
    if params.get("augmentation") == "notebook":
        params["augmentation"] = P.notebook_augmenter()
    return (estimator_class or TunedCNNClassifier)(**params)


_PIXELS = {}


def pixels(image_size, paths):
    key = (image_size, len(paths))
    if key not in _PIXELS:
        _PIXELS[key] = P.load_pixels(paths, (image_size, image_size))[0]
    return _PIXELS[key]


def cmd_probe(args):
    paths, _, y, _ = P.load_split()
    train, _ = P.validation_indices(y, 0)
    sub = train[:1600]
    rows = []
    for name in args.names or PROBES:
        spec = {**BASE, **PROBES[name]}
        X = pixels(spec["image_size"], paths)
        timer = epoch_timer()
        clf = classifier(spec, epochs=2, validation_fraction=0.0, random_state=0,
                         callbacks=[timer])
        load = P.load_average()[0]
        clf.fit(X[sub], y[sub])
        per_epoch = timer.seconds[-1] * 4800 / len(sub)
        rows.append({"name": name, "image_size": spec["image_size"],
                     "filters": str(spec["filters"]), "params": clf.model_.count_params(),
                     "s_per_epoch_4800": per_epoch, "epochs_in_15min": int(900 // per_epoch),
                     "load_1min": load})
        print(rows[-1], flush=True)
    P.print_table(rows, ["name", "image_size", "filters", "params", "s_per_epoch_4800",
                         "epochs_in_15min", "load_1min"])
    return {"rows": rows}


#: The stages of the search; each is a list of parameter grids over BASE.
STAGES = {
    # Stage 1: learning rate x augmentation strength, on the width the probe
    # showed fits the budget (16-32-64-128 at 64x64: ~24 epochs in 15 minutes;
    # 32-64-128-256 would get only ~7).
    1: [{"learning_rate": [1e-3, 3e-3], "augmentation": ["tuned", "notebook"]}],
    # Stage 3: batch-norm momentum, after stage 1 scored near chance in
    # inference mode although training accuracy rose (moving statistics lag).
    3: [{"batch_norm_momentum": [0.99, 0.9]}],
    # Stage 2 (if time allows): dropout and weight decay around stage 1's best.
    2: [{"dropout": [0.0, 0.3], "optimizer__weight_decay": [0.004, 0.05]}],
    # Stage 4: the whole 15-minute budget per candidate (epochs sized from the
    # probe: ~15 s per epoch for 16-32-64-128 at 64x64, ~29 s for the plain
    # 32-64-128 network with a dense head, x1.56 pixels at 80x80), because the
    # 40-epoch default used under half of it. Run with --n-jobs 2: one
    # TensorFlow thread per candidate runs an epoch about as fast as two here.
    4: [{"epochs": [55]},
        {"epochs": [55], "global_pooling": [False], "dense_units": [256], "dropout": [0.5]},
        {"epochs": [28], "n_conv_layers": [3], "filters": [(32, 64, 128)],
         "global_pooling": [False], "dense_units": [256], "dropout": [0.5],
         "learning_rate": [1e-3]},
        {"epochs": [36], "image_size": [80]}],
}
BASE["filters"] = (16, 32, 64, 128)


def cmd_search(args):
    from sklearn.model_selection import GridSearchCV, PredefinedSplit
    from sklearn.pipeline import Pipeline

    from skcatdog.loading import ImageLoader

    paths, _, y, _ = P.load_split()  # the 575 test images are not touched
    train, val = P.validation_indices(y, 0)
    order = np.concatenate([train, val])
    fold = np.r_[np.full(len(train), -1), np.zeros(len(val), dtype=int)]
    base = {**BASE, **(args.base or {})}
    # One search over Pipeline(ImageLoader -> classifier) on paths, so the image
    # size is a parameter like any other (load__image_size); each worker decodes
    # each file once per size (ImageLoader's cache).
    grid = [{("load__" if k == "image_size" else "cnn__") + k:
             [(v, v) if k == "image_size" else
              P.notebook_augmenter() if v == "notebook" else v for v in vs]
             for k, vs in g.items()} for g in STAGES[args.stage]]
    spec = {k: v for k, v in base.items() if k != "image_size"}
    size = base.get("image_size", 64)
    pipe = Pipeline([
        ("load", ImageLoader(image_size=(size, size))),
        ("cnn", classifier(spec, epochs=args.epochs, validation_fraction=0.0, random_state=0)),
    ])
    search = GridSearchCV(pipe, grid, cv=PredefinedSplit(fold), refit=False, scoring="accuracy",
                          n_jobs=args.n_jobs, return_train_score=False)
    load = P.load_average()[0]
    start = time.perf_counter()
    search.fit(paths[order], y[order])
    print(f"search done in {time.perf_counter() - start:.0f} s", flush=True)
    rows = []
    for i, cand in enumerate(search.cv_results_["params"]):
        cand = {k.split("__", 1)[1]: v for k, v in cand.items()}
        image_size = cand.pop("image_size", (size, size))[0]
        rows.append({"stage": args.stage, "image_size": image_size, "params": repr(cand),
                     "epochs": cand.get("epochs", args.epochs),
                     "val_accuracy": float(search.cv_results_["mean_test_score"][i]),
                     "fit_s": float(search.cv_results_["mean_fit_time"][i]),
                     "load_1min": load})
    rows.sort(key=lambda r: -r["val_accuracy"])
    P.print_table(rows, ["stage", "image_size", "params", "epochs", "val_accuracy", "fit_s",
                         "load_1min"])
    return {"stage": args.stage, "base": base, "grids": repr(STAGES[args.stage]),
            "n_jobs": args.n_jobs, "rows": rows}


def cmd_final(args):
    from skcatdog.tuned import TUNED_IMAGE_SIZE, TunedCNNClassifier

    paths_train, paths_test, y_train, y_test = P.load_split()
    X_train, decode_s = P.load_pixels(paths_train, TUNED_IMAGE_SIZE)
    X_test, _ = P.load_pixels(paths_test, TUNED_IMAGE_SIZE)
    runs = []
    for seed in args.seeds:
        extra = {"epochs": args.epochs} if args.epochs else {}
        extra.update(args.set or {})
        clf = TunedCNNClassifier(validation_fraction=P.VALIDATION_FRACTION, random_state=seed,
                                 verbose=args.verbose, **extra)
        load = P.load_average()[0]
        start, cpu = time.perf_counter(), time.process_time()
        clf.fit(X_train, y_train)
        fit_s, cpu_s = time.perf_counter() - start, time.process_time() - cpu
        acc = float(np.mean(clf.predict(X_test) == y_test))
        h = clf.history_
        runs.append({"random_state": seed, "epochs": len(h["loss"]),
                     "best_epoch": clf.best_epoch_ + 1,
                     "val_accuracy": float(h["val_accuracy"][clf.best_epoch_]),
                     "test_accuracy": acc, "fit_s": fit_s, "cpu_s": cpu_s,
                     "load_1min_before": load, "load_1min_after": P.load_average()[0],
                     "history": {k: [float(v) for v in vs] for k, vs in h.items()}})
        print(f"tuned seed={seed}: test {acc:.4f} val {runs[-1]['val_accuracy']:.4f} "
              f"(epoch {runs[-1]['best_epoch']}) fit {fit_s:.0f} s load {load:.1f}", flush=True)
        P.write_json("bench_tuned_final_partial_s" + "-".join(map(str, args.seeds))
                     + (f"_e{args.epochs}" if args.epochs else "") + ("_alt" if args.set else ""),
                     {"runs": runs, "params": repr(clf)})
    acc = np.array([r["test_accuracy"] for r in runs])
    summary = {"test_acc_mean": float(acc.mean()),
               "test_acc_std": float(acc.std(ddof=1)) if len(acc) > 1 else 0.0,
               "test_acc_min": float(acc.min()), "test_acc_max": float(acc.max()),
               "fit_s_mean": float(np.mean([r["fit_s"] for r in runs]))}
    P.print_table(runs, ["random_state", "test_accuracy", "val_accuracy", "best_epoch",
                         "epochs", "fit_s", "load_1min_before"])
    print(summary)
    return {"params": repr(TunedCNNClassifier(**({"epochs": args.epochs} if args.epochs else {}))),
            "overrides": repr(args.set), "image_size": TUNED_IMAGE_SIZE, "decode_s": decode_s,
            "runs": runs,
            "summary": summary}


def cmd_ensemble(args):
    from sklearn.ensemble import VotingClassifier

    from skcatdog.tuned import TUNED_IMAGE_SIZE, TunedCNNClassifier

    paths, paths_test, y, y_test = P.load_split()
    train, val = P.validation_indices(y, 0)
    X = P.load_pixels(paths, TUNED_IMAGE_SIZE)[0]
    X_test = P.load_pixels(paths_test, TUNED_IMAGE_SIZE)[0]
    runs = []
    for pair in args.pairs:
        seeds = [int(s) for s in pair.split(",")]
        ensemble = VotingClassifier(
            [(f"seed{s}", TunedCNNClassifier(validation_fraction=0.0, random_state=s))
             for s in seeds],
            voting="soft", n_jobs=len(seeds))
        load = P.load_average()[0]
        start = time.perf_counter()
        ensemble.fit(X[train], y[train])
        fit_s = time.perf_counter() - start
        row = {"seeds": pair, "fit_s": fit_s, "load_1min_before": load,
               "load_1min_after": P.load_average()[0]}
        for name, part_X, part_y in (("val", X[val], y[val]), ("test", X_test, y_test)):
            row[f"{name}_accuracy"] = float(np.mean(ensemble.predict(part_X) == part_y))
            # members were fitted on encoded labels: compare with those
            encoded = ensemble.le_.transform(part_y)
            row[f"{name}_members"] = [float(np.mean(m.predict(part_X) == encoded))
                                      for m in ensemble.estimators_]
        runs.append(row)
        print(row, flush=True)
    acc = np.array([r["test_accuracy"] for r in runs])
    members = np.array([m for r in runs for m in r["test_members"]])
    summary = {"test_acc_mean": float(acc.mean()), "test_acc_min": float(acc.min()),
               "test_acc_max": float(acc.max()),
               "member_test_acc_mean": float(members.mean()),
               "fit_s_mean": float(np.mean([r["fit_s"] for r in runs]))}
    P.print_table(runs, ["seeds", "test_accuracy", "test_members", "val_accuracy",
                         "val_members", "fit_s", "load_1min_before"])
    print(summary)
    return {"params": repr(TunedCNNClassifier(validation_fraction=0.0)), "runs": runs,
            "summary": summary}


#: Single changes to the tuned network, step 8 of its search (``variants``).
#: Epochs keep each fit near the 46-epoch network's time (residual: ~10% slower).
VARIANTS = {
    "tuned": dict(),
    "residual-smoothing": dict(residual=True, label_smoothing=0.1, epochs=42),
    "mixup": dict(mixup=0.2),
    # AdamW's decoupled weight decay: Keras' default 0.004 against a common 0.05
    "weight-decay-0.05": dict(optimizer__weight_decay=0.05),
    # an exponential moving average of the weights replaces them at the end of fit
    "weight-average": dict(optimizer__use_ema=True, optimizer__ema_momentum=0.99),
    # weaker augmentation (train accuracy ends at 0.92 with the tuned one)
    "notebook-augmentation": dict(augmentation="notebook"),
    # twice the width where the maps are small (1.25x the time per epoch here)
    "wider-late-blocks": dict(filters=(16, 32, 128, 256), epochs=37),
}


def residual_cnn(image_shape, augmentation_layers, seed, filters=(16, 32, 64, 128),
                 dense_units=256, dropout=0.5, momentum=0.9):
    """The tuned network with a shortcut around each block's two convolutions."""
    import keras
    from keras import layers

    seeds = random.Random(seed)

    def init():
        return keras.initializers.GlorotUniform(seed=seeds.randint(1, int(1e9)))

    inputs = keras.Input(shape=image_shape)
    x = inputs
    for layer in augmentation_layers:
        x = layer(x)
    x = layers.Rescaling(1 / 255)(x)
    size = image_shape[0]
    for n in filters:
        shortcut, crop = x, 0
        for i in range(2):
            pad = "valid" if size >= 3 else "same"
            if pad == "valid":
                size, crop = size - 2, crop + 1
            x = layers.Conv2D(n, 3, padding=pad, use_bias=False, kernel_initializer=init())(x)
            x = layers.BatchNormalization(momentum=momentum)(x)
            if i == 0:
                x = layers.ReLU()(x)
        if crop:  # valid convolutions shrank the maps: the shortcut takes their centre
            shortcut = layers.Cropping2D(crop)(shortcut)
        if shortcut.shape[-1] != n:
            shortcut = layers.Conv2D(n, 1, use_bias=False, kernel_initializer=init())(shortcut)
            shortcut = layers.BatchNormalization(momentum=momentum)(shortcut)
        x = layers.ReLU()(layers.Add()([x, shortcut]))
        if size >= 2:
            x = layers.MaxPooling2D(2)(x)
            size //= 2
    x = layers.Flatten()(x)
    x = layers.Dense(dense_units, activation="relu", kernel_initializer=init())(x)
    x = layers.Dropout(dropout, seed=seeds.randint(1, int(1e9)))(x)
    outputs = layers.Dense(1, activation="sigmoid", kernel_initializer=init())(x)
    return keras.Model(inputs, outputs)


def mixup_model(model, alpha, seed):
    """``model`` training on mixup batches: pairs of images and labels blended.

    The training accuracy Keras reports compares blended labels and means
    nothing; the validation images are scored after the fit.
    """
    import keras
    from keras import ops

    class Mixup(keras.Model):
        def train_step(self, data):
            x, y = ops.cast(data[0], "float32"), ops.cast(data[1], "float32")
            n = ops.shape(x)[0]
            lam = keras.random.beta((), alpha, alpha, seed=self._mix_seed)
            perm = ops.argsort(keras.random.uniform((n,), seed=self._mix_seed))
            x = lam * x + (1 - lam) * ops.take(x, perm, axis=0)
            y = lam * y + (1 - lam) * ops.take(y, perm, axis=0)
            return super().train_step((x, y) + tuple(data[2:]))

    mixed = Mixup(model.inputs, model.outputs)
    mixed._mix_seed = keras.random.SeedGenerator(seed)
    return mixed


def variant_classifier(residual=False, label_smoothing=0.0, mixup=0.0, **params):
    """A TunedCNNClassifier whose network is changed as a VARIANTS entry says."""
    from skcatdog.tuned import TunedCNNClassifier, tuned_augmenter

    class Variant(TunedCNNClassifier):
        def _keras_build_fn(self, meta):
            import keras

            model = super()._keras_build_fn(meta)
            seed = getattr(self, "_random_state", 0)
            if residual:  # a new network, with augmentation layers of its own
                model = residual_cnn(self.image_shape_, tuned_augmenter().build_layers(seed=seed),
                                     seed)
            if mixup:
                model = mixup_model(model, mixup, seed)
            model.compile(optimizer=self._make_optimizer(n_samples=meta["X_shape_"][0]),
                          loss=keras.losses.BinaryCrossentropy(label_smoothing=label_smoothing),
                          metrics=["accuracy"])
            return model

    return classifier(params, estimator_class=Variant)


def cmd_variants(args):
    from skcatdog.tuned import TUNED_IMAGE_SIZE

    paths, _, y, _ = P.load_split()  # the 575 test images are not touched
    train, val = P.validation_indices(y, 0)
    X = P.load_pixels(paths, TUNED_IMAGE_SIZE)[0]
    rows = []
    for name in args.names:
        spec = {"epochs": 46, **VARIANTS[name]}
        clf = variant_classifier(**spec, validation_fraction=0.0, random_state=args.seed)
        load = P.load_average()[0]
        start, cpu = time.perf_counter(), time.process_time()
        clf.fit(X[train], y[train])
        fit_s, cpu_s = time.perf_counter() - start, time.process_time() - cpu
        acc = float(np.mean(clf.predict(X[val]) == y[val]))
        rows.append({"variant": name, "spec": repr(spec), "random_state": args.seed,
                     "val_accuracy": acc, "fit_s": fit_s, "cpu_s": cpu_s,
                     "params": clf.model_.count_params(), "load_1min_before": load,
                     "load_1min_after": P.load_average()[0],
                     "history": {k: [float(v) for v in vs] for k, vs in clf.history_.items()}})
        print({k: v for k, v in rows[-1].items() if k != "history"}, flush=True)
    P.print_table(rows, ["variant", "random_state", "val_accuracy", "fit_s", "cpu_s", "params",
                         "load_1min_before"])
    return {"rows": rows}


def cmd_plot(args):
    """Test accuracy against training time: simple, deep (bench_accuracy), tuned, pairs."""
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
    pairs = sorted({r["seeds"]: r for f in sorted(P.OUT_DIR.glob("bench_tuned_ensemble_*.json"))
                    for r in json.loads(f.read_text())["runs"]}.values(),
                   key=lambda r: r["seeds"])
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4), sharey=True, layout="constrained")
    runs = {"simple (notebook)": [r for r in accuracy["runs"] if r["model"] == "simple"],
            "deep (notebook)": [r for r in accuracy["runs"] if r["model"] == "deep"],
            "tuned": tuned["runs"],
            "two tuned side by side, averaged": pairs}
    points = {}
    for ax, key, budget, xlabel in (
        (axes[0], "fit_s", 15, "training wall time, minutes (see RESULTS.md for the load)"),
        (axes[1], "cpu_s", 30, "training CPU time, CPU-minutes (all threads)"),
    ):
        for (label, rs), marker in zip(runs.items(), "os^D"):
            rs = [r for r in rs if key in r]  # the pairs' CPU time is not recorded
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
        ax.axvline(budget, color="red", lw=0.8, ls="--")
        ax.annotate("budget: 15 min x 2 cores" if key == "cpu_s" else "15 minutes",
                    (budget, 0.52), rotation=90, fontsize=8, color="red", xytext=(-10, 0),
                    textcoords="offset points")
        ax.set_xlabel(xlabel)
        ax.set_xlim(0, max(ax.get_xlim()[1], budget * 1.12))
    axes[0].set_ylabel("test accuracy, 575 images")
    axes[1].legend(loc="lower right", fontsize=8)
    axes[0].legend(loc="lower center", fontsize=8)
    fig.suptitle("Cats vs dogs, notebook protocol (4,800 train / 600 val / 575 test), "
                 "3 seeds (pairs) each; 2-core AMD EPYC")
    out = P.REPO / "benchmarks" / "accuracy_vs_time.png"
    fig.savefig(out, dpi=120)
    print(f"wrote {out}")
    return {"points": points}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("probe")
    p.add_argument("--names", nargs="*", choices=sorted(PROBES))
    s = sub.add_parser("search")
    s.add_argument("--stage", type=int, choices=sorted(STAGES), default=1)
    s.add_argument("--epochs", type=int, default=6, help="proxy budget per candidate")
    s.add_argument("--n-jobs", type=int, default=None, help="candidates in parallel")
    s.add_argument("--base", type=eval, default=None,
                   help="dict of parameters overriding BASE, e.g. from an earlier stage")
    f = sub.add_parser("final")
    f.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    f.add_argument("--epochs", type=int, default=None, help="override the tuned default")
    f.add_argument("--verbose", type=int, default=0)
    f.add_argument("--set", type=eval, default=None,
                   help="dict of parameters overriding the tuned defaults (an alternative)")
    e = sub.add_parser("ensemble")
    e.add_argument("--pairs", nargs="+", default=["0,1", "2,3", "4,5"],
                   help="comma-separated random_states of each ensemble's members")
    v = sub.add_parser("variants")
    v.add_argument("--names", nargs="+", choices=sorted(VARIANTS), default=sorted(VARIANTS))
    v.add_argument("--seed", type=int, default=0)
    sub.add_parser("plot")
    for q in (p, s, f, e, v):
        q.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    if args.command == "plot":
        return cmd_plot(args)
    record = {"benchmark": f"tuned_{args.command}", "environment": P.environment()}
    record.update({"probe": cmd_probe, "search": cmd_search, "final": cmd_final,
                   "ensemble": cmd_ensemble, "variants": cmd_variants}[args.command](args))
    record["environment"]["load_average_end"] = P.load_average()
    suffix = {"search": f"_stage{getattr(args, 'stage', '')}",
              "final": "_s" + "-".join(map(str, getattr(args, "seeds", [])))
              + (f"_e{args.epochs}" if getattr(args, "epochs", None) else "")
              + ("_alt" if getattr(args, "set", None) else ""),
              "ensemble": "_" + "_".join(getattr(args, "pairs", [])).replace(",", "-"),
              "variants": "_" + "_".join(getattr(args, "names", []))
              + f"_s{getattr(args, 'seed', '')}"}.get(
                  args.command, "")
    P.write_json(f"bench_tuned_{args.command}{suffix}", record, args.json)
    return record


if __name__ == "__main__":
    main()
