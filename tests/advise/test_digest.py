"""The digest's "Worth doing": near the top, three sentences then a table; absent when nothing was found."""

from __future__ import annotations

from decimal import Decimal

from bedrock_usage.digest import GMAIL_CLIP_BYTES, render_digest
from bedrock_usage.model import Counts, Finding, Report

from .conftest import SONNET45, add, analysed, usage


def _report_with(n: int) -> Report:
    u = usage()
    add(u, f"us.{SONNET45}", Counts(invocations=10, input_tokens=1_000_000))
    report = analysed(u)
    report.findings = [
        Finding("anomaly", "medium", f"finding {i} <b>", f"do thing {i}", Decimal(1000 - i), {"i": i})
        for i in range(n)
    ]
    return report


def test_worth_doing_sits_above_the_models_with_top_three_in_sentences() -> None:
    digest = render_digest(_report_with(40))
    html, text = digest.html, digest.text
    assert html.index("Worth doing") < html.index("Top models")
    for i, dollars in enumerate(("$1,000.00", "$999.00", "$998.00")):
        assert f"finding {i} &lt;b&gt;" in html  # caller-influenced text is escaped
        assert f"{i + 1}. finding {i} <b> -- {dollars} a month" in text
    assert "and 27 more in the JSON report" in html  # 3 sentences + 10 rows + 27 counted
    assert digest.html_bytes < GMAIL_CLIP_BYTES


def test_no_section_when_nothing_was_found() -> None:
    digest = render_digest(_report_with(0))
    assert "Worth doing" not in digest.html
    assert "WORTH DOING" not in digest.text


def test_kinds_not_computed_for_one_reason_are_named_together() -> None:
    report = _report_with(1)
    report.findings_not_computed = {"quota-headroom": "log files only", "end-of-life": "log files only"}
    assert "Not computed: Quota headroom, End of life: log files only" in render_digest(report).text


def test_the_report_functions_result_counts_the_findings_and_names_the_largest() -> None:
    from bedrock_usage.digest_delivery import Delivery
    from bedrock_usage.report_job import summary

    report = _report_with(5)
    report.findings_not_computed = {"quota-headroom": "log files only"}
    result = summary(report, render_digest(report), Delivery("delivered", "ses"), dry_run=False)
    assert result["findings"] == 5
    assert result["top_finding"] == "finding 0 <b>"
    assert result["findings_not_computed"] == ["quota-headroom"]
