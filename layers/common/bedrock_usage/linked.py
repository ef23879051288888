"""Monitoring mode, end to end: read every linked account in each Region, then add the per-account view.

`pipeline.run_report` calls `collect_linked_regions` after its own per-Region reads (which cover this account)
and `add_accounts` after the report is built. Source accounts' usage is added to the report's totals, models,
callers and daily series (Metrics Insights keeps two weeks: older days hold this account only, and the report
says so); their latency is not, and the report says that too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bedrock_usage.accounts_view import account_lines, merge_sources_into
from bedrock_usage.collect.accounts import LinkedUsage, account_names, collect_linked
from bedrock_usage.collect.billed_accounts import NEEDS_MANAGEMENT, billed_by_account, is_management_account
from bedrock_usage.collect.cloudwatch import DIMENSION, NAMESPACE
from bedrock_usage.model import Report, SourceFailure, Usage, Window
from bedrock_usage.price import Pricer

NO_OWN_METRICS = (
    f"no {NAMESPACE} metrics with a {DIMENSION} dimension in this region"  # collect/cloudwatch.py
)
PARTIAL_NOTE = (
    "source accounts are in the totals, models, callers and daily trend; latency covers this account only"
)


def own_account_id(sts: Any) -> str:
    """This account's ID (STS GetCallerIdentity needs no permission)."""
    return str(sts.get_caller_identity()["Account"])


def collect_linked_regions(
    client: Callable[..., Any],
    regions: Sequence[str],
    window: Window,
    *,
    log_group: str | None,
    own_account: str,
    with_logs: bool = True,
    sleep: Callable[[float], None] = time.sleep,
    insights_timeout_s: float = 120,
    now: datetime | None = None,
    daily_from: datetime | None = None,
) -> LinkedUsage:
    """Every linked account's usage in `window` (and per day from `daily_from`), over `regions`; failures are
    recorded, never raised."""
    total = LinkedUsage(window=window)
    for region in regions:
        total.merge(
            collect_linked(
                cloudwatch=client("cloudwatch", region),
                logs=client("logs", region) if with_logs else None,
                window=window,
                region=region,
                log_group=log_group if with_logs else None,
                own_account=own_account,
                sleep=sleep,
                insights_timeout_s=insights_timeout_s / len(regions),
                now=now,
                daily_from=daily_from,
            )
        )
    return total


def fold_sources(usage: Usage, linked: LinkedUsage, own_account: str, *, note: bool = True) -> None:
    """Put the source accounts into `usage` (the report's own reading of this account) with what failed."""
    merge_sources_into(usage, linked, own_account)
    usage.failures.extend(linked.failures)
    usage.warnings.extend(linked.warnings)
    if note and any(a != own_account for a in linked.by_account):
        usage.warnings.append(PARTIAL_NOTE)
    if any(u.by_model for a, u in linked.by_account.items() if a != own_account):
        # This account's own reading says it found no Bedrock metrics; with the source accounts' usage in the
        # report, that sentence would read as "no usage at all".
        usage.warnings[:] = [w for w in usage.warnings if w != NO_OWN_METRICS]


def add_accounts(
    report: Report,
    current: LinkedUsage,
    previous: LinkedUsage | None,
    pricer: Pricer,
    *,
    client: Callable[..., Any],
    own_account: str,
    cost_explorer: bool,
    today: date,
) -> None:
    """Fill report.accounts and accounts_notes, with names and bills where readable."""
    organizations = client("organizations", "us-east-1")  # Organizations is served from us-east-1
    names, why_no_names = account_names(organizations)
    notes = [why_no_names] if why_no_names else []
    billed = None
    if cost_explorer:
        if is_management_account(organizations, own_account):
            try:
                billed = billed_by_account(client("ce", "us-east-1"), today.replace(day=1), today)
            except (ClientError, BotoCoreError) as exc:
                report.failures.append(
                    SourceFailure("cost-explorer (per account)", f"{type(exc).__name__}: {exc}")
                )
        else:
            notes.append(NEEDS_MANAGEMENT)
    report.accounts = account_lines(current, previous, pricer, names=names, billed=billed)
    report.accounts_notes = notes
