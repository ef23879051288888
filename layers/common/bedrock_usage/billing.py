"""The bill beside the estimate, for one report: read Cost Explorer, then set it beside the priced days.

`collect_bill` runs before pricing (it only reads Cost Explorer); `attach_billing` runs after `build_report`,
because the gap compares billed usage types with the estimate of the same final days. A failed daily request
is a SourceFailure ("cost-explorer"); every later failure (usage types, a tag key, the request budget) is a
named warning, and the digest still goes out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .billing_gap import build_gap
from .billing_model import Billing, CallerBill, TagBreakdown, TagSpend, UsageTypeCost
from .collect.billing import (
    DEFAULT_MAX_REQUESTS,
    GAP_DAYS,
    CostExplorer,
    DailyBill,
    RequestBudgetExceeded,
    billing_tag_key,
    daily_bill,
    tag_values,
    usage_types,
)
from .model import Report

CE_ERRORS = (ClientError, BotoCoreError, RequestBudgetExceeded, KeyError, ValueError)


@dataclass
class RawBill:
    """What Cost Explorer returned for one report, before it is set beside the estimate."""

    daily: DailyBill
    month_start: date
    usage: list[UsageTypeCost] | None = None
    gap_days: tuple[date, date] | None = None
    tags: dict[str, dict[str | None, dict[date, Decimal]]] = field(default_factory=dict)
    requests: int = 0
    warnings: list[str] = field(default_factory=list)


def collect_bill(
    client: Any,
    start: date,
    end: date,
    *,
    month_start: date,
    tag_keys: tuple[str, ...] = (),
    max_requests: int = DEFAULT_MAX_REQUESTS,
    with_usage_types: bool = True,
) -> RawBill:
    """Daily bill for [start, end), usage types of the last final days, spend per principal tag.

    Raises what the daily request raises (ClientError, ...); later requests only add warnings.
    """
    ce = CostExplorer(client, max_requests=max_requests)
    raw = RawBill(daily=daily_bill(ce, start, end), month_start=month_start)
    services = raw.daily.services
    final = [d for d in raw.daily.final_days if raw.daily.amounts[d]] or raw.daily.final_days
    if with_usage_types and services and final:
        last = final[-1]
        first = max(final[0], last - timedelta(days=GAP_DAYS - 1))
        try:
            raw.usage = [UsageTypeCost(s, u, v) for s, u, v in usage_types(ce, services, first, last)]
            raw.gap_days = (first, last)
        except CE_ERRORS as exc:
            raw.warnings.append(f"cost-explorer usage types: {_why(exc)}; the gap is not explained")
    last_final = raw.daily.final_days[-1] if raw.daily.final_days else None
    tag_start = min(month_start, last_final) if last_final else month_start
    for key in tag_keys:
        if not services:
            break  # no Bedrock spend in the period: nothing to split, no request spent
        try:
            raw.tags[key] = tag_values(ce, services, key, tag_start, end)
        except CE_ERRORS as exc:
            raw.warnings.append(f"cost-explorer tag {billing_tag_key(key)}: {_why(exc)}")
    raw.requests = ce.requests
    return raw


def _why(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def attach_raw(raw: RawBill, estimated: dict[date, Decimal | None] | None = None) -> Billing:
    """A Billing from what Cost Explorer returned; with `estimated` (per day) also the gap and difference."""
    final = raw.daily.final_days
    billing = Billing(
        provisional_days=sorted(raw.daily.provisional),
        month_start=raw.month_start,
        cost_explorer_requests=raw.requests,
    )
    if final:
        last = final[-1]
        billing.last_final_day = last
        billing.last_final_billed_usd = raw.daily.amounts[last]
        billing.last_final_estimated_usd = estimated.get(last) if estimated is not None else None
    if estimated is not None and raw.usage is not None and raw.gap_days is not None:
        billing.gap = build_gap(raw.usage, estimated, *raw.gap_days)
    for key, values in raw.tags.items():
        billing.teams.append(_breakdown(key, values, billing.last_final_day, raw.month_start))
    return billing


def attach_billing(report: Report, raw: RawBill) -> None:
    """Set `report.billing` from `raw` and the report's priced days; add the bill's warnings."""
    billing = attach_raw(raw, {d.day: d.cost_usd for d in report.daily})
    report.billing = billing
    warnings = list(raw.warnings)
    for team in billing.teams:
        tagged = [r for r in team.rows if r.value is not None]
        if team.rows and not tagged:
            warnings.append(
                f"cost-explorer tag {team.billing_key}: no Bedrock spend carries it; activate it under "
                "Billing > Cost allocation tags (it appears up to 24 h after the first tagged call) and tag "
                "the calling principals (README: Billed by team)"
            )
    report.warnings.extend(w for w in warnings if w not in report.warnings)


def _breakdown(
    key: str, values: dict[str | None, dict[date, Decimal]], last_final: date | None, month_start: date
) -> TagBreakdown:
    rows = []
    for value, per_day in values.items():
        last_usd = per_day.get(last_final, Decimal(0)) if last_final else Decimal(0)
        mtd = sum((v for d, v in per_day.items() if d >= month_start), Decimal(0))
        if last_usd or mtd:
            rows.append(TagSpend(value=value, last_final_usd=last_usd, month_to_date_usd=mtd))
    # Largest first; untagged last among equals so a team's name leads.
    rows.sort(key=lambda r: (-r.month_to_date_usd, -r.last_final_usd, r.value is None, r.value or ""))
    return TagBreakdown(key=key, billing_key=billing_tag_key(key), rows=rows)


def billed_by_caller(
    athena: Any,
    table: str,
    workgroup: str,
    day: date,
    report: Report | None = None,
    *,
    sleep: Any = None,
) -> tuple[list[CallerBill], int]:
    """CUR 2.0 cost per principal for `day`, largest first, beside the per-caller estimate when the report's
    window is exactly that UTC day (sessions collapsed to their role on both sides). Raises CurQueryError,
    ClientError or BotoCoreError."""
    from .collect.cur import caller_sql, run_athena, session_to_role, to_costs

    kwargs = {"sleep": sleep} if sleep is not None else {}
    result = run_athena(athena, caller_sql(table, day), workgroup, **kwargs)
    callers: dict[str, CallerBill] = {}
    for cost in to_costs(result.rows):
        line = callers.setdefault(cost.principal, CallerBill(cost.principal, Decimal(0)))
        line.billed_usd += cost.cost_usd
        line.models[cost.model] = line.models.get(cost.model, Decimal(0)) + cost.cost_usd
    window = report.window if report is not None else None
    same_day = (
        window is not None
        and window.start.date() == day
        and window.end - window.start == timedelta(days=1)
        and window.start.hour == window.start.minute == 0
    )
    if report is not None and same_day:
        estimated: dict[str, Decimal] = {}
        for c in report.callers:
            role = session_to_role(c.caller)
            estimated[role] = estimated.get(role, Decimal(0)) + (c.cost_usd or Decimal(0))
        for role, value in estimated.items():
            callers.setdefault(role, CallerBill(role, Decimal(0))).estimated_usd = value
        for line in callers.values():
            if line.estimated_usd is None:
                line.estimated_usd = Decimal(0)
    ordered = sorted(callers.values(), key=lambda c: (-c.billed_usd, c.principal))
    return ordered, result.bytes_scanned
