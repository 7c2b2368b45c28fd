"""Scaling figures: streaming from files vs pixels in memory; parallel search.

``stream`` -- 25,000 paths (the 6k real photos repeated) at 128x128 RGB,
which would be 1.2 GB of uint8 if decoded at once. A small network
(DeepCNNClassifier, filters (16, 32, 32), dense 32, batch 32, three epochs,
validation_fraction=0.1) is trained twice, each in a fresh subprocess that
reports its peak resident memory (VmHWM from /proc/self/status):

- ``memory``: ``ImageLoader(cache=False, n_jobs=-1).transform(paths)`` then
  ``fit(pixels, y)``; the classic path.
- ``stream``: ``DeepCNNClassifier(loader=ImageLoader(cache=False)).fit(paths, y)``.

Throughput is training images per second over each epoch's training batches
(first batch to last, so graph tracing is left out), for the first epoch and
the median of the later ones; each epoch's seconds (with validation) are
reported too. Streaming decodes every file in its first epoch and reads the
pixels back from a temporary file after (``skcatdog.streaming``); the
in-memory path decodes before the fit, reported apart, and the time from
paths to a fitted model compares the two whole.

``search`` -- one 8-candidate GridSearchCV (cv=2) over
``Pipeline([ImageLoader, DeepCNNClassifier])`` on file paths, with
``n_jobs=1`` and ``n_jobs=2`` (joblib's loky backend), wall time of each.

    .venv/bin/python benchmarks/bench_scaling.py stream [--n 25000] [--size 128] \
        [--batch 32] [--epochs 3] [--modes stream,memory]
    .venv/bin/python benchmarks/bench_scaling.py search [--n-images 400]

``--memory-cap 800`` runs each worker inside a memory cgroup of 800 MB
(anonymous memory and page cache, swap included; needs a writable cgroup v1
memory hierarchy): a worker that finishes ran in that much memory, one that
needs more is killed by the kernel and reported as such. Peak RSS (VmHWM)
is reported too; it counts the pages of TensorFlow's shared libraries that
the process touched (~400 MB of clean, shared, file-backed code).

Prints a Markdown table and writes benchmarks/out/bench_scaling_<part>.json.
The machine is shared: the 1- and 5-minute load averages are recorded
before and after each run; compare ratios from one run, not absolute speeds.
"""

import argparse
import contextlib
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

    kw = {"epochs": 1, **kw}
    return DeepCNNClassifier(
        filters=(16, 32, 32), dense_units=32, batch_size=batch_size,
        validation_fraction=0.1, random_state=0, **kw,
    )


def stream_worker(mode, data, n, size, batch, epochs):
    import keras
    import numpy as np

    from skcatdog import ImageLoader

    class Clock(keras.callbacks.Callback):
        """Per epoch: its seconds, and training images/s from first to last batch."""

        def on_train_begin(self, logs=None):
            self.epoch_s, self.images_per_s = [], []

        def on_epoch_begin(self, epoch, logs=None):
            self.batches, self.epoch_start = [], time.perf_counter()

        def on_train_batch_end(self, batch_index, logs=None):
            self.batches.append(time.perf_counter())

        def on_epoch_end(self, epoch, logs=None):
            self.epoch_s.append(time.perf_counter() - self.epoch_start)
            steady = self.batches[-1] - self.batches[0]  # graph tracing left out
            self.images_per_s.append((len(self.batches) - 1) * batch / steady)

    paths, y = _paths(data, n)
    rss_start = _status_kib("VmRSS")
    clock = Clock()
    decode_s = 0.0
    t0 = time.perf_counter()
    if mode == "memory":
        X = ImageLoader(image_size=(size, size), cache=False, n_jobs=-1).transform(paths)
        decode_s = time.perf_counter() - t0
        clf = _classifier(batch, callbacks=[clock], epochs=epochs).fit(X, y)
    else:
        loader = ImageLoader(image_size=(size, size), cache=False)
        clf = _classifier(batch, callbacks=[clock], loader=loader, epochs=epochs).fit(paths, y)
    total_s = time.perf_counter() - t0
    n_val = int(round(0.1 * n + 0.5))
    later = clock.images_per_s[1:] or clock.images_per_s
    result = {
        "mode": mode, "n": n, "size": size, "batch_size": batch, "n_train": n - n_val,
        "epochs": epochs,
        "decode_s": round(decode_s, 1),
        "epoch_s": [round(t, 1) for t in clock.epoch_s],
        "images_per_s_epoch1": round(clock.images_per_s[0], 1),
        "images_per_s_later": round(float(np.median(later)), 1),
        "fit_plus_decode_s": round(total_s, 1),
        "val_accuracy": [round(float(a), 3) for a in clf.history_["val_accuracy"]],
        "rss_start_mb": round(rss_start / 1024),
        "peak_rss_mb": round(_status_kib("VmHWM") / 1024),
    }
    print("RESULT " + json.dumps(result), flush=True)


def _load():
    return [round(v, 1) for v in os.getloadavg()[:2]]


#: cgroup v1 memory controller (v2 has no per-group swap limit file by this name).
CGROUP_V1 = "/sys/fs/cgroup/memory"


class MemoryCap:
    """A memory cgroup capping a worker's memory (anonymous + page cache, swap included).

    The kernel reclaims the group's page cache when it reaches the cap and
    kills a process of the group when anonymous memory alone would pass it,
    so a worker that finishes inside the cap really ran in that much memory.
    Needs a writable cgroup v1 memory hierarchy (root in a container here).
    """

    def __init__(self, mb):
        self.mb = mb
        self.path = os.path.join(CGROUP_V1, f"skcatdog-bench-{os.getpid()}")

    def __enter__(self):
        try:
            os.mkdir(self.path)
            for name in ("memory.limit_in_bytes", "memory.memsw.limit_in_bytes"):
                with open(os.path.join(self.path, name), "w") as f:
                    f.write(str(self.mb * 2**20))
        except OSError as error:
            raise SystemExit(f"--memory-cap needs a writable {CGROUP_V1}: {error}") from error
        return self

    def join(self):  # runs in the child before exec
        with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))

    def read(self):
        def value(name):
            with open(os.path.join(self.path, name)) as f:
                return f.read()

        oom = dict(line.split() for line in value("memory.oom_control").splitlines())
        return {"memory_cap_mb": self.mb,
                "cgroup_peak_mb": round(int(value("memory.memsw.max_usage_in_bytes")) / 2**20),
                "cgroup_times_at_cap": int(value("memory.failcnt")),
                "oom_kills": int(oom.get("oom_kill", 0))}

    def __exit__(self, *exc):
        os.rmdir(self.path)


def _run_worker(args, memory_cap=None):
    load_before = _load()
    with MemoryCap(memory_cap) if memory_cap else contextlib.nullcontext() as cap:
        done = subprocess.run(
            [sys.executable, __file__, *args], capture_output=True, text=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
            preexec_fn=cap.join if cap else None,
        )
        capped = cap.read() if cap else {}
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    if done.returncode or not lines:
        if capped.get("oom_kills"):
            return {"mode": args[1], "killed_at_memory_cap": True, **capped,
                    "load_before": load_before, "load_after": _load()}
        raise SystemExit(f"worker {args} failed:\n{done.stderr[-4000:]}")
    result = json.loads(lines[-1][len("RESULT "):])
    result.update(capped)
    result["load_before"], result["load_after"] = load_before, _load()
    return result


def stream(args):
    results = []
    for mode in args.modes.split(","):
        result = _run_worker(["_stream_worker", mode, args.data, str(args.n), str(args.size),
                              str(args.batch), str(args.epochs)], args.memory_cap)
        print(result, flush=True)
        results.append(result)
    by = {r["mode"]: r for r in results if not r.get("killed_at_memory_cap")}
    print("\n| path | decode before fit (s) | epochs (s) | training images/s, epoch 1 | "
          "later epochs | decode + fit (s) | peak RSS (MB) | memory cgroup: cap / peak (MB) "
          "| load 1/5 min |")
    print("|---|---:|---|---:|---:|---:|---:|---|---|")
    for r in results:
        cap = (f"{r['memory_cap_mb']} / {r['cgroup_peak_mb']}"
               + (" **killed**" if r.get("killed_at_memory_cap") else "")
               if "memory_cap_mb" in r else "-")
        if r.get("killed_at_memory_cap"):
            print(f"| {r['mode']} | - | - | - | - | - | - | {cap} | "
                  f"{r['load_before']} -> {r['load_after']} |")
            continue
        print(f"| {r['mode']} | {r['decode_s']} | {' / '.join(map(str, r['epoch_s']))} | "
              f"{r['images_per_s_epoch1']} | {r['images_per_s_later']} | "
              f"{r['fit_plus_decode_s']} | {r['peak_rss_mb']} | {cap} | "
              f"{r['load_before']} -> {r['load_after']} |")
    ratios = None
    if len(by) == 2:
        m, s_ = by["memory"], by["stream"]
        ratios = {
            "later_epochs": round(m["images_per_s_later"] / s_["images_per_s_later"], 3),
            "epoch1": round(m["images_per_s_epoch1"] / s_["images_per_s_epoch1"], 3),
            "end_to_end": round(s_["fit_plus_decode_s"] / m["fit_plus_decode_s"], 3),
        }
        print(f"\nin-memory / streaming training throughput: {ratios['later_epochs']:.2f}x "
              f"after the first epoch, {ratios['epoch1']:.2f}x in it; streaming / in-memory "
              f"time from paths to a fitted model: {ratios['end_to_end']:.2f}x")
    cap = f"_cap{args.memory_cap}" if args.memory_cap else ""
    _save(f"stream_b{args.batch}_e{args.epochs}{cap}", {"results": results, "ratios": ratios})


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
        mode, data, n, size, batch, epochs = sys.argv[2:8]
        return stream_worker(mode, data, int(n), int(size), int(batch), int(epochs))
    if len(sys.argv) > 1 and sys.argv[1] == "_search_worker":
        n_jobs, data, n_images = sys.argv[2:5]
        return search_worker(int(n_jobs), data, int(n_images))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["stream", "search"])
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--n", type=int, default=25_000)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--modes", default="stream,memory")
    parser.add_argument("--memory-cap", type=int, default=None, metavar="MB",
                        help="run each worker in a memory cgroup of this many MB")
    parser.add_argument("--n-images", type=int, default=400)
    args = parser.parse_args()
    stream(args) if args.part == "stream" else search(args)


if __name__ == "__main__":
    main()
