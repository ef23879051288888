"""AlarmRouterFunction as deployed: on the alert topic, dead-lettered, least privilege."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from bedrock_usage.alarms.router import SES_FAILED_ORIGIN
from bedrock_usage.alarms.routing import Routing, RoutingError
from bedrock_usage.deliver import ORIGIN_ATTRIBUTE
from samtranslator.yaml_helper import yaml_parse

from scripts.resolve_template import resolve_template
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
def transformed() -> dict[str, Any]:
    return transform_file(TEMPLATE)


@pytest.fixture(scope="module")
def resources(transformed: dict[str, Any]) -> dict[str, Any]:
    return transformed["Resources"]


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


def test_role_grants_only_what_the_code_calls(resources: dict[str, Any]) -> None:
    actions = set()
    for statement in statements(resources):
        value = statement["Action"]
        actions.update([value] if isinstance(value, str) else value)
    assert actions == {
        "sqs:SendMessage",  # the dead-letter queue, added by SAM
        "kms:GenerateDataKey",  # only with KmsKeyArn: the dead-letter queue is then encrypted with it
        "kms:Decrypt",
        "ses:SendEmail",
        "ses:SendRawEmail",  # SES v2 Simple content with an inline graph may be authorised as raw
        "sns:Publish",  # only with SenderEmail and AlertEmail: what SES refused, for AlertEmail
        "cloudwatch:GetMetricData",
        "cloudwatch:GetMetricWidgetImage",
        "cloudwatch:DescribeAlarmHistory",
        "cloudwatch:DescribeAlarms",
    }
    (publish,) = [s for s in statements(resources) if s["Action"] == "sns:Publish"]
    assert publish["Resource"] == {"Ref": "AlertTopic"}  # never another topic


def test_send_email_is_pinned_to_the_sender_address(resources: dict[str, Any]) -> None:
    (ses,) = [s for s in statements(resources) if "ses:SendEmail" in s["Action"]]
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
    assert variables["ALERT_EMAIL"] == {"Ref": "AlertEmail"}


def condition_holds(conditions: dict[str, Any], node: Any, parameters: dict[str, str]) -> bool:
    """Evaluate a CloudFormation condition (Fn::And/Or/Not/Equals, Condition, Ref) for given parameters."""
    if isinstance(node, str):
        return condition_holds(conditions, conditions[node], parameters)
    [(function, args)] = node.items()
    if function == "Condition":
        return condition_holds(conditions, conditions[args], parameters)
    if function == "Fn::Not":
        return not condition_holds(conditions, args[0], parameters)
    if function == "Fn::And":
        return all(condition_holds(conditions, arg, parameters) for arg in args)
    if function == "Fn::Or":
        return any(condition_holds(conditions, arg, parameters) for arg in args)
    if function == "Fn::Equals":
        values = [parameters[a["Ref"]] if isinstance(a, dict) else a for a in args]
        return values[0] == values[1]
    raise AssertionError(f"unexpected condition function {function}")


@pytest.mark.parametrize(
    ("alert_email", "sender", "subscribed", "filtered"),
    [
        (
            "oncall@example.com",
            "",
            True,
            False,
        ),  # the router cannot email: the raw notification is all there is
        ("oncall@example.com", "alerts@example.com", True, True),  # readable email from the router; raw only
        ("", "", False, False),  # for the digest fallback and what SES refused
        ("", "alerts@example.com", False, False),
    ],
)
def test_alert_email_gets_raw_notifications_only_when_the_router_cannot_email_them(
    transformed: dict[str, Any], alert_email: str, sender: str, subscribed: bool, filtered: bool
) -> None:
    parameters = {"AlertEmail": alert_email, "SenderEmail": sender}
    if sender:
        parameters["ReportRecipients"] = "finops@example.com"
    resources = resolve_template(transformed, parameters)["Resources"]
    subscription = resources.get("AlertEmailSubscription")
    assert (subscription is not None) is subscribed
    fallback_topic = resources["AlarmRouterFunction"]["Properties"]["Environment"]["Variables"][
        "FALLBACK_TOPIC_ARN"
    ]
    publishes = any(
        "sns:Publish" in str(statement.get("Action"))
        for policy in resources["AlarmRouterFunctionRole"]["Properties"].get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
    )
    if subscribed:
        assert subscription["Properties"]["Endpoint"] == alert_email
        policy = subscription["Properties"].get("FilterPolicy")
        # alarms carry no bedrock_usage_origin attribute, so a filtered subscription never gets a raw copy
        assert policy == ({ORIGIN_ATTRIBUTE: ["digest", SES_FAILED_ORIGIN]} if filtered else None)
    assert (fallback_topic == {"Ref": "AlertTopic"}) is filtered
    assert publishes is filtered  # the router may publish only where its republished copies are wanted
