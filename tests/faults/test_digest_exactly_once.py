"""The daily digest under faults: crash after SES accepted, lost SES answer, throttling, leftover marker.

Where each part comes from:
- moto (mock_aws) plays SES v2, SNS, SQS and DynamoDB; the emails counted are those in moto's SES backend.
- Faults are injected at the HTTP layer with a botocore `before-send` hook on SendEmail, ahead of moto's own:
  it may let moto accept the request (moto_handles) and then raise what the network would (a read timeout, a
  closed connection), or kill the run (LambdaCrash), or answer as SES does when throttling (429).
- The function runs through its real handler (functions/report/app.py) over an empty log-file folder, so
  the report builds offline in well under a second.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest
from moto.core.models import botocore_stubber

from tests.conftest import FakeLambdaContext, load_handler_module
from tests.report.conftest import (  # noqa: F401 - aws and report_env are fixtures used below
    aws,
    botocore_hook,
    emf_metrics,
    moto_handles,
    report_env,
    sent_emails,
    topic_messages,
)

# The crashed run and the replays publish no application metrics; Powertools warns about that.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

EVENT = {"hours": 24, "scheduled_time": "2026-11-28T06:00:00Z", "attempt": "1"}


class LambdaCrash(BaseException):
    """The run dies where it stands (Lambda timeout, out of memory): no except clause of ours catches it."""


@pytest.fixture
def digest_env(
    report_env: dict[str, Any],  # noqa: F811 - the fixture imported above
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, Any]:
    """ReportFunction's environment on moto, reading an empty log-file folder (a quiet day)."""
    (tmp_path / "logs").mkdir()
    monkeypatch.setenv("LOGS_SOURCE", str(tmp_path / "logs"))
    return report_env


def crash_after_ses_accepts(request: Any, **_: Any) -> None:
    moto_handles(request)  # SES accepted: moto's backend holds the email
    raise LambdaCrash


def run(event: dict[str, Any], request_id: str, remaining_ms: int = 120_000) -> dict[str, Any]:
    app = load_handler_module("report")
    result: dict[str, Any] = app.handler(
        event, FakeLambdaContext(aws_request_id=request_id, remaining_ms=remaining_ms)
    )
    return result


def test_crash_after_ses_accepted_then_a_retry_inside_the_window(
    digest_env: dict[str, Any], capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """The retry comes while the first run would still be "in progress": it must neither fail (the errors
    alarm would say no digest went out) nor send again; it says "possibly delivered"."""
    with botocore_hook("before-send.sesv2.SendEmail", crash_after_ses_accepts), pytest.raises(LambdaCrash):
        run(EVENT, "first")
    assert len(sent_emails()) == 1
    capsys.readouterr()

    retry = run({**EVENT, "attempt": "2"}, "second")
    assert retry["status"] == "possibly_delivered"
    assert "not sent again" in retry["status_reason"]
    assert len(sent_emails()) == 1
    output = capsys.readouterr().out
    assert emf_metrics(output)["DigestPossiblyDelivered"] == 1
    assert "DigestsSent" not in emf_metrics(output)
    assert "digest possibly delivered, not sent again" in caplog.messages


def test_crash_after_ses_accepted_then_a_retry_after_the_window(digest_env: dict[str, Any]) -> None:
    """The first run had 1 ms left when it began (it then timed out): any in-progress window derived from
    its remaining time is over when the retry comes. Still one email."""
    with botocore_hook("before-send.sesv2.SendEmail", crash_after_ses_accepts), pytest.raises(LambdaCrash):
        run(EVENT, "first", remaining_ms=1)
    time.sleep(0.05)
    retry = run({**EVENT, "attempt": "2"}, "second")
    later = run({**EVENT, "attempt": "3"}, "third")
    assert len(sent_emails()) == 1
    assert retry["status"] == later["status"] == "possibly_delivered"


@pytest.mark.parametrize(
    "lost",
    [botocore.exceptions.ReadTimeoutError, botocore.exceptions.ConnectionClosedError],
    ids=["read-timeout", "connection-closed"],
)
def test_ses_answer_lost_once_is_not_sent_twice(
    digest_env: dict[str, Any], capsys: pytest.CaptureFixture[str], lost: type[Exception]
) -> None:
    """SES accepts, then the client sees a connection error. The SDK must not retry SendEmail (a second
    email); the run says "possibly delivered", counts it, and a retry of the run sends nothing either."""
    calls: list[int] = []

    def accept_then_lose_the_answer(request: Any, **_: Any) -> Any:
        calls.append(1)
        if len(calls) > 1:
            return None  # any further attempt reaches moto normally
        moto_handles(request)
        raise lost(endpoint_url=request.url, error="connection reset by peer")

    with botocore_hook("before-send.sesv2.SendEmail", accept_then_lose_the_answer):
        result = run(EVENT, "first")
    assert calls == [1]
    assert len(sent_emails()) == 1
    assert result["status"] == "possibly_delivered"
    assert result["delivered_via"] == "ses"
    assert "SES's answer was lost" in result["status_reason"]
    metrics = emf_metrics(capsys.readouterr().out)
    assert metrics["DigestPossiblyDelivered"] == 1
    assert "DigestsSent" not in metrics
    assert topic_messages(digest_env) == []  # no SNS fallback either: that would be a second message

    assert run({**EVENT, "attempt": "2"}, "second")["status"] == "possibly_delivered"
    assert len(sent_emails()) == 1


def test_throttled_before_acceptance_is_retried_and_sent_once(
    digest_env: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto's HTTP handler answers the first SendEmail with 429 TooManyRequestsException (the sesv2 model's
    throttling error; rest-json: code in the x-amzn-ErrorType header, message in the body) without accepting
    it; the next attempt reaches moto's SES and is accepted."""
    calls: list[int] = []
    accept = botocore_stubber.process_request

    def throttle_first_send(request: Any) -> Any:
        if request.method == "POST" and request.url.endswith("/v2/email/outbound-emails"):
            calls.append(1)
            if len(calls) == 1:
                body = json.dumps({"message": "Maximum sending rate exceeded."})
                return (
                    429,
                    {"x-amzn-ErrorType": "TooManyRequestsException", "Content-Type": "application/json"},
                    body,
                )
        return accept(request)

    monkeypatch.setattr(botocore_stubber, "process_request", throttle_first_send)
    result = run(EVENT, "first")
    assert calls == [1, 1]
    assert result["status"] == "delivered"
    assert result["delivered_via"] == "ses"
    [email] = sent_emails()
    assert result["message_id"] == email.id
    assert emf_metrics(capsys.readouterr().out)["DigestsSent"] == 1


def test_a_marker_without_message_id_is_possibly_delivered_never_resent(
    digest_env: dict[str, Any], capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """The run wrote its "sending" marker and died as it called SES (before SES got the request: nobody can
    know that from outside). Every later run of the window reports it, counts it, and sends nothing."""

    def crash_before_ses(request: Any, **_: Any) -> None:
        raise LambdaCrash

    with botocore_hook("before-send.sesv2.SendEmail", crash_before_ses), pytest.raises(LambdaCrash):
        run(EVENT, "first")
    capsys.readouterr()

    for attempt, request_id in (("2", "second"), ("3", "third")):
        result = run({**EVENT, "attempt": attempt}, request_id)
        assert result["status"] == "possibly_delivered"
        assert result["replayed"] is True
    output = capsys.readouterr().out
    assert sent_emails() == []
    [item] = digest_env_table_items(digest_env)  # the marker stays until the table's TTL
    assert item["status"]["S"] == "SENDING"
    assert "message_id" not in item
    assert result["record_id"] == item["id"]["S"]  # what to delete to send it anyway
    assert topic_messages(digest_env) == []
    assert caplog.messages.count("digest possibly delivered, not sent again") == 2
    assert emf_metrics(output)["DigestPossiblyDelivered"] == 2


def test_a_delivered_digest_replays_and_the_next_window_sends(digest_env: dict[str, Any]) -> None:
    first = run(EVENT, "first")
    retry = run({**EVENT, "attempt": "2"}, "second")
    assert first["status"] == retry["status"] == "delivered"
    assert retry["replayed"] is True
    assert retry["message_id"] == first["message_id"]
    run({**EVENT, "scheduled_time": "2026-11-29T06:00:00Z"}, "next-day")
    assert len(sent_emails()) == 2


def digest_env_table_items(env: dict[str, Any]) -> list[dict[str, Any]]:
    import boto3

    items: list[dict[str, Any]] = boto3.client("dynamodb", region_name="us-east-1").scan(
        TableName=env["table"]
    )["Items"]
    return items
