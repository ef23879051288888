"""Finding 2: a geographic profile whose global profile is cheaper."""

from __future__ import annotations

from decimal import Decimal

import pytest
from bedrock_usage.model import Counts

from .conftest import NOVA_LITE, SONNET45, SONNET_GEO, SONNET_GLOBAL, WINDOW, add, analysed, usage

MILLION = Decimal(1_000_000)


def test_us_profile_of_sonnet_45_saves_the_ten_percent_on_global() -> None:
    # Given a day of Sonnet 4.5 traffic on the us. profile
    u = usage()
    counts = Counts(invocations=400, input_tokens=2_000_000, output_tokens=300_000)
    add(u, f"us.{SONNET45}", counts)
    # When the report is analysed
    report = analysed(u)
    # Then the saving is the same tokens at the global rate, scaled to a 730-hour month
    geo_cost = (2_000_000 * SONNET_GEO["input"] + 300_000 * SONNET_GEO["output"]) / MILLION
    global_cost = (2_000_000 * SONNET_GLOBAL["input"] + 300_000 * SONNET_GLOBAL["output"]) / MILLION
    expected = (geo_cost - global_cost) * 730 / 24  # 0.60 + 0.45 = 1.05 a day -> 31.94 a month
    geo = [f for f in report.findings if f.kind == "geo-vs-global"]
    assert len(geo) == 1
    assert geo[0].monthly_usd == pytest.approx(expected)
    assert float(expected) == pytest.approx(31.9375)
    assert geo[0].evidence["global_profile"] == f"global.{SONNET45}"
    assert "data residency" in geo[0].action
    assert WINDOW.hours == 24


@pytest.mark.parametrize("model_id", [f"global.{SONNET45}", f"us.{NOVA_LITE}"])
def test_no_finding_when_already_global_or_global_is_no_cheaper(model_id: str) -> None:
    u = usage()
    add(u, model_id, Counts(invocations=400, input_tokens=2_000_000, output_tokens=300_000))
    assert [f for f in analysed(u).findings if f.kind == "geo-vs-global"] == []
