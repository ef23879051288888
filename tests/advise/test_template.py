"""The template side of the findings: the cost anomaly alarm and the read actions ReportFunction needs."""

from __future__ import annotations

from typing import Any

from tests.template.cfn import of_type
from tests.template.conftest import cfn, resources, sam_template  # noqa: F401 - the template fixtures


def _report_statements(sam: dict[str, Any]) -> list[dict[str, Any]]:
    fn = sam["Resources"]["ReportFunction"]["Properties"]
    return [s for p in fn["Policies"] if isinstance(p, dict) for s in p.get("Statement", []) if "Action" in s]


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def test_cost_anomaly_alarm_watches_the_published_daily_total_and_notifies_the_topic(resources):  # noqa: F811
    (alarm,) = [
        a
        for a in of_type(resources, "AWS::CloudWatch::Alarm").values()
        if a["Properties"]["AlarmName"] == "Bedrock-DailyCostAnomaly"
    ]
    props = alarm["Properties"]
    metrics = {m["Id"]: m for m in props["Metrics"]}
    stat = metrics["cost"]["MetricStat"]
    assert stat["Metric"] == {"Namespace": "BedrockUsageMonitor", "MetricName": "EstimatedCostUSD"}
    assert stat["Period"] == 86400
    assert metrics["band"]["Expression"] == "ANOMALY_DETECTION_BAND(cost, 2)"
    assert props["ThresholdMetricId"] == "band"
    assert props["ComparisonOperator"] == "GreaterThanUpperThreshold"
    assert props["AlarmActions"] == [{"Ref": "AlertTopic"}]


def test_report_function_may_call_exactly_the_read_actions_the_findings_use(sam_template):  # noqa: F811
    granted = {a for s in _report_statements(sam_template) for a in _actions(s)}
    assert {
        "bedrock:ListFoundationModels",
        "bedrock:ListProvisionedModelThroughputs",
        "servicequotas:ListServiceQuotas",
        "servicequotas:ListAWSDefaultServiceQuotas",
        "cloudwatch:GetMetricData",
    } <= granted
    assert not any(a.startswith("servicequotas:") and not a.startswith("servicequotas:List") for a in granted)


def test_cost_metric_may_only_be_put_in_the_apps_namespace(sam_template):  # noqa: F811
    (put,) = [s for s in _report_statements(sam_template) if "cloudwatch:PutMetricData" in _actions(s)]
    assert put["Condition"] == {"StringEquals": {"cloudwatch:namespace": "BedrockUsageMonitor"}}
