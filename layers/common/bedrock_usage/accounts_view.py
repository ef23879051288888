"""The per-account view of a monitoring-mode report: each account priced, compared and ranked.

Fed by collect/accounts.py (usage per account, model and Region) and, when readable, Organizations names and
Cost Explorer's LINKED_ACCOUNT split. The digest shows an "Accounts" section only when more than one account
is present: with one account it would repeat the headline.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bedrock_usage.model import AccountLine, Counts, Usage, money
from bedrock_usage.render import percent, usd

if TYPE_CHECKING:  # annotations only: the digest imports this module at cold start, the engine later
    from bedrock_usage.collect.accounts import LinkedUsage
    from bedrock_usage.price import Pricer

MAX_NAME = 60  # account names are set by people: keep the layout


def _priced(pricer: Pricer, usage: Usage, at: datetime) -> tuple[Decimal | None, int, list[dict[str, Any]]]:
    """(priced cost, unpriced invocations, per-model lines) of one account, at each calling Region's rates."""
    total: Decimal | None = None
    unpriced = 0
    models: list[dict[str, Any]] = []
    for model_id, counts in usage.by_model.items():
        regions = usage.by_region.get(model_id) or {"unknown": counts}
        cost: Decimal | None = None
        for region, part in regions.items():
            unit = pricer.quote(model_id, at, region).unit
            if unit is None:
                unpriced += part.invocations
                continue
            cost = (cost or Decimal(0)) + unit.cost(part)
        if cost is not None:
            total = (total or Decimal(0)) + cost
        models.append(
            {
                "model_id": model_id,
                "invocations": counts.invocations,
                "total_tokens": counts.total_tokens,
                "cost_usd": money(cost),
            }
        )
    models.sort(key=lambda m: (-(m["cost_usd"] or 0), -m["invocations"], m["model_id"]))
    return total, unpriced, models


def account_lines(
    current: LinkedUsage,
    previous: LinkedUsage | None,
    pricer: Pricer,
    *,
    names: dict[str, str] | None = None,
    billed: dict[str, Decimal] | None = None,
) -> list[AccountLine]:
    """One line per account, most expensive first; `previous` None means no change is shown."""
    names = names or {}
    lines: list[AccountLine] = []
    for account_id, usage in current.by_account.items():
        counts = usage.totals()
        cost, unpriced, models = _priced(pricer, usage, current.window.end)
        prev_cost: Decimal | None = None
        if previous is not None:
            prev_usage = previous.by_account.get(account_id)
            prev_cost = (
                _priced(pricer, prev_usage, previous.window.end)[0] if prev_usage is not None else Decimal(0)
            )
            prev_cost = prev_cost if prev_cost is not None else Decimal(0)
        lines.append(
            AccountLine(
                account_id=account_id,
                name=names.get(account_id),
                counts=counts,
                cost_usd=cost,
                unpriced_invocations=unpriced,
                previous_cost_usd=prev_cost,
                regions=usage.regions(),
                models=models,
                billed_usd=(billed or {}).get(account_id),
            )
        )
    total = sum((line.cost_usd for line in lines if line.cost_usd is not None), Decimal(0))
    for line in lines:
        line.share = float(line.cost_usd / total) if total and line.cost_usd is not None else None
    lines.sort(key=lambda a: (-(a.cost_usd or Decimal(0)), -a.counts.invocations, a.account_id))
    return lines


def merge_sources_into(usage: Usage, linked: LinkedUsage, own_account: str) -> None:
    """Add the source accounts' usage to the report's (not this account's: its own collector read it)."""
    for account_id, account_usage in linked.by_account.items():
        if account_id == own_account:
            continue
        for model_id, counts in account_usage.by_model.items():
            usage.model(model_id).add(counts)
        for model_id, regions in account_usage.by_region.items():
            for region, counts in regions.items():
                usage.regional(model_id, region).add(counts)
        for key, counts in account_usage.by_caller.items():
            usage.caller(*key).add(counts)
        for day, models in account_usage.daily.items():
            for model_id, counts in models.items():
                usage.day(day, model_id).add(counts)
        for code, n in account_usage.errors_by_code.items():
            usage.errors_by_code[code] = usage.errors_by_code.get(code, 0) + n


def accounts_view(accounts: Sequence[AccountLine], notes: Sequence[str], top_n: int) -> dict[str, Any] | None:
    """The digest's Accounts section; None unless more than one account is present."""
    if len(accounts) < 2:
        return None
    top = max((a.cost_usd for a in accounts if a.cost_usd is not None), default=Decimal(0))
    rows = []
    for a in accounts[:top_n]:
        change = None
        if a.previous_cost_usd is not None and a.previous_cost_usd > 0 and a.cost_usd is not None:
            value = float((a.cost_usd - a.previous_cost_usd) / a.previous_cost_usd)
            direction = "flat" if abs(value) < 0.005 else ("up" if value > 0 else "down")
            change = {"text": f"{value:+.1%}", "dir": direction}
        name = " ".join((a.name or "").split())
        rows.append(
            {
                "account_id": a.account_id,
                "name": name[: MAX_NAME - 1] + "\u2026" if len(name) > MAX_NAME else name,
                "regions": ", ".join(a.regions) or "-",
                "cost": usd(a.cost_usd) if a.cost_usd is not None else "unpriced",
                "share": percent(a.share) if a.share is not None else "-",
                "change": change,
                "new": a.previous_cost_usd == 0 and bool(a.cost_usd),
                "invocations": f"{a.counts.invocations:,}",
                "tokens": f"{a.counts.total_tokens:,}",
                "errors": f"{a.counts.errors:,}",
                "billed": usd(a.billed_usd) if a.billed_usd is not None else None,
                "bar": 0
                if not top or a.cost_usd is None
                else max(1, min(100, round(float(a.cost_usd / top) * 100))),
            }
        )
    rest = accounts[top_n:]
    rest_counts = Counts()
    for a in rest:
        rest_counts.add(a.counts)
    return {
        "count": len(accounts),
        "rows": rows,
        "more": None
        if not rest
        else {
            "count": len(rest),
            "cost": usd(sum((a.cost_usd for a in rest if a.cost_usd is not None), Decimal(0))),
            "invocations": f"{rest_counts.invocations:,}",
        },
        "notes": list(notes),
    }
