"""Training overhead of the scikit-learn wrapper, and TensorFlow's thread settings.

Part 1, overhead: ``Pipeline([ImageLoader, DeepCNNClassifier]).fit(paths, y)``
on the protocol's 5,400 non-test images (4,800 train + 600 validation held out
by the classifier, notebook augmentation) against the same network built by
``skcatdog.models.build_cnn`` with the same augmentation layers, trained by
plain Keras ``model.fit`` on arrays decoded beforehand, validating on the same
600 images, with the same best-epoch restore. The two alternate (A B A B ...)
so that changes in the machine's load hit both alike. Fewer epochs than the
notebook's 17 (``--epochs``, default 3) are enough for a ratio. The arrays
are decoded before the runs, which also fills skcatdog's decode cache, so the
pipeline's ``ImageLoader`` reads the cache: the ratio is the wrapper's
overhead, and the cold decode time is reported separately.

Part 2, threads: the plain-Keras run in fresh processes with
``tf.config.threading.set_intra_op_parallelism_threads(n)`` and
``set_inter_op_parallelism_threads(m)`` for a few ``(n, m)``, alternated.

Reproduce::

    .venv/bin/python benchmarks/bench_training.py            # A B x3, 3 epochs; threads
    .venv/bin/python benchmarks/bench_training.py --repeats 2 --epochs 2 --no-threads

Writes ``benchmarks/out/bench_training.json`` and ``--json PATH``.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _protocol as P  # noqa: E402

SEED = 0
THREAD_SETTINGS = [(0, 0), (1, 1), (2, 1), (1, 2)]  # (intra, inter); 0 = TF default


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


def run_pipeline(paths, y, epochs):
    """A: the package, from file paths."""
    from sklearn.pipeline import Pipeline

    from skcatdog.loading import ImageLoader
    from skcatdog.models import DeepCNNClassifier

    timer = epoch_timer()
    pipe = Pipeline([
        ("load", ImageLoader(image_size=P.IMAGE_SIZE, n_jobs=2)),
        ("cnn", DeepCNNClassifier(epochs=epochs, augmentation=P.notebook_augmenter(),
                                  validation_fraction=P.VALIDATION_FRACTION,
                                  random_state=SEED, callbacks=[timer])),
    ])
    start = time.perf_counter()
    pipe.fit(paths, y)
    return time.perf_counter() - start, timer.seconds, pipe[-1].history_["val_accuracy"]


def run_keras(X, y, epochs):
    """B: the same network in plain Keras on arrays decoded beforehand."""
    import keras

    from skcatdog.models import build_cnn

    start = time.perf_counter()
    train, val = P.validation_indices(y, SEED)
    images = X.reshape(-1, *P.IMAGE_SIZE, 3)
    target = (y == "dog").astype("float32")
    keras.utils.set_random_seed(SEED)
    model = build_cnn((*P.IMAGE_SIZE, 3), 2,
                      augmentation_layers=P.notebook_augmenter().build_layers(seed=SEED))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy",
                  metrics=["accuracy"])
    timer = epoch_timer()
    best = keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max",
                                         patience=epochs + 1, restore_best_weights=True)
    history = model.fit(images[train], target[train], validation_data=(images[val], target[val]),
                        epochs=epochs, batch_size=32, shuffle=True, verbose=0,
                        callbacks=[timer, best])
    return time.perf_counter() - start, timer.seconds, history.history["val_accuracy"]


def thread_child(intra, inter, epochs):
    """Run B in this (fresh) process with the given thread pools; print JSON."""
    import tensorflow as tf

    if intra:
        tf.config.threading.set_intra_op_parallelism_threads(intra)
    if inter:
        tf.config.threading.set_inter_op_parallelism_threads(inter)
    paths, _, y, _ = P.load_split()
    X, _ = P.load_pixels(paths)
    load = P.load_average()[0]
    cpu = time.process_time()
    wall, epochs_s, _ = run_keras(X, y, epochs)
    print(json.dumps({"intra": intra, "inter": inter, "wall_s": wall, "epoch_s": epochs_s,
                      "cpu_s": time.process_time() - cpu, "load_1min": load,
                      "effective": [tf.config.threading.get_intra_op_parallelism_threads(),
                                    tf.config.threading.get_inter_op_parallelism_threads()]}))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3, help="A B pairs")
    parser.add_argument("--threads", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--thread-epochs", type=int, default=2)
    parser.add_argument("--thread-repeats", type=int, default=2)
    parser.add_argument("--child", nargs=2, type=int, help=argparse.SUPPRESS)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    if args.child:
        return thread_child(*args.child, args.thread_epochs)

    paths, _, y, _ = P.load_split()
    X, decode_s = P.load_pixels(paths)  # also fills the decode cache the pipeline reads
    record = {"benchmark": "training", "environment": P.environment(), "epochs": args.epochs,
              "n_train": 4800, "n_validation": P.N_VALIDATION, "decode_cold_s": decode_s,
              "runs": []}
    for rep in range(args.repeats):
        for name, run in (("pipeline", lambda: run_pipeline(paths, y, args.epochs)),
                          ("keras", lambda: run_keras(X, y, args.epochs))):
            load = P.load_average()[0]
            cpu = time.process_time()
            wall, epoch_s, val_acc = run()
            record["runs"].append({
                "rep": rep, "variant": name, "wall_s": wall, "epoch_s": epoch_s,
                "cpu_s": time.process_time() - cpu,
                "images_per_s_after_first": 4800 / float(np.median(epoch_s[1:] or epoch_s)),
                "val_accuracy": [float(v) for v in val_acc], "load_1min": load,
            })
            print(record["runs"][-1], flush=True)
    runs = record["runs"]
    ratios = [a["wall_s"] / b["wall_s"] for a, b in zip(runs[::2], runs[1::2])]
    cpu_ratios = [a["cpu_s"] / b["cpu_s"] for a, b in zip(runs[::2], runs[1::2])]
    record["summary"] = {
        "cpu_ratio_per_pair": cpu_ratios,
        "cpu_ratio_median": float(np.median(cpu_ratios)),
        "wall_ratio_per_pair": ratios,
        "wall_ratio_median": float(np.median(ratios)),
        "pipeline_wall_s_median": float(np.median([r["wall_s"] for r in runs[::2]])),
        "keras_wall_s_median": float(np.median([r["wall_s"] for r in runs[1::2]])),
        "pipeline_images_per_s": float(np.median([r["images_per_s_after_first"]
                                                  for r in runs[::2]])),
        "keras_images_per_s": float(np.median([r["images_per_s_after_first"]
                                               for r in runs[1::2]])),
    }
    P.write_json("bench_training", record, args.json)

    if args.threads:
        record["threads"] = []
        for rep in range(args.thread_repeats):
            order = THREAD_SETTINGS if rep % 2 == 0 else THREAD_SETTINGS[::-1]
            for intra, inter in order:
                out = subprocess.run(
                    [sys.executable, __file__, "--child", str(intra), str(inter),
                     "--thread-epochs", str(args.thread_epochs)],
                    capture_output=True, text=True, check=True,
                ).stdout.strip().splitlines()[-1]
                record["threads"].append({"rep": rep, **json.loads(out)})
                print(record["threads"][-1], flush=True)
                P.write_json("bench_training", record, args.json)

    print()
    P.print_table(
        [{**r, "epoch_s": " ".join(f"{s:.1f}" for s in r["epoch_s"])} for r in runs],
        ["rep", "variant", "wall_s", "cpu_s", "epoch_s", "images_per_s_after_first",
         "load_1min"])
    print("\n", record["summary"])
    if args.threads:
        rows = []
        for intra, inter in THREAD_SETTINGS:
            mine = [t for t in record["threads"] if (t["intra"], t["inter"]) == (intra, inter)]
            rows.append({"intra": intra or "default", "inter": inter or "default",
                         "wall_s_median": float(np.median([t["wall_s"] for t in mine])),
                         "epoch2_s_median": float(np.median([t["epoch_s"][-1] for t in mine])),
                         "cpu_s_median": float(np.median([t["cpu_s"] for t in mine])),
                         "load_1min": float(np.mean([t["load_1min"] for t in mine]))})
        record["threads_summary"] = rows
        print()
        P.print_table(rows, ["intra", "inter", "wall_s_median", "epoch2_s_median",
                             "cpu_s_median", "load_1min"])
    record["environment"]["load_average_end"] = P.load_average()
    P.write_json("bench_training", record, args.json)
    return record


if __name__ == "__main__":
    main()
