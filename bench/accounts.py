"""API calls for one monitoring-mode report: 1, 10 and 50 linked accounts x 3 Regions x 30 models.

A report reads the window (sums, daily series, callers) and the previous window (sums) of each linked account.

Stubber-driven (moto has no cross-account observability): each Region's CloudWatch and Logs clients answer
ListMetrics (500 metrics a page, with OwningAccounts), GetMetricData (grouped Metrics Insights series, or
MetricStat results) and the Logs Insights query, and `collect_linked_regions` counts what it calls. Beside it,
what "a query per account" would cost: 3 x 8 Metrics Insights calls (window, days, previous window; one per
summed metric, WHERE AWS.AccountId) and one Logs Insights query per account and Region.
Not a test: `make bench` or `python -m bench accounts`.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from bedrock_usage.collect.accounts import LinkedUsage
from bedrock_usage.collect.cloudwatch import SUM_METRICS
from bedrock_usage.linked import collect_linked_regions
from bedrock_usage.model import Window
from botocore.stub import ANY, Stubber

REGIONS = ("us-east-1", "eu-west-1", "ap-northeast-1")
MODELS = [f"vendor.model-{n:02d}-v1:0" for n in range(30)]
METRICS = [m for m in SUM_METRICS if "Tokens" not in m or m.endswith("Count")]  # one spelling each: 8
OWN = "999999999999"
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
WINDOW = Window(NOW - timedelta(hours=24), NOW)
DAILY_FROM = datetime(
    2026, 11, 1, tzinfo=UTC
)  # the month's start: clipped to the two weeks Metrics Insights keeps


def _stub_metric_reads(cw_stub: Stubber, accounts: list[str], rounds: int) -> None:
    """One collect: the ListMetrics pages, then `rounds` reads (window sums, daily series) of every metric."""
    metrics = [
        (
            a,
            {
                "Namespace": "AWS/Bedrock",
                "MetricName": m,
                "Dimensions": [{"Name": "ModelId", "Value": model}],
            },
        )
        for a in accounts
        for model in MODELS
        for m in METRICS
    ]
    for i in range(0, len(metrics), 500):
        page: dict[str, Any] = {
            "Metrics": [m for _, m in metrics[i : i + 500]],
            "OwningAccounts": [a for a, _ in metrics[i : i + 500]],
        }
        if i + 500 < len(metrics):
            page["NextToken"] = f"t{i}"
        expected = {"Namespace": ANY, "Dimensions": ANY, "IncludeLinkedAccounts": True}
        cw_stub.add_response(
            "list_metrics", page, {**expected, **({"NextToken": f"t{i - 500}"} if i else {})}
        )
    series = len(accounts) * len(MODELS)
    request = {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY}
    for _ in range(rounds):
        if series <= 500:  # one grouped Metrics Insights query per metric
            grouped = [
                {"Id": "q", "Label": f"{a} {model}", "Values": [1.0], "StatusCode": "Complete"}
                for a in accounts
                for model in MODELS
            ]
            for _ in METRICS:
                cw_stub.add_response("get_metric_data", {"MetricDataResults": grouped}, request)
        else:  # MetricStat queries naming their account, 500 a call
            total = series * len(METRICS)
            for i in range(0, total, 500):
                results = [
                    {"Id": f"s{n}", "Values": [1.0], "StatusCode": "Complete"}
                    for n in range(min(500, total - i))
                ]
                cw_stub.add_response("get_metric_data", {"MetricDataResults": results}, request)


def _region_clients(accounts: list[str], region: str) -> tuple[Any, Any, list[Stubber]]:
    """A Region's clients, stubbed for one report: the window (sums, days, logs), then the previous window."""
    cw = boto3.client("cloudwatch", region_name=region)
    logs = boto3.client("logs", region_name=region)
    cw_stub, logs_stub = Stubber(cw), Stubber(logs)
    _stub_metric_reads(cw_stub, accounts, rounds=2)
    _stub_metric_reads(cw_stub, accounts, rounds=1)
    sources = [a for a in accounts if a != OWN]
    query = {"logGroupIdentifiers": ANY, "startTime": ANY, "endTime": ANY, "queryString": ANY, "limit": ANY}
    for i in range(0, len(sources), 50):
        logs_stub.add_response("start_query", {"queryId": f"q{i}"}, query)
    for i in range(0, len(sources), 50):
        logs_stub.add_response(
            "get_query_results", {"status": "Complete", "results": []}, {"queryId": f"q{i}"}
        )
    cw_stub.activate()
    logs_stub.activate()
    return cw, logs, [cw_stub, logs_stub]


def count_calls(n_accounts: int) -> tuple[LinkedUsage, Counter[str]]:
    """One report's linked-account reads for `n_accounts` source accounts (and this one) in every Region."""
    accounts = [OWN] + [f"{100000000000 + n:012d}" for n in range(n_accounts)]
    clients: dict[tuple[str, str], Any] = {}
    stubs: list[Stubber] = []
    for region in REGIONS:
        cw, logs, region_stubs = _region_clients(accounts, region)
        clients[("cloudwatch", region)], clients[("logs", region)] = cw, logs
        stubs += region_stubs

    def client(service: str, region: str) -> Any:
        return clients[(service, region)]

    log_group = "/aws/bedrock/modelinvocations"
    linked = collect_linked_regions(
        client,
        REGIONS,
        WINDOW,
        log_group=log_group,
        own_account=OWN,
        sleep=lambda _: None,
        now=NOW,
        daily_from=DAILY_FROM,
    )
    previous = collect_linked_regions(
        client, REGIONS, WINDOW.previous(), log_group=None, own_account=OWN, with_logs=False, now=NOW
    )
    linked.calls.update({k: linked.calls[k] + v for k, v in previous.calls.items()})
    for stub in stubs:
        stub.assert_no_pending_responses()
    assert not linked.failures, linked.failures
    return linked, Counter(linked.calls)


def main(quick: bool = False) -> None:
    print(f"{len(REGIONS)} Regions x {len(MODELS)} models x {len(METRICS)} summed metrics; calls per report")
    columns = (
        ("accounts", 9),
        ("ListMetrics", 12),
        ("GetMetricData", 14),
        ("StartQuery", 11),
        ("per account", 12),
    )
    print(" ".join(f"{name:>{width}}" for name, width in columns))
    for n in (1, 2) if quick else (1, 10, 50):
        linked, calls = count_calls(n)
        naive = len(REGIONS) * (n + 1) * (3 * len(METRICS) + 1)  # 3 reads of each metric, 1 Logs query
        assert len(linked.by_account) == n + 1
        listed, fetched, started = calls["ListMetrics"], calls["GetMetricData"], calls["StartQuery"]
        print(f"{n:>9} {listed:>12} {fetched:>14} {started:>11} {naive:>12}")
