"""Checks 5 and 6 and --send-test. moto is faithful for SES identities and sending, SNS topics and
SQS fan-out; it has no SES v2 GetAccount, so the sandbox checks use botocore's Stubber with the real
response shape (SendQuota, ProductionAccessEnabled, SendingEnabled)."""

from __future__ import annotations

import json
from typing import Any

from bedrock_usage.alarms import AlarmNotification, parse_message
from bedrock_usage.doctor import delivery_checks as checks
from bedrock_usage.doctor.core import FAIL, PASS, SKIP, WARN
from botocore.stub import Stubber

from tests.conftest import REGION
from tests.doctor.conftest import RECIPIENT, ROUTER_ARN, SENDER, World, add_subscriptions, only, verify

# --------------------------------------------------------------------------------------------- 5a


def test_verified_sender_passes(world: World) -> None:
    verify(world, SENDER, RECIPIENT)
    row = only(world.run(checks.check_ses_identities))
    assert row.status == PASS
    assert "not verified" not in row.seen


def test_unverified_sender_fails(world: World) -> None:
    row = only(world.run(checks.check_ses_identities))
    assert row.status == FAIL
    assert SENDER in row.fix


def test_verified_domain_covers_the_sender(world: World) -> None:
    world.client("sesv2").create_email_identity(EmailIdentity="example.com")
    assert only(world.run(checks.check_ses_identities)).status == PASS


def test_no_sender_is_skipped(world: World) -> None:
    world.parameters["SenderEmail"] = ""
    assert only(world.run(checks.check_ses_identities)).status == SKIP


# --------------------------------------------------------------------------------------------- 5b


def _account(production: bool, sending: bool = True) -> dict[str, Any]:
    # SES v2 GetAccount, as the real API answers.
    return {
        "DedicatedIpAutoWarmupEnabled": False,
        "EnforcementStatus": "HEALTHY",
        "ProductionAccessEnabled": production,
        "SendQuota": {
            "Max24HourSend": 50000.0 if production else 200.0,
            "MaxSendRate": 14.0,
            "SentLast24Hours": 3.0,
        },
        "SendingEnabled": sending,
    }


def _stub_ses(world: World, account: dict[str, Any], *, recipient_verified: bool) -> Stubber:
    stub = world.stub("sesv2")
    stub.add_response("get_account", account, {})
    if not account["ProductionAccessEnabled"]:
        if recipient_verified:
            stub.add_response(
                "get_email_identity",
                {
                    "IdentityType": "EMAIL_ADDRESS",
                    "VerifiedForSendingStatus": True,
                    "VerificationStatus": "SUCCESS",
                },
                {"EmailIdentity": RECIPIENT},
            )
        else:
            for identity in (RECIPIENT, "example.com"):
                stub.add_client_error(
                    "get_email_identity",
                    "NotFoundException",
                    f"Email identity {identity} does not exist.",
                    404,
                )
    return stub


def test_production_account_passes(world: World) -> None:
    with _stub_ses(world, _account(production=True), recipient_verified=False):
        row = only(world.run(checks.check_ses_account))
    assert row.status == PASS
    assert "production" in row.seen
    assert "sent 3 of 50000 in 24 h" in row.seen


def test_sandbox_with_verified_recipients_warns(world: World) -> None:
    with _stub_ses(world, _account(production=False), recipient_verified=True):
        row = only(world.run(checks.check_ses_account))
    assert row.status == WARN
    assert "sandbox" in row.seen


def test_sandbox_with_an_unverified_recipient_fails(world: World) -> None:
    with _stub_ses(world, _account(production=False), recipient_verified=False):
        row = only(world.run(checks.check_ses_account))
    assert row.status == FAIL
    assert RECIPIENT in row.seen


def test_paused_sending_fails(world: World) -> None:
    with _stub_ses(world, _account(production=True, sending=False), recipient_verified=False):
        row = only(world.run(checks.check_ses_account))
    assert row.status == FAIL
    assert "DISABLED" in row.seen


# --------------------------------------------------------------------------------------------- 6


def test_router_and_a_person_subscribed_pass(world: World) -> None:
    add_subscriptions(world)
    row = only(world.run(checks.check_topic))
    assert row.status == PASS
    assert ROUTER_ARN in row.seen
    assert "email oncall@example.com" in row.seen


def test_router_not_subscribed_fails(world: World) -> None:
    add_subscriptions(world, router=False)
    row = only(world.run(checks.check_topic))
    assert row.status == FAIL
    assert "not subscribed" in row.seen


def test_router_on_the_second_page_is_found(world: World) -> None:
    # moto pages ListSubscriptionsByTopic at 100, as SNS does: the router, subscribed 101st, is on page 2.
    sns, topic = world.client("sns"), world.outputs["AlertTopicArn"]
    for n in range(100):
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=f"person{n}@example.com")
    add_subscriptions(world, email=False)
    first = sns.list_subscriptions_by_topic(TopicArn=topic)
    assert len(first["Subscriptions"]) == 100
    assert first.get("NextToken")
    row = only(world.run(checks.check_topic))
    assert row.status == PASS
    assert row.seen.startswith("101 subscription(s)")
    assert ROUTER_ARN in row.seen


def test_unconfirmed_email_warns(world: World) -> None:
    topic = world.outputs["AlertTopicArn"]
    stub = world.stub("sns")
    # ListSubscriptionsByTopic: an unconfirmed email subscription has the ARN "PendingConfirmation".
    stub.add_response(
        "list_subscriptions_by_topic",
        {
            "Subscriptions": [
                {
                    "SubscriptionArn": f"{topic}:0e8f4cf1-ec1f-42de-a559-eebb8ab20a1b",
                    "Owner": "123456789012",
                    "Protocol": "lambda",
                    "Endpoint": ROUTER_ARN,
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
    with stub:
        row = only(world.run(checks.check_topic))
    assert row.status == WARN
    assert "pending confirmation: oncall@example.com" in row.seen


def test_nobody_to_tell_warns(world: World) -> None:
    add_subscriptions(world, email=False)
    world.parameters["AlarmRouting"] = ""
    row = only(world.run(checks.check_topic))
    assert row.status == WARN
    assert "nobody gets alarms" in row.fix


# --------------------------------------------------------------------------------------------- --send-test


def _topic_queue(world: World) -> str:
    """An SQS queue subscribed (raw) to the alert topic: what the topic's subscribers receive."""
    sqs = world.client("sqs")
    url = sqs.create_queue(QueueName="alert-copy")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    world.client("sns").subscribe(
        TopicArn=world.outputs["AlertTopicArn"],
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    return url


def _received(world: World, url: str) -> list[str]:
    return [
        m["Body"]
        for m in world.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    ]


def test_test_digest_goes_out_by_ses(world: World) -> None:
    verify(world, SENDER, RECIPIENT)
    sent: list[dict[str, Any]] = []
    world.client("sesv2").meta.events.register(
        "provide-client-params.sesv2.SendEmail", lambda params, **_: sent.append(params)
    )
    row = only(world.run(checks.send_test_digest))
    assert row.status == PASS
    assert RECIPIENT in row.seen
    assert sent[0]["FromEmailAddress"] == SENDER
    assert sent[0]["Content"]["Simple"]["Subject"]["Data"].startswith("[TEST]")
    assert "TEST" in sent[0]["Content"]["Simple"]["Body"]["Text"]["Data"]


def test_test_digest_without_ses_falls_back_to_the_topic(world: World) -> None:
    world.parameters["SenderEmail"] = ""
    add_subscriptions(world, router=False, email=True)  # a person on the topic (moto confirms email at once)
    url = _topic_queue(world)
    row = only(world.run(checks.send_test_digest))
    assert row.status == WARN
    assert "no SenderEmail configured" in row.seen
    (body,) = _received(world, url)
    assert "TEST from bedrock-usage doctor --send-test" in body


def test_test_digest_that_no_person_would_receive_fails(world: World) -> None:
    world.parameters["SenderEmail"] = ""
    url = _topic_queue(world)  # only a queue on the topic: no email subscription, so no person
    row = only(world.run(checks.send_test_digest))
    assert row.status == FAIL
    assert "no confirmed email subscription" in row.seen
    assert _received(world, url) == []  # not published at all


def test_test_digest_refused_fails(world: World) -> None:
    world.outputs.pop("AlertTopicArn")  # no fallback either: SES refuses the unverified sender
    row = only(world.run(checks.send_test_digest))
    assert row.status == FAIL
    assert "not delivered" in row.seen


def test_test_alarm_is_an_alarm_the_router_understands(world: World) -> None:
    url = _topic_queue(world)
    row = only(world.run(checks.send_test_alarm))
    assert row.status == PASS
    (body,) = _received(world, url)
    notification = parse_message(body)
    assert isinstance(notification, AlarmNotification)  # the router emails it, not forwards it raw
    assert notification.name == checks.TEST_ALARM
    assert notification.new_state == "ALARM"
    assert notification.region == REGION
    assert "TEST" in (notification.description or "")
    assert json.loads(body)["AlarmName"].startswith("Bedrock-")  # matched by the usual Bedrock-* routing rule
