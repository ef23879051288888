"""Event parsing, configuration and delivery (moto SES/SNS; Stubber where moto is not faithful)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from bedrock_usage.digest import render_digest
from bedrock_usage.digest_delivery import deliver_digest
from bedrock_usage.report_job import (
    ConfigError,
    EventError,
    ReportConfig,
    parse_event,
)
from botocore.stub import Stubber

from tests.conftest import REGION, load_event
from tests.report.conftest import RECIPIENTS, SENDER, make_report, sent_emails, topic_messages

NOW = datetime(2026, 11, 28, 6, 17, 42, tzinfo=UTC)


# ------------------------------------------------------------------------------------------- events


@pytest.mark.parametrize(("name", "hours"), [("24h.json", 24), ("168h.json", 168), ("720h.json", 720)])
def test_shipped_events_parse_to_windows_ending_on_the_hour(name: str, hours: int) -> None:
    job = parse_event(load_event(name), now=NOW)
    assert job.window.end == datetime(2026, 11, 28, 6, tzinfo=UTC)
    assert job.window.hours == hours
    assert not job.dry_run
    assert job.recipients is None


def test_scheduled_time_fixes_the_window_whenever_the_retry_runs() -> None:
    event = {"hours": 24, "scheduled_time": "2026-11-28T06:00:00Z", "attempt": "2"}
    first = parse_event(event, now=datetime(2026, 11, 28, 6, 0, 3, tzinfo=UTC))
    retry = parse_event(event, now=datetime(2026, 11, 28, 8, 41, tzinfo=UTC))  # hours later
    assert first == retry
    assert first.window.start == datetime(2026, 11, 27, 6, tzinfo=UTC)
    assert first.scheduled


def test_since_until_recipients_and_dry_run() -> None:
    job = parse_event(
        {
            "since": "2026-11-01T00:00:00+01:00",
            "until": "2026-11-02T00:00:00Z",
            "recipients": ["a@example.com", "b@example.com", "a@example.com"],
            "dry_run": True,
        }
    )
    assert job.window.start == datetime(2026, 10, 31, 23, tzinfo=UTC)
    assert job.window.hours == 25
    assert job.recipients == ("a@example.com", "b@example.com")
    assert job.dry_run


def test_since_with_hours_and_until_with_hours() -> None:
    assert parse_event({"since": "2026-11-01T00:00:00Z", "hours": 6}).window.end == datetime(
        2026, 11, 1, 6, tzinfo=UTC
    )
    assert parse_event({"until": "2026-11-01T00:00:00Z", "hours": 6}).window.start == datetime(
        2026, 10, 31, 18, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ([24], "JSON object"),
        ({"hour": 24}, "unknown event key"),
        ({"hours": "24"}, "'hours' must be a number"),
        ({"hours": True}, "'hours' must be a number"),
        ({"hours": 0}, "more than 0"),
        ({"hours": -5}, "more than 0"),
        ({"hours": 100_000}, "at most"),
        ({"since": "yesterday"}, "not an ISO-8601 time"),
        ({"since": "2026-11-01T00:00:00"}, "needs a time zone"),
        ({"since": "2026-11-02T00:00:00Z", "until": "2026-11-01T00:00:00Z"}, "must be before"),
        ({"since": "2026-11-01T00:00:00Z", "until": "2026-11-02T00:00:00Z", "hours": 3}, "at most two"),
        ({"scheduled_time": "<aws.scheduler.scheduled-time>"}, "not an ISO-8601 time"),
        ({"recipients": "not-an-address"}, "not an email address"),
        ({"recipients": []}, "empty"),
        ({"recipients": [f"u{i}@example.com" for i in range(51)]}, "at most 50"),
        ({"dry_run": "yes"}, "'dry_run' must be true or false"),
    ],
)
def test_bad_events_fail_with_a_clear_message(event: Any, message: str) -> None:
    with pytest.raises(EventError, match=message):
        parse_event(event, now=NOW)


# ------------------------------------------------------------------------------------------- config


def test_config_from_the_template_environment() -> None:
    config = ReportConfig.from_env(
        {
            "AWS_REGION": "eu-west-1",
            "SENDER_EMAIL": SENDER,
            "REPORT_RECIPIENTS": "a@example.com; b@example.com",
            "ALERT_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:alerts",
            "REPORT_REGIONS": "eu-west-1,us-east-1",
            "LOG_GROUP_NAME": "/aws/bedrock/modelinvocations",
            "COST_EXPLORER": "true",
            "BUDGET_USD": "250.50",
            "IDEMPOTENCY_TABLE": "t",
        }
    )
    assert config.regions == ("eu-west-1", "us-east-1")
    assert config.recipients == ("a@example.com", "b@example.com")
    assert config.cost_explorer
    assert str(config.budget_usd) == "250.50"
    assert config.idempotency_table == "t"


def test_budget_zero_means_no_budget_and_sam_local_skips_the_table() -> None:
    config = ReportConfig.from_env(
        {
            "AWS_REGION": REGION,
            "ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:alerts",
            "BUDGET_USD": "0",
            "IDEMPOTENCY_TABLE": "ReportIdempotencyTable",
            "AWS_SAM_LOCAL": "true",
        }
    )
    assert config.budget_usd is None
    assert config.idempotency_table is None
    assert config.sender is None


def test_config_names_every_problem_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        ReportConfig.from_env(
            {
                "AWS_REGION": REGION,
                "SENDER_EMAIL": "nobody",
                "REPORT_REGIONS": "mars-1",
                "COST_EXPLORER": "maybe",
                "BUDGET_USD": "lots",
            }
        )
    message = str(caught.value)
    for part in ("SENDER_EMAIL", "REPORT_REGIONS", "COST_EXPLORER", "BUDGET_USD", "nowhere to deliver"):
        assert part in message


# ----------------------------------------------------------------------------------------- delivery


def _clients() -> dict[str, Any]:
    return {
        "sesv2": lambda: boto3.client("sesv2", region_name=REGION),
        "sns": lambda: boto3.client("sns", region_name=REGION),
    }


def test_ses_sends_html_and_text_to_all_recipients(aws: dict[str, Any]) -> None:
    """Read back from moto's SES backend. moto keeps only the HTML body of a Simple message, so the
    text part is checked on the request itself, as botocore validated and sent it."""
    digest = render_digest(make_report())
    sesv2 = boto3.client("sesv2", region_name=REGION)
    requests: list[dict[str, Any]] = []
    sesv2.meta.events.register(
        "provide-client-params.sesv2.SendEmail", lambda params, **_: requests.append(params)
    )
    delivery = deliver_digest(
        digest,
        sender=SENDER,
        recipients=RECIPIENTS,
        topic_arn=aws["topic_arn"],
        sesv2=lambda: sesv2,
        sns=_clients()["sns"],
    )
    assert delivery.channel == "ses"
    assert delivery.fallback_reason is None
    [sent] = sent_emails()
    assert sent.id == delivery.message_id
    assert sent.source == SENDER
    assert sent.destinations["ToAddresses"] == list(RECIPIENTS)
    assert sent.subject == digest.subject
    assert sent.body == digest.html
    assert len(sent.body.encode()) < 102 * 1024
    body = requests[0]["Content"]["Simple"]["Body"]
    assert body["Html"]["Charset"] == "UTF-8"
    assert body["Text"]["Data"] == digest.text
    assert "$38.25" in body["Text"]["Data"]
    assert topic_messages(aws) == []


def test_no_sender_configured_goes_to_the_topic_as_text(aws: dict[str, Any]) -> None:
    digest = render_digest(make_report())
    delivery = deliver_digest(digest, sender=None, recipients=(), topic_arn=aws["topic_arn"], **_clients())
    assert delivery.channel == "sns"
    assert delivery.fallback_reason == "no SenderEmail configured"
    assert sent_emails() == []
    [note] = topic_messages(aws)
    assert note["Subject"] == digest.subject
    assert "The HTML email was not sent: no SenderEmail configured" in note["Message"]
    assert digest.text in note["Message"]
    # marked, so the alarm router subscribed to the same topic does not email it a second time
    assert note["MessageAttributes"]["bedrock_usage_origin"] == {"Type": "String", "Value": "digest"}


def test_unverified_sender_is_rejected_by_ses_and_falls_back(aws: dict[str, Any]) -> None:
    digest = render_digest(make_report())
    delivery = deliver_digest(
        digest, sender="stranger@example.org", recipients=RECIPIENTS, topic_arn=aws["topic_arn"], **_clients()
    )
    assert delivery.channel == "sns"
    assert delivery.fallback_reason is not None
    assert "MessageRejected" in delivery.fallback_reason
    [note] = topic_messages(aws)
    assert "MessageRejected" in note["Message"]


def test_throttling_is_retried_then_falls_back(aws: dict[str, Any]) -> None:
    """Stubber: moto never throttles. The error shape is SES v2's TooManyRequestsException (botocore model).
    A throttled request was not accepted, so it is tried again (4 attempts in all) before the fallback."""
    digest = render_digest(make_report())
    sesv2 = boto3.client("sesv2", region_name=REGION)
    waits: list[float] = []
    with Stubber(sesv2) as stub:
        for _ in range(4):
            stub.add_client_error(
                "send_email", "TooManyRequestsException", "Maximum sending rate exceeded.", 429
            )
        delivery = deliver_digest(
            digest,
            sender=SENDER,
            recipients=RECIPIENTS,
            topic_arn=aws["topic_arn"],
            sesv2=lambda: sesv2,
            sns=_clients()["sns"],
            sleep=waits.append,
        )
        stub.assert_no_pending_responses()
    assert delivery.status == "delivered"
    assert delivery.channel == "sns"
    assert delivery.fallback_reason == "SES TooManyRequestsException: Maximum sending rate exceeded."
    assert waits == [0.5, 1.0, 2.0]
    assert len(topic_messages(aws)) == 1


def test_a_rejected_email_without_a_topic_is_undelivered(aws: dict[str, Any]) -> None:
    digest = render_digest(make_report())
    delivery = deliver_digest(
        digest, sender="stranger@example.org", recipients=RECIPIENTS, topic_arn=None, **_clients()
    )
    assert delivery.status == "undelivered"
    assert delivery.reason is not None
    assert "MessageRejected" in delivery.reason
    assert "no alert topic" in delivery.reason
    assert sent_emails() == []


def test_a_topic_without_a_confirmed_email_subscription_reaches_no_one(aws: dict[str, Any]) -> None:
    """Stubber for ListSubscriptionsByTopic: moto confirms email subscriptions at once, AWS does not.
    The shapes are the real API's: a pending email subscription's SubscriptionArn is "PendingConfirmation"."""
    digest = render_digest(make_report())
    sns = boto3.client("sns", region_name=REGION)
    topic = aws["topic_arn"]
    with Stubber(sns) as stub:
        stub.add_response(
            "list_subscriptions_by_topic",
            {
                "Subscriptions": [
                    {
                        "SubscriptionArn": f"{topic}:0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
                        "Owner": "123456789012",
                        "Protocol": "lambda",
                        "Endpoint": "arn:aws:lambda:us-east-1:123456789012:function:alarm-router",
                        "TopicArn": topic,
                    },
                    {
                        "SubscriptionArn": "PendingConfirmation",
                        "Owner": "123456789012",
                        "Protocol": "email",
                        "Endpoint": "oncall@example.com",
                        "TopicArn": topic,
                    },
                ]
            },
            {"TopicArn": topic},
        )
        delivery = deliver_digest(
            digest, sender=None, recipients=(), topic_arn=topic, sesv2=_clients()["sesv2"], sns=lambda: sns
        )
        stub.assert_no_pending_responses()  # and nothing was published: no Publish was stubbed
    assert delivery.status == "undelivered"
    assert delivery.channel == "none"
    assert delivery.reason is not None
    assert "no confirmed email subscription" in delivery.reason


def test_the_fallback_fits_sns_limit_with_its_message_attribute(aws: dict[str, Any]) -> None:
    """SNS counts message attributes toward the 262,144-byte limit (REFERENCE.md 14.1): body + attribute
    name, type and value must fit together. Measured on the request botocore sent."""
    from bedrock_usage.deliver import publish_text

    sns = boto3.client("sns", region_name=REGION)
    requests: list[dict[str, Any]] = []
    sns.meta.events.register("provide-client-params.sns.Publish", lambda params, **_: requests.append(params))
    publish_text(sns, topic_arn=aws["topic_arn"], subject="digest", text="é" * 140_000, origin="digest")
    [request] = requests
    body = len(request["Message"].encode("utf-8"))
    attributes = sum(
        len(name.encode()) + len(spec["DataType"].encode()) + len(spec["StringValue"].encode())
        for name, spec in request["MessageAttributes"].items()
    )
    assert attributes == len("bedrock_usage_origin") + len("String") + len("digest")
    assert body + attributes <= 262_144
    assert body > 262_144 - 100  # trimmed to fit, not emptied
    assert request["Message"].endswith("[truncated to fit the 256 KB SNS limit]")


def test_a_lone_surrogate_in_the_text_does_not_stop_the_fallback(aws: dict[str, Any]) -> None:
    """JSON from invocation logs may hold a lone surrogate (in a session name); UTF-8 cannot encode it."""
    from bedrock_usage.deliver import publish_text

    publish_text(
        boto3.client("sns", region_name=REGION),
        topic_arn=aws["topic_arn"],
        subject="s",
        text="caller x\ud800y",
    )
    [note] = topic_messages(aws)
    assert note["Message"] == "caller x?y"
