"""Alarm emails in monitoring mode name the account whose series crossed, beside each model.

Stubber with GetMetricData's real shape: a grouped Metrics Insights query returns one MetricDataResult per
series, all with the query's Id, each labelled with its group values (account and model here).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from bedrock_usage.alarms.cloudwatch import ModelValue, top_models
from bedrock_usage.alarms.notification import AlarmNotification, parse_record
from bedrock_usage.alarms.router import RouterConfig
from botocore.stub import Stubber

from tests.conftest import load_event

NOW = datetime(2026, 11, 28, 18, 6, 30, tzinfo=UTC)
END = datetime(2026, 11, 28, 18, 6, tzinfo=UTC)
SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"


def _alarm() -> AlarmNotification:
    parsed = parse_record(load_event("sns-alarm-insights.json")["Records"][0])
    assert isinstance(parsed, AlarmNotification)
    return parsed


def _series(label: str, values: list[float]) -> dict[str, Any]:
    stamps = [END - timedelta(hours=1)] * len(values)
    return {"Id": "models", "Label": label, "Timestamps": stamps, "Values": values, "StatusCode": "Complete"}


def test_monitoring_mode_groups_by_account_and_model() -> None:
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    query = (
        'SELECT SUM(InputTokenCount) FROM SCHEMA("AWS/Bedrock", ModelId) '
        "GROUP BY AWS.AccountId, ModelId ORDER BY SUM() DESC LIMIT 5"
    )
    with Stubber(cloudwatch) as stub:
        stub.add_response(
            "get_metric_data",
            {
                "MetricDataResults": [
                    _series(f"222222222222 {SONNET}", [90000.0, 30000.0]),
                    _series(f"333333333333 {SONNET}", [5000.0]),
                ]
            },
            {
                "MetricDataQueries": [
                    {"Id": "models", "Expression": query, "Period": 3600, "ReturnData": True}
                ],
                "StartTime": END - timedelta(hours=1),
                "EndTime": END,
                "ScanBy": "TimestampDescending",
            },
        )
        models = top_models(cloudwatch, _alarm(), now=NOW, by_account=True)
        stub.assert_no_pending_responses()
    assert models == (
        ModelValue(SONNET, 120000.0, "222222222222"),
        ModelValue(SONNET, 5000.0, "333333333333"),
    )


def test_the_router_turns_it_on_with_source_accounts() -> None:
    assert RouterConfig.from_env({"SOURCE_ACCOUNTS": "o-a1b2c3d4e5"}).by_account is True
    assert RouterConfig.from_env({}).by_account is False


def test_the_email_names_the_account_beside_the_model() -> None:
    from bedrock_usage.alarms.compose import Extras, compose, console_links

    extras = Extras(
        models=(ModelValue(SONNET, 120000.0, "222222222222"), ModelValue(SONNET, 5000.0, "333333333333"))
    )
    links = console_links(region="us-east-1", alarm_name="Bedrock-HighInputTokenUsage")
    email = compose(_alarm(), links=links, extras=extras, now=NOW)
    assert f"{SONNET} (account 222222222222): 120,000" in email.text
    assert "account 333333333333" in email.html
