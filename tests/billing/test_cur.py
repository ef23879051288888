"""The CUR 2.0 caller query: its SQL runs for real on DuckDB over a Parquet file written with CUR 2.0
column names and types (Data Exports table dictionary, COST_AND_USAGE_REPORT; see collect/cur.py), and the
Athena flow (start, poll, paged results, failure, timeout) runs against botocore's Stubber with real
response shapes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import duckdb
import pytest
from bedrock_usage.collect.cur import CurQueryError, caller_sql, run_athena, session_to_role, to_costs
from botocore.stub import Stubber

DAY = date(2026, 11, 18)
ROLE_SESSION_1 = "arn:aws:sts::123456789012:assumed-role/PaymentsApp/i-0abc"
ROLE_SESSION_2 = "arn:aws:sts::123456789012:assumed-role/PaymentsApp/i-0def"
ROLE = "arn:aws:iam::123456789012:role/PaymentsApp"
ALICE = "arn:aws:iam::123456789012:user/alice"
CLAUDE = "Claude Sonnet 4.5 (Amazon Bedrock Edition)"

COLUMNS = """
  billing_period VARCHAR,
  line_item_usage_start_date TIMESTAMP,
  line_item_line_item_type VARCHAR,
  line_item_product_code VARCHAR,
  line_item_usage_type VARCHAR,
  line_item_usage_amount DOUBLE,
  line_item_unblended_cost DOUBLE,
  line_item_iam_principal VARCHAR,
  product MAP(VARCHAR, VARCHAR)
"""
# (start, type, usage type, amount, cost, principal, product_name)
ROWS = [
    ("2026-11-18 09:00:00", "Usage", "USE1-MP:USE1_InputTokenCount-Units", 1.0, 3.00, ROLE_SESSION_1, CLAUDE),
    ("2026-11-18 10:00:00", "Usage", "USE1-MP:USE1_InputTokenCount-Units", 0.5, 1.50, ROLE_SESSION_2, CLAUDE),
    (
        "2026-11-18 10:00:00",
        "Usage",
        "USE1-MP:USE1_OutputTokenCount-Units",
        0.1,
        1.50,
        ROLE_SESSION_1,
        CLAUDE,
    ),
    ("2026-11-18 11:00:00", "Usage", "USE1-NovaLite-input-tokens", 2000.0, 0.12, ALICE, "Amazon Bedrock"),
    (
        "2026-11-17 23:59:59",
        "Usage",
        "USE1-NovaLite-input-tokens",
        1000.0,
        0.06,
        ALICE,
        "Amazon Bedrock",
    ),  # day before
    (
        "2026-11-19 00:00:00",
        "Usage",
        "USE1-NovaLite-input-tokens",
        1000.0,
        0.06,
        ALICE,
        "Amazon Bedrock",
    ),  # day after
    (
        "2026-11-18 12:00:00",
        "Credit",
        "USE1-MP:USE1_InputTokenCount-Units",
        0.0,
        -1.00,
        ROLE_SESSION_1,
        CLAUDE,
    ),
    (
        "2026-11-18 12:00:00",
        "Usage",
        "USE1-TimedStorage-ByteHrs",
        10.0,
        0.01,
        "",
        "Amazon Simple Storage Service",
    ),
]


def _parquet(tmp_path: Path) -> Path:
    con = duckdb.connect()
    con.execute(f"CREATE TABLE src ({COLUMNS})")
    for start, kind, usage_type, amount, cost, principal, product in ROWS:
        con.execute(
            "INSERT INTO src VALUES "
            "('2026-11', CAST(? AS TIMESTAMP), ?, 'AmazonBedrock', ?, ?, ?, ?, MAP {'product_name': ?})",
            [start, kind, usage_type, amount, cost, principal, product],
        )
    path = tmp_path / "cur2.parquet"
    con.execute(f"COPY src TO '{path}' (FORMAT PARQUET)")
    return path


def test_the_caller_sql_runs_on_duckdb_and_adds_up_by_hand(tmp_path: Path) -> None:
    """PaymentsApp (two sessions, one role): input 3.00 + 1.50 = 4.50 over 1.5 units, output 1.50.
    alice: 0.12 on 18 Nov only. The credit, the other days and the S3 row without a principal are out."""
    con = duckdb.connect()
    con.execute("CREATE SCHEMA cid")
    con.execute(f"CREATE VIEW cid.cur2 AS SELECT * FROM read_parquet('{_parquet(tmp_path)}')")  # noqa: S608
    costs = to_costs(con.execute(caller_sql("cid.cur2", DAY)).fetchall())
    got = {(c.principal, c.model, c.usage_type): (c.cost_usd, c.usage_amount) for c in costs}
    assert got == {
        (ROLE, CLAUDE, "USE1-MP:USE1_InputTokenCount-Units"): (Decimal("4.5"), Decimal("1.5")),
        (ROLE, CLAUDE, "USE1-MP:USE1_OutputTokenCount-Units"): (Decimal("1.5"), Decimal("0.1")),
        (ALICE, "NovaLite", "USE1-NovaLite-input-tokens"): (Decimal("0.12"), Decimal("2000.0")),
    }
    assert costs[0].principal == ROLE  # largest cost first


def test_a_table_name_that_is_not_one_is_refused() -> None:
    with pytest.raises(ValueError, match="not a table name"):
        caller_sql("cur2; DROP TABLE x", DAY)


def test_sessions_collapse_to_their_role_in_python_as_in_sql() -> None:
    assert session_to_role(ROLE_SESSION_1) == ROLE
    assert session_to_role(ALICE) == ALICE


def _athena(respond: Any) -> tuple[Any, Stubber]:
    client = boto3.client("athena", region_name="us-east-1")
    stub = Stubber(client)
    respond(stub)
    stub.activate()
    return client, stub


def _execution(state: str, reason: str | None = None, scanned: int = 52_428_800) -> dict[str, Any]:
    status: dict[str, Any] = {"State": state}
    if reason:
        status["StateChangeReason"] = reason
    return {
        "QueryExecution": {
            "QueryExecutionId": "q-1",
            "Status": status,
            "Statistics": {"DataScannedInBytes": scanned},
        }
    }


def _row(*values: str) -> dict[str, Any]:
    return {"Data": [{"VarCharValue": v} for v in values]}


def test_athena_flow_polls_then_reads_every_page_without_the_header() -> None:
    def respond(stub: Stubber) -> None:
        stub.add_response(
            "start_query_execution",
            {"QueryExecutionId": "q-1"},
            {"QueryString": "SELECT 1", "WorkGroup": "wg"},
        )
        stub.add_response("get_query_execution", _execution("RUNNING"), {"QueryExecutionId": "q-1"})
        stub.add_response("get_query_execution", _execution("SUCCEEDED"), {"QueryExecutionId": "q-1"})
        header = _row("principal", "product_name", "usage_type", "cost", "usage_amount")
        stub.add_response(
            "get_query_results",
            {
                "ResultSet": {
                    "Rows": [header, _row(ROLE, CLAUDE, "USE1-MP:USE1_InputTokenCount-Units", "4.5", "1.5")]
                },
                "NextToken": "t2",
            },
            {"QueryExecutionId": "q-1"},
        )
        stub.add_response(
            "get_query_results",
            {
                "ResultSet": {
                    "Rows": [_row(ALICE, "Amazon Bedrock", "USE1-NovaLite-input-tokens", "0.12", "2000")]
                }
            },
            {"QueryExecutionId": "q-1", "NextToken": "t2"},
        )

    client, stub = _athena(respond)
    slept: list[float] = []
    result = run_athena(client, "SELECT 1", "wg", sleep=slept.append)
    stub.assert_no_pending_responses()
    assert slept == [1.0]
    assert result.bytes_scanned == 52_428_800
    costs = to_costs(result.rows)
    assert [(c.principal, c.cost_usd) for c in costs] == [(ROLE, Decimal("4.5")), (ALICE, Decimal("0.12"))]


def test_a_failed_query_says_why_and_how_much_it_scanned() -> None:
    def respond(stub: Stubber) -> None:
        stub.add_response("start_query_execution", {"QueryExecutionId": "q-1"})
        stub.add_response(
            "get_query_execution",
            _execution("FAILED", "Query exhausted the bytes scanned limit of the workgroup", 1_073_741_824),
        )

    client, _ = _athena(respond)
    with pytest.raises(CurQueryError, match=r"FAILED: Query exhausted.*1,073,741,824 bytes"):
        run_athena(client, "SELECT 1", "wg", sleep=lambda s: None)


def test_a_slow_query_is_stopped_at_the_timeout() -> None:
    def respond(stub: Stubber) -> None:
        stub.add_response("start_query_execution", {"QueryExecutionId": "q-1"})
        for _ in range(3):
            stub.add_response("get_query_execution", _execution("QUEUED"))
        stub.add_response("stop_query_execution", {}, {"QueryExecutionId": "q-1"})

    client, stub = _athena(respond)
    with pytest.raises(CurQueryError, match="still QUEUED after 2 s; stopped"):
        run_athena(client, "SELECT 1", "wg", sleep=lambda s: None, timeout_s=2)
    stub.assert_no_pending_responses()
