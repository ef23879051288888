"""Finding 7: a model's daily cost breaking out of its own previous days (median and MAD, not a fixed %).

Robust z = 0.6745 x (day - median) / MAD over up to 14 days before it (Iglewicz and Hoaglin's modified
z-score; 3.5 is their outlier cut-off). MAD is floored at 5% of the median so that perfectly flat history
does not make every cent an outlier, and a day must also be at least $1 above the median. A model needs use
on at least 7 of the previous days to have a baseline (its first busy days are not anomalies).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from statistics import median

from bedrock_usage.advise.common import HOURS_PER_MONTH, dollars, model_unit, severity_for
from bedrock_usage.model import Finding, Report, Usage
from bedrock_usage.price import Pricer
from bedrock_usage.pricing.units import UnitPrices

KIND = "anomaly"
BASELINE_DAYS = 14
MIN_BASELINE_DAYS = 7
Z_CUTOFF = 3.5
MIN_EXCESS_USD = Decimal(1)
MAD_FLOOR = Decimal("0.05")  # of the median


def robust_z(value: Decimal, history: list[Decimal]) -> tuple[Decimal, Decimal, Decimal]:
    """(median, MAD, modified z-score) of `value` against `history`."""
    mid = Decimal(median(history))
    mad = Decimal(median([abs(h - mid) for h in history]))
    scale = max(mad, mid * MAD_FLOOR)
    if scale == 0:
        return mid, mad, Decimal("Infinity") if value > mid else Decimal(0)
    return mid, mad, Decimal("0.6745") * (value - mid) / scale


def anomalies(report: Report, usage: Usage, pricer: Pricer) -> list[Finding]:
    """Days of the report window on which a model's estimated cost broke out of its previous 14 days."""
    known = [d.day for d in report.daily]
    if not known:
        return []
    first_known = known[0]
    checked = [d for d in known if report.window.start.date() <= d <= report.window.end.date()]
    at = report.window.end
    found = []
    for model_id in sorted({m for per_day in usage.daily.values() for m in per_day}):
        unit = model_unit(pricer, usage, model_id, at)
        if unit is None:
            continue

        def cost(day: date, model_id: str = model_id, unit: UnitPrices = unit) -> Decimal:
            counts = usage.daily.get(day, {}).get(model_id)
            return Decimal(0) if counts is None else unit.cost(counts)

        for day in checked:
            history_days = [
                day - timedelta(days=i)
                for i in range(1, BASELINE_DAYS + 1)
                if day - timedelta(days=i) >= first_known
            ]
            history = [cost(d) for d in history_days]
            # A model new to the account has no "usual" yet: its first busy day is not an anomaly.
            if sum(1 for h in history if h > 0) < MIN_BASELINE_DAYS:
                continue
            value = cost(day)
            mid, mad, z = robust_z(value, history)
            if z <= Z_CUTOFF or value - mid < MIN_EXCESS_USD:
                continue
            excess = value - mid
            monthly = excess * HOURS_PER_MONTH / 24
            top = _top_caller(usage, model_id)
            found.append(
                Finding(
                    kind=KIND,
                    severity="high" if severity_for(monthly) == "high" else "medium",
                    title=f"{model_id} cost ${value:,.2f} on {day}, against a usual ${mid:,.2f} a day",
                    action=(
                        "Check whether the jump was intended"
                        + (f"; the top caller of this model in the window is {top}" if top else "")
                        + ". If it continues, a month costs about the amount shown more."
                    ),
                    monthly_usd=monthly,
                    evidence={
                        "model_id": model_id,
                        "day": day.isoformat(),
                        "day_cost_usd": dollars(value),
                        "median_usd": dollars(mid),
                        "mad_usd": dollars(mad),
                        "robust_z": None if z.is_infinite() else round(float(z), 2),
                        "baseline_days": len(history_days),
                        "top_caller": top,
                        "method": "modified z = 0.6745 x (day - median) / max(MAD, 5% of median) > 3.5; "
                        "(day - median) x 730 / 24",
                    },
                )
            )
    return found


def _top_caller(usage: Usage, model_id: str) -> str | None:
    mine = [(c.total_tokens, caller) for (caller, m), c in usage.by_caller.items() if m == model_id]
    return max(mine)[1] if mine else None
