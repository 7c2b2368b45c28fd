"""Peak memory of ImageLoader on 25,000 images at 50x50 RGB, against the payload.

The payload is 25,000 x 50 x 50 x 3 bytes = 187.5 MB (uint8). The 6k photo set
is repeated to reach 25,000 paths. Each configuration runs in a fresh
subprocess that reports, from /proc/self/status, its resident size just before
``transform`` (VmRSS) and its peak afterwards (VmHWM); the growth divided by
the payload is the figure (target <= 1.3).

With ``cache=False`` every one of the 25,000 paths is read and decoded: the
honest cost of loading 25,000 files. With the default ``cache=True`` a repeated
path is a cache hit, and the cache itself holds one copy of each distinct image
(5,975 here, 45 MB): shown for completeness, it is not the 25,000-file figure.

    .venv/bin/python benchmarks/bench_memory.py [DATA_DIR] [--n 25000] [--json PATH]

DATA_DIR defaults to $SKCATDOG_BENCH_DATA_6K or ../shared/data/dogs-vs-cats-6k.
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
CONFIGS = [
    {"cache": False, "n_jobs": 1},
    {"cache": False, "n_jobs": -1},
    {"cache": True, "n_jobs": -1},
]


def _status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def worker(data, n, cache, n_jobs):
    import numpy as np

    from skcatdog.loading import ImageLoader

    paths = sorted(glob.glob(os.path.join(data, "*.jpg")))
    paths = (paths * (n // len(paths) + 1))[:n]
    loader = ImageLoader(image_size=(50, 50), n_jobs=n_jobs, cache=cache)
    loader.transform(paths[:20])  # import-time and first-call allocations are not the payload
    before = _status_kib("VmRSS")
    t0 = time.perf_counter()
    X = loader.transform(np.asarray(paths))
    seconds = time.perf_counter() - t0
    peak = _status_kib("VmHWM")
    print(
        json.dumps(
            {
                "cache": cache,
                "n_jobs": n_jobs,
                "n_images": len(X),
                "payload_mb": X.nbytes / 1e6,
                "rss_before_mb": before * 1024 / 1e6,
                "peak_growth_mb": (peak - before) * 1024 / 1e6,
                "ratio": (peak - before) * 1024 / X.nbytes,
                "seconds": seconds,
            }
        )
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=DEFAULT_DATA)
    parser.add_argument("--n", type=int, default=25_000)
    parser.add_argument("--json", default=None)
    parser.add_argument("--worker", nargs=2, metavar=("CACHE", "N_JOBS"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if not glob.glob(os.path.join(args.data, "*.jpg")):
        print(f"No JPEGs in {args.data}; pass the folder or set SKCATDOG_BENCH_DATA_6K.")
        return 0
    if args.worker:
        worker(args.data, args.n, args.worker[0] == "True", int(args.worker[1]))
        return 0

    rows = []
    for config in CONFIGS:
        cmd = [sys.executable, __file__, args.data, "--n", str(args.n)]
        cmd += ["--worker", str(config["cache"]), str(config["n_jobs"])]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))

    print(f"\n{args.n:,} images at 50x50x3 from {os.path.abspath(args.data)}")
    print("| cache | n_jobs | payload MB | peak RSS growth MB | growth / payload | seconds |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['cache']} | {r['n_jobs']} | {r['payload_mb']:.1f} | "
            f"{r['peak_growth_mb']:.1f} | {r['ratio']:.2f}x | {r['seconds']:.1f} |"
        )
    result = {"data": os.path.abspath(args.data), "rows": rows,
              "command": " ".join([os.path.relpath(sys.executable), *sys.argv])}
    os.makedirs(os.path.join(HERE, "out"), exist_ok=True)
    for path in filter(None, [os.path.join(HERE, "out", "bench_memory.json"), args.json]):
        with open(path, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
