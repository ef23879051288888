"""Turn collected Usage into a priced Report: totals, models, callers, days, month-end projection."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from bedrock_usage.model import CallerLine, Counts, DayLine, ModelLine, Report, Usage, Window
from bedrock_usage.price import Pricer
from bedrock_usage.pricing.long_context import premiums
from bedrock_usage.pricing.regional import price_model
from bedrock_usage.pricing.service_tiers import tier_premiums
from bedrock_usage.pricing.units import UnitPrices

RATE_DAYS = 7  # complete days averaged for the month-end run rate


def _cost_key(cost: Decimal | None, counts: Counts) -> tuple[int, Decimal, int]:
    """Priced first by cost (desc), then unpriced by tokens (desc)."""
    return (0 if cost is not None else 1, -(cost or Decimal(0)), -counts.total_tokens)


def _priced_sum(values: Sequence[Decimal | None]) -> Decimal | None:
    priced = [v for v in values if v is not None]
    return sum(priced, Decimal(0)) if priced else None


def build_report(
    current: Usage,
    *,
    pricer: Pricer,
    previous: Usage | None = None,
    billed: dict[date, Decimal] | None = None,
    provisional: frozenset[date] = frozenset(),
    budget_usd: Decimal | None = None,
    regions: Sequence[str] = (),
    now: datetime | None = None,
    trend_days: int = 14,
) -> Report:
    """Price every model, caller and day of `current` and compare with `previous` and the bill."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    at = _last_instant(current.window)
    warnings = list(current.warnings)

    models: list[ModelLine] = []
    rates: dict[str, UnitPrices | None] = {}  # blended per model: for callers, days, previous window
    for model_id, counts in current.by_model.items():
        priced = price_model(pricer, model_id, current.by_region.get(model_id), counts, at)
        rates[model_id] = priced.unit
        prev_counts = previous.by_model.get(model_id) if previous else None
        prev_cost: Decimal | None = None
        if previous is not None and priced.info.priced:
            prev_cost = (
                _previous_cost(pricer, previous, model_id, prev_counts, priced.unit)
                if prev_counts
                else Decimal(0)
            )
        models.append(
            ModelLine(
                model_id=model_id,
                price=priced.info,
                counts=counts,
                cost_usd=priced.cost,
                previous=prev_counts,
                previous_cost_usd=prev_cost,
                latency=current.latency.get(model_id),
                cache_savings_usd=priced.savings,
                by_region=priced.by_region,
            )
        )
    long_context = premiums(pricer, current.large_requests, at)
    tiers, unlisted_tiers = tier_premiums(pricer, current.service_tiers, at)
    for line in models:
        notes = [line.price.note] if line.price.note else []
        for extra, what in (
            (long_context, "long-context rates applied to {n} request(s) above {t:,} input tokens"),
            (tiers, "flex/priority service-tier rates applied to {n} request(s)"),
        ):
            if line.model_id in extra.by_model and line.cost_usd is not None:
                line.cost_usd += extra.by_model[line.model_id]
                threshold = extra.thresholds.get(line.model_id, 0)
                notes.append(what.format(n=extra.requests[line.model_id], t=threshold))
        if line.model_id in unlisted_tiers:
            notes.append("flex/priority calls priced at the standard rate (no tier rate listed)")
        if notes:
            line.price = replace(line.price, note="; ".join(notes))
    total_cost = sum((m.cost_usd for m in models if m.cost_usd is not None), Decimal(0))
    for line in models:
        if line.cost_usd is not None and total_cost > 0:
            line.share = float(line.cost_usd / total_cost)
    models.sort(key=lambda m: (*_cost_key(m.cost_usd, m.counts), m.model_id))

    unpriced = [m for m in models if not m.price.priced]
    unpriced_invocations = sum(m.counts.invocations for m in unpriced)
    if unpriced:
        listed = "; ".join(f"{m.model_id} ({m.price.note or 'no price'})" for m in unpriced[:5])
        more = f" and {len(unpriced) - 5} more" if len(unpriced) > 5 else ""
        warnings.append(
            f"{unpriced_invocations} invocation(s) on {len(unpriced)} model(s) are not in the cost: "
            f"{listed}{more}"
        )
    for m in models:
        if m.price.approximate:
            warnings.append(f"price of {m.model_id} is approximate: {m.price.note}")
    cache_writers = [m for m in models if m.price.priced and m.counts.cache_write_tokens and _is_claude(m)]
    if cache_writers:
        # The invocation log and the metrics do not say which cache writes used the 1-hour TTL.
        warnings.append(
            "prompt-cache writes are priced at the 5-minute rate (1.25x input); writes with the 1-hour TTL "
            "cost 2x input, so the estimate is low if you use it: "
            + ", ".join(m.model_id for m in cache_writers[:5])
        )

    previous_cost: Decimal | None = None
    if previous is not None:
        previous_cost = sum(
            (
                c
                for c in (
                    _previous_cost(pricer, previous, mid, cnt, rates.get(mid))
                    for mid, cnt in previous.by_model.items()
                )
                if c
            ),
            Decimal(0),
        )

    callers = _callers(current, rates, pricer, at)
    daily = _daily(current, pricer, rates, billed or {}, now, trend_days, provisional)
    for extra in (long_context, tiers):
        for caller_line in callers:
            if caller_line.caller in extra.by_caller and caller_line.cost_usd is not None:
                caller_line.cost_usd += extra.by_caller[caller_line.caller]
        for day_line in daily:
            if day_line.day in extra.by_day and day_line.cost_usd is not None:
                day_line.cost_usd += extra.by_day[day_line.day]
    month_to_date, projected = _month(daily, now) if current.daily else (None, None)
    if budget_usd is not None and projected is not None and projected > budget_usd:
        warnings.append(f"month-end projection ${projected:,.2f} exceeds the budget ${budget_usd:,.2f}")

    savings = _priced_sum([m.cache_savings_usd for m in models])
    return Report(
        window=current.window,
        generated_at=now,
        regions=_regions(current, regions),
        source=current.source,
        totals=current.totals(),
        cost_usd=total_cost,
        unpriced_invocations=unpriced_invocations,
        models=models,
        callers=callers,
        daily=daily,
        previous_totals=previous.totals() if previous is not None else None,
        previous_cost_usd=previous_cost,
        month_to_date_usd=month_to_date,
        projected_month_usd=projected,
        budget_usd=budget_usd,
        cache_savings_usd=savings,
        errors_by_code=dict(sorted(current.errors_by_code.items(), key=lambda kv: (-kv[1], kv[0]))),
        skipped_records=current.skipped_records,
        warnings=warnings,
        failures=list(current.failures),
    )


def _regions(current: Usage, read: Sequence[str]) -> list[str]:
    """The Regions the data came from (an archive can span several), those read first in their order;
    the Regions read when there is no data."""
    seen = current.regions()
    if not seen:
        return list(read)
    return [r for r in read if r in seen] + [r for r in seen if r not in read]


def _previous_cost(
    pricer: Pricer, previous: Usage, model_id: str, counts: Counts, blended: UnitPrices | None
) -> Decimal | None:
    """The previous window's cost of one model: by its own calling Regions when known."""
    if previous.by_region.get(model_id):
        return price_model(
            pricer, model_id, previous.by_region[model_id], counts, _last_instant(previous.window)
        ).cost
    if blended is not None:
        return blended.cost(counts)
    return pricer.cost(model_id, counts, _last_instant(previous.window))


def _last_instant(window: Window) -> datetime:
    """The prices in force during a window: at its last instant (its end is exclusive, the next window's)."""
    return window.end - timedelta(microseconds=1)


def _callers(
    current: Usage, rates: dict[str, UnitPrices | None], pricer: Pricer, at: datetime
) -> list[CallerLine]:
    """Each caller at its models' window rates; a model the caller rows name but the model rows do not
    (metrics and logs can name one model differently) at that model's own price in the default Region."""
    lines: dict[str, CallerLine] = {}
    for (caller, model_id), counts in current.by_caller.items():
        line = lines.setdefault(caller, CallerLine(caller=caller, counts=Counts(), cost_usd=None))
        line.counts.add(counts)
        if model_id not in line.models:
            line.models.append(model_id)
        unit = rates.get(model_id)
        cost = unit.cost(counts) if unit is not None else None
        if model_id not in rates:
            cost = pricer.cost(model_id, counts, at)
        if cost is None:
            line.unpriced_invocations += counts.invocations
        else:
            line.cost_usd = (line.cost_usd or Decimal(0)) + cost
    for line in lines.values():
        line.models.sort()
    return sorted(lines.values(), key=lambda c: (*_cost_key(c.cost_usd, c.counts), c.caller))


def _daily(
    current: Usage,
    pricer: Pricer,
    rates: dict[str, UnitPrices | None],
    billed: dict[date, Decimal],
    now: datetime,
    trend_days: int,
    provisional: frozenset[date] = frozenset(),
) -> list[DayLine]:
    """One line per UTC day, oldest first, covering the month so far and the last `trend_days` days."""
    if not current.daily:
        return []
    today = now.date()
    first = min(today.replace(day=1), today - timedelta(days=trend_days - 1))
    lines = []
    day = first
    while day <= today:
        per_model = current.daily.get(day, {})
        counts = Counts()
        costs: list[Decimal | None] = []
        day_last = datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC) - timedelta(
            microseconds=1
        )
        for model_id, c in per_model.items():
            counts.add(c)
            # Each day at the prices in force that day, with the window's Region mix; a model seen only on
            # earlier days is priced as a call in the default Region.
            unit = (
                price_model(
                    pricer, model_id, current.by_region.get(model_id), current.by_model[model_id], day_last
                ).unit
                if model_id in rates and model_id in current.by_model
                else None
            )
            costs.append(unit.cost(c) if unit is not None else pricer.cost(model_id, c, day_last))
        cost = _priced_sum(costs) if costs else Decimal(0)
        # Cost Explorer's figure for today is incomplete: only completed days are set beside the estimate.
        billed_usd = billed.get(day) if day < today else None
        lines.append(
            DayLine(
                day=day,
                counts=counts,
                cost_usd=cost,
                billed_usd=billed_usd,
                billed_final=None if billed_usd is None else day not in provisional,
            )
        )
        day += timedelta(days=1)
    return lines


def _month(daily: list[DayLine], now: datetime) -> tuple[Decimal, Decimal]:
    """Month to date, and the month-end projection.

    Projection = month to date + (mean estimated cost of the last 7 complete UTC days) x (time left in
    the month, in days). A run rate over whole days is steadier than extrapolating a partial first day.
    """
    today = now.date()
    by_day = {d.day: d.cost_usd or Decimal(0) for d in daily}
    to_date = sum(
        (c for d, c in by_day.items() if d.year == today.year and d.month == today.month), Decimal(0)
    )
    rate_days = [today - timedelta(days=i) for i in range(1, RATE_DAYS + 1)]
    known = [by_day[d] for d in rate_days if d in by_day]
    rate = sum(known, Decimal(0)) / len(known) if known else Decimal(0)
    days_in_month = calendar.monthrange(today.year, today.month)[1]
    month_end = datetime(today.year, today.month, days_in_month, tzinfo=UTC) + timedelta(days=1)
    remaining = Decimal((month_end - now).total_seconds()) / Decimal(86400)
    return to_date, to_date + rate * remaining


def _is_claude(line: ModelLine) -> bool:
    return "anthropic.claude" in (line.price.resolved_model or line.model_id)
