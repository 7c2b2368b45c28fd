"""Scaling figures: streaming from files vs pixels in memory; parallel search.

``stream`` -- 25,000 paths (the 6k real photos repeated) at 128x128 RGB,
which would be 1.2 GB of uint8 if decoded at once. A small network
(DeepCNNClassifier, filters (16, 32, 32), dense 32, batch 64, one epoch,
validation_fraction=0.1) is trained twice, each in a fresh subprocess that
reports its peak resident memory (VmHWM from /proc/self/status):

- ``memory``: ``ImageLoader(cache=False, n_jobs=-1).transform(paths)`` then
  ``fit(pixels, y)``; the classic path.
- ``stream``: ``DeepCNNClassifier(loader=ImageLoader(cache=False)).fit(paths, y)``.

Throughput is training images per second over the epoch's training batches
(first batch to last, so graph tracing is left out), and the whole epoch
(with validation) is reported too. The decode time of the in-memory path is
reported apart: streaming pays it inside the epoch, the in-memory path before.

``search`` -- one 8-candidate GridSearchCV (cv=2) over
``Pipeline([ImageLoader, DeepCNNClassifier])`` on file paths, with
``n_jobs=1`` and ``n_jobs=2`` (joblib's loky backend), wall time of each.

    .venv/bin/python benchmarks/bench_scaling.py stream [--n 25000] [--size 128] \
        [--batch 64] [--modes stream,memory]
    .venv/bin/python benchmarks/bench_scaling.py search [--n-images 400]

Prints a Markdown table and writes benchmarks/out/bench_scaling_<part>.json.
The machine is shared: the 1- and 5-minute load averages are recorded
before and after each run; compare ratios from one run, not absolute speeds.
"""

import argparse
import glob
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.environ.get(
    "SKCATDOG_BENCH_DATA_6K", os.path.join(HERE, "..", "..", "shared", "data", "dogs-vs-cats-6k")
)
OUT = os.path.join(HERE, "out")


def _status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _paths(data, n):
    import numpy as np

    paths = sorted(glob.glob(os.path.join(data, "*.jpg")))
    paths = list(np.random.RandomState(0).permutation(paths))  # cats and dogs mixed
    paths = (paths * (n // len(paths) + 1))[:n]
    y = np.array([os.path.basename(p).split(".")[0] for p in paths], dtype=object)
    return np.asarray(paths, dtype=object), y


def _classifier(batch_size=64, **kw):
    from skcatdog import DeepCNNClassifier

    return DeepCNNClassifier(
        filters=(16, 32, 32), dense_units=32, epochs=1, batch_size=batch_size,
        validation_fraction=0.1, random_state=0, **kw,
    )


def stream_worker(mode, data, n, size, batch):
    import keras

    from skcatdog import ImageLoader

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.batches, self.epoch_start = [], time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.batches.append(time.perf_counter())

        def on_epoch_end(self, epoch, logs=None):
            self.epoch_end = time.perf_counter()

    paths, y = _paths(data, n)
    rss_start = _status_kib("VmRSS")
    clock = Clock()
    decode_s = 0.0
    t0 = time.perf_counter()
    if mode == "memory":
        X = ImageLoader(image_size=(size, size), cache=False, n_jobs=-1).transform(paths)
        decode_s = time.perf_counter() - t0
        clf = _classifier(batch, callbacks=[clock]).fit(X, y)
    else:
        loader = ImageLoader(image_size=(size, size), cache=False)
        clf = _classifier(batch, callbacks=[clock], loader=loader).fit(paths, y)
    total_s = time.perf_counter() - t0
    n_val = int(round(0.1 * n + 0.5))
    n_train = n - n_val
    steady = clock.batches[-1] - clock.batches[0]
    result = {
        "mode": mode, "n": n, "size": size, "batch_size": batch, "n_train": n_train,
        "decode_s": round(decode_s, 1),
        "epoch_s": round(clock.epoch_end - clock.epoch_start, 1),
        "train_images_per_s": round((len(clock.batches) - 1) * batch / steady, 1),
        "fit_plus_decode_s": round(total_s, 1),
        "paths_per_s_end_to_end": round(n / total_s, 1),
        "val_accuracy": round(float(clf.history_["val_accuracy"][0]), 3),
        "rss_start_mb": round(rss_start / 1024),
        "peak_rss_mb": round(_status_kib("VmHWM") / 1024),
    }
    print("RESULT " + json.dumps(result), flush=True)


def _load():
    return [round(v, 1) for v in os.getloadavg()[:2]]


def _run_worker(args):
    load_before = _load()
    done = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    if done.returncode or not lines:
        raise SystemExit(f"worker {args} failed:\n{done.stderr[-4000:]}")
    result = json.loads(lines[-1][len("RESULT "):])
    result["load_before"], result["load_after"] = load_before, _load()
    return result


def stream(args):
    results = []
    for mode in args.modes.split(","):
        result = _run_worker(
            ["_stream_worker", mode, args.data, str(args.n), str(args.size), str(args.batch)]
        )
        print(result, flush=True)
        results.append(result)
    by = {r["mode"]: r for r in results}
    print("\n| path | decode before fit (s) | epoch (s) | training images/s | "
          "peak RSS (MB) | load 1/5 min |")
    print("|---|---:|---:|---:|---:|---|")
    for r in results:
        print(f"| {r['mode']} | {r['decode_s']} | {r['epoch_s']} | {r['train_images_per_s']} | "
              f"{r['peak_rss_mb']} | {r['load_before']} -> {r['load_after']} |")
    ratio = None
    if len(by) == 2:
        ratio = round(by["memory"]["train_images_per_s"] / by["stream"]["train_images_per_s"], 3)
        print(f"\nin-memory / streaming throughput: {ratio:.2f}x")
    _save(f"stream_b{args.batch}", {"results": results, "memory_over_stream": ratio})


def search_worker(n_jobs, data, n_images):
    import numpy as np
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline

    from skcatdog import ImageLoader

    paths, y = _paths(data, 5975)
    rng = np.random.RandomState(0)
    keep = rng.choice(len(paths), n_images, replace=False)
    pipe = Pipeline([
        ("load", ImageLoader(image_size=(32, 32))),
        ("cnn", _classifier().set_params(filters=(8, 16, 16), epochs=2, batch_size=32)),
    ])
    grid = {"cnn__dropout": [0.0, 0.5], "cnn__learning_rate": [1e-3, 3e-3],
            "cnn__dense_units": [16, 32]}
    t0 = time.perf_counter()
    search = GridSearchCV(pipe, grid, cv=2, n_jobs=n_jobs, refit=False)
    search.fit(paths[keep], y[keep])
    result = {"n_jobs": n_jobs, "n_images": n_images, "candidates": 8, "cv": 2,
              "seconds": round(time.perf_counter() - t0, 1),
              "scores": [round(float(s), 4) for s in search.cv_results_["mean_test_score"]]}
    print("RESULT " + json.dumps(result), flush=True)


def search(args):
    results = []
    for n_jobs in (1, 2):
        result = _run_worker(["_search_worker", str(n_jobs), args.data, str(args.n_images)])
        print(result, flush=True)
        results.append(result)
    ratio = results[0]["seconds"] / results[1]["seconds"]
    print("\n| n_jobs | wall (s) | load 1/5 min |\n|---:|---:|---|")
    for r in results:
        print(f"| {r['n_jobs']} | {r['seconds']} | {r['load_before']} -> {r['load_after']} |")
    print(f"\nspeed-up n_jobs=2 over n_jobs=1: {ratio:.2f}x; same scores: "
          f"{results[0]['scores'] == results[1]['scores']}")
    _save("search", {"results": results, "speedup": round(ratio, 3)})


def _save(part, payload):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, f"bench_scaling_{part}.json"), "w") as f:
        json.dump(payload, f, indent=1)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "_stream_worker":
        mode, data, n, size, batch = sys.argv[2:7]
        return stream_worker(mode, data, int(n), int(size), int(batch))
    if len(sys.argv) > 1 and sys.argv[1] == "_search_worker":
        n_jobs, data, n_images = sys.argv[2:5]
        return search_worker(int(n_jobs), data, int(n_images))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["stream", "search"])
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--n", type=int, default=25_000)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--modes", default="stream,memory")
    parser.add_argument("--n-images", type=int, default=400)
    args = parser.parse_args()
    stream(args) if args.part == "stream" else search(args)


if __name__ == "__main__":
    main()
