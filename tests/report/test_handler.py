"""ReportFunction end to end: the handler, the real pipeline over log files, moto SES/SNS/DynamoDB."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import botocore.client
import pytest
from bedrock_usage.report_job import EventError

from tests.conftest import ACCOUNT_ID, REGION, FakeLambdaContext, load_event, load_handler_module
from tests.report.conftest import (
    RECIPIENTS,
    SENDER,
    botocore_hook,
    emf_metrics,
    sent_emails,
    topic_messages,
)
from tests.report.test_digest import section, visible_text

WINDOW_EVENT = {"since": "2026-11-27T00:00:00Z", "until": "2026-11-28T00:00:00Z"}
CALLER = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/app/<script>alert(1)</script>"


@pytest.fixture
def log_files(tmp_path: Path) -> Path:
    """100 Claude 3 Haiku calls of 10,000 input and 2,000 output tokens on 27 Nov, as Bedrock writes them.

    At $0.25 / $1.25 per 1M tokens (REFERENCE.md section 8) that is 1M x 0.25 + 0.2M x 1.25 = $0.50.
    """
    folder = tmp_path / f"AWSLogs/{ACCOUNT_ID}/BedrockModelInvocationLogs/{REGION}/2026/11/27/10"
    folder.mkdir(parents=True)
    records = [
        {
            "schemaType": "ModelInvocationLog",
            "schemaVersion": "1.0",
            "timestamp": f"2026-11-27T10:{i % 60:02d}:00Z",
            "accountId": ACCOUNT_ID,
            "identity": {"arn": CALLER},
            "region": REGION,
            "requestId": f"req-{i}",
            "operation": "Converse",
            "modelId": "anthropic.claude-3-haiku-20240307-v1:0",
            "input": {"inputContentType": "application/json", "inputTokenCount": 10_000},
            "output": {"outputContentType": "application/json", "outputTokenCount": 2_000},
        }
        for i in range(100)
    ]
    with gzip.open(folder / "20261127T100000000Z_0a1b2c3d4e5f6a7b.json.gz", "wt") as out:
        out.writelines(json.dumps(r) + "\n" for r in records)
    return tmp_path


@pytest.fixture
def handler_env(
    report_env: dict[str, Any], log_files: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    monkeypatch.setenv("LOGS_SOURCE", str(log_files))
    return report_env


def test_scheduled_digest_is_built_from_the_logs_and_emailed(
    handler_env: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    app = load_handler_module("report")
    result = app.handler(WINDOW_EVENT, FakeLambdaContext())
    assert result["delivered_via"] == "ses"
    assert result["invocations"] == 100
    assert result["cost_usd"] == pytest.approx(0.50)
    [email] = sent_emails()
    assert email.source == SENDER
    assert email.destinations["ToAddresses"] == list(RECIPIENTS)
    assert "$0.50" in email.subject
    # The figures a reader sees, each in its place, worked out from the fixture: 100 calls x 12,000 tokens.
    text = visible_text(email.body)
    headline = section(text, "Estimated cost", "Daily cost")
    assert "last 24 h $0.50" in headline
    assert "Tokens 1.20M" in headline
    assert "Invocations 100 - 0 errors (0.0%)" in headline
    # The dearest call: 10,000 x 0.25 / 1M + 2,000 x 1.25 / 1M = $0.0025 + $0.0025.
    assert "Most expensive request: $0.0050" in headline
    models = section(text, "Top models", "Top callers")
    assert "haiku-20240307-v1:0 1.00M in / 200,000 out tokens $0.50 - 100.0% 100 " in models
    callers = section(text, "Top callers", "Prompt caching")
    assert "1.20M tokens · claude-3-haiku $0.50 100.0% 100" in callers
    assert "&lt;script&gt;alert(1)&lt;/" in email.body  # escaped in text (a <wbr> may follow the slash)
    assert "<script>" not in email.body.replace(CALLER, "")  # raw only inside the quoted title attribute
    assert "BedrockUsageMonitoring" in email.body  # dashboard link
    metrics = emf_metrics(capsys.readouterr().out)
    assert metrics["DigestsSent"] == 1
    assert metrics["FallbackUsed"] == 0
    assert metrics["DataSourceFailures"] == 0
    assert metrics["DigestBytes"] == result["html_bytes"]


@pytest.mark.filterwarnings("ignore:No application metrics to publish")  # the replay publishes none
def test_a_retry_of_the_same_scheduled_window_sends_nothing(handler_env: dict[str, Any]) -> None:
    event = {"hours": 24, "scheduled_time": "2026-11-28T00:00:00Z", "attempt": "1"}
    app = load_handler_module("report")
    first = app.handler(event, FakeLambdaContext())
    retry = app.handler({**event, "attempt": "2"}, FakeLambdaContext(aws_request_id="another-request"))
    assert len(sent_emails()) == 1
    assert first["replayed"] is False
    assert retry["replayed"] is True
    assert retry["message_id"] == first["message_id"]
    # The next day's run is a different window and does go out.
    app.handler({**event, "scheduled_time": "2026-11-29T00:00:00Z"}, FakeLambdaContext())
    assert len(sent_emails()) == 2


def test_a_failed_delivery_fails_the_run_and_leaves_the_retry_free_to_send(
    handler_env: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """SES rejects (unverified sender) and there is no topic: no one got it, so the run fails (the errors
    alarm) and counts DigestsUndelivered; its marker is removed, so once fixed, the retry sends."""
    monkeypatch.setenv("SENDER_EMAIL", "unverified@example.org")
    monkeypatch.delenv("ALERT_TOPIC_ARN")
    app = load_handler_module("report")
    with pytest.raises(app.DigestUndelivered, match="MessageRejected"):
        app.handler(WINDOW_EVENT, FakeLambdaContext())
    metrics = emf_metrics(capsys.readouterr().out)
    assert metrics["DigestsUndelivered"] == 1
    assert "DigestsSent" not in metrics
    monkeypatch.setenv("SENDER_EMAIL", SENDER)
    app = load_handler_module("report")  # a new container reads the fixed configuration
    assert app.handler(WINDOW_EVENT, FakeLambdaContext())["delivered_via"] == "ses"
    assert len(sent_emails()) == 1


def test_a_sent_digest_whose_record_cannot_be_saved_is_not_failed_into_a_resend(
    handler_env: dict[str, Any],
) -> None:
    """DynamoDB becomes unreachable after SES accepted (a before-send hook on UpdateItem; moto never fails).
    Raising would make Lambda retry the invocation: the run succeeds, and a retry sends nothing."""

    def unreachable(**_: Any) -> None:
        raise botocore.exceptions.EndpointConnectionError(
            endpoint_url="https://dynamodb.us-east-1.amazonaws.com"
        )

    app = load_handler_module("report")
    with botocore_hook("before-send.dynamodb.UpdateItem", unreachable):
        result = app.handler(WINDOW_EVENT, FakeLambdaContext())
    assert result["status"] == "delivered"
    assert result["delivered_via"] == "ses"
    retry = app.handler(WINDOW_EVENT, FakeLambdaContext(aws_request_id="retry"))
    assert retry["status"] == "possibly_delivered"
    assert len(sent_emails()) == 1


def test_without_a_sender_the_digest_goes_to_the_alert_topic(
    handler_env: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("SENDER_EMAIL", "")
    monkeypatch.setenv("REPORT_RECIPIENTS", "")
    app = load_handler_module("report")
    result = app.handler(WINDOW_EVENT, FakeLambdaContext())
    assert result["delivered_via"] == "sns"
    assert sent_emails() == []
    [note] = topic_messages(handler_env)
    assert "$0.50" in note["Subject"]
    assert "no SenderEmail configured" in note["Message"]
    assert "TOP MODELS" in note["Message"]
    assert emf_metrics(capsys.readouterr().out)["FallbackUsed"] == 1
    logged = [getattr(r, "fallback_reason", None) for r in caplog.records]
    assert "no SenderEmail configured" in logged  # the reason is logged


def test_a_failed_data_source_does_not_stop_the_digest(
    handler_env: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("LOGS_SOURCE", str(tmp_path / "no-such-folder"))
    app = load_handler_module("report")
    result = app.handler(WINDOW_EVENT, FakeLambdaContext())
    assert result["delivered_via"] == "ses"
    assert "log-files" in result["data_source_failures"]
    [email] = sent_emails()
    assert "incomplete data" in email.subject
    assert "log-files failed" in email.body
    assert emf_metrics(capsys.readouterr().out)["DataSourceFailures"] >= 1


def test_dry_run_renders_but_sends_nothing_and_returns_the_text(handler_env: dict[str, Any]) -> None:
    app = load_handler_module("report")
    result = app.handler({**WINDOW_EVENT, "dry_run": True}, FakeLambdaContext())
    assert result["delivered_via"] == "none"
    assert "TOP MODELS" in result["text"]
    assert sent_emails() == []
    assert topic_messages(handler_env) == []


def test_event_recipients_may_narrow_the_configured_ones(handler_env: dict[str, Any]) -> None:
    app = load_handler_module("report")
    app.handler({**WINDOW_EVENT, "recipients": ["FinOps@example.com"]}, FakeLambdaContext())
    [email] = sent_emails()
    assert email.destinations["ToAddresses"] == ["finops@example.com"]  # as configured (IAM matches it)


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_event_recipients_outside_the_configured_ones_are_refused(
    handler_env: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoever may invoke the function must not mail the digest (callers, costs) to an address of theirs."""
    calls: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def record(self: Any, operation: str, params: Any) -> Any:
        calls.append(operation)
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", record)
    app = load_handler_module("report")
    event = {**WINDOW_EVENT, "recipients": ["finops@example.com", "attacker@evil.example"]}
    with pytest.raises(EventError, match=r"only name addresses in ReportRecipients.*attacker@evil\.example"):
        app.handler(event, FakeLambdaContext())
    assert calls == []
    assert sent_emails() == []


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
@pytest.mark.parametrize("event", [{"hours": "a day"}, {"since": "2026-13-01T00:00:00Z"}, {"extra": 1}])
def test_a_bad_event_fails_before_any_aws_call(
    event: dict[str, Any], monkeypatch: pytest.MonkeyPatch, lambda_context: FakeLambdaContext
) -> None:
    calls: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def record(self: Any, operation: str, params: Any) -> Any:
        calls.append(operation)
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", record)
    monkeypatch.setenv("ALERT_TOPIC_ARN", f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:alerts")
    app = load_handler_module("report")
    with pytest.raises(EventError):
        app.handler(event, lambda_context)
    assert calls == []


def test_the_shipped_24h_event_runs(handler_env: dict[str, Any]) -> None:
    app = load_handler_module("report")
    result = app.handler({**load_event("24h.json"), "dry_run": True}, FakeLambdaContext())
    assert result["window"]["end"].endswith(":00:00Z")
