"""The digest's content, escaping, size and subject: rendered from hand-built Reports, no snapshots."""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from bedrock_usage.analyze import build_report
from bedrock_usage.digest import GMAIL_CLIP_BYTES, dashboard_link, insights_link, render_digest, short_model
from bedrock_usage.model import CallerLine, Counts, Latency, Report, SourceFailure, Usage, Window
from bedrock_usage.price import Pricer

from scripts.sample_report import sample_report
from tests.report.conftest import HOSTILE_CALLER, make_report


class _Collector(HTMLParser):
    """Text, tags and attributes of an HTML document, as a mail client's parser sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)
        if tag != "wbr":  # <wbr> is a line-break opportunity inside a word, not a separator
            self.text.append(" ")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    return collector


def visible_text(html: str) -> str:
    return " ".join("".join(parse(html).text).split())


def test_given_a_report_when_rendered_then_every_section_is_there_in_order() -> None:
    digest = render_digest(
        make_report(), dashboard_url="https://example.com/dash", insights_url="https://x/i"
    )
    text = visible_text(digest.html)
    sections = [
        "Estimated cost",
        "Daily cost, last 14 days",
        "Top models",
        "Top callers",
        "Prompt caching",
        "Latency and errors",
        "This month",
        "Billed vs estimated",
        "Unpriced models",
        "Open the dashboard",
    ]
    positions = [text.find(s) for s in sections]
    assert -1 not in positions, dict(zip(sections, positions, strict=True))
    assert positions == sorted(positions)


def test_given_a_report_then_headline_numbers_are_in_html_and_text() -> None:
    digest = render_digest(make_report())
    html_text = visible_text(digest.html)
    for expected in ("$38.25", "+12.5%", "5,141", "11.58M", "$34.00"):
        assert expected in html_text, expected
    # The text part carries the same numbers, exact token count included.
    for expected in ("$38.25", "+12.5%", "5,141", "11,578,000", "$34.00"):
        assert expected in digest.text, expected


def test_models_callers_and_months_show_their_figures() -> None:
    text = visible_text(render_digest(make_report()).html)
    assert "claude-sonnet-4-5 (us)" in text
    assert "$34.57" in text
    assert "90.0%" in text
    assert "4,321" in text
    assert "+15.2%" in text
    assert "nova-pro (us)" in text
    assert "$3.68" in text
    # The caller's ARN is shortened to what follows the account: the full ARN only in the title.
    assert "Caller Cost Share Calls user/alice 7.10M tokens" in text
    assert "arn:aws:iam::" not in text
    assert "$30.12" in text
    assert "$812.40" in text
    assert "$1,046.90" in text
    assert "$1,000.00" in text
    assert "81.2%" in text
    assert "104.7%" in text
    assert "over budget" in text
    # Cache: savings and the hit rate (2M of 7.1M input tokens).
    assert "$5.94" in text
    assert "28.2%" in text
    # Billed vs estimated over the 12 days Cost Explorer has: 21..32 billed = 318, 20..31 estimated = 306.
    assert "$318.00" in text
    assert "$306.00" in text


def test_unpriced_usage_is_stated_never_shown_as_zero() -> None:
    digest = render_digest(make_report())
    text = visible_text(digest.html)
    assert "55 invocations on 1 unpriced model are not in the cost" in text
    assert "acme.private-model-v1:0" in text
    assert "no price known" in text
    row = re.search(r"acme\.private-model.{0,400}", text)
    assert row
    assert "$0.00" not in row.group(0)
    assert "unpriced" in digest.subject
    assert "NOT in the cost" in digest.text


def test_when_nothing_could_be_priced_the_headline_says_unpriced_not_zero() -> None:
    report = make_report()
    report.models = [m for m in report.models if m.cost_usd is None]
    report.cost_usd = Decimal(0)  # the priced part: nothing
    digest = render_digest(report)
    assert "$0.00" not in digest.subject
    assert ": unpriced est." in digest.subject
    assert "Estimated cost: unpriced" in digest.text


def test_abnormal_latency_errors_and_throttles_are_highlighted() -> None:
    html = render_digest(make_report()).html
    # nova-pro: avg 12,500 ms (>= 10 s), 8.0% errors, 9 throttles -> flagged; sonnet: nothing abnormal.
    health = html[html.index("Latency and errors") :]
    nova_row = re.search(r'<tr><td title="[^"]*nova-pro-v1:0"(?:(?!</tr>).)*</tr>', health, re.S)
    sonnet_row = re.search(
        r'<tr><td title="us.anthropic.claude-sonnet[^"]*"(?:(?!</tr>).)*</tr>', health, re.S
    )
    assert nova_row
    assert sonnet_row
    assert "\u26a0" in nova_row.group(0)
    assert "#b91c1c" in nova_row.group(0)
    assert "12,500 ms" in nova_row.group(0)
    assert "8.0%" in nova_row.group(0)
    assert "\u26a0" not in sonnet_row.group(0)
    assert "#fef2f2" not in sonnet_row.group(0)


def test_data_source_failures_skipped_records_and_warnings_are_stated_plainly() -> None:
    digest = render_digest(make_report(failures=True))
    text = visible_text(digest.html)
    assert "Incomplete data." in text
    assert "cost-explorer failed: AccessDeniedException" in text
    assert "3 log records skipped" in text
    assert "metrics and logs disagree" in text
    assert "[incomplete data]" in digest.subject
    assert "DATA PROBLEMS" in digest.text
    assert "cost-explorer failed" in digest.text


def test_hostile_caller_names_are_escaped_in_html_and_kept_readable_in_text() -> None:
    digest = render_digest(make_report())
    doc = parse(digest.html)
    assert "script" not in doc.tags
    assert not [name for name, _ in doc.attrs if name.startswith("on")]
    # In text it is escaped; in the title attribute the quotes are escaped, so the value stays one
    # attribute (the parser gives it back whole) and `<` inside a quoted value is inert.
    assert "&lt;script&gt;" in digest.html
    assert ("title", HOSTILE_CALLER) in doc.attrs
    # The reader still sees what the caller called itself; the text part is not HTML-escaped.
    assert "<script>alert('x')</script>" in visible_text(digest.html)
    assert "assumed-role/app/<script>alert('x')</script>" in digest.text
    assert "&lt;" not in digest.text


def test_hostile_text_cannot_break_the_text_layout() -> None:
    caller = CallerLine(
        caller="arn:aws:sts::123456789012:assumed-role/app/line1\nFAKE: $0 spent\r\n" + "x" * 5000,
        counts=Counts(invocations=1),
        cost_usd=None,
    )
    digest = render_digest(make_report(callers=[caller]))
    assert "\nFAKE" not in digest.text
    assert max(len(line) for line in digest.text.splitlines()) < 400


def test_no_scripts_no_external_resources_css_inlined() -> None:
    digest = render_digest(make_report(), dashboard_url="https://example.com/d")
    doc = parse(digest.html)
    assert "script" not in doc.tags
    assert "style" not in doc.tags
    assert "link" not in doc.tags
    assert not [v for name, v in doc.attrs if name == "src"]  # no images to load
    assert 'style="' in digest.html  # css-inline moved the rules onto the elements
    hrefs = [v for name, v in doc.attrs if name == "href"]
    assert hrefs == ["https://example.com/d"]


def test_subject_has_date_cost_and_change_under_100_ascii_characters() -> None:
    digest = render_digest(make_report(failures=True))
    assert len(digest.subject) < 100
    assert digest.subject.isascii()
    assert "28 Nov 2026" in digest.subject
    assert "$38.25" in digest.subject
    assert "+12.5%" in digest.subject


def test_without_previous_window_change_is_not_invented() -> None:
    report = make_report()
    report.previous_cost_usd = None
    report.previous_totals = None
    digest = render_digest(report)
    assert "%)" not in digest.subject
    assert "n/a" in digest.text.split("\n\n")[1]


def test_empty_window_renders_a_short_honest_digest() -> None:
    report = make_report()
    report.models, report.callers, report.daily = [], [], []
    report.totals, report.cost_usd, report.unpriced_invocations = Counts(), report.cost_usd * 0, 0
    text = visible_text(render_digest(report).html)
    assert "No Bedrock invocations in this window." in text


@pytest.mark.parametrize(("models", "callers"), [(500, 2000), (60, 300)])
def test_at_any_scale_the_html_stays_under_gmail_clip_with_and_k_more(models: int, callers: int) -> None:
    report = sample_report(models=models, callers=callers)
    started = time.perf_counter()
    digest = render_digest(report)
    assert time.perf_counter() - started < 5
    assert digest.html_bytes < GMAIL_CLIP_BYTES
    text = visible_text(digest.html)
    assert f"and {models - 10} more models" in text
    assert f"and {callers - 10:,} more callers" in text


def test_top_n_limits_rows() -> None:
    digest = render_digest(sample_report(models=30, callers=30), top_n=3)
    assert "and 27 more models" in visible_text(digest.html)
    with pytest.raises(ValueError, match="top_n"):
        render_digest(make_report(), top_n=0)


@pytest.mark.parametrize(
    ("model_id", "short"),
    [
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5 (us)"),
        ("global.anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4-5 (global)"),
        ("arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.amazon.nova-pro-v1:0", "nova-pro (eu)"),
        ("amazon.nova-lite-v1:0", "nova-lite"),
        (
            "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/82ey7vcct4m3",
            "application-inference-profile/82ey7vcct4m3",
        ),
    ],
)
def test_short_model_names(model_id: str, short: str) -> None:
    assert short_model(model_id) == short


def test_worst_case_long_ids_everywhere_still_fit_under_the_clip() -> None:
    """500 models and 2,000 callers whose IDs are as long as AWS allows, 100 warnings, 50 failures."""
    report = sample_report(models=500, callers=2000)
    for i, m in enumerate(report.models):
        m.model_id = f"arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/{'x' * 200}{i}"
    for i, c in enumerate(report.callers):
        c.caller = f"arn:aws:sts::123456789012:assumed-role/{'R' * 64}/{'s' * 64}{i}"
        c.models = [m.model_id for m in report.models[:5]]
    report.warnings = ["w" * 1000] * 100
    report.failures = [SourceFailure("logs-insights", "f" * 2000)] * 50
    report.errors_by_code = {f"{'E' * 100}{i}": i for i in range(300)}
    digest = render_digest(report, top_n=25, dashboard_url="https://example.com/" + "d" * 300)
    assert digest.html_bytes < GMAIL_CLIP_BYTES
    text = visible_text(digest.html)
    assert "more models" in text
    assert "and 42 more failed sources" in text
    assert "and 92 more warnings" in text


def test_wbr_filter_escapes_before_adding_break_opportunities() -> None:
    from bedrock_usage.render import wbr

    assert str(wbr("us.amazon.nova-pro-v1:0")) == "us.<wbr>amazon.<wbr>nova-<wbr>pro-<wbr>v1:<wbr>0"
    assert str(wbr('<img src=x onerror="a()">')) == "&lt;img src=x onerror=&#34;a()&#34;&gt;"
    assert str(wbr(None)) == ""


def test_compacting_the_html_never_changes_what_a_caller_name_says() -> None:
    """Class and style attributes are stripped/tightened inside tags only, never in text."""
    name = 'arn:aws:iam::123456789012:user/x class="a" style="b : c"'
    caller = CallerLine(caller=name, counts=Counts(invocations=1), cost_usd=None)
    digest = render_digest(make_report(callers=[caller]))
    assert 'user/x class="a" style="b : c"' in visible_text(digest.html)
    assert ("title", name) in parse(digest.html).attrs


# ------------------------------------------------------------------ the real pipeline's Report, rendered
# These render what build_report makes of collected usage (library prices, REFERENCE.md section 8:
# Sonnet 4.5 regional $3.30/$16.50, Nova Lite $0.06/$0.24 per 1M tokens) and check what a reader sees.

ALICE = "arn:aws:iam::123456789012:user/alice"
BOB = "arn:aws:sts::123456789012:assumed-role/BatchRole/job-42"
CLAUDE = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
NOVA = "amazon.nova-lite-v1:0"
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
DAY_WINDOW = Window(NOW - timedelta(hours=24), NOW)
M = 1_000_000


def pipeline_report(*, latency: Latency | None = None, errors: int = 0, nova_calls: int = 30) -> Report:
    """Claude $13.20 (alice $6.60, bob $6.60), Nova $1.80 (bob), against Claude $26.40 and Nova $1.20 before.

    Nova Lite every day of November so far, day d costing 0.06 x d dollars (d million input tokens).
    """
    current = Usage(window=DAY_WINDOW, source="log-files")
    current.caller(ALICE, CLAUDE).add(Counts(invocations=10, input_tokens=M, output_tokens=M // 5))
    current.caller(BOB, CLAUDE).add(Counts(invocations=20, input_tokens=2 * M))
    current.caller(BOB, NOVA).add(
        Counts(invocations=nova_calls, input_tokens=10 * M, output_tokens=5 * M, client_errors=errors)
    )
    for (_, model_id), counts in current.by_caller.items():
        current.model(model_id).add(counts)
    if latency is not None:
        current.latency[NOVA] = latency
    for d in range(1, 21):
        current.day(date(2026, 11, d), NOVA).add(Counts(invocations=d, input_tokens=d * M))
    previous = Usage(window=DAY_WINDOW.previous(), source="log-files")
    previous.model(CLAUDE).add(Counts(invocations=40, input_tokens=8 * M))
    previous.model(NOVA).add(Counts(invocations=20, input_tokens=10 * M, output_tokens=5 * M // 2))
    return build_report(
        current, pricer=Pricer(), previous=previous, budget_usd=Decimal(20), regions=["us-east-1"], now=NOW
    )


def section(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end, text.index(start))]


def test_pipeline_digest_headline_models_and_change_arrows() -> None:
    digest = render_digest(pipeline_report())
    text = visible_text(digest.html)
    # $15.00 now against $27.60 before: (15 - 27.6) / 27.6 = -45.65% -> down.
    assert "$15.00" in digest.subject
    assert "(-45.7%)" in digest.subject
    headline = section(text, "Estimated cost", "Daily cost")
    assert "\u25bc -45.7% vs $27.60 in the previous 24 h" in headline
    # Tokens 18.2M against 20.5M: -11.2% down; invocations 60 against 60: flat, no arrow.
    assert "18.20M \u25bc -11.2%" in headline
    assert "60 +0.0%" in headline
    assert "\u25b2" not in headline
    models = section(text, "Top models", "Top callers")
    # Claude $13.20 (88.0% of $15.00), down 50% from $26.40; Nova $1.80 (12.0%), up 50% from $1.20.
    assert "claude-sonnet-4-5 (us)" in models
    assert "$13.20 \u25bc -50.0% 88.0% 30" in models
    assert "$1.80 \u25b2 +50.0% 12.0% 30" in models
    assert models.index("claude-sonnet-4-5") < models.index("nova-lite")


def test_pipeline_digest_caller_costs_and_shares() -> None:
    text = visible_text(render_digest(pipeline_report()).html)
    callers = section(text, "Top callers", "Prompt caching")
    # bob: Claude $6.60 + Nova $1.80 = $8.40 (56.0% of $15.00); alice: $6.60 (44.0%). Costliest first.
    assert "assumed-role/BatchRole/job-42" in callers
    assert "$8.40 56.0% 50" in callers
    assert "$6.60 44.0% 10" in callers
    assert callers.index("BatchRole") < callers.index("user/alice")


def test_pipeline_digest_trend_shows_the_last_14_days_each_priced() -> None:
    digest = render_digest(pipeline_report())
    trend = section(visible_text(digest.html), "Daily cost, last 14 days", "Top models")
    # Nov 7 .. Nov 20, oldest first; Nov 1 .. 6 are in the month but not in the trend.
    for d in range(7, 21):
        label = f"{date(2026, 11, d):%a %d %b}"
        cost = Decimal("0.06") * d
        assert f"{label} ${cost:.2f} \u00b7 {d}.00M" in trend, label
    assert f"{date(2026, 11, 6):%a %d %b}" not in trend
    assert trend.index("07 Nov") < trend.index("20 Nov")
    assert "unpriced" not in trend


def test_pipeline_digest_month_to_date_projection_and_budget() -> None:
    text = visible_text(render_digest(pipeline_report()).html)
    month = section(text, "This month", "Billed vs estimated")
    # To date: 0.06 x (1 + ... + 20) = $12.60. Rate: Nov 13..19 -> 0.06 x 16 = $0.96 a day, 10.5 days
    # left -> $10.08 more: $22.68, against a $20 budget: 63.0% used, 113.4% projected.
    assert "Month to date $12.60" in month
    assert "Projected month end $22.68" in month
    assert "Budget $20.00" in month
    assert "63.0% of the budget used" in month
    assert "113.4% of it, over budget" in month


HEALTH_CELLS = ("name", "avg", "p99", "errors", "throttled")


def health_row(html: str, model_id: str) -> tuple[str, list[str]]:
    """The model's row in 'Latency and errors', and which of its cells are highlighted."""
    health = html[html.index("Latency and errors") :]
    row = re.search(rf'<tr><td title="{re.escape(model_id)}"(?:(?!</tr>).)*</tr>', health, re.S)
    assert row, model_id
    cells = re.findall(r"<td\b[^>]*>", row.group(0))
    return row.group(0), [name for name, cell in zip(HEALTH_CELLS, cells, strict=True) if "#fef2f2" in cell]


@pytest.mark.parametrize(
    ("avg", "p99", "errors", "invocations", "flagged"),
    [
        (10_000.0, 1_000.0, 0, 30, ["avg"]),  # exactly 10 s: at the threshold counts
        (9_999.0, 9_999.0, 0, 30, []),
        (1_000.0, 10_000.0, 0, 30, ["p99"]),
        (10_500.0, 12_000.0, 0, 30, ["avg", "p99"]),
        (1_000.0, 2_000.0, 3, 60, ["errors"]),  # Nova: 3 of 60 = 5.0% exactly
        (1_000.0, 2_000.0, 3, 61, []),  # 3 of 61 = 4.9%
        (1_000.0, 2_000.0, 2, 60, []),  # 3.3%
    ],
)
def test_health_flags_at_and_around_10_seconds_and_5_percent_errors(
    avg: float, p99: float, errors: int, invocations: int, flagged: list[str]
) -> None:
    latency = Latency(average_ms=avg, p90_ms=avg, p99_ms=p99)
    report = pipeline_report(latency=latency, errors=errors, nova_calls=invocations)
    row, cells = health_row(render_digest(report).html, NOVA)
    assert cells == flagged
    assert ("\u26a0" in row) is bool(flagged)
    assert f"{avg:,.0f} ms" in row
    assert f"{errors / invocations:.1%}" in row


def test_insights_and_dashboard_links_open_the_right_console_pages() -> None:
    insights = insights_link("eu-west-1", "/aws/bedrock/modelinvocations", 36)
    assert insights == (
        "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1"
        "#logsV2:logs-insights$3FqueryDetail$3D~(end~0~start~-129600~timeType~'RELATIVE~unit~'seconds"
        "~source~(~'*2Faws*2Fbedrock*2Fmodelinvocations))"
    )
    assert "start~-5400~" in insights_link("us-east-1", "g", 1.5)
    dashboard = dashboard_link("eu-west-1", "Bedrock Usage")
    assert dashboard == (
        "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1"
        "#dashboards/dashboard/Bedrock%20Usage"
    )
    digest = render_digest(pipeline_report(), insights_url=insights, dashboard_url=dashboard)
    hrefs = [v for name, v in parse(digest.html).attrs if name == "href"]
    assert hrefs == [dashboard, insights]
    assert "Query the logs in Logs Insights" in visible_text(digest.html)
