"""Where ImageLoader's time goes, per image, on real JPEGs.

Times each stage of decoding one photo to ``--size`` on one thread (the
median over --repeats passes over the folder, microseconds per image), then
the whole loader on 1 and 2 threads against the ceiling: libjpeg-turbo's
DCT-scaled decode alone (``simplejpeg.decode_jpeg``) on the same threads,
with the bytes already in memory. What the loader adds beyond the ceiling is
the cost of everything else.

    .venv/bin/python benchmarks/profile_loading.py [DATA_DIR] [--size 50] [--repeats 7]
        [--against GIT_REV]

``--against`` also times the ImageLoader of an earlier commit (its
``skcatdog/loading.py``, from ``git show``) against today's, the two taking
turns on the same threads: what today's checks and limits cost.

DATA_DIR defaults to $SKCATDOG_BENCH_DATA or ../shared/data/dogs-vs-cats-fullres-500.
"""

import argparse
import glob
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import simplejpeg
from PIL import Image

from skcatdog import loading

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.environ.get(
    "SKCATDOG_BENCH_DATA",
    os.path.join(HERE, "..", "..", "shared", "data", "dogs-vs-cats-fullres-500"),
)


def _median_seconds(run, repeats):
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=DEFAULT_DATA)
    parser.add_argument("--size", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--against", metavar="GIT_REV", default=None)
    args = parser.parse_args()
    paths = sorted(glob.glob(os.path.join(args.data, "*.jpg")))
    if not paths:
        print(f"No JPEGs in {args.data}; pass the folder or set SKCATDOG_BENCH_DATA.")
        return 0
    n, size = len(paths), (args.size, args.size)
    datas = [open(p, "rb").read() for p in paths]
    decoded = [simplejpeg.decode_jpeg(d, min_height=args.size, min_width=args.size)
               for d in datas]
    resized = [Image.fromarray(a).resize(size[::-1], Image.Resampling.BOX) for a in decoded]

    def read_files():
        for p in paths:
            os.stat(p)
            loading._read(p, loading.MAX_FILE_BYTES)

    def headers():
        for d in datas:
            loading._jpeg_header(d)
            simplejpeg.decode_jpeg_header(d)

    def decode(items=datas):
        for d in items:
            simplejpeg.decode_jpeg(d, min_height=args.size, min_width=args.size, strict=True)

    def to_pillow_and_resize():
        for a in decoded:
            Image.frombuffer("RGB", (a.shape[1], a.shape[0]), a, "raw", "RGB", 0, 1).resize(
                size[::-1], Image.Resampling.BOX)

    def copy_out():
        out = np.empty((n, args.size * args.size * 3), np.uint8)
        for i, im in enumerate(resized):
            out[i] = np.asarray(im).reshape(-1)

    stages = [("stat, open, read the file", read_files),
              ("walk the JPEG markers (EXIF orientation, scans) and read the header", headers),
              ("libjpeg-turbo decode, DCT-scaled", decode),
              ("to Pillow, BOX resize to the target", to_pillow_and_resize),
              ("to numpy, copy into the output row", copy_out)]
    print(f"{n} JPEGs from {os.path.abspath(args.data)} to {args.size}x{args.size}, "
          f"median of {args.repeats}; load average {os.getloadavg()[0]:.2f}\n")
    print("| stage, one thread | us per image |\n|---|---|")
    total = 0.0
    for name, run in stages:
        us = _median_seconds(run, args.repeats) / n * 1e6
        total += us
        print(f"| {name} | {us:.0f} |")
    print(f"| sum of the stages | {total:.0f} |")

    print("\n| threads | ImageLoader img/s | decode alone img/s | ImageLoader / decode alone |")
    print("|---|---|---|---|")
    for threads in (1, 2):
        loader = loading.ImageLoader(image_size=size, n_jobs=threads, cache=False)
        mine = n / _median_seconds(lambda loader=loader: loader.transform(paths), args.repeats)
        chunks = [datas[i::threads] for i in range(threads)]

        def ceiling(chunks=chunks, threads=threads):
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(decode, chunks))

        alone = n / _median_seconds(ceiling, args.repeats)
        print(f"| {threads} | {mine:,.0f} | {alone:,.0f} | {mine / alone:.2f} |")
    if args.against:
        _against(args.against, paths, size, args.repeats)
    return 0


def _against(rev, paths, size, repeats):
    source = subprocess.run(["git", "show", f"{rev}:skcatdog/loading.py"], cwd=HERE,
                            capture_output=True, text=True, check=True).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(source)
    spec = importlib.util.spec_from_file_location("loading_then", f.name)
    then = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(then)
    os.unlink(f.name)
    print(f"\n| threads | ImageLoader at {rev} img/s | today img/s | today / then |")
    print("|---|---|---|---|")
    for threads in (1, 2):
        loaders = [m.ImageLoader(image_size=size, n_jobs=threads, cache=False)
                   for m in (then, loading)]
        rates = [[], []]
        for _ in range(3):  # taking turns: load from elsewhere hits both alike
            for k, loader in enumerate(loaders):
                rates[k].append(len(paths) / _median_seconds(
                    lambda loader=loader: loader.transform(paths), repeats))
        old, new = (statistics.median(r) for r in rates)
        print(f"| {threads} | {old:,.0f} | {new:,.0f} | {new / old:.2f} |")


if __name__ == "__main__":
    sys.exit(main())
