"""Checks 4, 7 and 9: metric names, alarms and their graphs, the report function's last run.

moto is faithful for ListMetrics, GetMetricData sums and alarms as stored objects. It has no
GetMetricWidgetImage, so the graph checks use botocore's Stubber with the real response shape
(MetricWidgetImage is a PNG blob) and a real DescribeAlarms shape for a Metrics Insights alarm.
"""

from __future__ import annotations

import json
from datetime import timedelta

from bedrock_usage.doctor import metric_checks as checks
from bedrock_usage.doctor.core import FAIL, PASS, SKIP, WARN
from botocore.stub import ANY, Stubber

from tests.conftest import ACCOUNT_ID, REGION
from tests.doctor.conftest import NOW, REPORT, World, add_alarms, only, put_metric

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2040


def _model_metric(world: World, model_id: str, metric: str, value: float = 10.0) -> None:
    put_metric(world, "AWS/Bedrock", metric, value, NOW - timedelta(hours=1), ModelId=model_id)


# --------------------------------------------------------------------------------------------- 4


def test_model_ids_profiles_and_cache_names_are_listed(world: World) -> None:
    _model_metric(world, "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "InputTokenCount")
    _model_metric(world, "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "CacheReadInputTokenCount")
    _model_metric(world, "amazon.nova-lite-v1:0", "Invocations")
    _model_metric(world, "82ey7vcct4m3", "Invocations")  # an application inference profile ID
    rows = world.run(checks.check_metric_names)
    models, cache = only(rows, "4a"), only(rows, "4b")
    assert models.status == PASS
    assert "3 ModelId values" in models.seen
    assert "system-profile: us.anthropic.claude-sonnet-4-5-20250929-v1:0" in models.seen
    assert "application-profile: 82ey7vcct4m3" in models.seen
    assert "base: amazon.nova-lite-v1:0" in models.seen
    assert "account-wide series without ModelId: no" in models.seen
    assert cache.status == PASS
    assert cache.seen == "CacheReadInputTokenCount"


def test_account_wide_series_is_reported(world: World) -> None:
    _model_metric(world, "amazon.nova-lite-v1:0", "Invocations")
    world.client("cloudwatch").put_metric_data(
        Namespace="AWS/Bedrock", MetricData=[{"MetricName": "Invocations", "Value": 1.0}]
    )
    assert "account-wide series without ModelId: yes" in only(world.run(checks.check_metric_names), "4a").seen


def test_no_cache_metric_is_a_skip_not_a_failure(world: World) -> None:
    _model_metric(world, "amazon.nova-lite-v1:0", "Invocations")
    assert only(world.run(checks.check_metric_names), "4b").status == SKIP


def test_no_bedrock_metrics_warn(world: World) -> None:
    row = only(world.run(checks.check_metric_names))
    assert row.status == WARN
    assert row.id == "4a"


# --------------------------------------------------------------------------------------------- 7a


def test_alarms_in_ok_pass(world: World) -> None:
    add_alarms(world)
    row = only(world.run(checks.check_alarm_states))
    assert row.status == PASS
    assert row.seen.startswith("2 alarms")


def test_a_firing_alarm_warns(world: World) -> None:
    add_alarms(world)
    world.client("cloudwatch").set_alarm_state(
        AlarmName="Bedrock-HighLatency", StateValue="ALARM", StateReason="Threshold Crossed: 1 datapoint"
    )
    row = only(world.run(checks.check_alarm_states))
    assert row.status == WARN
    assert "Bedrock-HighLatency: Threshold Crossed" in row.seen


def test_a_missing_alarm_fails(world: World) -> None:
    add_alarms(world)
    world.client("cloudwatch").delete_alarms(AlarmNames=["Bedrock-ClientErrors"])
    row = only(world.run(checks.check_alarm_states))
    assert row.status == FAIL
    assert "missing: Bedrock-ClientErrors" in row.seen


# --------------------------------------------------------------------------------------------- 7b

ALARM_ARN = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT_ID}:alarm:Bedrock-HighInputTokenUsage"
# DescribeAlarms as the real API returns a Metrics Insights alarm from template.yaml.
INSIGHTS_ALARM = {
    "AlarmName": "Bedrock-HighInputTokenUsage",
    "AlarmArn": ALARM_ARN,
    "StateValue": "OK",
    "StateReason": "Threshold Crossed: no datapoints were received for 1 period",
    "ComparisonOperator": "GreaterThanThreshold",
    "Threshold": 100000.0,
    "EvaluationPeriods": 1,
    "DatapointsToAlarm": 1,
    "TreatMissingData": "notBreaching",
    "Metrics": [
        {
            "Id": "q1",
            "Label": "Input tokens per hour, all models",
            "ReturnData": True,
            "Period": 3600,
            "Expression": 'SELECT SUM(InputTokenCount) FROM SCHEMA("AWS/Bedrock", ModelId)',
        }
    ],
}
COMPOSITE = {
    "AlarmName": "Bedrock-HighErrorRate",
    "AlarmArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT_ID}:alarm:Bedrock-HighErrorRate",
    "AlarmRule": 'ALARM("Bedrock-ClientErrors") OR ALARM("Bedrock-ServerErrors")',
    "StateValue": "OK",
}


def _stub_graphs(world: World) -> tuple[Stubber, list[dict[str, object]]]:
    world.resources.update(
        {"HighInputTokenAlarm": "Bedrock-HighInputTokenUsage", "Err": "Bedrock-HighErrorRate"}
    )
    world.types.update(
        {"HighInputTokenAlarm": "AWS::CloudWatch::Alarm", "Err": "AWS::CloudWatch::CompositeAlarm"}
    )
    stub = world.stub("cloudwatch")
    widgets: list[dict[str, object]] = []
    stub.client.meta.events.register(
        "provide-client-params.cloudwatch.GetMetricWidgetImage",
        lambda params, **_: widgets.append(json.loads(params["MetricWidget"])),
    )
    stub.add_response(
        "describe_alarms",
        {"MetricAlarms": [INSIGHTS_ALARM], "CompositeAlarms": [COMPOSITE]},
        {"AlarmNames": ANY, "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]},
    )
    return stub, widgets


def _stub_top_models(stub: Stubber, *models: tuple[str, float]) -> None:
    """The alarm email's one GetMetricData (Metrics Insights, grouped by ModelId), real response shape."""
    stub.add_response(
        "get_metric_data",
        {
            "MetricDataResults": [
                {
                    "Id": "models",
                    "Label": model,
                    "Values": [value],
                    "Timestamps": [NOW],
                    "StatusCode": "Complete",
                }
                for model, value in models
            ]
        },
    )


def test_graph_drawn_passes(world: World) -> None:
    stub, widgets = _stub_graphs(world)
    _stub_top_models(stub, ("us.amazon.nova-lite-v1:0", 90_000.0), ("amazon.nova-micro-v1:0", 30_000.0))
    stub.add_response("get_metric_widget_image", {"MetricWidgetImage": PNG_BYTES})
    with stub:
        row = only(world.run(checks.check_alarm_graphs))  # the composite is drawn through its children
    assert row.status == PASS
    assert row.name == "Graph of Bedrock-HighInputTokenUsage"
    assert "2,048 bytes" in row.seen
    assert "from 2 model series" in row.seen
    # The same widget the alarm email asks for: plain rows per model (never SQL), threshold marked.
    rows = widgets[0]["metrics"]
    assert [r[:4] for r in rows] == [
        ["AWS/Bedrock", "InputTokenCount", "ModelId", "us.amazon.nova-lite-v1:0"],
        ["AWS/Bedrock", "InputTokenCount", "ModelId", "amazon.nova-micro-v1:0"],
    ]
    assert widgets[0]["annotations"]["horizontal"][0]["value"] == 100000.0


def test_graph_without_recent_traffic_is_still_drawn_empty(world: World) -> None:
    stub, widgets = _stub_graphs(world)
    _stub_top_models(stub)
    stub.add_response("get_metric_widget_image", {"MetricWidgetImage": PNG_BYTES})
    with stub:
        row = only(world.run(checks.check_alarm_graphs))
    assert row.status == PASS
    assert "no model had traffic in the last hour" in row.seen
    assert len(widgets[0]["metrics"]) == 1


def test_graph_refused_warns(world: World) -> None:
    stub, _ = _stub_graphs(world)
    _stub_top_models(stub, ("us.amazon.nova-lite-v1:0", 90_000.0))
    stub.add_client_error(
        "get_metric_widget_image",
        service_error_code="ValidationError",
        service_message="The expression is not supported",
        http_status_code=400,
    )
    with stub:
        row = only(world.run(checks.check_alarm_graphs))
    assert row.status == WARN
    assert "ValidationError" in row.seen
    assert "no graph" in row.fix


def test_graph_without_the_api_is_skipped(world: World) -> None:
    add_alarms(world)  # moto: alarms stored, GetMetricWidgetImage missing
    row = only(world.run(checks.check_alarm_graphs))  # one row, not one per alarm
    assert row.status == SKIP
    assert "get_metric_widget_image" in row.seen


# --------------------------------------------------------------------------------------------- 9


def _lambda_metric(world: World, metric: str, value: float) -> None:
    put_metric(world, "AWS/Lambda", metric, value, NOW - timedelta(hours=6), FunctionName=REPORT)


def _digest_log(world: World, **result: object) -> str:
    group = f"/aws/lambda/{REPORT}"
    logs = world.client("logs")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="2026/11/30/[$LATEST]abc")
    line = {"level": "INFO", "message": "digest done", "service": "report", **result}
    stamp = int((NOW - timedelta(hours=6)).timestamp() * 1000)
    logs.put_log_events(
        logGroupName=group,
        logStreamName="2026/11/30/[$LATEST]abc",
        logEvents=[{"timestamp": stamp, "message": json.dumps(line)}],
    )
    return group


def test_successful_run_passes(world: World) -> None:
    _lambda_metric(world, "Invocations", 1)
    _lambda_metric(world, "Errors", 0)
    _lambda_metric(world, "Duration", 41_250)
    _digest_log(world, delivered_via="ses", fallback_reason=None, data_source_failures=[])
    row = only(world.run(checks.check_report_run))
    assert row.status == PASS
    assert "1 run(s), 0 failed, longest 41.2 s" in row.seen
    assert "last digest via ses" in row.seen


def test_failed_run_fails(world: World) -> None:
    _lambda_metric(world, "Invocations", 1)
    _lambda_metric(world, "Errors", 1)
    row = only(world.run(checks.check_report_run))
    assert row.status == FAIL
    assert "1 failed" in row.seen
    assert "ReportDeadLetterQueueUrl" in row.fix


def test_run_with_a_missing_source_warns(world: World) -> None:
    _lambda_metric(world, "Invocations", 1)
    _digest_log(
        world, delivered_via="sns", fallback_reason="SES MessageRejected", data_source_failures=["logs"]
    )
    row = only(world.run(checks.check_report_run))
    assert row.status == WARN
    assert "fallback: SES MessageRejected" in row.seen
    assert "failed sources: logs" in row.seen


def test_no_run_yet_warns(world: World) -> None:
    row = only(world.run(checks.check_report_run))
    assert row.status == WARN
    assert "aws lambda invoke" in row.fix
