"""A deployed stack as the doctor sees it, built in moto: the logging setting, the bucket and log group
with fresh records, the alert topic with the router and an email subscriber, SES identities, alarms and
the budget. Each test breaks one piece and looks at one row."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from bedrock_usage.doctor.core import Check, Context, StackInfo
from botocore.stub import Stubber
from moto import mock_aws

from tests.conftest import ACCOUNT_ID, REGION

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
BUCKET = f"bedrock-logs-{ACCOUNT_ID}"
LOG_GROUP = "/aws/bedrock/modelinvocations"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/BedrockCloudWatchLoggingRole"
SENDER = "bedrock-usage@example.com"
RECIPIENT = "finops@example.com"
ROUTER = "bedrock-usage-AlarmRouterFunction-abc123"
ROUTER_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{ROUTER}"
REPORT = "bedrock-usage-ReportFunction-def456"


@dataclass
class World:
    """The moto account, and the StackInfo of the stack in it."""

    outputs: dict[str, str]
    parameters: dict[str, str]
    resources: dict[str, str]
    types: dict[str, str]
    clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self.clients:
            self.clients[service] = boto3.client(service, region_name=REGION)  # type: ignore[call-overload]
        return self.clients[service]

    def stub(self, service: str) -> Stubber:
        """A Stubber on a real client the checks are handed, for what moto lacks; the caller activates it."""
        client = boto3.client(service, region_name=REGION)  # type: ignore[call-overload]
        self.clients[service] = client
        return Stubber(client)

    def stack(self) -> StackInfo:
        return StackInfo("bedrock-usage", self.outputs, self.parameters, self.resources, self.types)

    def context(self, now: datetime = NOW) -> Context:
        return Context(self.client, self.stack(), REGION, now, sleep=lambda _: None)

    def run(self, check: Callable[[Context], Any], now: datetime = NOW) -> list[Check]:
        result = check(self.context(now))
        return [result] if isinstance(result, Check) else list(result)


def record_key(at: datetime, prefix: str = "") -> str:
    """The key layout of a real Bedrock log file (REFERENCE.md §1)."""
    head = f"{prefix}/" if prefix else ""
    return (
        f"{head}AWSLogs/{ACCOUNT_ID}/BedrockModelInvocationLogs/{REGION}/"
        f"{at:%Y/%m/%d/%H}/{at:%Y%m%dT%H%M%S}123Z_9b86bf4994c4ab1c.json.gz"
    )


def put_record(world: World, at: datetime, key: str | None = None) -> str:
    key = key or record_key(at)
    world.client("s3").put_object(Bucket=BUCKET, Key=key, Body=gzip.compress(b'{"schemaType":"x"}\n'))
    return key


def put_metric(
    world: World, namespace: str, metric: str, value: float, at: datetime, **dimensions: str
) -> None:
    """One datapoint of a CloudWatch metric (moto keeps it for ListMetrics and GetMetricData sums)."""
    datum: dict[str, Any] = {"MetricName": metric, "Value": value, "Timestamp": at}
    if dimensions:
        datum["Dimensions"] = [{"Name": name, "Value": v} for name, v in dimensions.items()]
    world.client("cloudwatch").put_metric_data(Namespace=namespace, MetricData=[datum])


def put_log_event(world: World, at: datetime) -> None:
    world.client("logs").put_log_events(
        logGroupName=LOG_GROUP,
        logStreamName="aws/bedrock/modelinvocations",
        logEvents=[
            {"timestamp": int(at.timestamp() * 1000), "message": '{"schemaType":"ModelInvocationLog"}'}
        ],
    )


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws():
        w = World(
            outputs={
                "InvocationLogGroupName": LOG_GROUP,
                "LoggingRoleArn": ROLE_ARN,
                "LogBucketName": BUCKET,
                "ReportFunctionName": REPORT,
                "BudgetName": "BedrockUsageBudget",
            },
            parameters={
                "TextDataDelivery": "true",
                "LogKeyPrefix": "",
                "SenderEmail": SENDER,
                "ReportRecipients": RECIPIENT,
                "AlarmRouting": "Bedrock-*=oncall@example.com",
                "BudgetAmount": "100",
            },
            resources={"AlarmRouterFunction": ROUTER, "ReportFunction": REPORT},
            types={"AlarmRouterFunction": "AWS::Lambda::Function", "ReportFunction": "AWS::Lambda::Function"},
        )
        # What the stack's custom resource puts (same shape as LoggingProperties.logging_config()).
        s3 = {"bucketName": BUCKET}
        w.client("bedrock").put_model_invocation_logging_configuration(
            loggingConfig={
                "cloudWatchConfig": {
                    "logGroupName": LOG_GROUP,
                    "roleArn": ROLE_ARN,
                    "largeDataDeliveryS3Config": s3,
                },
                "s3Config": s3,
                "textDataDeliveryEnabled": True,
                "imageDataDeliveryEnabled": False,
                "embeddingDataDeliveryEnabled": False,
            }
        )
        w.client("s3").create_bucket(Bucket=BUCKET)
        w.client("logs").create_log_group(logGroupName=LOG_GROUP)
        w.client("logs").create_log_stream(
            logGroupName=LOG_GROUP, logStreamName="aws/bedrock/modelinvocations"
        )
        topic = w.client("sns").create_topic(Name="bedrock-usage-alerts")["TopicArn"]
        w.outputs["AlertTopicArn"] = topic
        yield w


def add_subscriptions(world: World, *, router: bool = True, email: bool = True) -> None:
    sns, topic = world.client("sns"), world.outputs["AlertTopicArn"]
    if router:
        sns.subscribe(
            TopicArn=topic,
            Protocol="lambda",
            Endpoint=ROUTER_ARN,
        )
    if email:
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="oncall@example.com")


def add_alarms(world: World) -> None:
    """Two Metrics Insights alarms as template.yaml defines them (moto 5.2.5 has no PutCompositeAlarm)."""
    cloudwatch, topic = world.client("cloudwatch"), world.outputs["AlertTopicArn"]
    for lid, name, metric, stat in (
        ("HighLatencyAlarm", "Bedrock-HighLatency", "InvocationLatency", "AVG"),
        ("ClientErrorsAlarm", "Bedrock-ClientErrors", "InvocationClientErrors", "SUM"),
    ):
        query = f'SELECT {stat}({metric}) FROM SCHEMA("AWS/Bedrock", ModelId)'  # noqa: S608
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            ComparisonOperator="GreaterThanThreshold",
            Threshold=10.0,
            EvaluationPeriods=1,
            AlarmActions=[topic],
            Metrics=[{"Id": "q1", "ReturnData": True, "Period": 300, "Expression": query}],
        )
        world.resources[lid] = name
        world.types[lid] = "AWS::CloudWatch::Alarm"


def verify(world: World, *addresses: str) -> None:
    for address in addresses:
        world.client("ses").verify_email_identity(EmailAddress=address)


def only(rows: list[Check], check_id: str | None = None) -> Check:
    picked = [row for row in rows if check_id is None or row.id == check_id]
    assert len(picked) == 1, rows
    return picked[0]
