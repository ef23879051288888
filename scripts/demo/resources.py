"""Resources moto's CloudFormation skips, created directly through their APIs from the resolved template."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scripts.demo.common import REGION, STACK_NAME, DemoError, say
from scripts.demo.emulator import account_id, client

if TYPE_CHECKING:
    from scripts.demo.stack import Stack  # stack.py imports this module


@dataclass
class _Created:
    """A resource created outside moto's CloudFormation, as moto's resource map expects it."""

    physical_resource_id: str
    attributes: dict[str, str] = field(default_factory=dict)

    def get_cfn_attribute(self, name: str) -> str:
        if name not in self.attributes:
            raise DemoError(f"attribute {name} of {self.physical_resource_id} is not known to the demo")
        return self.attributes[name]


def register(stack: Stack, lid: str, physical_id: str, **attributes: str) -> None:
    """Record a directly created resource, so Ref and GetAtt to it resolve in the rest of the template."""
    stack.resource_map._parsed_resources[lid] = _Created(physical_id, attributes)
    stack.physical_ids[lid] = physical_id


def create_directly(stack: Stack, lid: str, resource: dict[str, Any]) -> None:
    """Create one piece moto's CloudFormation skips, from its resolved template properties."""
    from moto.cloudformation.parsing import get_model_map, parse_and_create_resource

    kind = resource["Type"]
    if kind in get_model_map():
        # A type moto models that refers to a piece it skips: moto's own model creates it, after that piece.
        created = parse_and_create_resource(
            lid, json.loads(json.dumps(resource)), stack.resource_map, account_id(), REGION
        )
        if created is None:
            raise DemoError(f"moto could not create {lid} ({kind})")
        stack.resource_map._parsed_resources[lid] = created
        stack.physical_ids[lid] = created.physical_resource_id
        return
    creator = _CREATORS.get(kind)
    if creator is None:
        stack.not_emulated.append(f"{lid} ({kind})")
        register(stack, lid, lid)  # a Ref to it resolves to its logical ID; a GetAtt fails, naming it
        say(f"    not emulated: {lid} ({kind}) - the demo has no way to create it; a real deploy does")
        return
    props = stack.resolve(resource.get("Properties", {}))
    try:
        note = creator(stack, lid, props)
    except NotImplementedError as exc:
        stack.not_emulated.append(f"{lid} ({kind})")
        register(stack, lid, lid)
        say(f"    not emulated: {lid} ({kind}) - {exc}")
        return
    stack.created_directly.append(lid)
    say(f"    created directly (moto's CloudFormation skips {kind}): {lid}{note}")


def _bucket_policy(stack: Stack, lid: str, props: dict[str, Any]) -> str:
    # moto 5.2.5 evaluates bucket policies without their conditions, so a TLS-only or "only AWS services
    # write" Deny would refuse every request, Bedrock's and the report's included.
    raise NotImplementedError(
        "moto ignores policy conditions, so its Deny statements would refuse every request; "
        "a real deploy applies it"
    )


def _topic_policy(stack: Stack, lid: str, props: dict[str, Any]) -> str:
    sns = client("sns")
    for topic in props["Topics"]:
        sns.set_topic_attributes(
            TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(props["PolicyDocument"])
        )
    register(stack, lid, lid)
    return ""


def _queue_policy(stack: Stack, lid: str, props: dict[str, Any]) -> str:
    sqs = client("sqs")
    for queue in props["Queues"]:
        sqs.set_queue_attributes(QueueUrl=queue, Attributes={"Policy": json.dumps(props["PolicyDocument"])})
    register(stack, lid, lid)
    return ""


def _subscription(stack: Stack, lid: str, props: dict[str, Any]) -> str:
    arn = client("sns").subscribe(
        TopicArn=props["TopicArn"],
        Protocol=props["Protocol"],
        Endpoint=props["Endpoint"],
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    register(stack, lid, arn)
    return f" ({props['Protocol']} -> {props['Endpoint'].rsplit(':', 1)[-1]})"


_ALARM_KEYS = {
    "AlarmName",
    "AlarmDescription",
    "ActionsEnabled",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Dimensions",
    "Period",
    "Unit",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
    "Metrics",
    "ThresholdMetricId",
    "Tags",
}


def _alarm(stack: Stack, lid: str, props: dict[str, Any]) -> str:
    request = {k: v for k, v in props.items() if k in _ALARM_KEYS}
    name = request.setdefault("AlarmName", f"{STACK_NAME}-{lid}")
    for key in ("Threshold",):
        if key in request:
            request[key] = float(request[key])
    for key in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
        if key in request:
            request[key] = int(request[key])
    for query in request.get("Metrics", []):
        if "Period" in query:
            query["Period"] = int(query["Period"])
        if "MetricStat" in query:
            query["MetricStat"]["Period"] = int(query["MetricStat"]["Period"])
    cloudwatch = client("cloudwatch")
    cloudwatch.put_metric_alarm(**request)
    arn = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["AlarmArn"]
    register(stack, lid, name, Arn=arn)
    return f" ({name})"


def _composite_alarm(stack: Stack, lid: str, props: dict[str, Any]) -> str:
    # moto 5.2.5 stores composite alarms (DescribeAlarms returns them) but has no PutCompositeAlarm route,
    # so this one goes straight to its backend, with the properties PutCompositeAlarm would take.
    from moto.cloudwatch.models import cloudwatch_backends

    name = props.get("AlarmName", f"{STACK_NAME}-{lid}")
    alarm = cloudwatch_backends[account_id()][REGION].put_metric_alarm(
        name=name,
        namespace="",
        metric_name="",
        comparison_operator="",
        evaluation_periods=0,
        period=0,
        threshold=0.0,
        statistic="",
        description=props.get("AlarmDescription", ""),
        dimensions=[],
        alarm_actions=props.get("AlarmActions", []),
        ok_actions=props.get("OKActions", []),
        insufficient_data_actions=props.get("InsufficientDataActions", []),
        actions_enabled=props.get("ActionsEnabled", True) not in (False, "false"),
        rule=props["AlarmRule"],
    )
    register(stack, lid, name, Arn=alarm.alarm_arn)
    return f" ({name}: {props['AlarmRule']})"


def _budget(stack: Stack, lid: str, props: dict[str, Any]) -> str:
    budget = dict(props["Budget"])
    budget.setdefault("BudgetName", f"{STACK_NAME}-{lid}")
    limit = budget.get("BudgetLimit")
    if limit:
        budget["BudgetLimit"] = {"Amount": str(limit["Amount"]), "Unit": limit["Unit"]}
    notifications = []
    for item in props.get("NotificationsWithSubscribers", []):
        notification = dict(item["Notification"])
        notification["Threshold"] = float(notification["Threshold"])
        notifications.append({"Notification": notification, "Subscribers": item["Subscribers"]})
    client("budgets").create_budget(
        AccountId=account_id(), Budget=budget, NotificationsWithSubscribers=notifications
    )
    register(stack, lid, budget["BudgetName"])
    return f" ({budget['BudgetName']}, {budget.get('BudgetLimit', {}).get('Amount')} USD)"


def _schedule(stack: Stack, lid: str, props: dict[str, Any]) -> str:
    request = {k: v for k, v in props.items() if k != "State"} | {"State": props.get("State", "ENABLED")}
    request.setdefault("Name", f"{STACK_NAME}-{lid}"[:64])
    target = request["Target"]
    if "RetryPolicy" in target:
        target["RetryPolicy"] = {k: int(v) for k, v in target["RetryPolicy"].items()}
    if "FlexibleTimeWindow" in request and "MaximumWindowInMinutes" in request["FlexibleTimeWindow"]:
        request["FlexibleTimeWindow"]["MaximumWindowInMinutes"] = int(
            request["FlexibleTimeWindow"]["MaximumWindowInMinutes"]
        )
    arn = client("scheduler").create_schedule(**request)["ScheduleArn"]
    register(stack, lid, request["Name"], Arn=arn)
    return f" ({request['ScheduleExpression']} {request.get('ScheduleExpressionTimezone', 'UTC')})"


def _event_invoke_config(stack: Stack, lid: str, props: dict[str, Any]) -> str:
    request: dict[str, Any] = {
        "FunctionName": props["FunctionName"],
        "Qualifier": props.get("Qualifier", "$LATEST"),
    }
    if "MaximumRetryAttempts" in props:
        request["MaximumRetryAttempts"] = int(props["MaximumRetryAttempts"])
    if "MaximumEventAgeInSeconds" in props:
        request["MaximumEventAgeInSeconds"] = int(props["MaximumEventAgeInSeconds"])
    if "DestinationConfig" in props:
        request["DestinationConfig"] = props["DestinationConfig"]
    client("lambda").put_function_event_invoke_config(**request)
    register(stack, lid, f"{props['FunctionName']}:{request['Qualifier']}")
    return ""


_CREATORS: dict[str, Callable[[Stack, str, dict[str, Any]], str]] = {
    "AWS::S3::BucketPolicy": _bucket_policy,
    "AWS::SNS::TopicPolicy": _topic_policy,
    "AWS::SQS::QueuePolicy": _queue_policy,
    "AWS::SNS::Subscription": _subscription,
    "AWS::CloudWatch::Alarm": _alarm,
    "AWS::CloudWatch::CompositeAlarm": _composite_alarm,
    "AWS::Budgets::Budget": _budget,
    "AWS::Scheduler::Schedule": _schedule,
    "AWS::Lambda::EventInvokeConfig": _event_invoke_config,
}
