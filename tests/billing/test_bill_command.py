"""`bedrock-usage bill`: the bill alone, by usage type or by team, text and JSON; Cost Explorer answered by
botocore's Stubber with the real API's request and response shapes."""

from __future__ import annotations

import json
from datetime import date

import pytest
from bedrock_usage import bill_cli
from bedrock_usage.cli import build_parser
from botocore.stub import Stubber

from ..stubbed_session import StubbedSession
from .ce_shapes import BEDROCK, CLAUDE, S3, daily_request, group, period, response, tag_request

TODAY = date(2026, 11, 20)
D18, D19 = date(2026, 11, 18), date(2026, 11, 19)


def _daily(stub: Stubber, start: date) -> None:
    stub.add_response(
        "get_cost_and_usage",
        response(
            [
                period(
                    D18,
                    [group([BEDROCK], "0.15"), group([CLAUDE], "2.40"), group([S3], "9.99")],
                    estimated=False,
                ),
                period(D19, [group([CLAUDE], "1.00")], estimated=True),
            ]
        ),
        daily_request(start, TODAY),
    )


def test_by_usage_type_prints_days_final_or_provisional_and_the_usage_types(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def respond(stub: Stubber) -> None:
        _daily(stub, date(2026, 11, 18))
        stub.add_response(
            "get_cost_and_usage",
            response(
                [
                    period(
                        D18,
                        [
                            group([CLAUDE, "USE1-MP:USE1_InputTokenCount-Units"], "2.40"),
                            group([BEDROCK, "USE1-Llama3-1-405B-output-tokens-batch"], "0.15"),
                        ],
                        estimated=False,
                    )
                ]
            ),
        )

    session = StubbedSession({"ce": respond})
    args = build_parser().parse_args(["bill", "--days", "2"])
    assert bill_cli.run(args, session=session, today=TODAY) == 0
    (stubber,) = session.stubbers  # one Cost Explorer client
    stubber.assert_no_pending_responses()
    out = capsys.readouterr().out
    assert "2026-11-18         $2.55  final" in out
    assert "2026-11-19         $1.00  provisional" in out
    assert "(2 requests, $0.02)" in out
    assert "batch inference" in out
    assert "USE1-MP:USE1_InputTokenCount-Units" in out


def test_by_team_as_json_shows_untagged_spend(capsys: pytest.CaptureFixture[str]) -> None:
    def respond(stub: Stubber) -> None:
        _daily(stub, date(2026, 11, 6))
        stub.add_response(
            "get_cost_and_usage",
            response(
                [
                    period(
                        D18,
                        [
                            group(["iamPrincipal/team$payments"], "2.00"),
                            group(["iamPrincipal/team$"], "0.55"),
                        ],
                        estimated=False,
                    )
                ],
                token="next",
            ),
            tag_request("iamPrincipal/team", date(2026, 11, 1), TODAY, BEDROCK, CLAUDE),
        )
        stub.add_response(
            "get_cost_and_usage",
            response([period(D19, [group(["iamPrincipal/team$payments"], "1.00")], estimated=True)]),
            tag_request("iamPrincipal/team", date(2026, 11, 1), TODAY, BEDROCK, CLAUDE, token="next"),
        )

    session = StubbedSession({"ce": respond})
    args = build_parser().parse_args(["bill", "--by", "team", "--tag-key", "team", "--format", "json"])
    assert bill_cli.run(args, session=session, today=TODAY) == 0
    (stubber,) = session.stubbers  # one Cost Explorer client
    stubber.assert_no_pending_responses()
    data = json.loads(capsys.readouterr().out)
    assert [d["final"] for d in data["days"]] == [True, False]
    (team,) = data["billing"]["by_tag"]
    assert team["rows"] == [
        {"value": "payments", "untagged": False, "last_final_day_usd": 2.0, "month_to_date_usd": 3.0},
        {"value": None, "untagged": True, "last_final_day_usd": 0.55, "month_to_date_usd": 0.55},
    ]
    assert data["billing"]["cost_explorer_requests"] == 3  # daily + two pages of the tag query


def test_by_caller_says_it_needs_the_cur_export(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["bill", "--by", "caller"])
    assert bill_cli.run(args, session=StubbedSession({"ce": lambda stub: None}), today=TODAY) == 2
    assert "--cur-table and --cur-workgroup" in capsys.readouterr().err


def test_by_caller_reads_the_last_final_day_from_cur(capsys: pytest.CaptureFixture[str]) -> None:
    def athena(stub: Stubber) -> None:
        stub.add_response("start_query_execution", {"QueryExecutionId": "q-1"})
        stub.add_response(
            "get_query_execution",
            {
                "QueryExecution": {
                    "QueryExecutionId": "q-1",
                    "Status": {"State": "SUCCEEDED"},
                    "Statistics": {"DataScannedInBytes": 1_200_000},
                }
            },
        )
        rows = [
            ["principal", "product_name", "usage_type", "cost", "usage_amount"],
            [
                "arn:aws:iam::123456789012:role/PaymentsApp",
                CLAUDE,
                "USE1-MP:USE1_InputTokenCount-Units",
                "2.4",
                "0.5",
            ],
            ["arn:aws:iam::123456789012:user/alice", BEDROCK, "USE1-NovaLite-input-tokens", "0.15", "2500"],
        ]
        stub.add_response(
            "get_query_results",
            {"ResultSet": {"Rows": [{"Data": [{"VarCharValue": v} for v in row]} for row in rows]}},
        )

    session = StubbedSession({"ce": lambda stub: _daily(stub, date(2026, 11, 18)), "athena": athena})
    args = build_parser().parse_args(
        ["bill", "--days", "2", "--by", "caller", "--cur-table", "cid.cur2", "--cur-workgroup", "wg"]
    )
    assert bill_cli.run(args, session=session, today=TODAY) == 0
    for stubber in session.stubbers:
        stubber.assert_no_pending_responses()
    out = capsys.readouterr().out
    assert "By caller, 2026-11-18 (CUR 2.0; 1.2 MB scanned)" in out
    assert "arn:aws:iam::123456789012:role/PaymentsApp  $2.40" in out
    assert "NovaLite" in out


def test_a_denied_cost_explorer_is_exit_1_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    def respond(stub: Stubber) -> None:
        stub.add_client_error("get_cost_and_usage", "AccessDeniedException", "User is not authorized", 400)

    args = build_parser().parse_args(["bill"])
    assert bill_cli.run(args, session=StubbedSession({"ce": respond}), today=TODAY) == 1
    assert "cost-explorer failed: ClientError" in capsys.readouterr().err
