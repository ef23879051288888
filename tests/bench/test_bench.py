"""`make bench` runs: the entry point, every benchmark, tiny sizes (`--quick`), exit status 0.

Not a timed test: it only proves each benchmark still runs end to end and prints its table, so a broken
benchmark shows up here and not in the next person's `make bench`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import benchmarks

ROOT = Path(__file__).resolve().parents[2]


def test_every_benchmark_module_is_found_and_the_runner_itself_is_not() -> None:
    names = benchmarks()
    assert {"api_calls", "coldstart", "logfiles", "render"} <= set(names)
    assert "__main__" not in names


@pytest.mark.slow  # about 15 s on an idle 2-core machine: moto, a small archive, fresh interpreters
def test_python_m_bench_quick_runs_every_benchmark_and_exits_0() -> None:
    # As `make bench` runs it: this checkout's package first, whatever the venv's editable install says.
    env = {
        **os.environ,
        "AWS_DEFAULT_REGION": "us-east-1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": str(ROOT / "layers" / "common"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for name in benchmarks():
        assert f"=== bench.{name} ===" in result.stdout
    # Each table's closing figures are there: the ratios `make bench` exists to print.
    assert "x anchor" in result.stdout
    assert "x jq" in result.stdout or "jq not installed" in result.stdout
    assert "the scan's stages alone" in result.stdout  # the engines the log scan was chosen from
    assert "fewer calls" in result.stdout
    assert "headroom" in result.stdout
