"""Every gallery example in examples/ runs from start to end.

Each ``examples/plot_*.py`` runs in its own Python process (as sphinx-gallery
would, but headless: ``MPLBACKEND=Agg``) from an empty working folder, with the
demo photos written under ``tmp_path`` instead of ``~/skcatdog_data``.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("plot_*.py"))

# The examples take well under a minute each on an idle 2-core machine; the
# limit is generous because the test suite often shares the machine.
TIMEOUT_S = 600


def test_examples_are_found():
    assert len(EXAMPLES) >= 4, EXAMPLES


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(path, tmp_path):
    env = {
        **os.environ,
        "MPLBACKEND": "Agg",
        "SKCATDOG_DATA": str(tmp_path / "skcatdog_data"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    env.pop("SKCATDOG_EXAMPLES_FULL", None)  # the small, fast settings
    work = tmp_path / "cwd"
    work.mkdir()
    code = f"import runpy; runpy.run_path({str(path)!r}, run_name='__main__')"
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=work, env=env, capture_output=True, text=True,
        timeout=TIMEOUT_S,
    )
    elapsed = time.perf_counter() - start
    assert result.returncode == 0, (
        f"{path.name} failed (exit {result.returncode}) after {elapsed:.0f} s:\n"
        f"--- stdout ---\n{result.stdout[-4000:]}\n--- stderr ---\n{result.stderr[-4000:]}"
    )
    print(f"{path.name}: {elapsed:.1f} s")
    # nothing left behind in the working folder
    assert not any(work.iterdir()), sorted(p.name for p in work.iterdir())
