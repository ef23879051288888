"""Cold-start import time of each function's handler module, against a bare boto3 client, in one run.

The part of a cold start the code controls is the handler module's import. Each sample is a fresh
interpreter (`python -S`: no site-packages) that imports functions/<name>/app.py with the function folder
and the layer's `python/` folder on sys.path, as Lambda does. The layer is the one `sam build` produces:
this benchmark runs `sam build CommonLayer` into a temporary folder first (about 10 s, wheels from pip's
cache or the package index), so what is timed is what would be deployed.

The anchor, measured in the same run and interleaved with the handlers so machine load hits both alike,
is `import boto3; boto3.client("s3")` from this venv's precompiled site-packages. Goal: every handler at
most 1.3x the anchor in CPU time (an import is CPU-bound; wall time, also printed, counts the waits for a
core that neighbours on a shared machine cause). For comparison, the report handler is also timed against
the same layer stripped of its bytecode, as SAM's python3.13 builder shipped it (Lambda's /opt is
read-only, so nothing is cached between cold starts).
Reported: medians of BENCH_COLDSTART_RUNS samples (default 9).
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
# Each probe prints wall and CPU seconds. Importing is CPU-bound (the files are in the page cache), so CPU
# time is the import's own cost; wall time also counts waiting for a core a neighbour holds.
_PROBE = (
    "import time; t, c = time.perf_counter(), time.process_time(); {}; "
    "print(time.perf_counter() - t, time.process_time() - c)"
)
HANDLER_PROBE = _PROBE.format("import app")
ANCHOR_PROBE = _PROBE.format("import boto3; boto3.client('s3')")


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


def sample(probe: str, path: list[Path], cwd: Path) -> tuple[float, float]:
    """(wall, CPU) seconds one fresh interpreter reports for `probe`, with only `path` importable."""
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
    wall, cpu = out.stdout.split()
    return float(wall), float(cpu)


def measure(layer: list[Path], runs: int, bare: Path | None = None) -> dict[str, list[tuple[float, float]]]:
    """(wall, CPU) seconds per sample for the anchor and each handler (`layer`: its path), interleaved.

    `bare`: the same layer without bytecode (what SAM's python3.13 builder shipped), timed for the report.
    """
    functions = sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").exists())
    times: dict[str, list[tuple[float, float]]] = {"anchor": [], **{f: [] for f in functions}}
    if bare is not None:
        times[BARE] = []
    for _ in range(runs):
        times["anchor"].append(sample(ANCHOR_PROBE, [SITE], ROOT))
        for function in functions:
            folder = ROOT / "functions" / function
            times[function].append(sample(HANDLER_PROBE, [folder, *layer], folder))
        if bare is not None:
            folder = ROOT / "functions" / "report"
            times[BARE].append(sample(HANDLER_PROBE, [folder, bare], folder))
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
    wall = {name: statistics.median(w for w, _ in samples) * 1000 for name, samples in times.items()}
    cpu = {name: statistics.median(c for _, c in samples) * 1000 for name, samples in times.items()}
    print(f"handler import time, median of {runs} fresh interpreters each, {what}")
    print(f"anchor: `import boto3; boto3.client('s3')` from precompiled site-packages; goal <= {GOAL}x (CPU)")
    print(f"{'import':<22} {'wall ms':>8} {'x anchor':>9} {'CPU ms':>8} {'x anchor':>9}")
    for name in times:
        label = {"anchor": "anchor (boto3 + s3)", BARE: BARE}.get(name, f"{name}/app.py")
        ratio, cpu_ratio = wall[name] / wall["anchor"], cpu[name] / cpu["anchor"]
        verdict = "" if name in ("anchor", BARE) else ("  ok" if cpu_ratio <= GOAL else "  OVER GOAL")
        print(f"{label:<22} {wall[name]:>8.0f} {ratio:>8.2f}x {cpu[name]:>8.0f} {cpu_ratio:>8.2f}x{verdict}")


if __name__ == "__main__":
    main()
