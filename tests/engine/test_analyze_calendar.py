"""build_report's calendar: month to date, month-end projection, 7-day run rate and the trend's days.

Every day costs a different amount (a model priced at $1 per 1M input tokens by an override, so a day of
N million tokens costs $N), so a window shifted by one day, a day counted twice or last month's spend
let into this month changes the figure. Expected values are worked out by hand in each test.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from bedrock_usage.analyze import build_report
from bedrock_usage.model import Counts, Usage, Window
from bedrock_usage.price import Pricer, load_overrides

from .helpers import at

FLAT = "acme.flat-v1"  # $1 per 1M input tokens: a day's cost in dollars is its millions of tokens
PRICER_DOC = json.dumps({"models": {FLAT: {"input": 1, "output": 1}}})


def pricer() -> Pricer:
    return Pricer(load_overrides(PRICER_DOC))


def usage_with_days(now: datetime, dollars_by_day: dict[date, int]) -> Usage:
    """A 24-hour window ending at `now`, with the daily series costing `dollars_by_day`."""
    usage = Usage(window=Window(now - timedelta(hours=24), now), source="log-files")
    usage.model(FLAT).add(Counts(invocations=1, input_tokens=1_000_000))
    for day, dollars in dollars_by_day.items():
        usage.day(day, FLAT).add(Counts(invocations=1, input_tokens=dollars * 1_000_000))
    return usage


def close(actual: Decimal | None, expected: Decimal) -> bool:
    return actual is not None and abs(actual - expected) < Decimal("0.000001")


def test_on_the_1st_last_months_spend_is_not_month_to_date_but_sets_the_run_rate() -> None:
    now = at("2026-12-01T06:00:00")
    # November 18..30 cost $18..$30; December 1st so far $5.
    days = {date(2026, 11, d): d for d in range(18, 31)} | {date(2026, 12, 1): 5}
    report = build_report(usage_with_days(now, days), pricer=pricer(), now=now)
    assert report.month_to_date_usd == Decimal(5)
    # Run rate: the 7 complete days before today, Nov 24..30 -> (24+...+30)/7 = 27 a day.
    # Left in December: 31 days less the 6 hours gone = 30.75 days.
    assert close(report.projected_month_usd, Decimal(5) + Decimal(27) * Decimal("30.75"))
    # The trend: the last 14 days (Nov 18 .. Dec 1), since the month is only 1 day old.
    assert [d.day for d in report.daily] == [date(2026, 11, 18) + timedelta(days=i) for i in range(14)]
    assert [d.cost_usd for d in report.daily] == [Decimal(d) for d in range(18, 31)] + [Decimal(5)]


def test_on_the_2nd_the_run_rate_spans_both_months() -> None:
    now = at("2026-12-02T18:00:00")
    days = {date(2026, 11, d): d for d in range(19, 31)} | {date(2026, 12, 1): 7, date(2026, 12, 2): 3}
    report = build_report(usage_with_days(now, days), pricer=pricer(), now=now)
    assert report.month_to_date_usd == Decimal(10)  # Dec 1 ($7) + Dec 2 so far ($3)
    # Rate: Dec 1 and Nov 25..30 -> (7 + 25+26+27+28+29+30) / 7 = 172/7 a day; 29.25 days left.
    rate = Decimal(172) / Decimal(7)
    assert close(report.projected_month_usd, Decimal(10) + rate * Decimal("29.25"))
    assert report.daily[0].day == date(2026, 11, 19)  # Dec 2 - 13 days
    assert report.daily[-1].day == date(2026, 12, 2)


def test_on_the_last_day_only_the_rest_of_that_day_is_projected() -> None:
    now = at("2026-11-30T12:00:00")
    # Every November day d costs $d; October 31 costs $1000 and must not count anywhere.
    days = {date(2026, 11, d): d for d in range(1, 31)} | {date(2026, 10, 31): 1000}
    report = build_report(usage_with_days(now, days), pricer=pricer(), now=now)
    assert report.month_to_date_usd == Decimal(sum(range(1, 31)))  # 465
    # Rate: Nov 23..29 -> 26 a day; half a day left.
    assert close(report.projected_month_usd, Decimal(465) + Decimal(26) * Decimal("0.5"))
    # The month decides the trend's start (30 days > 14), never the month before.
    assert report.daily[0].day == date(2026, 11, 1)
    assert len(report.daily) == 30


@pytest.mark.parametrize(
    ("now", "days_left"),
    [
        ("2028-02-29T12:00:00", Decimal("0.5")),  # leap day: February has 29 days
        ("2028-02-28T12:00:00", Decimal("1.5")),
    ],
)
def test_a_leap_year_february_has_29_days(now: str, days_left: Decimal) -> None:
    moment = at(now)
    today = moment.date()
    # February day d costs $d; January 31 costs $500 (last month, excluded).
    days = {date(2028, 2, d): d for d in range(1, today.day + 1)} | {date(2028, 1, 31): 500}
    report = build_report(usage_with_days(moment, days), pricer=pricer(), now=moment)
    to_date = Decimal(sum(range(1, today.day + 1)))
    assert report.month_to_date_usd == to_date
    # Rate: the 7 days before today, whose costs are today-7 .. today-1 -> mean today-4.
    rate = Decimal(today.day - 4)
    assert close(report.projected_month_usd, to_date + rate * days_left)


def test_the_run_rate_is_the_mean_of_the_last_7_complete_days_not_today_nor_the_8th() -> None:
    now = at("2026-11-20T00:00:00")
    # Nov 12 (8 days ago) $1000 and today $500: neither is in the run rate; Nov 13..19 cost $1..$7.
    days = {date(2026, 11, 12): 1000, date(2026, 11, 20): 500}
    days |= {date(2026, 11, 13 + i): i + 1 for i in range(7)}
    report = build_report(usage_with_days(now, days), pricer=pricer(), now=now)
    mtd = Decimal(1000 + 500 + 28)
    assert report.month_to_date_usd == mtd
    # (1+...+7)/7 = 4 a day, 11 days left (Nov 20 00:00 -> Dec 1 00:00).
    assert close(report.projected_month_usd, mtd + Decimal(4) * Decimal(11))


def test_days_without_usage_count_as_zero_in_the_run_rate() -> None:
    now = at("2026-11-20T00:00:00")
    days = {date(2026, 11, 19): 14}  # the only day with usage among the last 7
    report = build_report(usage_with_days(now, days), pricer=pricer(), now=now)
    assert close(report.projected_month_usd, Decimal(14) + Decimal(2) * Decimal(11))  # 14/7 a day


def test_over_budget_projection_is_warned_and_at_budget_is_not() -> None:
    now = at("2026-11-30T00:00:00")
    days = {date(2026, 11, d): 1 for d in range(1, 30)}  # $29 to date, $1 a day, 1 day left -> $30
    over = build_report(usage_with_days(now, days), pricer=pricer(), now=now, budget_usd=Decimal("29.99"))
    at_budget = build_report(usage_with_days(now, days), pricer=pricer(), now=now, budget_usd=Decimal(30))
    assert close(over.projected_month_usd, Decimal(30))
    [warning] = [w for w in over.warnings if "exceeds the budget" in w]
    assert "$30.00" in warning
    assert "$29.99" in warning
    assert not [w for w in at_budget.warnings if "budget" in w]


def test_daily_lines_price_each_day_and_set_billed_only_beside_completed_days() -> None:
    now = at("2026-11-20T12:00:00")
    usage = usage_with_days(now, {date(2026, 11, 18): 2, date(2026, 11, 20): 3})
    unpriced = "cohere.command-r-v1:0"
    usage.day(date(2026, 11, 19), unpriced).add(Counts(invocations=4, input_tokens=10))
    billed = {date(2026, 11, 18): Decimal("2.50"), date(2026, 11, 20): Decimal("9.99")}
    report = build_report(usage, pricer=pricer(), billed=billed, now=now)
    by_day = {d.day: d for d in report.daily}
    assert by_day[date(2026, 11, 18)].cost_usd == Decimal(2)
    assert by_day[date(2026, 11, 18)].billed_usd == Decimal("2.50")
    assert by_day[date(2026, 11, 17)].cost_usd == Decimal(0)  # no usage: $0, a real zero
    # A day with only unpriced usage is unpriced (None), never $0, but its invocations are counted.
    assert by_day[date(2026, 11, 19)].cost_usd is None
    assert by_day[date(2026, 11, 19)].counts.invocations == 4
    assert by_day[date(2026, 11, 20)].billed_usd is None  # today: Cost Explorer's figure is partial
    assert report.month_to_date_usd == Decimal(5)


LUNA = "us.openai.gpt-5.6-luna"  # AWS cut its price 80% on 2026-07-30: $1.10 -> $0.22 per 1M input tokens


def test_a_past_window_and_each_day_are_priced_at_the_prices_in_force_then() -> None:
    """genai-prices 0.2.3 dates the GPT-5.6 Luna price cut (its note cites AWS's announcement)."""
    now = at("2026-07-31T12:00:00")
    usage = Usage(window=Window(at("2026-07-28T12:00:00"), at("2026-07-29T12:00:00")), source="log-files")
    usage.model(LUNA).add(Counts(invocations=1, input_tokens=10_000_000, cache_read_tokens=1_000_000))
    usage.caller("arn:aws:iam::123456789012:user/alice", LUNA).add(
        Counts(invocations=1, input_tokens=10_000_000)
    )
    usage.day(date(2026, 7, 29), LUNA).add(Counts(invocations=1, input_tokens=10_000_000))
    usage.day(date(2026, 7, 30), LUNA).add(Counts(invocations=1, input_tokens=10_000_000))
    previous = Usage(window=usage.window.previous(), source="log-files")
    previous.model(LUNA).add(Counts(invocations=1, input_tokens=1_000_000))
    report = build_report(usage, pricer=Pricer(), previous=previous, now=now)
    [line] = report.models
    # 10M at $1.10 + 1M cache reads at $0.11: the window ended before the cut.
    assert line.cost_usd == Decimal("11.11")
    assert line.cache_savings_usd == Decimal("0.99")  # 1M x (1.10 - 0.11)
    assert line.price.note is None  # the launch prices had no long-context tier
    assert line.previous_cost_usd == Decimal("1.10")
    assert report.previous_cost_usd == Decimal("1.10")
    assert report.callers[0].cost_usd == Decimal("11.00")
    by_day = {d.day: d.cost_usd for d in report.daily}
    assert by_day[date(2026, 7, 29)] == Decimal("11.00")
    assert by_day[date(2026, 7, 30)] == Decimal("2.20")  # from the 30th: $0.22


def test_a_day_that_ends_at_midnight_is_priced_at_that_days_prices_not_the_next() -> None:
    """The window's end is exclusive: 29 July (ending 30 July 00:00, the cut) is priced before the cut."""
    usage = Usage(window=Window(at("2026-07-29T00:00:00"), at("2026-07-30T00:00:00")), source="log-files")
    usage.model(LUNA).add(Counts(invocations=1, input_tokens=10_000_000))
    report = build_report(usage, pricer=Pricer(), now=at("2026-07-31T12:00:00"))
    [line] = report.models
    assert line.cost_usd == Decimal("11.00")  # 10M x $1.10, not 10M x $0.22
