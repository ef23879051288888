"""Price one model's usage Region by Region, as AWS bills it: each call at its calling Region's rate.

The model line's cost is the sum over Regions. Callers, days and the previous window carry no Region, so
they are priced with the model's *blended* unit prices: per token kind, the Regions' rates weighted by the
tokens of that kind. For a model used in one Region that is exactly its rate; for several it reproduces the
model line's cost exactly and splits it over callers in proportion to their tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from bedrock_usage.model import Counts, PriceInfo, RegionalCost
from bedrock_usage.price import Pricer, Quote
from bedrock_usage.pricing.units import UnitPrices

_KINDS = (
    ("input", "input_tokens"),
    ("output", "output_tokens"),
    ("cache_read", "cache_read_tokens"),
    ("cache_write", "cache_write_tokens"),
)


@dataclass
class ModelPricing:
    info: PriceInfo
    cost: Decimal | None
    savings: Decimal | None
    unit: UnitPrices | None  # blended over the Regions; None when no Region was priced
    by_region: list[RegionalCost] = field(default_factory=list)
    unpriced_regions: list[str] = field(default_factory=list)


def price_model(
    pricer: Pricer, model_id: str, regions: dict[str, Counts] | None, total: Counts, at: datetime
) -> ModelPricing:
    """Price `total` for `model_id`, split by calling Region (`regions`; None or empty: the default)."""
    split = regions or {"unknown": total}
    quotes: list[tuple[str, Counts, Quote]] = [
        (region, counts, pricer.quote(model_id, at, region)) for region, counts in sorted(split.items())
    ]
    lines = [
        RegionalCost(
            region=q.info.region or region,
            counts=counts,
            cost_usd=q.unit.cost(counts) if q.unit else None,
            source=q.info.source,
        )
        for region, counts, q in quotes
    ]
    priced = [(counts, q) for _, counts, q in quotes if q.unit is not None]
    unpriced = [region for region, _, q in quotes if q.unit is None]
    cost = sum((line.cost_usd for line in lines if line.cost_usd is not None), Decimal(0)) if priced else None
    savings = (
        sum((q.unit.cache_savings(c) for c, q in priced if q.unit is not None), Decimal(0))
        if priced
        else None
    )
    return ModelPricing(
        info=_combined([q.info for _, _, q in quotes], unpriced, len(quotes)),
        cost=cost,
        savings=savings,
        unit=_blend(priced),
        by_region=lines if regions else [],
        unpriced_regions=unpriced,
    )


def _combined(infos: list[PriceInfo], unpriced: list[str], n: int) -> PriceInfo:
    if len(infos) == 1:
        return infos[0]
    first = infos[0]
    priced = [i for i in infos if i.priced]
    notes = list(dict.fromkeys(i.note for i in infos if i.note))
    if unpriced and priced:
        notes.append(f"unpriced in {', '.join(unpriced)} (not in the cost)")
    regions = {i.region for i in infos}
    return PriceInfo(
        model_id=first.model_id,
        resolved_model=next((i.resolved_model for i in infos if i.resolved_model), None),
        priced=bool(priced),
        source="; ".join(dict.fromkeys(i.source for i in (priced or infos))),
        approximate=any(i.approximate for i in infos),
        note="; ".join(notes) or None,
        region=regions.pop() if len(regions) == 1 else None,
    )


def _blend(priced: list[tuple[Counts, Quote]]) -> UnitPrices | None:
    if not priced:
        return None
    first = priced[0][1].unit
    assert first is not None
    rates: dict[str, Decimal] = {}
    for kind, counter in _KINDS:
        tokens = sum(getattr(c, counter) for c, _ in priced)
        if tokens == 0:
            rates[kind] = getattr(first, kind)
            continue
        weighted = sum(
            (getattr(c, counter) * getattr(q.unit, kind) for c, q in priced if q.unit is not None), Decimal(0)
        )
        rates[kind] = weighted / tokens
    return UnitPrices(**rates)
