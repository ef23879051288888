"""Usage per account from invocation log files: each record's own `accountId` (REFERENCE.md §1).

A log archive may hold several accounts (an organization's central bucket that each account's
`bedrock-logs-<account>` bucket replicates into, or several LOGS_SOURCE locations). The log-file collector
keeps each record's accountId in its table of cells; this splits that table into one Usage per account, the
shape monitoring mode's collect/accounts.py gives, so the per-account view is the same either way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from bedrock_usage.model import Counts, Usage, Window

UNKNOWN = "unknown"  # as collect/accounts.py names a Logs Insights row without an accountId
_ACCOUNT = re.compile(r"^[0-9]{12}\Z")  # an AWS account ID (ASCII digits: \d also takes other scripts')

Cell = tuple[date, str, str, str, bool, str | None]  # (day, model, caller, region, in window, accountId)


def account_of(value: str | None) -> str:
    """The account a record names, or UNKNOWN when its accountId is missing or not 12 digits."""
    return value if value is not None and _ACCOUNT.match(value) else UNKNOWN


def split_by_account(cells: Mapping[Cell, list[int]], window: Window, source: str) -> dict[str, Usage]:
    """One Usage per account (by model, caller, Region and day), in the order accounts were first seen."""
    accounts: dict[str, Usage] = {}
    for (day, model_id, caller, region, in_window, account_id), vec in cells.items():
        account = account_of(account_id)
        usage = accounts.get(account)
        if usage is None:
            usage = accounts[account] = Usage(window=window, source=source)
        counts = Counts(*vec)
        usage.day(day, model_id).add(counts)
        if in_window:
            usage.model(model_id).add(counts)
            usage.caller(caller, model_id).add(counts)
            usage.regional(model_id, region).add(counts)
    return accounts
