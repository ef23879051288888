"""The bill beside the estimate, end to end: run_report over log files with Cost Explorer answered by
botocore's Stubber (moto does not do Cost Explorer; the Stubber checks requests and responses against the
real API model).

The fixture month, by hand (Nova Lite input is $0.06 per 1M tokens):
- logs: 18 Nov 2M input tokens (estimate $0.12), 19 Nov 0.5M ($0.03), 20 Nov 09:00 1M (the window).
- Cost Explorer, daily (two pages): 1-17 Nov nothing; 18 Nov final: Bedrock 0.15 + Claude 2.40 (+ S3 9.99,
  not Bedrock) = 2.55; 19 Nov still Estimated: 0.03 + 1.00 = 1.03.
- Usage types of 18 Nov add up to 2.55 (see test_usage_types.py): on-demand 1.63 in the logs' reach,
  0.92 not; unexplained 1.63 - 0.12 = 1.51.
- Tag team: 18 Nov payments 1.80, untagged 0.75; 19 Nov payments 1.03. Month to date: payments 2.83,
  untagged 0.75.
- Tag cost-center: all 2.55 untagged (the key is not activated): a named warning.
Requests: 2 (daily, paged) + 1 (usage types) + 2 (tags) = 5.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bedrock_usage.cli import format_text
from bedrock_usage.digest import render_digest
from bedrock_usage.model import Window
from bedrock_usage.pipeline import ReportSettings, run_report
from botocore.stub import Stubber

from ..engine.helpers import ALICE, NOVA_LITE, at, record, write_gz
from ..stubbed_session import StubbedSession
from .ce_shapes import (
    BEDROCK,
    CLAUDE,
    S3,
    daily_request,
    group,
    period,
    response,
    tag_request,
    usage_type_request,
)

NOW = at("2026-11-20T12:00:00")
WINDOW = Window.last_hours(24, NOW)
NOV = date(2026, 11, 1)
D18, D19, D20 = date(2026, 11, 18), date(2026, 11, 19), date(2026, 11, 20)


def archive(root: Path) -> Path:
    base = root / "AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1"
    write_gz(
        base / "2026/11/18/10/a.json.gz",
        [record("2026-11-18T10:00:00Z", NOVA_LITE, input_tokens=2_000_000, output_tokens=0)],
    )
    write_gz(
        base / "2026/11/19/01/b.json.gz",
        [record("2026-11-19T01:00:00Z", NOVA_LITE, input_tokens=500_000, output_tokens=0)],
    )
    write_gz(
        base / "2026/11/20/09/c.json.gz",
        [record("2026-11-20T09:00:00Z", NOVA_LITE, caller=ALICE, input_tokens=1_000_000, output_tokens=0)],
    )
    return root


def daily_pages(stub: Stubber) -> None:
    quiet = [period(NOV + timedelta(days=i), [], estimated=False) for i in range(17)]
    stub.add_response("get_cost_and_usage", response(quiet[:10], token="page-2"), daily_request(NOV, D20))
    rest = [
        *quiet[10:],
        period(
            D18, [group([BEDROCK], "0.15"), group([CLAUDE], "2.40"), group([S3], "9.99")], estimated=False
        ),
        period(D19, [group([BEDROCK], "0.03"), group([CLAUDE], "1.00"), group([S3], "9.99")], estimated=True),
    ]
    stub.add_response("get_cost_and_usage", response(rest), daily_request(NOV, D20, token="page-2"))


def usage_types(stub: Stubber) -> None:
    rows = [
        ([BEDROCK, "USE1-NovaLite-input-tokens"], "0.13"),
        ([BEDROCK, "USE1-Llama3-1-405B-output-tokens-batch"], "0.02"),
        ([CLAUDE, "USE1-MP:USE1_InputTokenCount-Units"], "0.90"),
        ([CLAUDE, "USW2-MP:USW2_output_tokens_standard-Units"], "0.60"),
        ([CLAUDE, "APS7-MP:APS7_Reserved_1Month_InputTPM_Geo-Units"], "0.70"),
        ([CLAUDE, "USE1-MP:USE1_SomethingNew-Units"], "0.20"),
        ([CLAUDE, "USE1-MP:USE1_CacheReadInputTokenCount-Units"], "0"),  # zero rows are left out
    ]
    stub.add_response(
        "get_cost_and_usage",
        response([period(D18, [group(k, a) for k, a in rows], estimated=False)]),
        usage_type_request(D18, D18, BEDROCK, CLAUDE),
    )


def tags(stub: Stubber) -> None:
    team = [
        period(
            D18,
            [group(["iamPrincipal/team$payments"], "1.80"), group(["iamPrincipal/team$"], "0.75")],
            estimated=False,
        ),
        period(D19, [group(["iamPrincipal/team$payments"], "1.03")], estimated=True),
    ]
    stub.add_response(
        "get_cost_and_usage", response(team), tag_request("iamPrincipal/team", NOV, D20, BEDROCK, CLAUDE)
    )
    center = [period(D18, [group(["iamPrincipal/cost-center$"], "2.55")], estimated=False)]
    stub.add_response(
        "get_cost_and_usage",
        response(center),
        tag_request("iamPrincipal/cost-center", NOV, D20, BEDROCK, CLAUDE),
    )


def full(stub: Stubber) -> None:
    daily_pages(stub)
    usage_types(stub)
    tags(stub)


def run(tmp_path: Path, respond: Any, tag_keys: tuple[str, ...] = ("team", "cost-center")) -> tuple[Any, Any]:
    session = StubbedSession({"ce": respond})
    settings = ReportSettings(
        regions=("us-east-1",),
        logs_source=str(archive(tmp_path)),
        cost_explorer=True,
        cost_allocation_tags=tag_keys,
    )
    return run_report(WINDOW, settings, session=session, now=NOW), session


def test_final_and_provisional_days_and_the_last_final_difference(tmp_path: Path) -> None:
    report, session = run(tmp_path, full)
    for stubber in session.stubbers:
        stubber.assert_no_pending_responses()  # every request was made, exactly as expected
    assert report.failures == []
    days = {d.day: d for d in report.daily}
    assert (days[D18].billed_usd, days[D18].billed_final) == (Decimal("2.55"), True)
    assert (days[D19].billed_usd, days[D19].billed_final) == (Decimal("1.03"), False)
    assert days[D20].billed_usd is None  # today: not billed yet
    assert days[D20].billed_final is None
    billing = report.billing
    assert billing is not None
    assert billing.last_final_day == D18
    assert billing.provisional_days == [D19]
    assert billing.last_final_estimated_usd == Decimal("0.12")
    assert billing.last_final_difference_usd == Decimal("-2.43")
    assert billing.cost_explorer_requests == 5
    data = json.loads(json.dumps(report.to_dict()))
    assert {d["day"]: d["billed_final"] for d in data["daily"] if d["billed_usd"] is not None} == {
        "2026-11-01": True,
        **{f"2026-11-{n:02d}": True for n in range(2, 19)},
        "2026-11-19": False,
    }
    assert data["billing"]["last_final_difference_usd"] == -2.43


def test_the_gap_and_billed_by_team_are_in_the_report(tmp_path: Path) -> None:
    report, _ = run(tmp_path, full)
    gap = report.billing.gap
    assert (gap.first, gap.last) == (D18, D18)
    assert (gap.billed_usd, gap.estimated_usd, gap.unexplained_usd) == (
        Decimal("2.55"),
        Decimal("0.12"),
        Decimal("1.51"),
    )
    assert len(gap.rows) == 6
    team, center = report.billing.teams
    assert [(r.value, r.last_final_usd, r.month_to_date_usd) for r in team.rows] == [
        ("payments", Decimal("1.80"), Decimal("2.83")),
        (None, Decimal("0.75"), Decimal("0.75")),
    ]
    assert [(r.value, r.month_to_date_usd) for r in center.rows] == [(None, Decimal("2.55"))]
    named = [w for w in report.warnings if w.startswith("cost-explorer tag iamPrincipal/cost-center")]
    assert len(named) == 1
    assert "activate" in named[0]


def test_the_digest_shows_the_bill_sections(tmp_path: Path) -> None:
    report, _ = run(tmp_path, full)
    digest = render_digest(report)
    for text in (digest.text, digest.html):
        assert "Last final day, 18 Nov" in text
        assert "-$2.43" in text
        assert "-95.3%" in text  # (0.12 - 2.55) / 2.55
        assert "19 Nov, $1.03 so far" in text  # provisional, not compared
        assert "$1.51" in text  # unexplained on-demand
        assert "payments" in text
        assert "(no team tag)" in text
        assert "$2.83" in text
    assert "Why the bill differs" in digest.html
    assert "Billed by team" in digest.html
    assert "WHY THE BILL DIFFERS" in digest.text
    assert "Largest part: on-demand tokens billed beyond the estimate, $1.51" in digest.text
    assert "iamPrincipal/cost-center" in digest.html  # the named warning reaches the digest


def test_cli_text_marks_provisional_days(tmp_path: Path) -> None:
    report, _ = run(tmp_path, full)
    text = format_text(report)
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("2026-11-19"))
    assert "$1.03 (provisional)" in line


def test_a_failed_usage_type_request_is_a_named_warning_and_the_rest_still_comes(tmp_path: Path) -> None:
    def respond(stub: Stubber) -> None:
        daily_pages(stub)
        stub.add_client_error(
            "get_cost_and_usage", "AccessDeniedException", "no ce:GetCostAndUsage on usage types", 400
        )
        tags(stub)

    report, _ = run(tmp_path, respond)
    assert report.failures == []
    assert report.billing.gap is None
    assert any(
        w.startswith("cost-explorer usage types: ClientError") and "AccessDenied" in w
        for w in report.warnings
    )
    assert report.billing.teams[0].rows[0].value == "payments"
    assert "Why the bill differs" not in render_digest(report).html


def test_the_request_budget_stops_the_extra_tag_key_with_a_warning(tmp_path: Path) -> None:
    report, _ = run(tmp_path, full, tag_keys=("team", "cost-center", "project"))
    assert report.billing.cost_explorer_requests == 5
    assert [t.key for t in report.billing.teams] == ["team", "cost-center"]
    assert any("iamPrincipal/project" in w and "stopped at 5" in w for w in report.warnings)


def test_a_denied_daily_request_is_a_failure_and_the_digest_still_renders(tmp_path: Path) -> None:
    def respond(stub: Stubber) -> None:
        stub.add_client_error("get_cost_and_usage", "AccessDeniedException", "not enabled", 400)

    report, _ = run(tmp_path, respond)
    assert [f.source for f in report.failures] == ["cost-explorer"]
    assert report.billing is None
    assert "Last final day" not in render_digest(report).text


def test_every_billing_json_key_is_in_the_readme(tmp_path: Path) -> None:
    import re

    from ..conftest import REPO_ROOT

    def keys(value: Any) -> set[str]:
        if isinstance(value, dict):
            return set(value) | {k for v in value.values() for k in keys(v)}
        if isinstance(value, list):
            return {k for v in value for k in keys(v)}
        return set()

    report, _ = run(tmp_path, full)
    section = (REPO_ROOT / "README.md").read_text().split("<!-- section: json -->", 1)[1]
    section = section.split("<!-- section:", 1)[0]
    documented = set(re.findall(r"`([a-z_0-9]+)(?:\[\])?`", section)) | set(
        re.findall(r"[{,]\s*([a-z_0-9]+)", section)
    )
    assert sorted(keys(report.to_dict()["billing"]) - documented) == []
