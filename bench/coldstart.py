"""Cold-start import time of each function's handler module, the part of a cold start the code controls.

Each sample is a fresh interpreter that imports functions/<name>/app.py with the function folder and the
layer package on sys.path (the built layer's `python/` folder when `make build` has run, else the source),
as Lambda does. Reported: median and max of BENCH_COLDSTART_RUNS runs (default 7).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = "import time; t = time.perf_counter(); import app; print(time.perf_counter() - t)"


def layer_path() -> tuple[Path, str, bool]:
    built = ROOT / ".aws-sam" / "build" / "CommonLayer" / "python"
    if built.is_dir():
        return built, "built layer (.aws-sam/build; run make build first to refresh it)", True
    return ROOT / "layers" / "common", "layer source + .venv packages", False


def sample(function: str, layer: Path, isolated: bool) -> float:
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'functions' / function}{os.pathsep}{layer}",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    # -S: no site-packages, so only the built layer (which ships every dependency) is importable.
    argv = [sys.executable, *(["-S"] if isolated else []), "-c", PROBE]
    out = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if out.returncode:
        raise SystemExit(f"{function}: import failed:\n{out.stderr}")
    return float(out.stdout.strip())


def main() -> None:
    runs = int(os.environ.get("BENCH_COLDSTART_RUNS", "7"))
    layer, what, isolated = layer_path()
    print(f"handler import time, {runs} fresh interpreters each, {what}")
    print(f"{'function':<16} {'median ms':>10} {'max ms':>8}")
    for function in sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").exists()):
        times = [sample(function, layer, isolated) * 1000 for _ in range(runs)]
        print(f"{function:<16} {statistics.median(times):>10.0f} {max(times):>8.0f}")


if __name__ == "__main__":
    main()
