"""`bedrock-usage doctor`: run every check against a deployed stack and print one table.

Read-only unless --send-test. Exit status: 0 when no row is FAIL; 1 when one is; 2 when the stack
cannot be read at all (bad name, no credentials).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bedrock_usage.doctor import cost_checks, delivery_checks, logging_checks, metric_checks
from bedrock_usage.doctor.core import (
    FAIL,
    SKIP,
    STATUSES,
    Check,
    CheckFn,
    Context,
    describe_error,
    guarded,
    read_stack,
)

# (id, name, check): the order of the table. Ids match the numbering.
CHECKS: tuple[tuple[str, str, CheckFn], ...] = (
    ("1", "Bedrock logging configuration", logging_checks.check_config),
    ("2a", "Log delivery (last 24 h)", logging_checks.check_delivery_metrics),
    ("2b", "Newest log object in S3", logging_checks.check_s3_objects),
    ("2c", "Newest event in the log group", logging_checks.check_log_events),
    ("3", "Report query on a recent record", logging_checks.check_insights_record),
    ("4", "Bedrock metrics", metric_checks.check_metric_names),
    ("5a", "SES identities", delivery_checks.check_ses_identities),
    ("5b", "SES account", delivery_checks.check_ses_account),
    ("6", "Alert topic subscriptions", delivery_checks.check_topic),
    ("7a", "Alarm states", metric_checks.check_alarm_states),
    ("7b", "Alarm graphs", metric_checks.check_alarm_graphs),
    ("8a", cost_checks.CE_CHECK_NAME, cost_checks.check_cost_explorer),
    ("8b", "Budget", cost_checks.check_budget),
    ("9", "Report function's last run", metric_checks.check_report_run),
)
SEND_TEST: tuple[tuple[str, str, CheckFn], ...] = (
    ("S1", "Test digest", delivery_checks.send_test_digest),
    ("S2", "Test alarm email", delivery_checks.send_test_alarm),
)


def run_doctor(
    ctx: Context, *, send_test: bool = False, skip: Mapping[str, str] | None = None
) -> list[Check]:
    """Every check in order (and the two test sends when asked). `skip` maps a check id to the reason it
    is not run (the demo uses it for what its emulator cannot answer)."""
    rows: list[Check] = []
    for check_id, name, fn in CHECKS + (SEND_TEST if send_test else ()):
        if skip and check_id in skip:
            rows.append(Check(check_id, name, SKIP, skip[check_id]))
        else:
            rows += guarded(check_id, name, fn, ctx)
    return rows


def exit_status(rows: Sequence[Check]) -> int:
    """0 when nothing FAILs, else 1."""
    return 1 if any(row.status == FAIL for row in rows) else 0


def summary(rows: Sequence[Check]) -> dict[str, int]:
    return {status: sum(1 for row in rows if row.status == status) for status in STATUSES}


def format_text(rows: Sequence[Check], *, stack: str, region: str) -> str:
    """The table: status, check, what was seen; the fix indented under any row that has one."""
    width = max((len(f"{row.id} {row.name}") for row in rows), default=10)
    lines = [f"bedrock-usage doctor: stack {stack} in {region}", ""]
    for row in rows:
        lines.append(f"{row.status:<4}  {f'{row.id} {row.name}':<{width}}  {row.seen}")
        if row.fix:
            lines.append(f"{'':<4}  {'':<{width}}  -> {row.fix}")
    counts = summary(rows)
    lines += ["", ", ".join(f"{n} {status}" for status, n in counts.items())]
    return "\n".join(lines) + "\n"


def to_dict(rows: Sequence[Check], *, stack: str, region: str) -> dict[str, Any]:
    """The JSON form (for scripts): stack, region, checks, counts per status, and the exit status."""
    return {
        "stack": stack,
        "region": region,
        "checks": [row.to_dict() for row in rows],
        "summary": summary(rows),
        "exit_status": exit_status(rows),
    }


def run(
    args: argparse.Namespace,
    client: Callable[..., Any] | None = None,
    print_: Callable[[str], None] = print,
    now: datetime | None = None,
) -> int:
    """Read the stack, run the checks, print the table. Exit 0 when nothing FAILs, 1 if one does, 2 when
    the stack cannot be read."""
    if client is None:
        import boto3

        session = boto3.session.Session(region_name=args.region)

        def client(service: str, region_name: str | None = None) -> Any:
            return session.client(service, region_name=region_name)  # type: ignore[call-overload]

    region = args.region or "(no Region configured)"
    try:
        cloudformation = client("cloudformation", region_name=args.region)
        region = cloudformation.meta.region_name
        stack = read_stack(cloudformation, args.stack)
    except (ClientError, BotoCoreError) as exc:  # no such stack, no credentials, no Region
        detail = describe_error(exc) if isinstance(exc, ClientError) else str(exc)
        print_(f"bedrock-usage doctor: cannot read stack {args.stack} in {region}: {detail}")
        return 2
    ctx = Context(
        client=lambda service: client(service, region_name=region),
        stack=stack,
        region=region,
        now=now or datetime.now(UTC),
    )
    rows = run_doctor(ctx, send_test=args.send_test)
    if args.format == "json":
        print_(json.dumps(to_dict(rows, stack=stack.name, region=region), indent=2))
    else:
        print_(format_text(rows, stack=stack.name, region=region).rstrip("\n"))
    return exit_status(rows)
