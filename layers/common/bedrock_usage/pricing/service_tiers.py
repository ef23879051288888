"""Flex and priority service tiers, per request: a call that asked for one is charged at that tier's rates.

The tier rates come from the AWS Price List (`Input tokens flex`, `…-priority`: slots `input:flex:…`),
which is the only source that lists them; where it lists none for the model and Region, the call stays
at the standard rate and the model line says so. Cache rates have no tier in the Price List: they stay.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bedrock_usage.model import Counts, TierKey
from bedrock_usage.price import Pricer
from bedrock_usage.pricing.long_context import Premiums
from bedrock_usage.pricing.units import UnitPrices


def tier_premiums(
    pricer: Pricer, tiered: Mapping[TierKey, Counts], at: datetime
) -> tuple[Premiums, set[str]]:
    """What flex/priority calls cost beyond (or below) their standard-rate price; and the models whose tier
    has no listed rate (left at the standard rate)."""
    out = Premiums()
    unlisted: set[str] = set()
    for (model_id, region, caller, day, in_window, tier), counts in tiered.items():
        quote = pricer.quote(model_id, at, region)
        unit = quote.unit
        if unit is None or quote.info.source.startswith("override:"):
            continue
        slots = pricer.listed(model_id, region) or {}
        routing = "global" if quote.resolution.geo == "global" else "regional"
        inp = slots.get(f"input:{tier}:{routing}:base") or slots.get(f"input:{tier}:regional:base")
        outp = slots.get(f"output:{tier}:{routing}:base") or slots.get(f"output:{tier}:regional:base")
        if inp is None or outp is None:
            if in_window:
                unlisted.add(model_id)
            continue
        extra = UnitPrices(inp, outp, unit.cache_read, unit.cache_write).cost(counts) - unit.cost(counts)
        if extra == 0:
            continue
        out.add(model_id, caller, day, in_window, counts, extra)
    return out, unlisted
