"""Running `python -m scripts.demo` in a subprocess, as `make demo` runs it, for the demo tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT


def run_demo(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The demo with `args`, writing to `out`; no AWS settings of the caller reach it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | {
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "POWERTOOLS_TRACE_DISABLED": "1",
        # This checkout's package, as `make demo` runs it, even when the venv's editable install is elsewhere.
        "PYTHONPATH": str(REPO_ROOT / "layers" / "common"),
    }
    return subprocess.run(
        [sys.executable, "-m", "scripts.demo", "--out", str(out), *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
