"""Alarms: every model covered, every notifying alarm wired to the topic both ways, quiet when idle."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.template.cfn import of_type

TOPIC = {"Ref": "AlertTopic"}
MI_QUERY = re.compile(r'^SELECT (SUM|AVG|MAX|MIN|COUNT)\((\w+)\) FROM SCHEMA\("AWS/Bedrock", ModelId\)$')
# Metrics Insights alarms are evaluated on the latest 3 hours of data only (CloudWatch alarm limits).
MI_WINDOW_SECONDS = 3 * 3600


def all_alarms(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Metric and composite alarms by logical ID."""
    return {
        **of_type(resources, "AWS::CloudWatch::Alarm"),
        **of_type(resources, "AWS::CloudWatch::CompositeAlarm"),
    }


def alarms_by_name(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    # Alarms others add may compute their names (Fn::Sub); those are keyed by their logical ID.
    return {
        alarm["Properties"]["AlarmName"]
        if isinstance(alarm["Properties"].get("AlarmName"), str)
        else name: alarm
        for name, alarm in all_alarms(resources).items()
    }


def queries(alarm: dict[str, Any]) -> list[str]:
    return [m["Expression"] for m in alarm["Properties"].get("Metrics", []) if "Expression" in m]


def test_the_seed_alarms_and_the_delivery_alarm_exist(resources):
    names = set(alarms_by_name(resources))
    assert {
        "Bedrock-HighInputTokenUsage",
        "Bedrock-HighErrorRate",
        "Bedrock-UnusualInvocationSpike",
        "Bedrock-HighLatency",
        "Bedrock-InvocationLogDeliveryFailure",
    } <= names


def test_every_alarm_notifies_the_topic_on_alarm_and_on_ok_or_feeds_one_that_does(resources):
    """A silent alarm is only acceptable as the child of a composite alarm that notifies."""
    composites = of_type(resources, "AWS::CloudWatch::CompositeAlarm").values()
    rules = " ".join(
        str(c["Properties"]["AlarmRule"])
        for c in composites
        if TOPIC in c["Properties"].get("AlarmActions", [])
    )
    for name, alarm in all_alarms(resources).items():
        props = alarm["Properties"]
        if "AlarmActions" in props or "OKActions" in props:
            assert TOPIC in props["AlarmActions"], name
            assert TOPIC in props["OKActions"], name
        else:
            assert f"${{{name}}}" in rules, f"{name} notifies nobody and feeds no notifying composite"


@pytest.mark.parametrize(
    ("alarm_name", "metric", "function", "threshold", "period"),
    [
        ("Bedrock-HighInputTokenUsage", "InputTokenCount", "SUM", "HighTokenThreshold", 3600),
        ("Bedrock-UnusualInvocationSpike", "Invocations", "SUM", "InvocationThreshold", 3600),
        ("Bedrock-HighLatency", "InvocationLatency", "AVG", "HighLatencyThreshold", 300),
        ("Bedrock-ClientErrors", "InvocationClientErrors", "SUM", "ErrorRateThreshold", 300),
        ("Bedrock-ServerErrors", "InvocationServerErrors", "SUM", "ErrorRateThreshold", 300),
    ],
)
def test_usage_alarms_query_every_model_id_with_the_seed_thresholds(
    resources, alarm_name, metric, function, threshold, period
):
    """Each usage alarm is one Metrics Insights query over SCHEMA("AWS/Bedrock", ModelId): models first
    used after deploy are included, no ModelId is hard-coded, and its window fits the 3-hour limit."""
    props = alarms_by_name(resources)[alarm_name]["Properties"]
    (query,) = props["Metrics"]
    match = MI_QUERY.match(query["Expression"])
    assert match, query["Expression"]
    assert match.groups() == (function, metric)
    assert query["ReturnData"] is True
    assert query["Period"] == period
    assert props["Threshold"] == {"Ref": threshold}
    assert props["ComparisonOperator"] == "GreaterThanThreshold"
    assert "Dimensions" not in props
    assert query["Period"] * props["EvaluationPeriods"] <= MI_WINDOW_SECONDS


def test_high_error_rate_fires_on_client_or_server_errors(resources):
    props = alarms_by_name(resources)["Bedrock-HighErrorRate"]["Properties"]
    assert props["AlarmRule"] == {"Fn::Sub": 'ALARM("${ClientErrorsAlarm}") OR ALARM("${ServerErrorsAlarm}")'}


def test_metric_alarms_treat_missing_data_as_not_breaching(resources):
    """No traffic (nights, weekends, a new account) must not raise or hold an alarm."""
    for name, alarm in of_type(resources, "AWS::CloudWatch::Alarm").items():
        assert alarm["Properties"]["TreatMissingData"] == "notBreaching", name


def test_delivery_failure_alarm_sums_all_three_failure_metrics(resources):
    props = alarms_by_name(resources)["Bedrock-InvocationLogDeliveryFailure"]["Properties"]
    stats = {m["Id"]: m["MetricStat"] for m in props["Metrics"] if "MetricStat" in m}
    assert {s["Metric"]["MetricName"] for s in stats.values()} == {
        "ModelInvocationLogsCloudWatchDeliveryFailure",
        "ModelInvocationLogsS3DeliveryFailure",
        "ModelInvocationLargeDataS3DeliveryFailure",
    }
    (expression,) = [m for m in props["Metrics"] if m.get("ReturnData")]
    for metric_id in stats:
        assert f"FILL({metric_id}, 0)" in expression["Expression"]
    assert props["Threshold"] == 0
    assert props["ComparisonOperator"] == "GreaterThanThreshold"


def test_no_alarm_expression_uses_search(resources):
    """CloudWatch rejects alarms on SEARCH(); dashboards use it, alarms must not."""
    for alarm in alarms_by_name(resources).values():
        assert not any("SEARCH(" in q for q in queries(alarm))
