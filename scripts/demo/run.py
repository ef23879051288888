"""The demo's command line and its order of steps (STEPS): `python -m scripts.demo` runs `main()`."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from scripts.demo import accounts, alarm, doctor, logging_setup, report, summary, traffic
from scripts.demo.common import DEMO_PARAMETERS, REPO, Demo, Outcome, say
from scripts.demo.emulator import emulator
from scripts.demo.stack import create_stack

# The steps after the stack exists, in order: a title (formatted with the Demo's fields) and a function of
# the Demo. A later step is one more entry. A step raises DemoError to stop the demo, or calls
# common.skip() to note what it could not do and let the others run.
STEPS: list[tuple[str, Callable[[Demo], None]]] = [
    ("LoggingSetupFunction: Create, as CloudFormation sends it", logging_setup.step),
    ("Writing {days} days of Bedrock traffic the way Bedrock writes it", traffic.step),
    ("ReportFunction with events/24h.json", report.step),
    ("AlarmRouterFunction with one alarm notification", alarm.step),
    ("bedrock-usage doctor against the emulated stack (what moto cannot answer is SKIP)", doctor.step),
    ("Summary", summary.step),
]
# With --accounts N, after the monitoring account's traffic.
ACCOUNTS_STEP = ("{sources} emulated source accounts, each with its log bucket and traffic", accounts.step)


def steps(n_accounts: int) -> list[tuple[str, Callable[[Demo], None]]]:
    """STEPS, with the source accounts' step after the traffic when there are any."""
    if n_accounts <= 1:
        return list(STEPS)
    at = [step for _, step in STEPS].index(traffic.step) + 1
    return [*STEPS[:at], ACCOUNTS_STEP, *STEPS[at:]]


# Files a previous run left: removed first, so a step that fails cannot leave an old result looking new.
OUTPUTS = (
    "digest.html",
    "digest.txt",
    "digest.eml",
    "alarm.html",
    "alarm.txt",
    "alarm.eml",
    "report.json",
    "doctor.txt",
)


def run(
    out_dir: Path,
    *,
    per_day: int = 1000,
    days: int = 15,
    seed: int = 7,
    now: datetime | None = None,
    n_accounts: int = 1,
) -> Outcome:
    """Every step, in order; raises DemoError (or the failing step's own error) on the first failure."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in (*OUTPUTS, "summary.json"):
        (out_dir / stale).unlink(missing_ok=True)
    outcome = Outcome(out_dir)
    started = time.monotonic()
    todo = steps(n_accounts)
    total = 2 + len(todo)

    def progress(n: int, text: str) -> None:
        say(f"[{n}/{total}] {text}  ({time.monotonic() - started:.0f}s)")

    with (out_dir / "lambda.log").open("w", encoding="utf-8") as log:
        progress(1, "Starting the AWS emulator (moto, in this process; fake credentials, no network)")
        with emulator():
            progress(2, "Creating the stack's resources from template.yaml (transformed offline by SAM)")
            stack = create_stack(DEMO_PARAMETERS)
            demo = Demo(stack, outcome, log, now, days=days, per_day=per_day, seed=seed, accounts=n_accounts)
            for n, (title, step) in enumerate(todo, 3):
                progress(n, title.format(days=days, per_day=per_day, seed=seed, sources=n_accounts - 1))
                step(demo)
    outcome.files["lambda.log"] = out_dir / "lambda.log"
    outcome.files["summary.json"] = summary.write_summary(
        outcome, now=now, per_day=per_day, days=days, seed=seed, accounts=n_accounts
    )
    say("")
    say(f"Done in {time.monotonic() - started:.0f}s. Files in {shown(out_dir)}/:")
    for path in outcome.files.values():
        say(f"    {shown(path)}")
    if "digest.html" in outcome.files:
        say(
            f"Open the digest in a browser: xdg-open {shown(outcome.files['digest.html'])} (macOS: open); "
            "the .eml opens in a mail client; `make preview` renders it to a PNG."
        )
    if outcome.skipped:
        say(f"Not yet available, skipped: {', '.join(outcome.skipped)}")
    return outcome


def shown(path: Path) -> str:
    """`path` relative to the working folder when it is under it (shorter progress lines)."""
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(Path.cwd()))
    return str(path)


def _utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone; add Z or +00:00")
    if moment > datetime.now(UTC):
        raise argparse.ArgumentTypeError(f"{text!r} is in the future; CloudWatch would refuse its traffic")
    return moment.astimezone(UTC)


def _accounts(text: str) -> int:
    n = int(text)
    if not 1 <= n <= accounts.MAX_ACCOUNTS:
        raise argparse.ArgumentTypeError(f"{n} is not 1 to {accounts.MAX_ACCOUNTS}")
    return n


DESCRIPTION = "The whole Bedrock Usage Monitor pipeline on an embedded AWS emulator (moto), offline."


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run the demo; 0 on success, 1 (with one clear line and the traceback) on failure."""
    parser = argparse.ArgumentParser(prog="python -m scripts.demo", description=DESCRIPTION)
    parser.add_argument(
        "--per-day", type=int, default=1000, help="average Bedrock requests a day (default 1000)"
    )
    parser.add_argument("--days", type=int, default=15, help="days of traffic (default 15)")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the traffic (default 7)")
    parser.add_argument(
        "--accounts",
        type=_accounts,
        default=1,
        help="accounts in all: the monitoring account and N-1 emulated source accounts whose log files the "
        f"report reads too, for an Accounts section (default 1, at most {accounts.MAX_ACCOUNTS})",
    )
    parser.add_argument("--out", type=Path, default=REPO / "build" / "demo", help="output folder")
    parser.add_argument(
        "--now", type=_utc, default=None, help="end of the traffic, ISO-8601 UTC (default: now)"
    )
    args = parser.parse_args(argv)
    try:
        run(
            args.out,
            per_day=args.per_day,
            days=args.days,
            seed=args.seed,
            now=args.now,
            n_accounts=args.accounts,
        )
    except Exception as exc:  # noqa: BLE001 - the top of a command: one clear line, the details in the log
        print(f"\ndemo failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        print(f"(function logs: {shown(args.out / 'lambda.log')}; traceback below)", file=sys.stderr)
        import traceback

        traceback.print_exc()
        return 1
    return 0
