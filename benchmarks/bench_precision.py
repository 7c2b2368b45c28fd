"""Seconds per training epoch in float32 and in mixed bfloat16.

Each dtype policy is timed in a fresh process, taking turns, on the same
random images: a classifier's ``fit`` with ``validation_fraction=0``
(augmentation, the data path and the network as a user's fit runs them),
timed per epoch by a callback; the first epoch (tracing) is dropped.

Reproduce::

    .venv/bin/python benchmarks/bench_precision.py --networks tuned deep --repeats 3

JSON goes to ``benchmarks/out/bench_precision.json``.
"""

import argparse
import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _protocol as P  # noqa: E402

POLICIES = ("float32", "mixed_bfloat16")


def time_epochs(network, policy, n_images, epochs, extra):
    """In this process: fit ``network`` on random images, seconds of each epoch."""
    import time

    import keras

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
              dtype_policy=policy, **extra)
    if network == "deep":
        clf.set_params(augmentation=P.notebook_augmenter())
    clf.fit(X, y)
    return {"epoch_s": seconds[1:], "dtype_policy": clf.dtype_policy_}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--networks", nargs="+", default=["tuned", "deep"],
                        choices=["tuned", "deep"])
    parser.add_argument("--policies", nargs="+", default=list(POLICIES), choices=POLICIES)
    parser.add_argument("--images", type=int, default=1920)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--set", type=json.loads, default={},
                        help="JSON of classifier parameters for every run")
    parser.add_argument("--worker", nargs=2, metavar=("NETWORK", "POLICY"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(time_epochs(*args.worker, args.images, args.epochs, args.set)))
        return None

    runs = []
    for repeat in range(args.repeats):
        for network in args.networks:
            for policy in args.policies:  # taking turns: load changes hit every policy
                env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
                out = subprocess.run(
                    [sys.executable, __file__, "--worker", network, policy,
                     "--images", str(args.images), "--epochs", str(args.epochs),
                     "--set", json.dumps(args.set)],
                    env=env, capture_output=True, text=True, check=True)
                result = json.loads(out.stdout.strip().splitlines()[-1])
                runs.append({"network": network, "policy": policy, "repeat": repeat,
                             "load": P.load_average()[0], **result})
                print(f"{network:5s} {policy:14s} epochs "
                      f"{[round(s, 1) for s in result['epoch_s']]}", flush=True)
    rows = []
    for network in args.networks:
        base = None
        for policy in args.policies:
            epoch_s = [s for r in runs if r["network"] == network and r["policy"] == policy
                       for s in r["epoch_s"]]
            median = float(np.median(epoch_s))
            base = base or median
            rows.append({"network": network, "dtype_policy": policy,
                         "images_per_s": args.images / median, "epoch_s_median": median,
                         "epoch_s_min": float(np.min(epoch_s)),
                         "epoch_s_max": float(np.max(epoch_s)),
                         "speed_vs_first": base / median})
    P.print_table(rows, ["network", "dtype_policy", "images_per_s", "epoch_s_median",
                         "epoch_s_min", "epoch_s_max", "speed_vs_first"])
    record = {"benchmark": "precision", "environment": P.environment(), "args": vars(args),
              "runs": runs, "summary": rows}
    P.write_json("bench_precision", record)
    return record


if __name__ == "__main__":
    main()
