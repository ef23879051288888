"""Usage types are classified into what the invocation logs see and what they cannot; real strings only
(sources in billing_gap.py's docstring), plus one made-up string to show an unknown type is kept by name."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from bedrock_usage.billing_gap import (
    BATCH,
    MANTLE,
    ON_DEMAND,
    PROVISIONED,
    TIERS,
    build_gap,
    classify,
)
from bedrock_usage.billing_model import UsageTypeCost


@pytest.mark.parametrize(
    ("usage_type", "category", "in_logs"),
    [
        # Marketplace (Claude), CamelCase and snake_case, several Regions
        ("USE1-MP:USE1_InputTokenCount-Units", ON_DEMAND, True),
        ("USW2-MP:USW2_InputTokenCount-Units", ON_DEMAND, True),
        ("USE1-MP:USE1_CacheReadInputTokenCount-Units", ON_DEMAND, True),
        ("USE1-MP:USE1_CacheWrite1hInputTokenCount_Global-Units", ON_DEMAND, True),
        ("USE1-MP:USE1_input_tokens_global_standard-Units", ON_DEMAND, True),
        ("USW2-MP:USW2_output_tokens_standard-Units", ON_DEMAND, True),
        ("APN1-MP:APN1_MillionBatchInputTokens-Units", BATCH, False),
        ("APS7-MP:APS7_Reserved_1Month_InputTPM_Geo-Units", PROVISIONED, False),
        # First-party, dash family
        ("USE1-Claude3Haiku-input-tokens", ON_DEMAND, True),
        ("USE1-Nova2.0Lite-input-tokens-cross-region-global", ON_DEMAND, True),
        ("USE1-Claude4Sonnet-output-tokens-long-context-cross-region-global", ON_DEMAND, True),
        ("USE1-Llama3-1-405B-output-tokens-batch", BATCH, False),
        ("USE1-Nova2.0Lite-input-tokens-cross-region-global-batch", BATCH, False),
        ("USE1-Gemma-3-4B-IT-input-tokens-flex", TIERS, False),
        ("USE1-GPT-OSS-Safeguard-20B-input-tokens-priority", TIERS, False),
        ("USE1-NovaPro-input-tokens-latency-optimized", TIERS, False),
        ("USE1-openai.gpt-oss-120b-mantle-input-tokens-standard", MANTLE, False),
    ],
)
def test_real_usage_types_are_classified(usage_type: str, category: str, in_logs: bool) -> None:
    assert classify(usage_type) == (category, in_logs)


def test_an_unknown_usage_type_is_its_own_row_never_dropped() -> None:
    assert classify("USE1-SomethingNew-Units") == ("other: USE1-SomethingNew-Units", False)


def test_a_fixture_day_gap_adds_up_by_hand() -> None:
    """Billed 2.55 = on-demand 0.13 + 0.90 + 0.60 (in the logs: 1.63) + batch 0.02 + reserved 0.70
    + unknown 0.20 (not in the logs: 0.92). Estimated 0.12 for the day (0.50 on another day is outside).
    Unexplained: 1.63 - 0.12 = 1.51."""
    day = date(2026, 11, 18)
    rows = [
        UsageTypeCost("Amazon Bedrock", "USE1-NovaLite-input-tokens", Decimal("0.13")),
        UsageTypeCost("Amazon Bedrock", "USE1-Llama3-1-405B-output-tokens-batch", Decimal("0.02")),
        UsageTypeCost("Claude", "USE1-MP:USE1_InputTokenCount-Units", Decimal("0.90")),
        UsageTypeCost("Claude", "USW2-MP:USW2_output_tokens_standard-Units", Decimal("0.60")),
        UsageTypeCost("Claude", "APS7-MP:APS7_Reserved_1Month_InputTPM_Geo-Units", Decimal("0.70")),
        UsageTypeCost("Claude", "USE1-MP:USE1_SomethingNew-Units", Decimal("0.20")),
    ]
    gap = build_gap(rows, {day: Decimal("0.12"), date(2026, 11, 17): Decimal("0.50")}, day, day)
    assert gap.billed_usd == Decimal("2.55")
    assert gap.estimated_usd == Decimal("0.12")
    assert gap.in_logs_usd == Decimal("1.63")
    assert gap.not_in_logs_usd == Decimal("0.92")
    assert gap.unexplained_usd == Decimal("1.51")
    assert gap.largest_part() == ("on-demand tokens billed beyond the estimate", Decimal("1.51"))
    assert gap.by_category()[0] == (ON_DEMAND, True, Decimal("1.63"))
    data = gap.to_dict()
    assert len(data["rows"]) == 6  # every usage type is in the JSON
    assert {r["category"] for r in data["rows"]} >= {"other: USE1-MP:USE1_SomethingNew-Units", PROVISIONED}
