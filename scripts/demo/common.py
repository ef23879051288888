"""What every step shares: where things are, the demo's parameters, its outcome, its messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from scripts.demo.stack import Stack


REPO = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
STACK_NAME = "bedrock-usage-monitor"
ARTIFACT_BUCKET = "offline-artifacts"  # where scripts/transform_template.py points CodeUri/ContentUri
# Demo-only parameter values: an address to send from and to (SES in the emulator accepts any verified one).
DEMO_PARAMETERS = {
    "SenderEmail": "bedrock-usage@example.com",
    "ReportRecipients": "finops@example.com",
    "AlertEmail": "oncall@example.com",
    "AlarmRouting": "Bedrock-*=oncall@example.com,budget=finops@example.com,default=oncall@example.com",
}


class DemoError(Exception):
    """A step failed; the message says which and why."""


def say(message: str) -> None:
    """One progress line, printed at once (the demo takes a minute; the user sees where it is)."""
    print(message, flush=True)


@dataclass
class Outcome:
    """What the demo produced, for the summary and the test."""

    out_dir: Path
    logging_config: dict[str, Any] | None = None
    cfn_response: dict[str, Any] | None = None
    traffic: Any = None
    report: dict[str, Any] | None = None  # ReportFunction's result
    report_window: Any = None
    digest_subject: str | None = None
    files: dict[str, Path] = field(default_factory=dict)
    alarm_subject: str | None = None
    stack_outputs: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    source_accounts: list[dict[str, Any]] = field(default_factory=list)  # --accounts: what each one wrote


def skip(outcome: Outcome, what: str, why: str) -> None:
    """Note a step that cannot run yet (its function or event is missing) and go on."""
    outcome.skipped.append(what)
    say(f"    not yet available: {what} ({why}); skipped")


@dataclass
class Demo:
    """Everything a step may use: the stack, what earlier steps produced, the functions' log, the options."""

    stack: Stack
    outcome: Outcome
    log: TextIO
    now: datetime
    days: int = 15
    per_day: int = 1000
    seed: int = 7
    accounts: int = 1  # with the emulated source accounts (--accounts)
