"""The digest's display values (digest_view and its helpers): each figure and label a reader sees, at
and around the boundaries where its form changes. Expected strings are written out by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from bedrock_usage.digest import (
    bar_pct,
    change,
    clip,
    compact,
    digest_view,
    display_caller,
    display_model,
    ms,
    render_digest,
    short_model,
    span_label,
    subject_line,
    window_label,
)
from bedrock_usage.model import Counts, PriceInfo, Report, SourceFailure, Window

from tests.report.conftest import make_report


def view(report: Report, top_n: int = 10) -> dict:
    return digest_view(report, dashboard_url=None, insights_url=None, top_n=top_n)


@pytest.mark.parametrize(
    ("mtd", "projected", "budget", "expected"),
    [
        ("500", "800", "1000", ("$500.00", "$800.00", "$1,000.00", "50.0%", "80.0%", 50, 30, False, False)),
        (
            "812.40",
            "1046.90",
            "1000",
            ("$812.40", "$1,046.90", "$1,000.00", "81.2%", "104.7%", 81, 19, True, False),
        ),
        (
            "1200",
            "1500",
            "1000",
            ("$1,200.00", "$1,500.00", "$1,000.00", "120.0%", "150.0%", 100, 0, True, True),
        ),
        (
            "1000",
            "1000",
            "1000",
            ("$1,000.00", "$1,000.00", "$1,000.00", "100.0%", "100.0%", 100, 0, False, False),
        ),
        ("300", "600", None, ("$300.00", "$600.00", None, None, None, 0, 0, False, False)),
    ],
)
def test_month_figures_shares_of_the_budget_and_the_bar(
    mtd: str, projected: str, budget: str | None, expected: tuple
) -> None:
    report = make_report()
    report.month_to_date_usd, report.projected_month_usd = Decimal(mtd), Decimal(projected)
    report.budget_usd = Decimal(budget) if budget else None
    month = view(report)["month"]
    keys = (
        "mtd",
        "projected",
        "budget",
        "used",
        "projected_share",
        "bar_used",
        "bar_projected",
        "over",
        "over_now",
    )
    assert tuple(month[k] for k in keys) == expected


def test_no_month_figures_and_no_budget_means_no_month_section() -> None:
    report = make_report()
    report.month_to_date_usd = report.projected_month_usd = report.budget_usd = None
    assert view(report)["month"] is None
    report.budget_usd = Decimal(100)
    month = view(report)["month"]
    assert (month["mtd"], month["projected"], month["budget"]) == ("n/a", "n/a", "$100.00")


def test_billed_vs_estimated_over_the_completed_days() -> None:
    billed = view(make_report())["billed"]
    # Days 14..25 Nov are billed $21..$32 (sum 318) and estimated $20..$31 (sum 306): -3.8% vs billed.
    # Every day in this fixture is final (no Cost Explorer `Estimated` flag), so all 12 are compared.
    assert billed == {
        "final": {
            "days": 12,
            "first": "14 Nov",
            "last": "25 Nov",
            "billed": "$318.00",
            "estimated": "$306.00",
            "difference": "-$12.00",
            "difference_pct": "-3.8%",
            # the last final day, 25 Nov: billed $32, estimated $31
            "last_billed": "$32.00",
            "last_estimated": "$31.00",
            "last_difference": "-$1.00",
            "last_difference_pct": "-3.1%",
        },
        "provisional": None,
        "provisional_billed": None,
    }
    report = make_report()
    for day in report.daily:
        day.billed_usd = None
    assert view(report)["billed"] is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (0.0, {"text": "+0.0%", "dir": "flat"}),
        (0.0049, {"text": "+0.5%", "dir": "flat"}),
        (0.005, {"text": "+0.5%", "dir": "up"}),
        (-0.0049, {"text": "-0.5%", "dir": "flat"}),
        (-0.005, {"text": "-0.5%", "dir": "down"}),
        (1.5, {"text": "+150.0%", "dir": "up"}),
    ],
)
def test_change_direction_flat_within_half_a_percent(value: float | None, expected: dict | None) -> None:
    assert change(value) == expected


@pytest.mark.parametrize(
    ("value", "top", "expected"),
    [
        (None, "10", 0),
        ("5", "0", 0),
        ("0", "10", 0),
        ("0.001", "100", 1),  # tiny but not zero: still visible
        ("50", "100", 50),
        ("100", "100", 100),
        ("150", "100", 100),
        ("1", "3", 33),
        ("2", "3", 67),
    ],
)
def test_bar_widths(value: str | None, top: str, expected: int) -> None:
    assert bar_pct(Decimal(value) if value is not None else None, Decimal(top)) == expected


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (None, "n/a"),
        (0, "0"),
        (999_999, "999,999"),
        (1_000_000, "1.00M"),
        (1_234_567, "1.23M"),
        (999_999_999, "1000.00M"),
        (1_000_000_000, "1.00B"),
        (2_500_000_000, "2.50B"),
        (-2_000_000, "-2.00M"),
    ],
)
def test_compact_token_counts(n: int | None, expected: str) -> None:
    assert compact(n) == expected


@pytest.mark.parametrize(
    ("hours", "label"),
    [(24, "24 h"), (36, "36 h"), (47, "47 h"), (48, "2 days"), (60, "60 h"), (168, "7 days"), (1.5, "1.5 h")],
)
def test_span_labels(hours: float, label: str) -> None:
    assert span_label(hours) == label


def test_window_label_names_the_year_once_or_twice() -> None:
    report = make_report()
    assert window_label(report) == "Fri 27 Nov 06:00 - Sat 28 Nov 2026 06:00 UTC"
    report.window = Window(datetime(2026, 12, 31, 18, tzinfo=UTC), datetime(2027, 1, 1, 18, tzinfo=UTC))
    assert window_label(report) == "Thu 31 Dec 2026 18:00 - Fri 01 Jan 2027 18:00 UTC"


def test_subject_is_cut_at_99_characters_with_an_ellipsis() -> None:
    report = make_report(failures=True)
    report.cost_usd = Decimal("123456789012345.67")
    subject = subject_line(report)
    assert len(subject) == 99
    assert subject.endswith("...")
    assert subject.startswith("Bedrock usage, 24 h to 28 Nov 2026: $123,456,789,012,345.67 est. (")
    short = subject_line(make_report())
    assert short == "Bedrock usage, 24 h to 28 Nov 2026: $38.25 est. (+12.5%) [+ unpriced usage]"


def test_clip_and_ms_and_display_names() -> None:
    assert clip("abc", 3) == "abc"
    assert clip("abcd", 3) == "ab\u2026"
    assert clip(None, 5) == ""
    assert clip("a\n  b\tc", 10) == "a b c"
    assert ms(None) == "-"
    assert ms(12_345.6) == "12,346 ms"
    assert display_model("arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0") == (
        "amazon.nova-lite-v1:0"
    )
    assert display_model("arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc") == (
        "provisioned-model/abc"
    )
    assert display_model("us.amazon.nova-lite-v1:0") == "us.amazon.nova-lite-v1:0"
    assert display_caller("arn:aws-us-gov:iam::123456789012:user/bob") == "user/bob"
    assert display_caller("arn:aws:sts::123456789012:assumed-role/R/s") == "assumed-role/R/s"
    assert display_caller("unknown") == "unknown"
    assert short_model("meta.llama3-70b-instruct-v1:0") == "llama3-70b-instruct"
    assert short_model("eu.mistral.mistral-large-2407-v1:0") == "mistral-large-2407 (eu)"
    assert short_model("us-gov.anthropic.claude-3-haiku-20240307-v1:0") == "claude-3-haiku (us-gov)"


def test_models_beyond_top_n_are_summed_and_priced_rows_show_what_they_resolve_to() -> None:
    report = make_report()
    v = view(report, top_n=1)
    # Left out: nova ($3.68, 3.4M tokens, 765 calls) and acme (unpriced, 78,000 tokens, 55 calls).
    assert v["models_more"] == {"count": "2", "cost": "$3.68", "tokens": "3.48M", "invocations": "820"}
    assert v["health_more"] == 2
    assert [r["name"] for r in v["health"]] == ["claude-sonnet-4-5 (us)"]
    only_unpriced = view(report, top_n=2)["models_more"]
    assert only_unpriced == {"count": "1", "cost": "unpriced", "tokens": "78,000", "invocations": "55"}
    rows = v["models"]
    assert rows[0]["resolved"] is None  # the shown ID already contains it
    assert rows[0]["bar"] == 100
    assert rows[0]["change"] == {"text": "+15.2%", "dir": "up"}
    profile = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/82ey7vcct4m3"
    report.models[1].model_id = profile
    report.models[1].price = PriceInfo(profile, "amazon.nova-pro-v1:0", True, "genai-prices 0.2.3")
    nova_row = view(report)["models"][1]
    assert nova_row["resolved"] == "amazon.nova-pro-v1:0"
    assert nova_row["bar"] == 11  # 3.68 / 34.5678
    assert nova_row["change"] is None  # no previous cost


def test_cache_view_rates_and_rows() -> None:
    cache = view(make_report())["cache"]
    # Sonnet read 2M of 7.1M input (5M + 2M + 0.1M written): 28.2%. All models: 2M of 10.17M: 19.7%.
    assert cache["rows"] == [
        {
            "name": "claude-sonnet-4-5 (us)",
            "model_id": "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "read": "2.00M",
            "write": "100,000",
            "hit": "28.2%",
            "savings": "saved $5.94",
        }
    ]
    assert (cache["savings"], cache["read"], cache["write"], cache["hit"]) == (
        "$5.94",
        "2.00M",
        "100,000",
        "19.7%",
    )
    assert cache["used"] is True
    assert cache["more"] == 0


def test_problems_and_errors_by_code_are_cut_with_a_count_of_the_rest() -> None:
    report = make_report()
    report.warnings = [f"warning {i}" for i in range(11)]
    report.failures = [SourceFailure(f"source-{i}", "denied") for i in range(9)]
    report.skipped_records = 1234
    report.errors_by_code = {"A": 3, "B": 10, "C": 7}
    v = view(report, top_n=2)
    problems = v["problems"]
    assert problems["warnings"] == [f"warning {i}" for i in range(8)]
    assert problems["warnings_more"] == 3
    assert len(problems["failures"]) == 8
    assert problems["failures_more"] == 1
    assert problems["skipped"] == "1,234"
    assert problems["any"] is True
    assert v["errors_by_code"] == [{"code": "B", "count": "10"}, {"code": "C", "count": "7"}]
    assert v["incomplete"] == ["source-0: denied", "source-1: denied", "source-2: denied", "and 6 more"]
    text = render_digest(report).text
    assert "and 3 more warnings" in text
    assert "and 1 more failed sources" in text


def test_headline_counts_and_rates() -> None:
    report = make_report()
    h = view(report)["headline"]
    # 12 + 3 + 61 errors over 5,141 invocations; 9 throttles.
    assert (h["errors"], h["error_rate"], h["throttles"]) == ("76", "1.5%", "9")
    assert (h["unpriced_invocations"], h["unpriced_models"]) == (55, 1)
    assert h["previous_cost"] == "$34.00"
    # Invocations 5,141 against 4,000 (+28.5%); tokens 11,578,000 against 9,000,000 (+28.6%).
    assert h["invocations_change"] == {"text": "+28.5%", "dir": "up"}
    assert h["tokens_change"] == {"text": "+28.6%", "dir": "up"}
    report.previous_totals = Counts()
    h = view(report)["headline"]
    assert h["invocations_change"] is None  # nothing before: no change, not +inf
    assert view(report)["price_sources"] == "genai-prices 0.2.3"
    report.models = [m for m in report.models if not m.price.priced]
    assert view(report)["price_sources"] == "-"


def test_caller_rows_trend_rows_and_unpriced_rows() -> None:
    report = make_report()
    many = [f"us.amazon.nova-{i}-v1:0" for i in range(5)]
    report.callers[0].models = many
    report.callers[0].unpriced_invocations = 0
    v = view(report)
    alice, hostile = v["callers"]
    assert alice["models"] == "nova-0 (us), nova-1 (us), nova-2 (us) +2"
    assert alice["unpriced_invocations"] is None
    assert (alice["cost"], alice["share"], alice["bar"], alice["invocations"]) == (
        "$30.12",
        "78.7%",
        100,
        "4,000",
    )
    assert hostile["unpriced_invocations"] == "55"
    assert hostile["bar"] == 27  # 8.13 / 30.12
    assert hostile["tokens"] == "2.38M"
    report.callers[1].cost_usd = None
    assert view(report)["callers"][1]["cost"] == "unpriced"
    assert view(report)["callers"][1]["share"] == "-"
    trend = v["trend"]
    assert len(trend) == 14
    # Day 14 Nov: $20 estimated, $21 billed; bars are against the largest figure, 27 Nov's $33: 20/33.
    assert trend[0] == {
        "label": "Sat 14 Nov",
        "cost": "$20.00",
        "billed": "$21.00",
        "bar": 61,
        "tokens": "1.00M",
        "invocations": "1,000",
    }
    assert trend[-1]["billed"] is None
    assert trend[-1]["bar"] == 100
    [unpriced] = v["unpriced"]
    assert unpriced == {
        "model": "acme.private-model-v1:0",
        "invocations": "55",
        "tokens": "78,000",
        "note": "no price known for acme.private-model-v1:0",
    }
    assert v["unpriced_more"] == 0
    other = replace(
        report.models[2], model_id="acme.other-v1:0", price=replace(report.models[2].price, note=None)
    )
    report.models.append(other)
    two = view(report, top_n=1)
    assert [u["model"] for u in two["unpriced"]] == ["acme.private-model-v1:0"]
    assert two["unpriced_more"] == 1
    assert view(report)["unpriced"][1]["note"] == "no price known for this model"


def test_the_header_line_and_an_empty_region_list() -> None:
    report = make_report()
    v = view(report)
    assert v["generated"] == "2026-11-28 06:03 UTC"
    assert v["regions"] == "us-east-1"
    assert v["span"] == "24 h"
    report.regions = []
    assert view(report)["regions"] == "-"


def test_survivor_boundaries_in_the_view() -> None:
    report = make_report()
    report.failures = [SourceFailure(f"s{i}", "x") for i in range(4)]
    assert view(report)["incomplete"][-1] == "and 1 more"  # four failures: three named, one counted
    report.failures = report.failures[:3]
    assert view(report)["incomplete"] == ["s0: x", "s1: x", "s2: x"]
    # Callers with three models or fewer list them all, with nothing appended.
    assert view(report)["callers"][1]["models"] == "claude-sonnet-4-5 (us), acme.private-model"
    # An unpriced model's share is a dash, not 0%.
    assert view(report)["models"][2]["share"] == "-"
    # Projection without a month to date: the light bar is the whole projection.
    report.month_to_date_usd, report.projected_month_usd = None, Decimal(600)
    month = view(report)["month"]
    assert (month["bar_used"], month["bar_projected"], month["used"]) == (0, 60, None)


def test_trend_bars_are_against_the_largest_day_even_below_a_dollar() -> None:
    report = make_report()
    for i, day in enumerate(report.daily):
        day.cost_usd, day.billed_usd = Decimal("0.05") * (i + 1), None
    bars = [row["bar"] for row in view(report)["trend"]]
    assert bars[-1] == 100  # $0.70, the largest
    assert bars[6] == 50  # $0.35


def test_health_row_shows_p90_and_the_inlined_warning_style() -> None:
    html = render_digest(make_report()).html
    health = html[html.index("Latency and errors") :]
    assert "p90 4,100 ms" in health  # Sonnet's p90
    assert '<b style="color:#b91c1c">\u26a0</b>' in health  # style attribute compacted, not mangled


def test_a_report_without_any_latency_says_why_instead_of_a_column_of_dashes() -> None:
    report = make_report()
    assert view(report)["latency_missing"] is None  # the fixture's models carry latency
    for line in report.models:
        line.latency = None
    from_logs = replace(report, source="log-files")
    assert "TextDataDelivery=true" in view(from_logs)["latency_missing"]
    assert "InvocationLatency" in view(replace(report, source="cloudwatch"))["latency_missing"]
