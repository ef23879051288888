"""A digest counts as delivered only when a person receives it.

moto (mock_aws) plays SES v2, SNS, SQS and DynamoDB. moto confirms email subscriptions at once, which AWS
does not: the "PendingConfirmation" case answers ListSubscriptionsByTopic at moto's HTTP layer with the
real API's XML shape (SNS API reference, ListSubscriptionsByTopic). The function runs through its handler.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.core.models import botocore_stubber

from tests.conftest import REGION, FakeLambdaContext, load_handler_module
from tests.report.conftest import (  # noqa: F401 - aws and report_env are fixtures used below
    ONCALL,
    aws,
    emf_metrics,
    report_env,
    sent_emails,
    topic_messages,
)

EVENT = {"hours": 24, "scheduled_time": "2026-11-28T06:00:00Z", "attempt": "1"}
ROUTER = f"arn:aws:lambda:{REGION}:123456789012:function:bedrock-usage-alarm-router"

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@pytest.fixture
def defaults_env(
    report_env: dict[str, Any],  # noqa: F811 - the fixture imported above
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, Any]:
    """Every parameter at its default: no SenderEmail, no ReportRecipients, no AlertEmail. The alert topic's
    only subscriber is the test's SQS reader, standing for the alarm router (moto cannot deliver to a Lambda
    function that does not exist): no person."""
    (tmp_path / "logs").mkdir()
    monkeypatch.setenv("LOGS_SOURCE", str(tmp_path / "logs"))
    monkeypatch.setenv("SENDER_EMAIL", "")
    monkeypatch.setenv("REPORT_RECIPIENTS", "")
    sns = boto3.client("sns", region_name=REGION)
    for subscription in sns.list_subscriptions_by_topic(TopicArn=report_env["topic_arn"])["Subscriptions"]:
        if subscription["Protocol"] == "email":
            sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])
    return report_env


def test_with_every_default_no_one_gets_it_and_the_run_says_so(
    defaults_env: dict[str, Any], capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    app = load_handler_module("report")
    with pytest.raises(Exception, match="no confirmed email subscription") as failed:  # the invocation fails
        app.handler(EVENT, FakeLambdaContext())
    assert isinstance(failed.value, app.DigestUndelivered)
    metrics = emf_metrics(capsys.readouterr().out)
    assert metrics["DigestsUndelivered"] == 1
    assert "DigestsSent" not in metrics
    assert sent_emails() == []
    assert topic_messages(defaults_env) == []  # nothing published for no one
    assert "digest not delivered to anyone" in caplog.messages

    # Once someone subscribes (and confirms), the retry of the same run delivers: nothing was held back.
    boto3.client("sns", region_name=REGION).subscribe(
        TopicArn=defaults_env["topic_arn"], Protocol="email", Endpoint=ONCALL
    )
    result = app.handler({**EVENT, "attempt": "2"}, FakeLambdaContext(aws_request_id="retry"))
    assert result["status"] == "delivered"
    assert result["delivered_via"] == "sns"
    [note] = topic_messages(defaults_env)
    assert "no SenderEmail configured" in note["Message"]
    metrics = emf_metrics(capsys.readouterr().out)
    assert metrics["DigestsSent"] == 1
    assert metrics["FallbackUsed"] == 1


def test_a_subscription_pending_confirmation_is_not_a_person(
    defaults_env: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    topic = defaults_env["topic_arn"]
    pending = f"""<ListSubscriptionsByTopicResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
  <ListSubscriptionsByTopicResult>
    <Subscriptions>
      <member>
        <TopicArn>{topic}</TopicArn>
        <Protocol>lambda</Protocol>
        <SubscriptionArn>{topic}:6b0e71bd-7e97-4d97-80ce-4a0994e55286</SubscriptionArn>
        <Owner>123456789012</Owner>
        <Endpoint>{ROUTER}</Endpoint>
      </member>
      <member>
        <TopicArn>{topic}</TopicArn>
        <Protocol>email</Protocol>
        <SubscriptionArn>PendingConfirmation</SubscriptionArn>
        <Owner>123456789012</Owner>
        <Endpoint>{ONCALL}</Endpoint>
      </member>
    </Subscriptions>
  </ListSubscriptionsByTopicResult>
  <ResponseMetadata><RequestId>384ac68d-3775-11df-8963-01868b7c937a</RequestId></ResponseMetadata>
</ListSubscriptionsByTopicResponse>"""
    answer = botocore_stubber.process_request

    def subscriptions_as_aws_lists_them(request: Any) -> Any:
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body or "")
        if "Action=ListSubscriptionsByTopic" in body:
            return 200, {"Content-Type": "text/xml"}, pending
        return answer(request)

    monkeypatch.setattr(botocore_stubber, "process_request", subscriptions_as_aws_lists_them)
    app = load_handler_module("report")
    with pytest.raises(Exception, match="no confirmed email subscription") as failed:  # the invocation fails
        app.handler(EVENT, FakeLambdaContext())
    assert isinstance(failed.value, app.DigestUndelivered)
    assert emf_metrics(capsys.readouterr().out)["DigestsUndelivered"] == 1
    assert topic_messages(defaults_env) == []


def test_ses_refused_and_no_person_on_the_topic_is_undelivered_with_both_reasons(
    defaults_env: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The sender is not verified in SES (moto rejects it as SES does): the fallback reaches no one either."""
    monkeypatch.setenv("SENDER_EMAIL", "unverified@example.org")
    monkeypatch.setenv("REPORT_RECIPIENTS", "finops@example.com")
    app = load_handler_module("report")
    with pytest.raises(
        Exception, match=r"MessageRejected.*no confirmed email subscription"
    ) as failed:  # the invocation fails
        app.handler(EVENT, FakeLambdaContext())
    assert isinstance(failed.value, app.DigestUndelivered)
    metrics = emf_metrics(capsys.readouterr().out)
    assert metrics["DigestsUndelivered"] == 1
    assert "DigestsSent" not in metrics
    assert sent_emails() == []
