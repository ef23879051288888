"""AlarmRouterFunction as deployed: on the alert topic, dead-lettered, least privilege, never publishing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from bedrock_usage.alarms.routing import Routing, RoutingError
from samtranslator.yaml_helper import yaml_parse

from scripts.transform_template import transform_file

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
README_EXAMPLE = (
    "Bedrock-HighError*=oncall@example.com;ml-platform@example.com,Bedrock-*=ml-platform@example.com,"
    "budget=finance@example.com,default=ops@example.com"
)


@pytest.fixture(scope="module")
def sam() -> dict[str, Any]:
    return yaml_parse(TEMPLATE.read_text())


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    return transform_file(TEMPLATE)["Resources"]


def test_routing_parameter_pattern_accepts_what_the_function_accepts(sam: dict[str, Any]) -> None:
    """CloudFormation rejects a malformed AlarmRouting at deploy time, before any alarm needs it."""
    pattern = sam["Parameters"]["AlarmRouting"]["AllowedPattern"]
    for good in ("", README_EXAMPLE, "default=ops@example.com", "My alarm ?=a@example.com"):
        assert re.fullmatch(pattern, good), good
        Routing.parse(good)
    for bad in ("ops@example.com", "default=", "a=b=c", "default=a@example.com,", ",x=a@example.com"):
        assert not re.fullmatch(pattern, bad), bad
    with pytest.raises(RoutingError):
        Routing.parse("default=not-an-address")  # the pattern cannot check addresses; the function does


def test_function_is_subscribed_to_the_alert_topic(resources: dict[str, Any]) -> None:
    subscriptions = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::SNS::Subscription" and r["Properties"]["Protocol"] == "lambda"
    ]
    assert {"Ref": "AlertTopic"} in [s["TopicArn"] for s in subscriptions]
    endpoint = next(s["Endpoint"] for s in subscriptions if s["TopicArn"] == {"Ref": "AlertTopic"})
    assert endpoint == {"Fn::GetAtt": ["AlarmRouterFunction", "Arn"]}


def test_failed_invocations_end_in_a_dead_letter_queue(resources: dict[str, Any]) -> None:
    function = resources["AlarmRouterFunction"]["Properties"]
    assert function["DeadLetterConfig"] == {
        "TargetArn": {"Fn::GetAtt": ["AlarmRouterDeadLetterQueue", "Arn"]}
    }
    invoke = next(
        r
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::EventInvokeConfig"
        and r["Properties"]["FunctionName"] == {"Ref": "AlarmRouterFunction"}
    )
    assert invoke["Properties"]["MaximumRetryAttempts"] == 2


def statements(resources: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for policy in resources["AlarmRouterFunctionRole"]["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            if "Fn::If" in statement:
                statement = statement["Fn::If"][1]
            found.append(statement)
    return found


def test_role_grants_only_what_the_code_calls_and_never_sns_publish(resources: dict[str, Any]) -> None:
    actions = set()
    for statement in statements(resources):
        value = statement["Action"]
        actions.update([value] if isinstance(value, str) else value)
    assert actions == {
        "sqs:SendMessage",  # the dead-letter queue, added by SAM
        "kms:GenerateDataKey",  # only with KmsKeyArn: the dead-letter queue is then encrypted with it
        "kms:Decrypt",
        "ses:SendEmail",
        "cloudwatch:GetMetricData",
        "cloudwatch:GetMetricWidgetImage",
        "cloudwatch:DescribeAlarmHistory",
        "cloudwatch:DescribeAlarms",
    }
    assert not any(action.startswith("sns:") for action in actions)


def test_send_email_is_pinned_to_the_sender_address(resources: dict[str, Any]) -> None:
    (ses,) = [s for s in statements(resources) if s["Action"] == "ses:SendEmail"]
    assert ses["Condition"] == {"StringEquals": {"ses:FromAddress": {"Ref": "SenderEmail"}}}
    assert ses["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/*"
    }


def test_alarm_history_is_scoped_to_this_accounts_alarms(resources: dict[str, Any]) -> None:
    (history,) = [s for s in statements(resources) if "cloudwatch:DescribeAlarmHistory" in s["Action"]]
    assert history["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*"
    }


def test_environment_carries_the_settings_the_router_reads(resources: dict[str, Any]) -> None:
    variables = resources["AlarmRouterFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["SENDER_EMAIL"] == {"Ref": "SenderEmail"}
    assert variables["ALARM_ROUTING"] == {"Ref": "AlarmRouting"}
    assert variables["DASHBOARD_NAME"] == {"Ref": "DashboardName"}
    assert variables["LOG_GROUP_NAME"] == {"Ref": "LogGroupName"}
