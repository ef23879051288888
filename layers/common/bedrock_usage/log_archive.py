"""A report over log files (LOGS_SOURCE, `--logs`): one or several locations, and the accounts they hold.

Each location is read by collect/logfiles.py with each record's accountId kept; when the records name more
than one account (a central archive, or one bucket per account), the report gets the same `accounts[]` and
digest Accounts section as monitoring mode (accounts_view.py), from the log records instead of CloudWatch.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from bedrock_usage.accounts_view import account_lines
from bedrock_usage.collect.accounts import LinkedUsage
from bedrock_usage.collect.logfile_accounts import UNKNOWN
from bedrock_usage.collect.logfiles import SOURCE, Latencies, collect_logfiles
from bedrock_usage.model import Report, Usage, Window
from bedrock_usage.price import Pricer

# pipeline._attempt, bound to its failure list: (name, read) -> the Usage, or None when the read failed.
Attempt = Callable[[str, Callable[[], Usage]], Usage | None]


def locations(logs_source: str) -> list[str]:
    """The locations in LOGS_SOURCE (comma-separated); a local path that exists as written is one location."""
    if "," in logs_source and os.path.exists(os.path.expanduser(logs_source)):
        return [logs_source]
    return list(dict.fromkeys(part.strip() for part in logs_source.split(",") if part.strip()))


def read_locations(
    sources: Sequence[str],
    window: Window,
    attempt: Attempt,
    *,
    s3: Any = None,
    daily_from: datetime | None = None,
    previous: bool = False,
) -> tuple[Usage, LinkedUsage, bool]:
    """(usage of every location, the same per account, whether every location was read) for one window.

    A location that fails is a failure of its own (named after it when there are several); the others still
    count. Latency is merged from each read's histograms, so a model found in several locations gets the
    percentiles of all its calls, as one read of every location's files would give.
    """
    total = Usage(window=window, source=SOURCE)
    linked = LinkedUsage(window=window)
    latency = Latencies()
    complete = True
    for source in sources:
        per_account: dict[str, Usage] = {}
        # Per location, so a read that fails part-way adds nothing to the others' latency.
        read_latency = Latencies()
        read = partial(
            collect_logfiles,
            source,
            window,
            s3=s3,
            daily_from=daily_from,
            per_account=per_account,
            latency=read_latency,
        )
        got = attempt(_name(source if len(sources) > 1 else None, previous), read)
        if got is None:
            complete = False
            continue
        total.merge(got)
        latency.merge(read_latency)
        for account_id, usage in per_account.items():
            linked.by_account.setdefault(account_id, Usage(window=window, source=SOURCE)).merge(usage)
    # Usage.merge kept the first location's summary of each model: the merged histograms replace it.
    total.latency = latency.summaries()
    return total, linked, complete


def _name(source: str | None, previous: bool) -> str:
    """A failure's source name: "log-files", with the location when there are several, and the window."""
    parts = ([source] if source else []) + (["previous window"] if previous else [])
    return "log-files" + (f" ({', '.join(parts)})" if parts else "")


def add_accounts(report: Report, current: LinkedUsage, previous: LinkedUsage | None, pricer: Pricer) -> None:
    """The per-account view when the log records name more than one account; else nothing changes."""
    if len(current.by_account) < 2:
        return
    report.accounts = account_lines(current, previous, pricer)
    notes = ["accounts are the log records' own accountId; log files carry no account names"]
    unknown = current.by_account.get(UNKNOWN)
    if unknown is not None:
        notes.append(
            f"{unknown.totals().invocations:,} invocation(s) in the log files carry no 12-digit accountId: "
            f'shown as account "{UNKNOWN}"'
        )
    report.accounts_notes = notes
