#!/usr/bin/env python
"""Open a skcatdog report.html in headless Chromium and check that it renders.

Checks that Chromium loads the page, that the rendered DOM holds every <img>
of the file with an embedded data: URI (none fetched from elsewhere), that
every image decoded (naturalWidth > 0, read by a small inline script that
writes the result into the DOM), and that the screenshot is not blank.

Usage::

    python scripts/check_report_in_browser.py runs/demo/report.html [--screenshot out.png]

Exit status: 0 rendered, 1 a check failed, 77 Chromium is not installed (the
check is skipped; install it with ``apt-get install -y chromium``).
"""

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SKIP = 77
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--hide-scrollbars", "--virtual-time-budget=5000",
]


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _chromium(binary, args, profile, timeout):
    cmd = [binary, *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def check(report, screenshot, timeout=120):
    """Return ``(problems, number of images)``; no problems when the report renders."""
    from PIL import Image, ImageStat

    binary = find_chromium()
    report = Path(report).resolve()
    source = report.read_text(encoding="utf-8")
    n_img = len(re.findall(r"<img\b", source))
    n_data = len(re.findall(r'<img\b[^>]*\ssrc="data:image/png;base64,', source))
    problems = []
    if n_img == 0:
        problems.append("the report holds no <img>")
    if n_data != n_img:
        problems.append(f"{n_img - n_data} of {n_img} <img> are not embedded data: URIs")
    if re.search(r"""\b(?:src|href)\s*=\s*(?!["']?(?:data:|#))""", source, flags=re.I):
        problems.append("the report refers to an outside resource (src/href not data:)")

    # An inline probe: after load, write how many images decoded into the DOM.
    probe = (
        "<script>window.addEventListener('load',function(){var i=document.images,ok=0;"
        "for(var k=0;k<i.length;k++){if(i[k].complete&&i[k].naturalWidth>0)ok++;}"
        "document.body.setAttribute('data-images-ok',ok+'/'+i.length);});</script>"
    )
    with tempfile.TemporaryDirectory(prefix="skcatdog-chromium-") as tmp:
        probed = Path(tmp) / "probed.html"
        probed.write_text(source.replace("</body>", probe + "</body>"), encoding="utf-8")
        dom = _chromium(binary, ["--dump-dom", probed.as_uri()], Path(tmp) / "p1", timeout)
        if dom.returncode != 0 or "<body" not in dom.stdout:
            problems.append(f"chromium --dump-dom failed (exit {dom.returncode}): "
                            f"{dom.stderr.strip()[-500:]}")
        else:
            n_dom = len(re.findall(r"<img\b", dom.stdout))
            if n_dom != n_img:
                problems.append(f"the rendered DOM has {n_dom} <img>, the file {n_img}")
            match = re.search(r'data-images-ok="(\d+)/(\d+)"', dom.stdout)
            if not match:
                problems.append("the load probe did not run")
            elif match.group(1) != match.group(2) or int(match.group(2)) != n_img:
                problems.append(f"only {match.group(1)} of {match.group(2)} images decoded")
        shot = _chromium(binary, [f"--screenshot={screenshot}", "--window-size=1200,4000",
                                  report.as_uri()], Path(tmp) / "p2", timeout)
    if shot.returncode != 0 or not Path(screenshot).is_file():
        problems.append(f"no screenshot (exit {shot.returncode}): {shot.stderr.strip()[-500:]}")
        return problems, n_img
    with Image.open(screenshot) as im:
        im = im.convert("RGB")
        stat = ImageStat.Stat(im)
        if max(stat.stddev) < 5:
            problems.append(f"the screenshot is blank (pixel std {max(stat.stddev):.1f})")
        # the page is white; figures and text must cover a fair part of it
        grey = im.convert("L")
        non_white = sum(grey.histogram()[:245]) / (grey.width * grey.height)
        if non_white < 0.02:
            problems.append(f"the screenshot is nearly empty ({non_white:.1%} non-white)")
    return problems, n_img


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", help="path to report.html")
    parser.add_argument("--screenshot", default=None,
                        help="where to save the PNG (default: beside the report)")
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args(argv)
    if find_chromium() is None:
        print("SKIPPED: chromium is not installed (apt-get install -y chromium).")
        return SKIP
    report = Path(args.report)
    if not report.is_file():
        print(f"FAILED: {report} does not exist.")
        return 1
    screenshot = Path(args.screenshot or report.with_name("report-screenshot.png")).resolve()
    problems, n_img = check(report, screenshot, timeout=args.timeout)
    if problems:
        print("FAILED: " + "; ".join(problems))
        return 1
    print(f"OK: {report} rendered in Chromium with all {n_img} images; screenshot {screenshot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
