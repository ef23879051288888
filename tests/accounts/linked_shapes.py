"""Cross-account observability in the real API's shapes, for the linked-account tests (moto has none): the
accounts and models, ListMetrics with OwningAccounts, and a Logs Insights query over the source accounts'
log groups (botocore's Stubber checks each request and response against the service model)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from bedrock_usage.collect.accounts import QUERY, log_group_arn
from bedrock_usage.model import Window
from botocore.stub import ANY, Stubber

OWN, BETA, GAMMA = "111111111111", "222222222222", "333333333333"
NOVA = "amazon.nova-lite-v1:0"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
WINDOW = Window(NOW - timedelta(hours=24), NOW)
LOG_GROUP = "/aws/bedrock/modelinvocations"
LINKED_LIST_METRICS = {
    "Namespace": "AWS/Bedrock",
    "Dimensions": [{"Name": "ModelId"}],
    "IncludeLinkedAccounts": True,
}

# account -> model -> metric name -> value(s)
Usage = Mapping[str, Mapping[str, Mapping[str, Any]]]


def list_metrics_page(usage: Usage) -> dict[str, Any]:
    """ListMetrics with IncludeLinkedAccounts: a ModelId series per account, model and metric, with owners."""
    metrics, owners = [], []
    for account, models in usage.items():
        for model, values in models.items():
            for name in values:
                metrics.append(
                    {
                        "Namespace": "AWS/Bedrock",
                        "MetricName": name,
                        "Dimensions": [{"Name": "ModelId", "Value": model}],
                    }
                )
                owners.append(account)
    return {"Metrics": metrics, "OwningAccounts": owners}


def insights_row(**cells: str) -> list[dict[str, str]]:
    """One GetQueryResults row: a list of {field, value}."""
    return [{"field": k, "value": v} for k, v in cells.items()]


def add_linked_query(
    stub: Stubber,
    query_id: str,
    rows: list[list[dict[str, str]]],
    *,
    start_time: Any = ANY,
    end_time: Any = ANY,
    statistics: dict[str, float] | None = None,
) -> None:
    """StartQuery over BETA's and GAMMA's invocation log groups, then its Complete results."""
    stub.add_response(
        "start_query",
        {"queryId": query_id},
        {
            "logGroupIdentifiers": [log_group_arn("us-east-1", a, LOG_GROUP) for a in (BETA, GAMMA)],
            "startTime": start_time,
            "endTime": end_time,
            "queryString": QUERY,
            "limit": ANY,
        },
    )
    results: dict[str, Any] = {"status": "Complete", "results": rows}
    if statistics:
        results["statistics"] = statistics
    stub.add_response("get_query_results", results, {"queryId": query_id})
