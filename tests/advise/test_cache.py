"""Finding 1: prompt-cache writes that reads did not pay back."""

from __future__ import annotations

from decimal import Decimal

import pytest
from bedrock_usage.model import Counts, Finding, Usage

from .conftest import ALICE, BOB, SONNET45, SONNET_GEO, add, analysed, usage

MILLION = Decimal(1_000_000)


def _cache_findings(u: Usage) -> list[Finding]:
    return [f for f in analysed(u).findings if f.kind == "cache-unread"]


def test_caller_whose_writes_are_rarely_read_back_is_a_net_loss() -> None:
    # Given alice writes 1M cache tokens and reads back only 200k; bob reads his writes back 20 times
    u = usage()
    model = f"us.{SONNET45}"
    add(u, model, Counts(invocations=50, cache_write_tokens=1_000_000, cache_read_tokens=200_000), ALICE)
    add(u, model, Counts(invocations=50, cache_write_tokens=100_000, cache_read_tokens=2_000_000), BOB)
    found = _cache_findings(u)
    # Then only alice's caching lost money: reads saved 0.2M x (3.30 - 0.33), writes cost 1M x (4.125 - 3.30)
    saved = 200_000 * (SONNET_GEO["input"] - SONNET_GEO["cache_read"]) / MILLION  # 0.594
    premium = 1_000_000 * (SONNET_GEO["cache_write"] - SONNET_GEO["input"]) / MILLION  # 0.825
    assert [f.evidence["caller"] for f in found] == [ALICE]
    assert found[0].monthly_usd == pytest.approx((premium - saved) * 730 / 24)
    assert float(found[0].monthly_usd or 0) == pytest.approx(7.02625)
    assert found[0].evidence["reads_per_write"] == 0.2


def test_without_caller_data_the_model_is_named() -> None:
    # CloudWatch metrics without Logs Insights: no callers, the model line is judged
    u = usage()
    add(u, f"us.{SONNET45}", Counts(invocations=5, cache_write_tokens=1_000_000), caller=None)
    found = _cache_findings(u)
    assert len(found) == 1
    assert found[0].evidence["caller"] is None
    premium = 1_000_000 * (SONNET_GEO["cache_write"] - SONNET_GEO["input"]) / MILLION
    assert found[0].monthly_usd == pytest.approx(premium * 730 / 24)


def test_no_finding_when_reads_pay_back_or_nothing_is_cached() -> None:
    u = usage()
    add(u, f"us.{SONNET45}", Counts(invocations=50, cache_write_tokens=100_000, cache_read_tokens=400_000))
    add(u, f"us.{SONNET45}", Counts(invocations=50, input_tokens=1_000_000), BOB)
    assert _cache_findings(u) == []
