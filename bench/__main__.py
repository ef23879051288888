"""Run every benchmark module (bench/*.py with a main()) in name order, or those named on the command line.

`--quick` runs each on tiny sizes (seconds, not minutes): the smoke test in tests/bench uses it so a broken
benchmark shows up in `make unit`, not in the next person's `make bench`.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def benchmarks() -> list[str]:
    """Module names under bench/ that are benchmarks (not this runner, not _private helpers)."""
    found = pkgutil.iter_modules([str(Path(__file__).parent)])
    return sorted(m.name for m in found if not m.name.startswith("_"))


def main(argv: list[str]) -> int:
    """Run the named benchmarks (default: all); a benchmark that raises ends the run with its traceback."""
    quick = "--quick" in argv
    names = [a for a in argv if a != "--quick"] or benchmarks()
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        if hasattr(module, "main"):
            print(f"\n=== bench.{name} ===", flush=True)
            module.main(quick=quick)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
