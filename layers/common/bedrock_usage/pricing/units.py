"""Unit token prices (USD per 1M tokens) and what they make of a usage count."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bedrock_usage.model import Counts

MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class UnitPrices:
    """USD per 1M tokens. `input` is the uncached input price."""

    input: Decimal
    output: Decimal
    cache_read: Decimal
    cache_write: Decimal

    def cost(self, counts: Counts) -> Decimal:
        return (
            counts.input_tokens * self.input
            + counts.output_tokens * self.output
            + counts.cache_read_tokens * self.cache_read
            + counts.cache_write_tokens * self.cache_write
        ) / MILLION

    def cache_savings(self, counts: Counts) -> Decimal:
        """Net effect of prompt caching: reads priced below input, minus the premium paid on writes."""
        saved = counts.cache_read_tokens * (self.input - self.cache_read)
        premium = counts.cache_write_tokens * (self.cache_write - self.input)
        return (saved - premium) / MILLION

    def scaled(self, factor: Decimal) -> UnitPrices:
        return UnitPrices(
            self.input * factor, self.output * factor, self.cache_read * factor, self.cache_write * factor
        )
