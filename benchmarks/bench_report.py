"""How long the HTML report takes against the training it reports on (notebook protocol).

The deep CNN is trained under the notebook's protocol (5,400 photos at 50x50,
17 epochs, seed 0) and ``write_report`` then draws every section for the 575
test photos, named by their paths as ``skcatdog train`` names them. Prints
one table row per step and writes ``benchmarks/out/bench_report.json``.

    .venv/bin/python benchmarks/bench_report.py
"""

import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _protocol as P  # noqa: E402


def main():
    from bench_accuracy import make_classifier

    from skcatdog.report import SECTIONS, write_report

    p_train, p_test, y_train, y_test = P.load_split()
    X_train, _ = P.load_pixels(p_train)
    X_test, _ = P.load_pixels(p_test)
    clf = make_classifier("deep", 0, P.EPOCHS)
    load = P.load_average()[0]
    start = time.perf_counter()
    clf.fit(X_train, y_train)
    fit_s = time.perf_counter() - start
    sections = []
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        last = [start]

        def progress(done, total):
            now = time.perf_counter()
            sections.append({"section": SECTIONS[done - 1].__name__.strip("_"),
                             "seconds": round(now - last[0], 2)})
            last[0] = now

        write_report(clf, X_test, y_test, out, sample_names=list(p_test), progress=progress)
        report_s = time.perf_counter() - start
        size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    record = {"train_s": round(fit_s, 1), "report_s": round(report_s, 1),
              "report_over_train": round(report_s / fit_s, 3), "n_test": len(y_test),
              "folder_bytes": size, "sections": sections, "load_before": load,
              "load_after": P.load_average()[0]}
    print("| step | seconds |\n|---|---|")
    print(f"| training (deep CNN, 5,400 photos, {P.EPOCHS} epochs) | {fit_s:.1f} |")
    for row in sections:
        print(f"| report: {row['section']} | {row['seconds']:.2f} |")
    print(f"| report, in all ({len(y_test)} test photos) | {report_s:.1f} "
          f"({report_s / fit_s:.2f} of training) |")
    P.OUT_DIR.mkdir(exist_ok=True)
    (P.OUT_DIR / "bench_report.json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
