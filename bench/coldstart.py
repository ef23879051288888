"""Cold-start import time of each function's handler module, against a bare boto3 client, in one run.

The part of a cold start the code controls is the handler module's import. Each sample is a fresh
interpreter (`python -S`: no site-packages) that imports functions/<name>/app.py with the function folder
and the layer's `python/` folder on sys.path, as Lambda does. The layer is the one `sam build` produces:
this benchmark runs `sam build CommonLayer` into a temporary folder first (about 10 s, wheels from pip's
cache or the package index), so what is timed is what would be deployed.

The anchor, measured in the same run and interleaved with the handlers so machine load hits both alike,
is `import boto3; boto3.client("s3")` from this venv's precompiled site-packages. Goal: every handler at
most 1.3x the anchor. For comparison, the report handler is also timed against the same layer stripped
of its bytecode, as SAM's python3.13 builder shipped it (Lambda's /opt is read-only, so nothing is cached
between cold starts). Reported: median and max of BENCH_COLDSTART_RUNS samples (default 9).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(sysconfig.get_paths()["purelib"])  # this venv's packages, compiled by pip at install
GOAL = 1.3
BARE = "report, no .pyc"
HANDLER_PROBE = "import time; t = time.perf_counter(); import app; print(time.perf_counter() - t)"
ANCHOR_PROBE = (
    "import time; t = time.perf_counter(); import boto3; boto3.client('s3'); print(time.perf_counter() - t)"
)


def build_layer(out: Path) -> Path:
    """`sam build CommonLayer` into `out`, offline from AWS; returns the layer's python/ folder."""
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "SAM_CLI_TELEMETRY": "0",
    }
    sam = Path(sys.executable).parent / "sam"
    argv = [str(sam), "build", "CommonLayer", "--template-file", str(ROOT / "template.yaml")]
    argv += ["--build-dir", str(out / "build"), "--cache-dir", str(out / "cache")]
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if result.returncode:
        raise SystemExit(f"sam build CommonLayer failed:\n{result.stdout}\n{result.stderr}")
    return out / "build" / "CommonLayer" / "python"


def sample(probe: str, path: list[Path], cwd: Path) -> float:
    """Seconds one fresh interpreter reports for `probe`, with only `path` importable beyond the stdlib."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(map(str, path)),
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "1",
        # Nothing may be compiled and cached between samples: every sample is a first import.
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    argv = [sys.executable, "-S", "-c", probe]
    out = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if out.returncode:
        raise SystemExit(f"{probe!r} failed with PYTHONPATH={env['PYTHONPATH']}:\n{out.stderr}")
    return float(out.stdout.strip())


def measure(layer: list[Path], runs: int, bare: Path | None = None) -> dict[str, list[float]]:
    """Milliseconds per sample for the anchor and each handler (`layer`: its import path), interleaved.

    `bare`: the same layer without bytecode (what SAM's python3.13 builder shipped), timed for the report.
    """
    functions = sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").exists())
    times: dict[str, list[float]] = {"anchor": [], **{f: [] for f in functions}}
    if bare is not None:
        times[BARE] = []
    for _ in range(runs):
        times["anchor"].append(sample(ANCHOR_PROBE, [SITE], ROOT) * 1000)
        for function in functions:
            folder = ROOT / "functions" / function
            times[function].append(sample(HANDLER_PROBE, [folder, *layer], folder) * 1000)
        if bare is not None:
            folder = ROOT / "functions" / "report"
            times[BARE].append(sample(HANDLER_PROBE, [folder, bare], folder) * 1000)
    return times


def main(quick: bool = False) -> None:
    runs = 1 if quick else int(os.environ.get("BENCH_COLDSTART_RUNS", "9"))
    with tempfile.TemporaryDirectory(prefix="bench-coldstart-") as tmp:
        if quick:
            # The quick run (the bench smoke test) skips the build: layer source over this venv's packages.
            times = measure([ROOT / "layers" / "common", SITE], runs)
            what = "layer SOURCE (quick run; not the deployed layer)"
        else:
            layer = build_layer(Path(tmp))
            bare = Path(tmp) / "bare" / "python"
            shutil.copytree(layer, bare, ignore=shutil.ignore_patterns("__pycache__"))
            times = measure([layer], runs, bare)
            what = "layer as `sam build` produces it"
    anchor = statistics.median(times["anchor"])
    print(f"handler import time, {runs} fresh interpreters each, {what}")
    print(f"anchor: `import boto3; boto3.client('s3')` from precompiled site-packages; goal <= {GOAL}x")
    print(f"{'import':<22} {'median ms':>10} {'max ms':>8} {'x anchor':>9}")
    for name, samples in times.items():
        label = {"anchor": "anchor (boto3 + s3)", BARE: BARE}.get(name, f"{name}/app.py")
        ratio = statistics.median(samples) / anchor
        verdict = "" if name in ("anchor", BARE) else ("  ok" if ratio <= GOAL else "  OVER GOAL")
        print(f"{label:<22} {statistics.median(samples):>10.0f} {max(samples):>8.0f} {ratio:>8.2f}x{verdict}")


if __name__ == "__main__":
    main()
