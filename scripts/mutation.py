"""`make mutation`: mutmut over the modules that compute dollars, dates and emails; score per module.

mutmut 3 imports the code under test by the module path it sees from the file path, and only strips a
leading `src/`; our package lives in `layers/common/`. So the run happens in a scratch copy
(build/mutation/) where the package sits under `src/`, and the worktree is never touched.
Score = killed (including timeouts) / every mutant, so untested code counts against it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build" / "mutation"
PACKAGE = "bedrock_usage"
DEFAULT_MODULES = [
    "analyze",
    "digest",
    "collect/logfiles",
    "collect/logfile_files",
    "collect/logfile_records",
    "collect/logfile_parse",
    "price",
    "alarms/notification",
    "logging_config",
    "logging_errors",
    "logging_state",
]
# Glob patterns, relative to the repository; folders that do not exist are left out.
DEFAULT_TESTS = [
    "tests/engine/test_analyze*.py",
    "tests/engine/test_price*.py",
    "tests/engine/test_logfile*.py",  # test_logfiles*, test_logfile_scan, test_logfile_fastpaths
    "tests/report/test_digest*.py",
    "tests/price/test_price_list.py",
    "tests/price/test_pipeline_prices.py",
    "tests/price/test_wording.py",
    "tests/alarm_router/test_parse.py",
    "tests/alarm_router/test_compose.py",
    "tests/alarm_router/test_routing.py",
    "tests/alarm_router/test_cloudwatch.py",
    "tests/logging_setup/test_logging_config.py",
    "tests/logging_setup/test_handler.py",
    "tests/logging_setup/test_logging_reasons.py",
    "tests/logging_setup/test_logging_messages.py",
]
# Tests that read the package's source text: in mutmut's copy every function holds all its mutants side by
# side, so they fail on the copy itself, whatever the mutant.
DESELECT = [
    "tests/engine/test_logfile_engines.py::test_every_key_the_count_reads_is_named_in_the_fast_engines_schema"
]
# mutmut's exit codes (mutmut/stats.py): a mutant counts as killed when a test failed or hung on it.
KILLED = {1, 3, 24, -24, 36, 37, 152, 255}
SURVIVED = {0}
SKIP_DIRS = {".git", "build", "mutants", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}


def _ignore(folder: str, names: list[str]) -> set[str]:
    return {n for n in names if n in SKIP_DIRS or n.startswith(".venv") or n.endswith(".egg-info")}


def prepare(modules: list[str], tests: list[str]) -> None:
    """A scratch copy with the package under src/ and a [mutmut] section naming what to mutate."""
    shutil.rmtree(WORK, ignore_errors=True)
    shutil.copytree(ROOT, WORK, ignore=_ignore, symlinks=True)
    (WORK / "src").mkdir()
    shutil.move(WORK / "layers" / "common" / PACKAGE, WORK / "src" / PACKAGE)
    pyproject = WORK / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('pythonpath = ["layers/common"]', 'pythonpath = ["src"]')
    )
    only = "\n".join(f"    src/{PACKAGE}/{m}.py" for m in modules)
    (WORK / "setup.cfg").write_text(
        "[mutmut]\n"
        f"source_paths = src/{PACKAGE}\n"
        f"only_mutate =\n{only}\n"
        f"{_selection(tests)}"
        "pytest_add_cli_args =\n    -p\n    no:cacheprovider\n"
        + "".join(f"    --deselect\n    {test}\n" for test in DESELECT)
        + "also_copy =\n    scripts\n    events\n    functions\n    template.yaml\n"
        "use_git_change_detection = false\n"
    )


def _selection(tests: list[str]) -> str:
    """The setup.cfg lines naming the test files mutmut runs (glob patterns resolved now)."""
    paths = sorted({p.relative_to(ROOT).as_posix() for pattern in tests for p in ROOT.glob(pattern)})
    return "pytest_add_cli_args_test_selection =\n" + "".join(f"    {t}\n" for t in paths)


def refresh_tests(tests: list[str]) -> None:
    """Bring the scratch copy's tests (and the list of test files) up to date, keeping mutmut's mutants and
    results; mutmut collects coverage for tests it has not seen before running the mutants."""
    for folder in ("tests", "scripts"):
        shutil.rmtree(WORK / folder)
        shutil.copytree(ROOT / folder, WORK / folder, ignore=_ignore)
    config = WORK / "setup.cfg"
    config.write_text(
        re.sub(
            r"pytest_add_cli_args_test_selection =\n(    .*\n)*",
            lambda _: _selection(tests),
            config.read_text(),
        )
    )


def _meta_file(module: str) -> Path:
    return WORK / "mutants" / "src" / PACKAGE / f"{module}.py.meta"


def _meta(module: str) -> dict[str, int | None]:
    meta = _meta_file(module)
    return json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}


def _saved_results(module: str) -> Path:
    return WORK / f"results-{module.replace('/', '.')}.json"


def save_results(modules: list[str]) -> None:
    """Keep each module's results on disk before a retest: mutmut rewrites each .meta file when it starts,
    and every mutant it was not asked to run would read as not checked if the retest were interrupted."""
    for module in modules:
        path = _saved_results(module)
        if not path.exists():  # left by an interrupted retest: it still holds the older, complete results
            path.write_text(json.dumps(_meta(module)))


def keep_earlier_results(modules: list[str]) -> None:
    """Put back the results a retest did not redo. Only tests were refreshed (the mutants are unchanged),
    so an earlier kill still stands."""
    for module in modules:
        path, saved = _meta_file(module), _saved_results(module)
        if not path.exists() or not saved.exists():
            continue
        meta = json.loads(path.read_text())
        codes = meta["exit_code_by_key"]
        for key, code in json.loads(saved.read_text()).items():
            if key in codes and codes[key] is None and code is not None:
                codes[key] = code
        path.write_text(json.dumps(meta))
        saved.unlink()


def scores(modules: list[str]) -> list[tuple[str, int, int, list[str]]]:
    """(module, killed, all, survivors) per module, from mutmut's .meta files; unchecked ones excluded."""
    rows = []
    for module in modules:
        codes = _meta(module)
        killed = sum(1 for c in codes.values() if c in KILLED)
        survivors = sorted(k for k, c in codes.items() if c is not None and c not in KILLED)
        rows.append((module, killed, len(codes), survivors))
    return rows


def _sample_file(module: str) -> Path:
    return WORK / f"sample-{module.replace('/', '.')}.txt"


def draw_sample(modules: list[str], size: int) -> list[str]:
    """A seeded random sample of each module's not yet checked mutants, remembered for the estimate."""
    names = []
    for module in modules:
        unchecked = sorted(k for k, c in _meta(module).items() if c is None)
        picked = random.Random(11).sample(unchecked, min(size, len(unchecked)))  # noqa: S311 - not a secret
        _sample_file(module).write_text("\n".join(picked) + "\n")
        names.extend(picked)
    return names


def estimate(module: str) -> str:
    """Stratified estimate when a run stopped early: checked mutants as they are, the unchecked ones at
    the kill rate of a random sample of them (see --sample)."""
    codes = _meta(module)
    path = _sample_file(module)
    unchecked_before = [k for k in (path.read_text().split() if path.exists() else [])]
    sample = [codes.get(k) for k in unchecked_before]
    sample_done = [c for c in sample if c is not None]
    checked = [c for k, c in codes.items() if c is not None and k not in set(unchecked_before)]
    unchecked = len(codes) - len(checked)
    if not unchecked:
        return ""
    if not sample_done:
        return f"  ({unchecked} not checked)"
    rate = sum(1 for c in sample_done if c in KILLED) / len(sample_done)
    est = (sum(1 for c in checked if c in KILLED) + rate * unchecked) / len(codes)
    return (
        f"  estimate {100 * est:.1f}%: {len(checked)} checked, the other {unchecked} at the "
        f"{100 * rate:.1f}% kill rate of a random sample of {len(sample_done)}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--modules", nargs="*", default=DEFAULT_MODULES, help="under bedrock_usage/")
    parser.add_argument("--tests", nargs="*", default=DEFAULT_TESTS)
    parser.add_argument("--max-children", default="1", help="parallel mutant workers (default 1)")
    parser.add_argument("--score-only", action="store_true", help="print the scores of the last run")
    parser.add_argument(
        "--retest", action="store_true", help="run the last run's survivors again against the current tests"
    )
    parser.add_argument(
        "--sample", type=int, default=0, help="with --retest: also run N random unchecked mutants per module"
    )
    parser.add_argument("--goal", type=float, default=85.0, help="percent killed expected of each module")
    args = parser.parse_args()
    if not args.score_only:
        names: list[str] = []
        if args.retest:
            keep_earlier_results(args.modules)  # an interrupted retest's saved results first
            save_results(args.modules)
            refresh_tests(args.tests)
            names = [n for *_, survivors in scores(args.modules) for n in survivors]
            if args.sample:
                names += draw_sample(args.modules, args.sample)
        else:
            prepare(args.modules, args.tests)
        if args.retest and not names:
            print("no survivors to retest")  # mutmut given no names would run every mutant
        else:
            mutmut = Path(sys.executable).with_name("mutmut")
            run = subprocess.run(
                [str(mutmut), "run", "--max-children", args.max_children, *names],
                cwd=WORK,
                env=os.environ,
                check=False,
            )
            keep_earlier_results(args.modules)
            if run.returncode not in (0, 1):
                print(f"mutmut run failed ({run.returncode})", file=sys.stderr)
                return run.returncode
    rows = scores(args.modules)
    print(f"\n{'module':<22}{'killed':>8}{'all':>8}{'score':>9}")
    below: list[str] = []
    unchecked: list[str] = []
    for module, killed, total, survivors in rows:
        pct = 100 * killed / total if total else 0.0
        print(f"{module:<22}{killed:>8}{total:>8}{pct:>8.1f}%{estimate(module)}")
        if None in _meta(module).values():
            unchecked.append(module)
        elif pct < args.goal:
            below.append(module)
        (WORK / f"survivors-{module.replace('/', '.')}.txt").write_text("\n".join(survivors) + "\n")
    kinds = Counter(c for m in args.modules for c in _codes(m))
    print(f"\nexit codes over all mutants: {dict(kinds)}")
    print(f"survivors listed in {WORK.relative_to(ROOT)}/survivors-*.txt; inspect one with:")
    print(f"  cd {WORK.relative_to(ROOT)} && ../../.venv-mutation/bin/mutmut show <name>")
    if below:
        print(f"below the {args.goal:g}% goal: {', '.join(below)}")
    if unchecked:
        print(f"not every mutant checked (run stopped or sampled): {', '.join(unchecked)}")
    return 0


def _codes(module: str) -> list[int | None]:
    meta = WORK / "mutants" / "src" / PACKAGE / f"{module}.py.meta"
    return list(json.loads(meta.read_text())["exit_code_by_key"].values()) if meta.exists() else []


if __name__ == "__main__":
    sys.exit(main())
