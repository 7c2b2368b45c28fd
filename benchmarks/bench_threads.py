"""Seconds per training epoch under TensorFlow's thread pools and skcatdog's.

TensorFlow's default runs independent ops side by side (one inter-op thread
per core) and lets each op use every core (one intra-op thread per core);
:func:`skcatdog.parallel.limit_tf_threads` runs one op at a time. The pools
are fixed once TensorFlow's runtime starts, so each setting is timed in a
fresh process, taking turns, on the same random images: a classifier's
``fit`` with ``validation_fraction=0`` (augmentation, the data path and the
network as a user's fit runs them), timed per epoch by a callback; the first
epoch (tracing) is dropped.

Settings:

``tensorflow``
    ``SKCATDOG_TF_THREADS=0``: skcatdog leaves TensorFlow's pools alone
    (TensorFlow's defaults, what a plain Keras script gets).
``skcatdog``
    the package's default: one inter-op thread, one intra-op thread per core.
``one-thread``
    ``SKCATDOG_TF_THREADS=1``: one thread in all (the tests' setting).

Reproduce::

    .venv/bin/python benchmarks/bench_threads.py --networks tuned deep --repeats 3

JSON goes to ``benchmarks/out/bench_threads.json``.
"""

import argparse
import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _protocol as P  # noqa: E402

SETTINGS = {"tensorflow": {"SKCATDOG_TF_THREADS": "0"}, "skcatdog": {},
            "one-thread": {"SKCATDOG_TF_THREADS": "1"}}


def time_epochs(network, n_images, epochs, extra):
    """In this process: fit ``network`` on random images, seconds of each epoch."""
    import time

    import keras
    import tensorflow as tf

    from skcatdog import DeepCNNClassifier
    from skcatdog.tuned import TUNED_IMAGE_SIZE, TunedCNNClassifier

    cls, size = {"tuned": (TunedCNNClassifier, TUNED_IMAGE_SIZE),
                 "deep": (DeepCNNClassifier, P.IMAGE_SIZE)}[network]
    rng = np.random.RandomState(0)
    X = rng.randint(0, 256, size=(n_images, *size, 3)).astype(np.uint8)
    y = np.array(["cat", "dog"])[rng.randint(0, 2, n_images)]
    seconds = []
    clock = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: seconds.append(-time.perf_counter()),
        on_epoch_end=lambda epoch, logs: seconds.__setitem__(-1, seconds[-1]
                                                             + time.perf_counter()))
    clf = cls(epochs=epochs, validation_fraction=0, callbacks=[clock], random_state=0,
              **extra)
    if network == "deep":
        clf.set_params(augmentation=P.notebook_augmenter())
    clf.fit(X, y)
    threads = tf.config.threading
    return {"epoch_s": seconds[1:],
            "threads": [threads.get_intra_op_parallelism_threads(),
                        threads.get_inter_op_parallelism_threads()]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--networks", nargs="+", default=["tuned", "deep"],
                        choices=["tuned", "deep"])
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--images", type=int, default=1920)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--set", type=json.loads, default={},
                        help="JSON of classifier parameters for every run")
    parser.add_argument("--worker", nargs=2, metavar=("NETWORK", "SETTING"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(time_epochs(args.worker[0], args.images, args.epochs, args.set)))
        return None

    runs = []
    for repeat in range(args.repeats):
        for network in args.networks:
            for setting in args.settings:  # taking turns: load changes hit every setting
                env = {k: v for k, v in os.environ.items()
                       if k not in ("SKCATDOG_TF_THREADS", "TF_NUM_INTRAOP_THREADS",
                                    "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")}
                env.update(SETTINGS[setting], TF_CPP_MIN_LOG_LEVEL="3")
                out = subprocess.run(
                    [sys.executable, __file__, "--worker", network, setting,
                     "--images", str(args.images), "--epochs", str(args.epochs),
                     "--set", json.dumps(args.set)],
                    env=env, capture_output=True, text=True, check=True)
                result = json.loads(out.stdout.strip().splitlines()[-1])
                runs.append({"network": network, "setting": setting, "repeat": repeat,
                             "load": P.load_average()[0], **result})
                print(f"{network:5s} {setting:10s} threads {result['threads']} "
                      f"epochs {[round(s, 1) for s in result['epoch_s']]}", flush=True)
    rows = []
    for network in args.networks:
        base = None
        for setting in args.settings:
            epoch_s = [s for r in runs if r["network"] == network and r["setting"] == setting
                       for s in r["epoch_s"]]
            median = float(np.median(epoch_s))
            base = base or median
            rows.append({"network": network, "setting": setting,
                         "images_per_s": args.images / median, "epoch_s_median": median,
                         "epoch_s_min": float(np.min(epoch_s)),
                         "epoch_s_max": float(np.max(epoch_s)),
                         "speed_vs_first": base / median})
    P.print_table(rows, ["network", "setting", "images_per_s", "epoch_s_median", "epoch_s_min",
                         "epoch_s_max", "speed_vs_first"])
    record = {"benchmark": "threads", "environment": P.environment(), "args": vars(args),
              "runs": runs, "summary": rows}
    P.write_json("bench_threads", record)
    return record


if __name__ == "__main__":
    main()
