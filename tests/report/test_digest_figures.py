"""More of what a digest reader sees, each at the value where its form changes: latency percentiles, one
throttle, a single call, unpriced days and callers, the cache's net effect in words, texts cut to their
width, and dates in UTC wherever the report runs. Expected strings are written out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from bedrock_usage.digest import (
    caller_rows,
    compact_html,
    digest_view,
    health_rows,
    render_digest,
    trend_rows,
)
from bedrock_usage.model import (
    AccountLine,
    CallerLine,
    Counts,
    DayLine,
    Latency,
    ModelLine,
    PriceInfo,
    Report,
    SourceFailure,
    Window,
)

from scripts.sample_report import sample_report
from tests.report.conftest import make_report

NOVA_LITE = "amazon.nova-lite-v1:0"


def view(report: Report, top_n: int = 10) -> dict:
    return digest_view(report, dashboard_url=None, insights_url=None, top_n=top_n)


def line(model_id: str, counts: Counts, cost: str | None = "1.00", **kw: object) -> ModelLine:
    priced = cost is not None
    info = PriceInfo(
        model_id, model_id if priced else None, priced, "genai-prices 0.2.3" if priced else "unpriced"
    )
    return ModelLine(model_id, info, counts, Decimal(cost) if priced else None, **kw)  # type: ignore[arg-type]


# --- health --------------------------------------------------------------------------------------------


def test_health_rows_show_the_latency_percentiles_and_dashes_without_latency() -> None:
    rows = {r["name"]: r for r in view(make_report())["health"]}
    sonnet, nova, acme = rows["claude-sonnet-4-5 (us)"], rows["nova-pro (us)"], rows["acme.private-model"]
    assert (sonnet["avg"], sonnet["p90"], sonnet["p99"]) == ("2,345 ms", "4,100 ms", "8,900 ms")
    assert nova["p99"] == "21,000 ms"
    assert (acme["avg"], acme["p90"], acme["p99"]) == ("-", "-", "-")


def test_one_throttle_marks_a_model_throttled_and_abnormal() -> None:
    quiet = Latency(average_ms=500.0, p90_ms=700.0, p99_ms=900.0, max_ms=1000.0)
    (row,) = health_rows([line(NOVA_LITE, Counts(invocations=100, throttles=1), latency=quiet)])
    assert (row["throttled"], row["abnormal"], row["throttles"]) == (True, True, "1")
    (calm,) = health_rows([line(NOVA_LITE, Counts(invocations=100), latency=quiet)])
    assert (calm["throttled"], calm["abnormal"]) == (False, False)


def test_a_single_call_has_an_error_rate() -> None:
    (ok,) = health_rows([line(NOVA_LITE, Counts(invocations=1))])
    (failed,) = health_rows([line(NOVA_LITE, Counts(invocations=1, server_errors=1))])
    assert (ok["error_rate"], failed["error_rate"], failed["failing"]) == ("0.0%", "100.0%", True)


@pytest.mark.parametrize(
    ("source", "text"),
    [
        (
            "log-files",
            "No latency: these log records carry none. Bedrock logs it in the response body, which is logged "
            "only with TextDataDelivery=true; the CloudWatch metrics (the report's usual source) have it.",
        ),
        (
            "cloudwatch-metrics",
            "No latency: CloudWatch returned no InvocationLatency for these models in this window.",
        ),
    ],
)
def test_no_latency_anywhere_is_explained_by_its_source(source: str, text: str) -> None:
    report = make_report()
    report.source = source
    for m in report.models:
        m.latency = None
    assert view(report)["latency_missing"] == text


def test_nothing_more_is_announced_when_every_row_is_shown() -> None:
    v = view(make_report(failures=True))
    assert (v["health_more"], v["problems"]["failures_more"], v["problems"]["warnings_more"]) == (0, 0, 0)


# --- models, callers, days --------------------------------------------------------------------------------


def test_model_rows_show_the_id_tokens_and_whether_priced() -> None:
    rows = view(make_report())["models"]
    assert [r["model_id"] for r in rows] == [
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "us.amazon.nova-pro-v1:0",
        "acme.private-model-v1:0",
    ]
    assert [r["priced"] for r in rows] == [True, True, False]
    # Sonnet: 5M input + 2M cache read + 0.1M cache write = 7.1M read, 1M written
    assert (rows[0]["input"], rows[0]["output"]) == ("7.10M", "1.00M")
    assert (rows[2]["input"], rows[2]["output"]) == ("70,000", "8,000")


def test_a_model_that_cost_exactly_one_dollar_before_shows_its_change() -> None:
    report = make_report()
    report.models[1].previous_cost_usd = Decimal("1.00")
    report.models[1].cost_usd = Decimal("1.50")
    assert view(report)["models"][1]["change"] == {"text": "+50.0%", "dir": "up"}


def test_callers_unpriced_and_their_models_counted_past_three() -> None:
    three = ["amazon.nova-lite-v1:0", "amazon.nova-pro-v1:0", "amazon.nova-micro-v1:0"]
    rows = caller_rows(
        [
            CallerLine("arn:aws:iam::123456789012:user/a", Counts(invocations=1), None, 1, three),
            CallerLine(
                "arn:aws:iam::123456789012:user/b", Counts(invocations=1), Decimal(2), 0, [*three, "x.y"]
            ),
        ],
        Decimal(2),
    )
    assert [(r["cost"], r["share"], r["bar"]) for r in rows] == [
        ("unpriced", "-", 0),
        ("$2.00", "100.0%", 100),
    ]
    assert rows[0]["models"] == "nova-lite, nova-pro, nova-micro"
    assert rows[1]["models"] == "nova-lite, nova-pro, nova-micro +1"


def test_callers_beyond_top_n_are_summed_with_their_cost() -> None:
    # Left out: the second caller, $8.13, 1,141 calls, 2,070,000 + 308,000 tokens
    assert view(make_report(), top_n=1)["callers_more"] == {
        "count": "1",
        "cost": "$8.13",
        "tokens": "2.38M",
        "invocations": "1,141",
    }


def test_an_unpriced_day_reads_unpriced_and_bars_scale_to_the_largest_figure_under_a_dollar() -> None:
    rows = trend_rows(
        [
            DayLine(
                day=date(2026, 11, 26),
                counts=Counts(invocations=3),
                cost_usd=None,
                billed_usd=Decimal("0.50"),
            ),
            DayLine(day=date(2026, 11, 27), counts=Counts(invocations=2), cost_usd=Decimal("0.25")),
        ]
    )
    assert [(r["label"], r["cost"], r["billed"], r["bar"]) for r in rows] == [
        ("Thu 26 Nov", "unpriced", "$0.50", 0),
        ("Fri 27 Nov", "$0.25", None, 50),
    ]


def test_regions_and_price_sources_are_listed_comma_separated() -> None:
    report = make_report()
    report.regions = ["us-east-1", "eu-west-1"]
    report.models[1].price = PriceInfo(
        report.models[1].model_id,
        "amazon.nova-pro-v1:0",
        True,
        "AWS Price List 2026-11-28",
        region="us-east-1",
    )
    v = view(report)
    assert v["regions"] == "us-east-1, eu-west-1"
    assert v["price_sources"] == "AWS Price List 2026-11-28, genai-prices 0.2.3"


def test_accounts_keep_their_notes_and_cut_at_top_n() -> None:
    report = make_report()
    report.accounts = [
        AccountLine(f"11111111111{n}", f"team {n}", Counts(invocations=n), Decimal(n)) for n in (3, 2, 1)
    ]
    report.accounts_notes = ["Cost Explorer LINKED_ACCOUNT not readable"]
    accounts = view(report, top_n=2)["accounts"]
    assert [r["account_id"] for r in accounts["rows"]] == ["111111111113", "111111111112"]
    assert accounts["more"] == {"count": 1, "cost": "$1.00", "invocations": "1"}
    assert accounts["notes"] == ["Cost Explorer LINKED_ACCOUNT not readable"]


# --- headline, problems, top request ---------------------------------------------------------------------


def test_no_previous_cost_shows_none_and_no_skipped_records_shows_nothing() -> None:
    report = make_report()
    report.previous_cost_usd = None
    v = view(report)
    assert v["headline"]["previous_cost"] is None
    assert (v["problems"]["skipped"], v["problems"]["any"]) == (None, False)


def test_skipped_records_alone_are_a_problem_worth_showing() -> None:
    report = make_report()
    report.skipped_records = 1234
    assert (view(report)["problems"]["skipped"], view(report)["problems"]["any"]) == ("1,234", True)


def test_the_most_expensive_request_is_named() -> None:
    report = make_report()
    report.top_request = {
        "caller": "arn:aws:iam::123456789012:user/alice",
        "model_id": "us.amazon.nova-pro-v1:0",
        "cost_usd": 0.0812,
        "total_tokens": 151_000,
        "time": "2026-11-27T14:03:11Z",
        "request_id": "r-1",
    }
    assert view(report)["top_request"] == (
        "Most expensive request: $0.0812, user/alice on us.amazon.nova-pro-v1:0, 151,000 tokens at "
        "2026-11-27T14:03:11Z (request r-1)"
    )
    report.top_request = None
    assert view(report)["top_request"] is None


def test_the_subject_says_incomplete_data_last() -> None:
    subject = view(make_report(failures=True))["subject"]
    assert subject.endswith("est. (+12.5%) [+ unpriced usage] [incomplete data]")


def test_a_subject_of_exactly_99_characters_is_kept_whole() -> None:
    report = make_report()
    report.failures = [SourceFailure("cost-explorer", "denied")]
    # $382,488.82 against $180,000.00 is +112.5%; with both flags the subject is exactly 99 characters
    report.cost_usd = Decimal("382488.82")
    report.previous_cost_usd = Decimal("180000")
    expected = (
        "Bedrock usage, 24 h to 28 Nov 2026: $382,488.82 est. (+112.5%) [+ unpriced usage] [incomplete data]"
    )
    assert len(expected) == 99
    assert view(report)["subject"] == expected


def test_top_n_of_one_is_allowed() -> None:
    digest = render_digest(make_report(), top_n=1)
    # nova ($3.68, 3.4M + 78,000 tokens) and acme (unpriced) are left out of the model table
    assert "...and 2 more models: $3.68, 3.48M tokens, 820 calls" in digest.text


# --- widths --------------------------------------------------------------------------------------------


def cut(text: str, limit: int) -> str:
    """What a reader sees of a text one character too long: limit - 1 characters and an ellipsis."""
    return text[: limit - 1] + "\u2026"


def test_every_caller_controlled_text_is_cut_to_its_width_at_one_character_over() -> None:
    long_model = "m" * 201
    caller = "arn:aws:iam::123456789012:user/" + "u" * (301 - 31)
    model_name = "n" * 41  # its short name is itself
    code = "E" * 61
    message = "f" * 501
    warning = "w" * 301
    report = make_report()
    report.models.append(
        line(
            long_model,
            Counts(invocations=1, cache_read_tokens=5),
            cost=None,
            cache_savings_usd=Decimal("0.01"),
        )
    )
    report.models[-1].price = PriceInfo(long_model, None, False, "unpriced", note="n" * 201)
    report.callers = [CallerLine(caller, Counts(invocations=1), Decimal(1), 0, [model_name])]
    report.errors_by_code = {code: 1}
    report.failures = [SourceFailure("logs", message)]
    report.warnings = [warning]
    report.top_request = {
        "caller": "user/alice",
        "model_id": "r" * 227,
        "cost_usd": 0.5,
        "total_tokens": 1,
        "time": "t",
        "request_id": "q",
    }
    top_line = f"Most expensive request: $0.5000, user/alice on {'r' * 227}, 1 tokens at t (request q)"
    assert len(top_line) > 300
    v = view(report)
    assert v["cache"]["rows"][-1]["model_id"] == cut(long_model, 200)
    assert v["health"][-1]["model_id"] == cut(long_model, 200)
    assert v["unpriced"][-1]["note"] == cut("n" * 201, 200)
    assert v["callers"][0]["arn"] == cut(caller, 300)
    assert v["callers"][0]["models"] == cut("n" * 41, 40)
    assert v["errors_by_code"] == [{"code": cut(code, 60), "count": "1"}]
    assert v["incomplete"] == [f"logs: {cut(message, 160)}"]
    assert v["problems"]["failures"] == [{"source": "logs", "message": cut(message, 500)}]
    assert v["problems"]["warnings"] == [cut(warning, 300)]
    assert v["top_request"] == cut(top_line, 300)


def test_texts_exactly_at_their_width_are_kept_whole() -> None:
    report = make_report()
    report.warnings = ["w" * 300]
    report.top_request = {
        "caller": "user/a",
        "model_id": "m",
        "cost_usd": 0.5,
        "total_tokens": 1,
        "time": "t",
        "request_id": "q" * 230,
    }
    v = view(report)
    assert v["problems"]["warnings"] == ["w" * 300]
    assert (
        v["top_request"]
        == f"Most expensive request: $0.5000, user/a on m, 1 tokens at t (request {'q' * 230})"
    )
    assert len(v["top_request"]) == 300


# --- cache ---------------------------------------------------------------------------------------------


def test_a_model_with_cache_reads_only_is_in_the_cache_table_and_no_savings_reads_dash() -> None:
    report = make_report()
    report.models.append(line(NOVA_LITE, Counts(invocations=1, input_tokens=100, cache_read_tokens=300)))
    rows = view(report)["cache"]["rows"]
    assert [r["name"] for r in rows] == ["claude-sonnet-4-5 (us)", "nova-lite"]
    assert rows[1]["savings"] == "-"  # no savings figure for it
    assert rows[1]["hit"] == "75.0%"  # 300 of 400 input tokens read from the cache


@pytest.mark.parametrize(
    ("net", "savings", "label", "effect"),
    [
        (None, None, "saved by cache reads", None),
        (
            "-0.04",
            "$0.04",
            "more paid for cache writes than cache reads saved",
            "cost $0.04 more than it saved",
        ),
        ("0", "$0.00", "saved by cache reads", "saved $0.00"),
        ("0.50", "$0.50", "saved by cache reads", "saved $0.50"),
    ],
)
def test_the_cache_net_effect_in_words(
    net: str | None, savings: str | None, label: str, effect: str | None
) -> None:
    report = make_report()
    report.cache_savings_usd = Decimal(net) if net is not None else None
    cache = view(report)["cache"]
    assert (cache["savings"], cache["savings_label"], cache["effect"]) == (savings, label, effect)


# --- HTML and time zones ------------------------------------------------------------------------------------


def test_inlined_styles_lose_their_spaces_and_last_semicolon() -> None:
    html = '<td class="num" style="color: #555; padding: 2px 4px;">1</td>'
    assert compact_html(html) == '<td style="color:#555;padding:2px 4px">1</td>'


@pytest.mark.usefixtures("tokyo_local_time")
def test_dates_are_utc_wherever_the_digest_is_rendered() -> None:
    report = make_report()
    report.window = Window(datetime(2026, 11, 27, 20, tzinfo=UTC), datetime(2026, 11, 28, 20, tzinfo=UTC))
    report.generated_at = datetime(2026, 11, 28, 20, 3, tzinfo=UTC)  # 05:03 on 29 Nov in Tokyo
    v = view(report)
    assert v["window"] == "Fri 27 Nov 20:00 - Sat 28 Nov 2026 20:00 UTC"
    assert v["generated"] == "2026-11-28 20:03 UTC"
    assert v["subject"].startswith("Bedrock usage, 24 h to 28 Nov 2026: ")


def test_a_digest_that_cannot_fit_the_budget_still_goes_out_with_three_rows_per_list() -> None:
    """The lists shrink to three rows and no further; the email is sent rather than never rendered."""
    report = sample_report(models=30, callers=30)
    digest = render_digest(report, dashboard_url="https://example.com/" + "d" * 120_000)
    assert "...and 27 more models" in digest.text
    assert "...and 27 more callers" in digest.text
