"""Long-context rates, per request: a request whose whole input is above a model's threshold is charged
at the long-context rates for all its tokens (Anthropic's and OpenAI's rule; genai-prices prices a
request above a tier's `start` entirely at that tier).

The threshold and the tier rates come from genai-prices (the Price List names no threshold). The tier
rates carry the calling Region's premium: they are scaled by (the rate the call was priced at / the
library's base rate), so a Region 10% dearer stays 10% dearer above the threshold. Only requests the log
files saw are repriced (CloudWatch metrics carry no request sizes); an override's flat prices are kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache

from genai_prices import Usage as GenaiUsage
from genai_prices import calc_price
from genai_prices.types import TieredPrices

from bedrock_usage.model import Counts, LargeKey
from bedrock_usage.price import Pricer
from bedrock_usage.pricing.units import UnitPrices

_FIELDS = (
    ("input", "input_mtok"),
    ("output", "output_mtok"),
    ("cache_read", "cache_read_mtok"),
    ("cache_write", "cache_write_mtok"),
)


@dataclass(frozen=True)
class Tiers:
    """A model's library prices below and above its long-context threshold (USD per 1M tokens)."""

    threshold: int
    base: UnitPrices
    long: UnitPrices


@dataclass
class Premiums:
    """What long-context requests cost above their base-rate price, by model, caller and day."""

    by_model: dict[str, Decimal] = field(default_factory=dict)
    by_caller: dict[str, Decimal] = field(default_factory=dict)
    by_day: dict[date, Decimal] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)  # model -> long-context requests in the window
    thresholds: dict[str, int] = field(default_factory=dict)

    def add(
        self, model_id: str, caller: str, day: date, in_window: bool, counts: Counts, extra: Decimal
    ) -> None:
        """One group's premium: to its day, and (in the window) to its model, caller and request count."""
        self.by_day[day] = self.by_day.get(day, Decimal(0)) + extra
        if in_window:
            self.by_model[model_id] = self.by_model.get(model_id, Decimal(0)) + extra
            self.by_caller[caller] = self.by_caller.get(caller, Decimal(0)) + extra
            self.requests[model_id] = self.requests.get(model_id, 0) + counts.invocations + counts.throttles


@cache
def library_tiers(ref: str, day: date) -> Tiers | None:
    """genai-prices' tiers for `ref` (e.g. 'global.anthropic.…'), or None when it has none."""
    try:
        calc = calc_price(
            GenaiUsage(input_tokens=1), ref, provider_id="aws", genai_request_timestamp=_noon(day)
        )
    except LookupError:
        return None
    price = calc.model_price
    tiered = [getattr(price, name) for _, name in _FIELDS if isinstance(getattr(price, name), TieredPrices)]
    if not tiered or not all(t.tiers for t in tiered):
        return None
    threshold = min(t.tiers[0].start for t in tiered)

    def rates(size: int) -> UnitPrices:
        found: dict[str, Decimal] = {}
        for kind, name in _FIELDS:
            value = getattr(price, name)
            if isinstance(value, TieredPrices):
                chosen = value.base
                for tier in value.tiers:
                    if size > tier.start:
                        chosen = tier.price
                found[kind] = Decimal(chosen)
            else:
                found[kind] = Decimal(value) if value is not None else found.get("input", Decimal(0))
        return UnitPrices(**found)

    return Tiers(int(threshold), rates(0), rates(threshold + 1))


def _noon(day: date) -> datetime:
    from datetime import UTC

    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def premiums(pricer: Pricer, large: Mapping[LargeKey, Counts], at: datetime) -> Premiums:
    """The long-context premium of every large request the collector kept, attributed three ways."""
    out = Premiums()
    for (model_id, region, caller, day, in_window, size), counts in large.items():
        quote = pricer.quote(model_id, at, region)
        unit, res = quote.unit, quote.resolution
        if unit is None or res.base_model is None or quote.info.source.startswith("override:"):
            continue
        refs = [f"{res.geo}.{res.base_model}"] if res.geo else []
        refs += [res.base_model, f"regional.{res.base_model}"]
        tiers = next((t for t in (library_tiers(r, day) for r in refs) if t is not None), None)
        if tiers is None or size <= tiers.threshold:
            continue
        scale = unit.input / tiers.base.input if tiers.base.input else Decimal(1)
        extra = tiers.long.scaled(scale).cost(counts) - unit.cost(counts)
        if extra <= 0:
            continue
        out.add(model_id, caller, day, in_window, counts, extra)
        if in_window:
            out.thresholds[model_id] = tiers.threshold
    return out
