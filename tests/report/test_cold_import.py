"""The report handler's import (the part of a cold start the code controls) leaves the engine for the
invocation: pricing data, Insights and the collectors load when a report is built, not when Lambda imports
app.py (bench/coldstart.py measures the time; this keeps the shape from regressing silently)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ["bedrock_usage.pipeline", "bedrock_usage.price", "genai_prices", "bedrock_usage.collect.insights"]


def test_importing_the_report_handler_does_not_load_the_engine() -> None:
    probe = f"import sys, app; print(__import__('json').dumps([m for m in {ENGINE!r} if m in sys.modules]))"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "functions" / "report"), str(ROOT / "layers" / "common")]),
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "1",
    }

    loaded = subprocess.run(
        [sys.executable, "-c", probe],
        env=env,
        cwd=ROOT / "functions" / "report",
        capture_output=True,
        text=True,
        check=True,
    )

    assert json.loads(loaded.stdout.strip().splitlines()[-1]) == []
