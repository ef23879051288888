"""Fixtures for the digest tests: a Report with known numbers, and a moto account to deliver into."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest
from bedrock_usage.model import (
    CallerLine,
    Counts,
    DayLine,
    Latency,
    ModelLine,
    PriceInfo,
    Report,
    SourceFailure,
    Window,
)
from moto import mock_aws

from tests.conftest import ACCOUNT_ID, REGION

SENDER = "digest@example.com"
RECIPIENTS = ("finops@example.com", "platform@example.com")
ONCALL = "oncall@example.com"  # AlertEmail
HOSTILE_CALLER = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/app/<script>alert('x')</script>\"onload=\"evil()"
WINDOW = Window(datetime(2026, 11, 27, 6, tzinfo=UTC), datetime(2026, 11, 28, 6, tzinfo=UTC))


def price(model_id: str, resolved: str | None) -> PriceInfo:
    if resolved is None:
        return PriceInfo(model_id, None, False, "unpriced", note="no price known for acme.private-model-v1:0")
    return PriceInfo(model_id, resolved, True, "genai-prices 0.2.3")


def make_report(*, failures: bool = False, callers: list[CallerLine] | None = None) -> Report:
    """Two priced models and one unpriced one; numbers chosen so each figure in the email is unique."""
    sonnet = ModelLine(
        model_id="us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        price=price(
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic.claude-sonnet-4-5-20250929-v1:0"
        ),
        counts=Counts(
            invocations=4321,
            input_tokens=5_000_000,
            output_tokens=1_000_000,
            cache_read_tokens=2_000_000,
            cache_write_tokens=100_000,
            client_errors=12,
            server_errors=3,
            throttles=0,
        ),
        cost_usd=Decimal("34.5678"),
        previous_cost_usd=Decimal("30.00"),
        latency=Latency(average_ms=2345.0, p50_ms=1800.0, p90_ms=4100.0, p99_ms=8900.0, max_ms=15000.0),
        cache_savings_usd=Decimal("5.94"),
        share=0.9,
    )
    nova = ModelLine(
        model_id=f"arn:aws:bedrock:us-east-1:{ACCOUNT_ID}:inference-profile/us.amazon.nova-pro-v1:0",
        price=price("us.amazon.nova-pro-v1:0", "amazon.nova-pro-v1:0"),
        counts=Counts(
            invocations=765, input_tokens=3_000_000, output_tokens=400_000, client_errors=61, throttles=9
        ),
        cost_usd=Decimal("3.68"),
        previous_cost_usd=None,
        latency=Latency(average_ms=12_500.0, p90_ms=15_000.0, p99_ms=21_000.0, max_ms=30_000.0),
        share=0.1,
    )
    acme = ModelLine(
        model_id="acme.private-model-v1:0",
        price=price("acme.private-model-v1:0", None),
        counts=Counts(invocations=55, input_tokens=70_000, output_tokens=8_000),
        cost_usd=None,
    )
    totals = Counts().add(sonnet.counts).add(nova.counts).add(acme.counts)
    if callers is None:
        callers = [
            CallerLine(
                caller=f"arn:aws:iam::{ACCOUNT_ID}:user/alice",
                counts=Counts(invocations=4000, input_tokens=6_000_000, output_tokens=1_100_000),
                cost_usd=Decimal("30.12"),
                models=[sonnet.model_id, nova.model_id],
            ),
            CallerLine(
                caller=HOSTILE_CALLER,
                counts=Counts(invocations=1141, input_tokens=2_070_000, output_tokens=308_000),
                cost_usd=Decimal("8.13"),
                unpriced_invocations=55,
                models=[sonnet.model_id, acme.model_id],
            ),
        ]
    daily = [
        DayLine(
            day=date(2026, 11, 14) + timedelta(days=i),
            counts=Counts(invocations=1000 + i, input_tokens=1_000_000),
            cost_usd=Decimal(20 + i),
            billed_usd=Decimal(21 + i) if i < 12 else None,
        )
        for i in range(14)
    ]
    return Report(
        window=WINDOW,
        generated_at=WINDOW.end + timedelta(minutes=3),
        regions=[REGION],
        source="cloudwatch-metrics + logs-insights",
        totals=totals,
        cost_usd=Decimal("38.2478"),
        unpriced_invocations=55,
        models=[sonnet, nova, acme],
        callers=callers,
        daily=daily,
        previous_totals=Counts(invocations=4000, input_tokens=8_000_000, output_tokens=1_000_000),
        previous_cost_usd=Decimal("34.00"),
        month_to_date_usd=Decimal("812.40"),
        projected_month_usd=Decimal("1046.90"),
        budget_usd=Decimal("1000"),
        cache_savings_usd=Decimal("5.94"),
        errors_by_code={"ValidationException": 70, "ThrottlingException": 9},
        skipped_records=3 if failures else 0,
        warnings=["metrics and logs disagree on invocations by 4.0%"] if failures else [],
        failures=[
            SourceFailure(
                "cost-explorer", "AccessDeniedException: not authorized to perform ce:GetCostAndUsage"
            )
        ]
        if failures
        else [],
    )


@pytest.fixture
def report() -> Report:
    return make_report()


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    """A moto account: verified SES sender, the alert topic with a confirmed email subscription and an SQS
    subscriber to read it back, and the idempotency table as template.yaml defines it (key `id`, TTL on
    `expiration`)."""
    with mock_aws():
        ses = boto3.client("sesv2", region_name=REGION)
        ses.create_email_identity(EmailIdentity=SENDER)
        sns = boto3.client("sns", region_name=REGION)
        topic_arn = sns.create_topic(Name="bedrock-usage-alerts")["TopicArn"]
        sqs = boto3.client("sqs", region_name=REGION)
        queue_url = sqs.create_queue(QueueName="alerts-reader")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
        # A person on the topic (AlertEmail): moto confirms email subscriptions at once.
        sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint=ONCALL)
        ddb = boto3.client("dynamodb", region_name=REGION)
        ddb.create_table(
            TableName="report-idempotency",
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        ddb.update_time_to_live(
            TableName="report-idempotency",
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"},
        )
        yield {"topic_arn": topic_arn, "queue_url": queue_url, "sqs": sqs, "table": "report-idempotency"}


def sent_emails() -> list[Any]:
    """Messages SES accepted, from moto's backend (sesv2 shares the v1 backend)."""
    from moto.ses.models import ses_backends

    return list(ses_backends[ACCOUNT_ID][REGION].sent_messages)


def topic_messages(aws: dict[str, Any]) -> list[dict[str, Any]]:
    """Notifications published to the alert topic, as its SQS subscriber received them."""
    response = aws["sqs"].receive_message(QueueUrl=aws["queue_url"], MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in response.get("Messages", [])]


@pytest.fixture
def report_env(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """ReportFunction's environment as template.yaml sets it, pointing at the moto account."""
    env = {
        "SENDER_EMAIL": SENDER,
        "REPORT_RECIPIENTS": ",".join(RECIPIENTS),
        "ALERT_TOPIC_ARN": aws["topic_arn"],
        "REPORT_REGIONS": REGION,
        "LOG_GROUP_NAME": "/aws/bedrock/modelinvocations",
        "COST_EXPLORER": "false",
        "BUDGET_USD": "100",
        "DASHBOARD_NAME": "BedrockUsageMonitoring",
        "IDEMPOTENCY_TABLE": aws["table"],
        "AWS_LAMBDA_FUNCTION_NAME": "ReportFunction",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return {**aws, "env": env}


@contextmanager
def botocore_hook(event: str, handler: Callable[..., Any]) -> Iterator[None]:
    """Install `handler` on a botocore event for every client created meanwhile, as moto installs itself.

    Used to inject faults at the HTTP layer: a `before-send.<service>.<Operation>` handler runs before moto's
    (more specific events first) and may let moto process the request, then raise what the network would.
    """
    from botocore.handlers import BUILTIN_HANDLERS

    spec = (event, handler)
    BUILTIN_HANDLERS.append(spec)
    try:
        yield
    finally:
        BUILTIN_HANDLERS.remove(spec)


def moto_handles(request: Any) -> Any:
    """Let moto process an intercepted request (so its backend records it); returns moto's HTTP response."""
    from moto.core.models import botocore_stubber

    return botocore_stubber(event_name="before-send", request=request)


def emf_metrics(output: str) -> dict[str, float]:
    """Metric values from the Embedded Metric Format lines Powertools printed, summed over invocations."""
    values: dict[str, float] = {}
    for line in output.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            blob = json.loads(line)
            for definition in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                value = blob[definition["Name"]]
                total = sum(value) if isinstance(value, list) else value
                values[definition["Name"]] = values.get(definition["Name"], 0) + total
    return values
