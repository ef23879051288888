"""Billed by caller from CUR 2.0 in the report: run_report over log files for one UTC day, Cost Explorer and
Athena answered by botocore's Stubber (real request and response shapes).

By hand, 18 Nov (Nova Lite input $0.06 per 1M tokens):
- logs: alice 2M tokens (estimate 0.12); BatchRole session job-42 1M (0.06).
- CUR (Athena rows): alice 0.12 on Nova Lite; PaymentsApp role 1.00 on Claude (its calls never reached
  the logs).
- So: PaymentsApp billed 1.00, estimated 0, difference -1.00; alice 0.12 / 0.12 / 0; BatchRole 0 / 0.06 /
  +0.06.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from bedrock_usage.digest import render_digest
from bedrock_usage.model import Window
from bedrock_usage.pipeline import ReportSettings, run_report
from botocore.stub import Stubber

from ..engine.helpers import ALICE, BOB, NOVA_LITE, at, record, write_gz
from ..stubbed_session import StubbedSession
from .ce_shapes import BEDROCK, CLAUDE, daily_request, group, period, response, usage_type_request

D18, D19 = date(2026, 11, 18), date(2026, 11, 19)
ROLE = "arn:aws:iam::123456789012:role/PaymentsApp"
BATCH_ROLE = "arn:aws:iam::123456789012:role/BatchRole"  # BOB is a session of it


def _ce(stub: Stubber) -> None:
    stub.add_response(
        "get_cost_and_usage",
        response([period(D18, [group([BEDROCK], "0.12"), group([CLAUDE], "1.00")], estimated=False)]),
        daily_request(date(2026, 11, 1), D19),
    )
    stub.add_response(
        "get_cost_and_usage",
        response(
            [period(D18, [group([CLAUDE, "USE1-MP:USE1_InputTokenCount-Units"], "1.00")], estimated=False)]
        ),
        usage_type_request(D18, D18, BEDROCK, CLAUDE),
    )


def _row(*values: str) -> dict[str, Any]:
    return {"Data": [{"VarCharValue": v} for v in values]}


def _athena(stub: Stubber, rows: list[dict[str, Any]], state: str = "SUCCEEDED") -> None:
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-1"})
    status: dict[str, Any] = {"State": state}
    if state != "SUCCEEDED":
        status["StateChangeReason"] = "TABLE_NOT_FOUND: Table cid.cur2 does not exist"
    stub.add_response(
        "get_query_execution",
        {
            "QueryExecution": {
                "QueryExecutionId": "q-1",
                "Status": status,
                "Statistics": {"DataScannedInBytes": 3_500_000},
            }
        },
    )
    if state == "SUCCEEDED":
        header = _row("principal", "product_name", "usage_type", "cost", "usage_amount")
        stub.add_response("get_query_results", {"ResultSet": {"Rows": [header, *rows]}})


def _run(tmp_path: Path, athena: Any) -> Any:
    base = tmp_path / "AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1"
    write_gz(
        base / "2026/11/18/10/a.json.gz",
        [
            record("2026-11-18T10:00:00Z", NOVA_LITE, caller=ALICE, input_tokens=2_000_000, output_tokens=0),
            record("2026-11-18T11:00:00Z", NOVA_LITE, caller=BOB, input_tokens=1_000_000, output_tokens=0),
        ],
    )
    settings = ReportSettings(
        regions=("us-east-1",),
        logs_source=str(tmp_path),
        cost_explorer=True,
        cur_table="cid.cur2",
        cur_workgroup="bedrock-usage",
    )
    session = StubbedSession({"ce": _ce, "athena": athena})
    window = Window(at("2026-11-18T00:00:00"), at("2026-11-19T00:00:00"))
    report = run_report(
        window, settings, session=session, now=at("2026-11-20T12:00:00"), sleep=lambda s: None
    )
    for stubber in session.stubbers:
        stubber.assert_no_pending_responses()
    return report


def test_billed_by_caller_sits_beside_the_estimate_of_the_same_day(tmp_path: Path) -> None:
    rows = [
        _row(ROLE, CLAUDE, "USE1-MP:USE1_InputTokenCount-Units", "1.0", "0.2"),
        _row(ALICE, "Amazon Bedrock", "USE1-NovaLite-input-tokens", "0.12", "2000"),
    ]
    report = _run(tmp_path, lambda stub: _athena(stub, rows))
    billing = report.billing
    assert billing.cur_day == D18
    assert billing.cur_bytes_scanned == 3_500_000
    got = {c.principal: (c.billed_usd, c.estimated_usd) for c in billing.callers}
    assert got == {
        ROLE: (Decimal("1.00"), Decimal(0)),
        ALICE: (Decimal("0.12"), Decimal("0.12")),
        BATCH_ROLE: (Decimal(0), Decimal("0.06")),
    }
    assert billing.callers[0].principal == ROLE
    data = report.to_dict()["billing"]
    assert data["by_caller"][0]["difference_usd"] == -1.0
    text = render_digest(report).text
    assert "BILLED BY CALLER (18 Nov, CUR 2.0; 3.5 MB scanned)" in text
    assert f"{ROLE}: $1.00 (estimated $0.00, difference -$1.00)" in text
    assert f"{BATCH_ROLE}: $0.00 (estimated $0.06, difference +$0.06)" in text
    assert "Billed by caller" in render_digest(report).html


def test_a_failed_athena_query_is_a_named_warning(tmp_path: Path) -> None:
    report = _run(tmp_path, lambda stub: _athena(stub, [], state="FAILED"))
    assert report.failures == []
    assert report.billing.cur_day is None
    (warning,) = [w for w in report.warnings if w.startswith("cur (Athena workgroup bedrock-usage)")]
    assert "TABLE_NOT_FOUND" in warning
    assert "BILLED BY CALLER" not in render_digest(report).text


def test_an_export_with_no_data_yet_says_so(tmp_path: Path) -> None:
    report = _run(tmp_path, lambda stub: _athena(stub, []))
    assert any("may have no data yet" in w for w in report.warnings)
