"""Per-model query, metric graph and alarm history.

moto does not implement Metrics Insights, GetMetricWidgetImage or DescribeAlarmHistory, so these tests use
botocore's Stubber with response shapes from the CloudWatch API reference; the Stubber validates every
request against botocore's service model.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from bedrock_usage.alarms.cloudwatch import (
    ModelValue,
    alarm_started,
    child_alarms,
    metric_widget,
    top_models,
    top_models_query,
    widget_image,
)
from bedrock_usage.alarms.notification import AlarmNotification, parse_record
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from tests.conftest import load_event

NOW = datetime(2026, 11, 28, 18, 6, 30, tzinfo=UTC)
END = datetime(2026, 11, 28, 18, 6, tzinfo=UTC)


def alarm(name: str) -> AlarmNotification:
    parsed = parse_record(load_event(name)["Records"][0])
    assert isinstance(parsed, AlarmNotification)
    return parsed


@pytest.fixture
def cloudwatch() -> Any:
    return boto3.client("cloudwatch", region_name="us-east-1")


def series(model: str, values: list[float]) -> dict[str, Any]:
    return {
        "Id": "models",
        "Label": model,
        "Timestamps": [END - timedelta(hours=1)] * len(values),
        "Values": values,
        "StatusCode": "Complete",
    }


def test_top_models_runs_one_metrics_insights_query_over_the_last_hour(cloudwatch: Any) -> None:
    """Given an input-token alarm, when asked which models drove it, then one grouped query ranks them."""
    expected_query = (
        'SELECT SUM(InputTokenCount) FROM SCHEMA("AWS/Bedrock", ModelId) '
        "GROUP BY ModelId ORDER BY SUM() DESC LIMIT 5"
    )
    with Stubber(cloudwatch) as stub:
        stub.add_response(
            "get_metric_data",
            {
                "MetricDataResults": [
                    series("global.anthropic.claude-opus-4-6-v1", [52000.0]),
                    # an hour not aligned to the period comes back as two points: they are summed
                    series("us.anthropic.claude-sonnet-4-5-20250929-v1:0", [120000.0, 60000.0]),
                ],
                "NextToken": "page-2",
                "Messages": [],
            },
            {
                "MetricDataQueries": [
                    {"Id": "models", "Expression": expected_query, "Period": 3600, "ReturnData": True}
                ],
                "StartTime": END - timedelta(hours=1),
                "EndTime": END,
                "ScanBy": "TimestampDescending",
            },
        )
        stub.add_response(
            "get_metric_data",
            {"MetricDataResults": [series("amazon.nova-lite-v1:0", [16312.0])]},
            {
                "MetricDataQueries": [
                    {"Id": "models", "Expression": expected_query, "Period": 3600, "ReturnData": True}
                ],
                "StartTime": END - timedelta(hours=1),
                "EndTime": END,
                "ScanBy": "TimestampDescending",
                "NextToken": "page-2",
            },
        )
        models = top_models(cloudwatch, alarm("sns-alarm-insights.json"), now=NOW)
        stub.assert_no_pending_responses()
    assert models == (
        ModelValue("us.anthropic.claude-sonnet-4-5-20250929-v1:0", 180000.0),
        ModelValue("global.anthropic.claude-opus-4-6-v1", 52000.0),
        ModelValue("amazon.nova-lite-v1:0", 16312.0),
    )


def test_latency_alarm_ranks_models_by_average() -> None:
    query = top_models_query(alarm("sns-alarm-single.json"))
    assert query is not None
    assert query.startswith('SELECT AVG(InvocationLatency) FROM SCHEMA("AWS/Bedrock", ModelId)')
    assert "ORDER BY AVG() DESC" in query


def test_no_model_query_for_other_namespaces_or_math_over_several_metrics(cloudwatch: Any) -> None:
    lambda_alarm = alarm("sns-alarm-single.json")
    data = json.loads(load_event("sns-alarm-single.json")["Records"][0]["Sns"]["Message"])
    data["Trigger"]["Namespace"] = "AWS/Lambda"
    other = parse_record({"Sns": {"Message": json.dumps(data)}})
    assert isinstance(other, AlarmNotification)
    assert lambda_alarm.trigger.namespace == "AWS/Bedrock"
    with Stubber(cloudwatch):  # no responses queued: any call would fail the test
        assert top_models(cloudwatch, other, now=NOW) is None
        assert top_models(cloudwatch, alarm("sns-alarm-math.json"), now=NOW) is None


def test_widget_image_asks_for_a_png_of_the_alarm_metric_with_the_threshold(cloudwatch: Any) -> None:
    single = alarm("sns-alarm-single.json")
    with Stubber(cloudwatch) as stub:
        stub.add_response(
            "get_metric_widget_image",
            {"MetricWidgetImage": b"\x89PNG\r\n\x1a\nfake"},
            {"MetricWidget": json.dumps(metric_widget(single)), "OutputFormat": "png"},
        )
        assert widget_image(cloudwatch, single) == b"\x89PNG\r\n\x1a\nfake"
    widget = metric_widget(single)
    assert widget["metrics"] == [
        [
            "AWS/Bedrock",
            "InvocationLatency",
            "ModelId",
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            {"label": "InvocationLatency", "stat": "Average", "period": 300},
        ]
    ]
    assert widget["annotations"]["horizontal"][0]["value"] == 10000.0
    assert widget["region"] == "us-east-1"


def test_widget_for_anomaly_alarm_draws_the_band_and_no_threshold_line() -> None:
    widget = metric_widget(alarm("sns-alarm-anomaly.json"))
    expressions = [row[0] for row in widget["metrics"] if isinstance(row[0], dict)]
    assert expressions == [
        {
            "expression": "ANOMALY_DETECTION_BAND(m1, 2)",
            "id": "ad1",
            "visible": True,
            "label": "Invocations (expected)",
        }
    ]
    assert "annotations" not in widget


def test_widget_for_math_alarm_hides_the_inputs() -> None:
    widget = metric_widget(alarm("sns-alarm-math.json"))
    visible = {row[-1].get("id"): row[-1]["visible"] for row in widget["metrics"]}
    assert visible == {"e1": True, "m1": False, "m2": False}


def test_widget_for_metrics_insights_alarm_draws_the_top_models_as_plain_rows_not_sql() -> None:
    """No source shows GetMetricWidgetImage drawing SQL: draw the per-model series the query found."""
    insights = alarm("sns-alarm-insights.json")
    models = (
        ModelValue("us.anthropic.claude-sonnet-4-5-20250929-v1:0", 180000.0),
        ModelValue("amazon.nova-lite-v1:0", 9.0),
    )
    widget = metric_widget(insights, models)
    assert widget["metrics"] == [
        [
            "AWS/Bedrock",
            "InputTokenCount",
            "ModelId",
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            {"stat": "Sum", "period": 3600, "label": "us.anthropic.claude-sonnet-4-5-20250929-v1:0"},
        ],
        [
            "AWS/Bedrock",
            "InputTokenCount",
            "ModelId",
            "amazon.nova-lite-v1:0",
            {"stat": "Sum", "period": 3600, "label": "amazon.nova-lite-v1:0"},
        ],
    ]
    assert widget["stacked"] is True  # sums stack up to the total the threshold applies to
    assert widget["annotations"]["horizontal"][0] == {
        "value": 100000.0,
        "label": "threshold (all models)",
        "color": "#d13212",
    }
    assert "SELECT" not in json.dumps(widget)
    for nothing in (None, ()):
        with pytest.raises(ValueError, match="per-model series"):
            metric_widget(insights, nothing)


def test_widget_image_error_is_raised_for_the_caller(cloudwatch: Any) -> None:
    with Stubber(cloudwatch) as stub:
        stub.add_client_error("get_metric_widget_image", "InvalidParameterInput", "bad widget")
        with pytest.raises(ClientError):
            widget_image(cloudwatch, alarm("sns-alarm-single.json"))


def history_item(when: datetime, old: str, new: str) -> dict[str, Any]:
    return {
        "AlarmName": "Bedrock-HighInputTokenUsage",
        "AlarmType": "MetricAlarm",
        "Timestamp": when,
        "HistoryItemType": "StateUpdate",
        "HistorySummary": f"Alarm updated from {old} to {new}",
        "HistoryData": json.dumps(
            {"version": "1.0", "oldState": {"stateValue": old}, "newState": {"stateValue": new}}
        ),
    }


def test_alarm_started_is_the_last_transition_into_alarm(cloudwatch: Any) -> None:
    """Given history OK->ALARM at 18:05 then ALARM->OK at 19:17 (newest first), the start is 18:05."""
    resolved = datetime(2026, 11, 28, 19, 17, 41, tzinfo=UTC)
    began = datetime(2026, 11, 28, 18, 5, 41, tzinfo=UTC)
    request = {
        "AlarmName": "Bedrock-HighInputTokenUsage",
        "HistoryItemType": "StateUpdate",
        "AlarmTypes": ["MetricAlarm", "CompositeAlarm"],
        "EndDate": resolved + timedelta(seconds=1),
        "ScanBy": "TimestampDescending",
        "MaxRecords": 50,
    }
    with Stubber(cloudwatch) as stub:
        stub.add_response(
            "describe_alarm_history",
            {"AlarmHistoryItems": [history_item(resolved, "ALARM", "OK")], "NextToken": "more"},
            request,
        )
        stub.add_response(
            "describe_alarm_history",
            {
                "AlarmHistoryItems": [
                    history_item(began, "OK", "ALARM"),
                    history_item(began - timedelta(days=2), "INSUFFICIENT_DATA", "ALARM"),
                ]
            },
            {**request, "NextToken": "more"},
        )
        assert alarm_started(cloudwatch, "Bedrock-HighInputTokenUsage", before=resolved) == began


def test_alarm_started_is_none_when_history_has_no_alarm_entry(cloudwatch: Any) -> None:
    resolved = datetime(2026, 11, 28, 19, 17, 41, tzinfo=UTC)
    with Stubber(cloudwatch) as stub:
        stub.add_response(
            "describe_alarm_history", {"AlarmHistoryItems": [history_item(resolved, "ALARM", "OK")]}
        )
        assert alarm_started(cloudwatch, "Bedrock-HighInputTokenUsage", before=resolved) is None


CLIENT_ERRORS_ALARM: dict[str, Any] = {
    "AlarmName": "Bedrock-ClientErrors",
    "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:Bedrock-ClientErrors",
    "AlarmDescription": "More than 10 Bedrock client errors (4xx, all models) in 5 minutes.",
    "StateValue": "ALARM",
    "StateReason": (
        "Threshold Crossed: 1 out of the last 1 datapoints [37.0 (28/11/26 18:20:00)] was greater than the "
        "threshold (10.0) (minimum 1 datapoint for OK -> ALARM transition)."
    ),
    "StateUpdatedTimestamp": datetime(2026, 11, 28, 18, 25, 3, tzinfo=UTC),
    "EvaluationPeriods": 1,
    "DatapointsToAlarm": 1,
    "Threshold": 10.0,
    "ComparisonOperator": "GreaterThanThreshold",
    "TreatMissingData": "notBreaching",
    "Metrics": [
        {
            "Id": "q1",
            "Expression": 'SELECT SUM(InvocationClientErrors) FROM SCHEMA("AWS/Bedrock", ModelId)',
            "Label": "Client errors per 5 minutes, all models",
            "ReturnData": True,
            "Period": 300,
        }
    ],
}


def test_composite_children_are_read_with_one_describe_alarms(cloudwatch: Any) -> None:
    """Given Bedrock-HighErrorRate (composite) triggered by Bedrock-ClientErrors, its metric is found."""
    composite = alarm("sns-alarm-composite.json")
    with Stubber(cloudwatch) as stub:
        stub.add_response(
            "describe_alarms",
            {"MetricAlarms": [CLIENT_ERRORS_ALARM], "CompositeAlarms": []},
            {"AlarmNames": ["Bedrock-ClientErrors"], "AlarmTypes": ["MetricAlarm"]},
        )
        [child] = child_alarms(cloudwatch, composite)
    assert child.name == "Bedrock-ClientErrors"
    assert child.trigger.kind == "insights"
    assert child.trigger.metric_name == "InvocationClientErrors"
    assert child.trigger.period == 300
    assert [d.value for d in child.observed] == [37.0]
    assert top_models_query(child) == (
        'SELECT SUM(InvocationClientErrors) FROM SCHEMA("AWS/Bedrock", ModelId) '
        "GROUP BY ModelId ORDER BY SUM() DESC LIMIT 5"
    )
