"""The at-most-once record in DynamoDB (moto), and how a failed send is classified."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.exceptions
import pytest
from bedrock_usage.deliver import SEND_CLIENT_CONFIG, send_outcome
from bedrock_usage.digest import render_digest
from bedrock_usage.digest_delivery import deliver_digest
from bedrock_usage.send_ledger import IDEMPOTENCY_EXPIRY_S, SENDING, SENT, SendLedger

from tests.conftest import REGION
from tests.report.conftest import RECIPIENTS, SENDER, botocore_hook, make_report, sent_emails, topic_messages

KEY = {
    "window": {"start": "2026-11-27T06:00:00Z", "end": "2026-11-28T06:00:00Z"},
    "recipients": ["a@example.com"],
}
T0 = datetime(2026, 11, 30, 4, 53, 20, tzinfo=UTC).timestamp()


def ledger(aws: dict[str, Any], run_id: str, now: float = T0, key: dict[str, Any] = KEY) -> SendLedger:
    return SendLedger(
        boto3.client("dynamodb", region_name=REGION), aws["table"], key, run_id=run_id, clock=lambda: now
    )


def test_the_second_run_to_claim_gets_the_first_runs_marker(aws: dict[str, Any]) -> None:
    first, second = ledger(aws, "run-1"), ledger(aws, "run-2")
    assert first.claim() is None
    assert first.claim() is None  # claiming again within one run is a no-op
    entry = second.claim()
    assert entry is not None
    assert (entry.status, entry.run_id, entry.message_id) == (SENDING, "run-1", None)
    assert entry.started_at == "2026-11-30T04:53:20Z"  # T0


def test_a_recorded_send_is_read_back_with_its_result(aws: dict[str, Any]) -> None:
    first = ledger(aws, "run-1")
    first.claim()
    assert first.record_sent("msg-1", {"status": "delivered", "cost_usd": 38.25})
    entry = ledger(aws, "run-2").read()
    assert entry is not None
    assert (entry.status, entry.message_id, entry.result) == (
        SENT,
        "msg-1",
        {"status": "delivered", "cost_usd": 38.25},
    )


def test_an_expired_record_counts_as_none_even_before_dynamodb_deletes_it(aws: dict[str, Any]) -> None:
    ledger(aws, "run-1").claim()
    later = ledger(aws, "run-2", now=T0 + IDEMPOTENCY_EXPIRY_S + 1)
    assert later.read() is None
    assert later.claim() is None


def test_release_removes_only_this_runs_marker(aws: dict[str, Any]) -> None:
    first, second = ledger(aws, "run-1"), ledger(aws, "run-2")
    first.claim()
    second.claim()  # lost: not claimed
    second.release()
    assert ledger(aws, "run-3").read() is not None
    first.release()
    assert ledger(aws, "run-3").read() is None


def test_other_windows_and_recipients_have_their_own_record(aws: dict[str, Any]) -> None:
    ledger(aws, "run-1").claim()
    assert ledger(aws, "run-2", key={**KEY, "recipients": ["b@example.com"]}).claim() is None


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (botocore.exceptions.EndpointConnectionError(endpoint_url="https://email"), "refused"),
        (botocore.exceptions.ConnectTimeoutError(endpoint_url="https://email"), "refused"),
        (botocore.exceptions.ReadTimeoutError(endpoint_url="https://email"), "unknown"),
        (botocore.exceptions.ConnectionClosedError(endpoint_url="https://email"), "unknown"),
        (botocore.exceptions.ClientError({"Error": {"Code": "MessageRejected"}}, "SendEmail"), "refused"),
        (botocore.exceptions.ParamValidationError(report="Missing required parameter"), "refused"),
        (UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"), "refused"),
    ],
)
def test_only_a_failure_after_the_request_left_is_unknown(error: Exception, outcome: str) -> None:
    assert send_outcome(error) == outcome


def test_ses_unreachable_before_sending_falls_back_to_the_topic(aws: dict[str, Any]) -> None:
    """No connection to SES could be opened (a before-send hook raises, moto never sees the request): SES
    cannot have accepted it, so the plain-text digest goes to the topic's email subscriber."""

    def unreachable(request: Any, **_: Any) -> None:
        raise botocore.exceptions.EndpointConnectionError(endpoint_url=request.url)

    digest = render_digest(make_report())
    with botocore_hook("before-send.sesv2.SendEmail", unreachable):
        delivery = deliver_digest(
            digest,
            sender=SENDER,
            recipients=RECIPIENTS,
            topic_arn=aws["topic_arn"],
            # a new session reads botocore's handlers, the hook included (the default session predates it)
            sesv2=lambda: boto3.session.Session().client(
                "sesv2", region_name=REGION, config=SEND_CLIENT_CONFIG
            ),
            sns=lambda: boto3.client("sns", region_name=REGION),
        )
    assert (delivery.status, delivery.channel) == ("delivered", "sns")
    assert delivery.fallback_reason is not None
    assert delivery.fallback_reason.startswith("SES unreachable")
    assert sent_emails() == []
    assert len(topic_messages(aws)) == 1
