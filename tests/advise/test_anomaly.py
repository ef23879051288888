"""Finding 7: a day whose cost breaks out of the model's previous days (median and MAD)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from bedrock_usage.advise.anomaly import robust_z
from bedrock_usage.model import Counts, Usage

from .conftest import ALICE, BOB, SONNET45, SONNET_GEO, analysed, usage

MODEL = f"us.{SONNET45}"
# Nov 18 .. Nov 29: the report's daily series starts 13 days before the window end's day (Dec 1).
HISTORY_M_TOKENS = [10, 11, 9, 10, 12, 10, 9, 11, 10, 10, 11, 9]


def _usage(nov30_m_tokens: int) -> Usage:
    u = usage()
    for i, m in enumerate(HISTORY_M_TOKENS):
        u.day(date(2026, 11, 18) + timedelta(days=i), MODEL).add(
            Counts(invocations=100, input_tokens=m * 10**6)
        )
    for day, m in ((date(2026, 11, 30), nov30_m_tokens), (date(2026, 12, 1), 2)):
        u.day(day, MODEL).add(Counts(invocations=100, input_tokens=m * 10**6))
    u.model(MODEL).add(Counts(invocations=200, input_tokens=(nov30_m_tokens + 2) * 10**6))
    u.caller(BOB, MODEL).add(Counts(invocations=150, input_tokens=nov30_m_tokens * 10**6))
    u.caller(ALICE, MODEL).add(Counts(invocations=50, input_tokens=2 * 10**6))
    return u


def test_a_day_far_above_the_median_is_a_finding_with_its_top_caller() -> None:
    found = [f for f in analysed(_usage(30)).findings if f.kind == "anomaly"]
    # Median of the history is 10M tokens = $33.00; MAD is 1M tokens = $3.30 (deviations 0,0,0,0,0,1,1,...,2).
    rate = SONNET_GEO["input"]
    mid, mad, day = 10 * rate, 1 * rate, 30 * rate
    z = Decimal("0.6745") * (day - mid) / mad  # 13.49 > 3.5
    assert [f.evidence["day"] for f in found] == ["2026-11-30"]
    assert found[0].evidence["median_usd"] == pytest.approx(float(mid))
    assert found[0].evidence["mad_usd"] == pytest.approx(float(mad))
    assert found[0].evidence["robust_z"] == pytest.approx(float(z), abs=0.01)
    assert found[0].evidence["top_caller"] == BOB
    assert found[0].monthly_usd == pytest.approx((day - mid) * 730 / 24)  # $66 a day over -> $2,007.50
    assert float(found[0].monthly_usd or 0) == pytest.approx(2007.5)


def test_a_day_within_the_usual_spread_is_not_a_finding() -> None:
    # 12M tokens: z = 0.6745 x 2 / 1 = 1.35
    assert [f for f in analysed(_usage(12)).findings if f.kind == "anomaly"] == []


def test_flat_history_needs_a_real_jump_not_a_cent() -> None:
    flat = [Decimal(5)] * 10
    assert robust_z(Decimal("5.01"), flat)[2] < Decimal("3.5")  # MAD 0, floored at 5% of the median
    assert robust_z(Decimal(8), flat)[2] > Decimal("3.5")


def test_a_model_new_to_the_account_is_not_an_anomaly() -> None:
    # Given history on only 6 of the 12 previous days, then a busy day
    u = _usage(30)
    for i in range(6):
        del u.daily[date(2026, 11, 18) + timedelta(days=i)]
    assert [f for f in analysed(u).findings if f.kind == "anomaly"] == []
