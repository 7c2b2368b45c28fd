"""What a GridSearchCV over a Pipeline of files costs, and how much of it is decoding.

``GridSearchCV(Pipeline([ImageLoader, DeepCNNClassifier]), cv=3)`` over 8
candidates (``cnn__n_conv_layers`` [2, 3] x ``cnn__dropout`` [0.25, 0.5] x
``cnn__epochs`` [1, 2]; full 17-epoch candidates would take hours on 2 cores)
on the protocol's 5,400 non-test images of the 6k set (the 575 test images
are left out of a search, as always), 50x50, notebook augmentation; the
search refits the best candidate on all 5,400 images. The search runs in this
process (``n_jobs=None``), so skcatdog's per-process decode cache lets every
file be decoded once; ``ImageLoader.transform`` is wrapped to time every
call (the first, cold ones decode; later ones read the cache), and
``skcatdog.loading.decode_count()`` counts real decodes.

Reproduce::

    .venv/bin/python benchmarks/bench_search.py

Writes ``benchmarks/out/bench_search.json`` and ``--json PATH``.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _protocol as P  # noqa: E402

GRID = {"cnn__n_conv_layers": [2, 3], "cnn__dropout": [0.25, 0.5], "cnn__epochs": [1, 2]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cv", type=int, default=3)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)

    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline

    import skcatdog.loading as loading
    from skcatdog.models import DeepCNNClassifier

    calls = []
    original = loading.ImageLoader.transform

    def timed_transform(self, X):
        before = loading.decode_count()
        start = time.perf_counter()
        out = original(self, X)
        calls.append({"n": len(out), "seconds": time.perf_counter() - start,
                      "decoded": loading.decode_count() - before})
        return out

    loading.ImageLoader.transform = timed_transform

    paths, _, y, _ = P.load_split()
    loading.clear_cache()
    pipe = Pipeline([
        ("load", loading.ImageLoader(image_size=P.IMAGE_SIZE, n_jobs=2)),
        ("cnn", DeepCNNClassifier(augmentation=P.notebook_augmenter(), random_state=0)),
    ])
    search = GridSearchCV(pipe, GRID, cv=args.cv, scoring="accuracy", n_jobs=None)
    load_before = P.load_average()
    decodes_before = loading.decode_count()
    start = time.perf_counter()
    search.fit(paths, y)
    total = time.perf_counter() - start
    loading.ImageLoader.transform = original

    decode_s = sum(c["seconds"] for c in calls)
    cold_s = sum(c["seconds"] for c in calls if c["decoded"])
    res = search.cv_results_
    rows = [{"params": repr(p), "mean_cv_accuracy": float(m), "std": float(s),
             "mean_fit_s": float(f)}
            for p, m, s, f in zip(res["params"], res["mean_test_score"], res["std_test_score"],
                                  res["mean_fit_time"])]
    summary = {
        "candidates": len(rows), "cv": args.cv, "fits": len(rows) * args.cv + 1,
        "n_images": len(paths), "total_s": total,
        "transform_calls": len(calls), "transform_s": decode_s,
        "transform_share": decode_s / total,
        "cold_decode_s": cold_s, "cold_decode_share": cold_s / total,
        "decode_count": loading.decode_count() - decodes_before,
        "best_params": search.best_params_, "best_cv_accuracy": float(search.best_score_),
        "load_1min_before": load_before[0], "load_1min_after": P.load_average()[0],
    }
    record = {"benchmark": "search", "environment": P.environment(), "grid": GRID,
              "rows": rows, "transform_calls": calls, "summary": summary}
    P.write_json("bench_search", record, args.json)
    P.print_table(rows, ["params", "mean_cv_accuracy", "std", "mean_fit_s"])
    print()
    P.print_table([summary], ["candidates", "fits", "total_s", "transform_calls", "transform_s",
                              "transform_share", "cold_decode_s", "decode_count",
                              "load_1min_before", "load_1min_after"])
    print(f"best: {summary['best_params']} ({summary['best_cv_accuracy']:.3f})")
    return record


if __name__ == "__main__":
    main()
