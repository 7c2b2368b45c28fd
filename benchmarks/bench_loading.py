"""How fast ImageLoader decodes real JPEGs, against the usual ways of doing it.

Methods, each turning N photos into an (N, h, w, 3) array at two sizes:

  skcatdog      ImageLoader(image_size, n_jobs=cores, cache=False)
  pil_naive     Image.open(p).convert("RGB").resize((w, h)) in a Python loop
  keras         keras.utils.load_img(p, target_size=(h, w)) + img_to_array, in a loop
  tf_data       tf.data: read_file -> decode_jpeg(channels=3) -> tf.image.resize,
                num_parallel_calls=AUTOTUNE (what image_dataset_from_directory does)
  tf_data_ratio the same with decode_jpeg(ratio=r) at one fixed r for the whole
                folder, what a user writes for these photos (median 450x374): r=4
                at 50x50, r=2 at 128x128. The strongest tf.data anchor.
  tf_data_dct   decode_jpeg(ratio=r) with r chosen per image from its header (the
                largest of 1, 2, 4, 8 keeping both sides >= the target) through a
                tf.switch_case, which costs more than it saves

Every (method, cores) pair runs in its own long-lived subprocess; "1 core" pins it
with os.sched_setaffinity and sets TF's intra/inter-op threads to 1. The methods
take turns (round robin) so that load from elsewhere hits them alike. Each
figure is the median of --repeats runs after one warm-up run, in images/s of
wall time; images per CPU-second (all threads of the process) are printed too,
since they do not depend on what else the machine is doing. Compare ratios
within one run: absolute speed differs between machines.

    .venv/bin/python benchmarks/bench_loading.py [DATA_DIR] [--repeats 5] [--json PATH]

DATA_DIR defaults to $SKCATDOG_BENCH_DATA or ../shared/data/dogs-vs-cats-fullres-500.
"""

import argparse
import glob
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.environ.get(
    "SKCATDOG_BENCH_DATA",
    os.path.join(HERE, "..", "..", "shared", "data", "dogs-vs-cats-fullres-500"),
)
METHODS = ["skcatdog", "pil_naive", "keras", "tf_data", "tf_data_ratio", "tf_data_dct"]
# The one DCT ratio tf_data_ratio uses at each size (see the docstring).
FIXED_RATIO = {(50, 50): 4, (128, 128): 2}
SIZES = [(50, 50), (128, 128)]


def _loaders(method, cores):
    """Return {size: callable(paths) -> array} for one method."""
    import numpy as np

    if method == "skcatdog":
        from skcatdog.loading import ImageLoader

        def make(size):
            loader = ImageLoader(image_size=size, n_jobs=cores, cache=False)

            def run(paths):
                return loader.transform(paths).reshape(-1, *loader.image_shape)

            return run

    elif method == "pil_naive":
        from PIL import Image

        def make(size):
            def run(paths):
                return np.stack(
                    [np.asarray(Image.open(p).convert("RGB").resize(size[::-1])) for p in paths]
                )

            return run

    elif method == "keras":
        import keras

        def make(size):
            def run(paths):
                return np.stack(
                    [
                        keras.utils.img_to_array(keras.utils.load_img(p, target_size=size))
                        for p in paths
                    ]
                )

            return run

    else:
        import tensorflow as tf

        if cores == 1:
            tf.config.threading.set_intra_op_parallelism_threads(1)
            tf.config.threading.set_inter_op_parallelism_threads(1)

        def make(size):
            th, tw = size

            def decode_full(contents):
                return tf.io.decode_jpeg(contents, channels=3)

            def decode_dct(contents):
                shape = tf.image.extract_jpeg_shape(contents)
                h, w = shape[0], shape[1]
                # index of the largest ratio in (1, 2, 4, 8) with ceil(side / r) >= target
                index = tf.constant(0)
                for k, r in enumerate((2, 4, 8), start=1):
                    fits = tf.logical_and((h + r - 1) // r >= th, (w + r - 1) // r >= tw)
                    index = tf.where(fits, k, index)
                return tf.switch_case(
                    index,
                    [
                        lambda r=r: tf.io.decode_jpeg(contents, channels=3, ratio=r)
                        for r in (1, 2, 4, 8)
                    ],
                )

            def decode_fixed(contents):
                return tf.io.decode_jpeg(contents, channels=3, ratio=FIXED_RATIO[size])

            decode = {"tf_data_dct": decode_dct, "tf_data_ratio": decode_fixed}.get(
                method, decode_full)

            def load(path):
                image = decode(tf.io.read_file(path))
                image = tf.image.resize(image, size)
                image.set_shape((th, tw, 3))
                return image

            def run(paths):
                ds = tf.data.Dataset.from_tensor_slices(paths)
                ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE).batch(32)
                ds = ds.prefetch(tf.data.AUTOTUNE)
                return np.concatenate([b.numpy() for b in ds])

            return run

    return {size: make(size) for size in SIZES}


def worker(method, cores, data):
    """Serve timing requests: read a size such as "50x50" per line, answer seconds."""
    if cores == 1:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    paths = sorted(glob.glob(os.path.join(data, "*.jpg")))
    runs = {f"{h}x{w}": (run, (h, w)) for (h, w), run in _loaders(method, cores).items()}
    print(json.dumps({"ready": len(paths)}), flush=True)
    def cpu_seconds():  # all threads of this process
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    for line in sys.stdin:
        run, size = runs[line.strip()]
        c0, t0 = cpu_seconds(), time.perf_counter()
        out = run(paths)
        seconds, cpu = time.perf_counter() - t0, cpu_seconds() - c0
        assert out.shape[:3] == (len(paths), *size), out.shape
        print(json.dumps({"seconds": seconds, "cpu_seconds": cpu}), flush=True)


def versions():
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for name in ["skcatdog", "pillow", "simplejpeg", "numpy", "tensorflow", "keras"]:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = None
    try:
        cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        out["cpu"] = next(
            (ln.split(":", 1)[1].strip() for ln in cpu.splitlines() if "Model name" in ln), ""
        )
    except OSError:
        out["cpu"] = platform.processor()
    out["cores"] = len(os.sched_getaffinity(0))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=DEFAULT_DATA)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--json", default=None, help="also write the results here")
    parser.add_argument("--worker", nargs=2, metavar=("METHOD", "CORES"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if not os.path.isdir(args.data) or not glob.glob(os.path.join(args.data, "*.jpg")):
        print(f"No JPEGs in {args.data}; pass the folder or set SKCATDOG_BENCH_DATA.")
        return 0
    if args.worker:
        worker(args.worker[0], int(args.worker[1]), args.data)
        return 0

    load_before = os.getloadavg()
    all_cores = len(os.sched_getaffinity(0))
    methods = args.methods.split(",")
    sizes = [f"{h}x{w}" for h, w in SIZES]
    rows = []
    for cores in sorted({1, all_cores}):
        # One long-lived worker per method; they take turns, repeat by repeat, so
        # a load spike from elsewhere on the machine hits every method alike.
        workers = {}
        for method in methods:
            cmd = [sys.executable, __file__, args.data, "--worker", method, str(cores)]
            os.makedirs(os.path.join(HERE, "out"), exist_ok=True)
            log = open(os.path.join(HERE, "out", f"bench_loading.{method}.{cores}.log"), "w")
            proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True
            )
            ready = proc.stdout.readline()
            if not ready:
                print(f"{method} on {cores} core(s) failed to start; see {log.name}")
                continue
            n_images = json.loads(ready)["ready"]
            workers[method] = proc

        def ask(proc, size):
            proc.stdin.write(size + "\n")
            proc.stdin.flush()
            return json.loads(proc.stdout.readline())

        times = {(m, s): [] for m in workers for s in sizes}
        for size in sizes:
            for proc in workers.values():
                ask(proc, size)  # warm-up: page cache, graph tracing
            for _ in range(args.repeats):
                for method, proc in workers.items():
                    times[method, size].append(ask(proc, size))
        for method, proc in workers.items():
            proc.stdin.close()
            proc.wait()
            row = {"method": method, "cores": cores, "n_images": n_images}
            for s in sizes:
                ts = [t["seconds"] for t in times[method, s]]
                cpu = [t["cpu_seconds"] for t in times[method, s]]
                row[s] = {
                    "images_per_s": n_images / statistics.median(ts),
                    "images_per_cpu_s": n_images / statistics.median(cpu),
                    "times_s": ts,
                    "cpu_s": cpu,
                }
            rows.append(row)
        print(f"  done: {cores} core(s)", file=sys.stderr)

    print(f"\n{rows[0]['n_images'] if rows else 0} JPEGs from {os.path.abspath(args.data)}, "
          f"median of {args.repeats}, images/s")
    print(f"load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f} "
          f"(other work on the machine slows the multi-core rows most)")
    print(f"| method | cores | {' | '.join(sizes)} | images per CPU-second, "
          f"{' | '.join(sizes)} |")
    print("|---|---|" + "---|" * 2 * len(sizes))
    for r in rows:
        cells = " | ".join(f"{r[s]['images_per_s']:,.0f}" for s in sizes)
        cpu = " | ".join(f"{r[s]['images_per_cpu_s']:,.0f}" for s in sizes)
        print(f"| {r['method']} | {r['cores']} | {cells} | {cpu} |")

    ratios = {}
    by = {(r["method"], r["cores"]): r for r in rows}
    for cores in sorted({1, all_cores}):
        mine = by.get(("skcatdog", cores))
        for other in METHODS[1:]:
            theirs = by.get((other, cores))
            if mine and theirs:
                for s in sizes:
                    ratios[f"skcatdog/{other} {s} {cores} core(s)"] = (
                        mine[s]["images_per_s"] / theirs[s]["images_per_s"]
                    )
    print("\nratios (skcatdog / other, same cores, same run)")
    for k, v in ratios.items():
        print(f"  {k:40s} {v:5.2f}x")

    result = {
        "data": os.path.abspath(args.data),
        "repeats": args.repeats,
        "machine": versions(),
        "rows": rows,
        "ratios": ratios,
        "load_average_before_after": [load_before[0], os.getloadavg()[0]],
        "command": " ".join([os.path.relpath(sys.executable), *sys.argv]),
    }
    os.makedirs(os.path.join(HERE, "out"), exist_ok=True)
    for path in filter(None, [os.path.join(HERE, "out", "bench_loading.json"), args.json]):
        with open(path, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
