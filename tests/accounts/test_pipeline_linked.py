"""A monitoring-mode report through the real pipeline, its JSON and its digest.

Every client is a real botocore client with a Stubber (moto has no cross-account observability): the session
below only hands them out. Two source accounts use Bedrock; the monitoring account itself does not.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest
from bedrock_usage.digest import render_digest
from bedrock_usage.pipeline import ReportSettings, run_report
from botocore.stub import ANY, Stubber

from tests.accounts.linked_shapes import (
    BETA,
    GAMMA,
    HAIKU,
    LINKED_LIST_METRICS,
    LOG_GROUP,
    NOVA,
    NOW,
    OWN,
    WINDOW,
    add_linked_query,
    insights_row,
    list_metrics_page,
)

PRICES = {"models": {NOVA: {"input": 1, "output": 4}, HAIKU: {"input": 10, "output": 50}}}

CURRENT = {
    BETA: {NOVA: {"Invocations": 30, "InputTokenCount": 3000, "OutputTokenCount": 600}},
    GAMMA: {HAIKU: {"Invocations": 4, "InputTokenCount": 400, "OutputTokenCount": 80}},
}
PREVIOUS = {BETA: {NOVA: {"Invocations": 20, "InputTokenCount": 2000, "OutputTokenCount": 400}}}
# The same usage per UTC day (Period 86400 from midnight): the window 06:00 to 06:00 spans two days.
DAY1, DAY2 = datetime(2026, 11, 29, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC)
DAILY = {
    BETA: {NOVA: {"Invocations": [18, 12], "InputTokenCount": [1800, 1200], "OutputTokenCount": [360, 240]}},
    GAMMA: {HAIKU: {"Invocations": [4], "InputTokenCount": [400], "OutputTokenCount": [80]}},
}


class StubbedSession:
    """Hands out one stubbed client per service (the pipeline asks for them by service and Region)."""

    def __init__(self, clients: dict[str, Any]) -> None:
        self.clients = clients

    def client(self, service: str, region_name: str | None = None, config: Any = None) -> Any:
        if service not in self.clients:
            # A service this test is not about (the findings' Bedrock and Service Quotas reads, tested in
            # tests/advise): a Stubber with nothing queued refuses every call with a BotoCoreError, so the
            # report names that finding as not computed, as it would for a denied call.
            stub = Stubber(boto3.client(service, region_name=region_name or "us-east-1"))
            stub.activate()
            self.clients[service] = stub.client
        return self.clients[service]


def _linked_metrics(
    stub: Stubber, data: dict[str, dict[str, dict[str, float]]], daily: dict[str, Any] | None = None
) -> None:
    stub.add_response("list_metrics", list_metrics_page(data), LINKED_LIST_METRICS)
    for metric in ("Invocations", "InputTokenCount", "OutputTokenCount"):
        results = [
            {"Id": "q", "Label": f"{account} {model}", "Values": [values[metric]], "StatusCode": "Complete"}
            for account, models in data.items()
            for model, values in models.items()
        ]
        stub.add_response(
            "get_metric_data",
            {"MetricDataResults": results},
            {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY},
        )
    for metric in ("Invocations", "InputTokenCount", "OutputTokenCount") if daily else ():
        results = [
            {
                "Id": "q",
                "Label": f"{account} {model}",
                "Timestamps": [DAY1, DAY2][: len(values[metric])],
                "Values": values[metric],
                "StatusCode": "Complete",
            }
            for account, models in (daily or {}).items()
            for model, values in models.items()
        ]
        stub.add_response(
            "get_metric_data",
            {"MetricDataResults": results},
            {"MetricDataQueries": ANY, "StartTime": DAY1 - timedelta(days=12), "EndTime": NOW},
        )


@pytest.fixture
def report_and_clients() -> Iterator[tuple[Any, dict[str, Stubber]]]:
    clients = {
        s: boto3.client(s, region_name="us-east-1") for s in ("cloudwatch", "logs", "sts", "organizations")
    }
    stubs = {s: Stubber(c) for s, c in clients.items()}
    cw, logs = stubs["cloudwatch"], stubs["logs"]
    own_list = {"Namespace": "AWS/Bedrock", "Dimensions": [{"Name": "ModelId"}]}
    # This account's own reading (current window, then previous): no Bedrock here.
    cw.add_response("list_metrics", {"Metrics": []}, own_list)
    logs.add_response(
        "start_query",
        {"queryId": "own"},
        {"logGroupName": LOG_GROUP, "startTime": ANY, "endTime": ANY, "queryString": ANY, "limit": ANY},
    )
    logs.add_response("get_query_results", {"status": "Complete", "results": []}, {"queryId": "own"})
    cw.add_response("list_metrics", {"Metrics": []}, own_list)
    # The linked accounts.
    stubs["sts"].add_response(
        "get_caller_identity", {"Account": OWN, "Arn": f"arn:aws:iam::{OWN}:root", "UserId": "x"}
    )
    _linked_metrics(cw, CURRENT, DAILY)
    common = {"cache_read_tokens": "0", "cache_write_tokens": "0"}
    add_linked_query(
        logs,
        "linked",
        [
            insights_row(
                account=BETA,
                caller=f"arn:aws:iam::{BETA}:role/app",
                model=NOVA,
                error_code="-",
                calls="30",
                input_tokens="3000",
                output_tokens="600",
                **common,
            ),
            insights_row(
                account=GAMMA,
                caller=f"arn:aws:iam::{GAMMA}:user/eve",
                model=HAIKU,
                error_code="-",
                calls="4",
                input_tokens="400",
                output_tokens="80",
                **common,
            ),
        ],
    )
    _linked_metrics(cw, PREVIOUS)
    stubs["organizations"].add_response(
        "list_accounts",
        {
            "Accounts": [
                {"Id": BETA, "Name": "payments-prod"},
                {"Id": GAMMA, "Name": "<script>alert(1)</script>"},
            ]
        },
    )
    for stub in stubs.values():
        stub.activate()
    settings = ReportSettings(
        regions=("us-east-1",), log_group=LOG_GROUP, price_overrides=json.dumps(PRICES), linked_accounts=True
    )
    report = run_report(WINDOW, settings, session=StubbedSession(clients), now=NOW, sleep=lambda _: None)  # type: ignore[arg-type]
    yield report, stubs
    for stub in stubs.values():
        stub.deactivate()


def test_every_call_was_made(report_and_clients: Any) -> None:
    _, stubs = report_and_clients
    for stub in stubs.values():
        stub.assert_no_pending_responses()


def test_totals_and_callers_cover_the_source_accounts(report_and_clients: Any) -> None:
    report, _ = report_and_clients
    assert report.failures == []
    assert report.totals.invocations == 34
    assert {c.caller for c in report.callers} == {
        f"arn:aws:iam::{BETA}:role/app",
        f"arn:aws:iam::{GAMMA}:user/eve",
    }
    data = report.to_dict()
    assert {c["caller"]: c["account"] for c in data["callers"]} == {
        f"arn:aws:iam::{BETA}:role/app": BETA,
        f"arn:aws:iam::{GAMMA}:user/eve": GAMMA,
    }


def test_accounts_json_by_hand(report_and_clients: Any) -> None:
    report, _ = report_and_clients
    accounts = report.to_dict()["accounts"]
    # USD per 1M tokens. BETA: 3000*1 + 600*4 = 5400 -> 0.0054 (previous 2000*1 + 400*4 = 3600 -> 0.0036);
    # GAMMA: 400*10 + 80*50 = 8000 -> 0.008, new. Total 0.0134.
    assert [a["account_id"] for a in accounts] == [GAMMA, BETA]
    gamma, beta = accounts
    assert gamma["cost_usd"] == 0.008
    assert gamma["previous_cost_usd"] == 0.0
    assert beta["cost_usd"] == 0.0054
    assert beta["previous_cost_usd"] == 0.0036
    assert beta["share"] == pytest.approx(0.0054 / 0.0134)
    assert beta["name"] == "payments-prod"
    assert beta["invocations"] == 30
    assert beta["total_tokens"] == 3600
    assert report.cost_usd == Decimal("0.0134")  # the headline is every account's


def test_digest_has_an_escaped_accounts_section(report_and_clients: Any) -> None:
    report, _ = report_and_clients
    digest = render_digest(report)
    assert "Accounts" in digest.html
    assert "payments-" in digest.html  # (a <wbr> may follow the hyphen)
    assert "&lt;script&gt;" in digest.html
    assert "<script>alert(1)</script>" not in digest.html  # names are set by people: escaped
    assert "ACCOUNTS (2)" in digest.text
    assert "+50.0%" in digest.text  # BETA: 0.0054 vs 0.0036
    assert "new" in digest.text  # GAMMA had no cost before


def test_daily_trend_and_month_cover_the_source_accounts(report_and_clients: Any) -> None:
    report, _ = report_and_clients
    days = {d.day.isoformat(): d for d in report.daily}
    assert days["2026-11-29"].counts.invocations == 22
    assert days["2026-11-30"].counts.invocations == 12
    # 29 Nov by hand: BETA 1800*1 + 360*4 = 3240, GAMMA 400*10 + 80*50 = 8000 -> $0.01124
    assert days["2026-11-29"].cost_usd == Decimal("0.01124")
    # Metrics Insights keeps two weeks: the month's first days lack the source accounts, and it says so.
    assert any("starts 2026-11-17" in w for w in report.warnings)
    # This account has no Bedrock metrics of its own; the report must not say "no metrics" for all of them.
    assert not any(w.startswith("no AWS/Bedrock metrics") for w in report.warnings)
