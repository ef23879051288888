"""What every finding shares: the month dollars are scaled to, severity by dollars, per-model unit prices."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from bedrock_usage.model import Usage
from bedrock_usage.price import Pricer
from bedrock_usage.pricing.regional import price_model
from bedrock_usage.pricing.units import UnitPrices

# AWS prices monthly capacity as 730 hours (the Pricing Calculator's month); findings use the same month.
HOURS_PER_MONTH = Decimal(730)


def per_month(amount: Decimal, window_hours: float) -> Decimal:
    """`amount` seen over a window of `window_hours`, at the same rate for a 730-hour month."""
    return amount * HOURS_PER_MONTH / Decimal(str(window_hours))


def severity_for(monthly_usd: Decimal) -> str:
    """Dollar findings: high from $100 a month, medium from $10, else low."""
    if monthly_usd >= 100:
        return "high"
    return "medium" if monthly_usd >= 10 else "low"


def dollars(value: Decimal) -> float:
    """A dollar figure for `evidence` (JSON): to the cent's hundredth."""
    return float(value.quantize(Decimal("0.0001")))


def model_unit(pricer: Pricer, usage: Usage, model_id: str, at: datetime) -> UnitPrices | None:
    """The model's unit prices blended over its calling Regions, as the report prices its callers and days."""
    total = usage.by_model.get(model_id)
    if total is None:
        return pricer.quote(model_id, at).unit
    return price_model(pricer, model_id, usage.by_region.get(model_id), total, at).unit
