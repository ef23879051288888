"""AlarmRouterFunction end to end on real-shaped SNS events: moto SES (and SNS/SQS), Stubber CloudWatch.

moto implements SES v2 sending (after the sender identity is verified) and keeps sent mail in its SES
backend. It does not implement Metrics Insights, GetMetricWidgetImage or DescribeAlarmHistory, so the
handler gets a real CloudWatch client wrapped in botocore's Stubber (requests validated by the service
model, responses shaped like the API reference).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from bedrock_usage.alarms.router import DeliveryError
from botocore.stub import ANY, Stubber
from moto import mock_aws
from moto.ses.models import ses_backends

from tests.alarm_router.test_cloudwatch import CLIENT_ERRORS_ALARM
from tests.conftest import ACCOUNT_ID, REGION, load_event, load_handler_module

SENDER = "bedrock-alerts@example.com"
ROUTING = (
    "Bedrock-HighError*=oncall@example.com;ml@example.com,"
    "Bedrock-*=ml@example.com,budget=finance@example.com,default=ops@example.com"
)
ALARM_EVENTS = {
    "sns-alarm-insights.json": ("ml@example.com",),
    "sns-alarm-single.json": ("ml@example.com",),
    "sns-alarm-math.json": ("ml@example.com",),
    "sns-alarm-composite.json": ("oncall@example.com", "ml@example.com"),
    "sns-alarm-anomaly.json": ("ml@example.com",),
}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@dataclass
class World:
    app: Any
    sesv2: Any
    cloudwatch: Any
    stub: Stubber
    sns: Any
    requests: list[dict[str, Any]] = field(default_factory=list)  # SendEmail requests as sent
    cw_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # CloudWatch requests as sent

    def stub_requests(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params in self.cw_calls if name == operation]

    def sent(self) -> list[Any]:
        return list(ses_backends[ACCOUNT_ID][REGION].sent_messages)

    def run(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.app.handler(event, context)
        return result


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv("SENDER_EMAIL", SENDER)
    monkeypatch.setenv("ALARM_ROUTING", ROUTING)
    monkeypatch.setenv("DASHBOARD_NAME", "BedrockUsageMonitoring")
    monkeypatch.setenv("LOG_GROUP_NAME", "/aws/bedrock/modelinvocations")
    with mock_aws():
        sesv2 = boto3.client("sesv2", region_name=REGION)
        sesv2.create_email_identity(EmailIdentity=SENDER)
        cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        sns = boto3.client("sns", region_name=REGION)
        app = load_handler_module("alarm_router")
        monkeypatch.setattr(app, "clients", lambda: (sesv2, cloudwatch, sns))
        state = World(app, sesv2, cloudwatch, Stubber(cloudwatch), sns)
        sesv2.meta.events.register(
            "provide-client-params.sesv2.SendEmail", lambda params, **_: state.requests.append(params)
        )
        cloudwatch.meta.events.register(
            "provide-client-params.cloudwatch",
            lambda params, model, **_: state.cw_calls.append((model.name, dict(params))),
        )
        with state.stub:
            yield state


def stub_alarm_enrichment(
    stub: Stubber, models: list[tuple[str, float]], *, graph_fails: bool = False
) -> None:
    stub.add_response(
        "get_metric_data",
        {
            "MetricDataResults": [
                {"Id": "models", "Label": model, "Values": [value], "Timestamps": [datetime.now(UTC)]}
                for model, value in models
            ]
        },
        {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY, "ScanBy": "TimestampDescending"},
    )
    if graph_fails:
        stub.add_client_error(
            "get_metric_widget_image", "InternalServiceError", "widget rendering failed", 500
        )
    else:
        stub.add_response(
            "get_metric_widget_image",
            {"MetricWidgetImage": PNG},
            {"MetricWidget": ANY, "OutputFormat": "png"},
        )


def stub_math_enrichment(stub: Stubber) -> None:
    # metric math over two metrics: no per-model query, only the graph
    stub.add_response(
        "get_metric_widget_image", {"MetricWidgetImage": PNG}, {"MetricWidget": ANY, "OutputFormat": "png"}
    )


@pytest.mark.parametrize("name", sorted(ALARM_EVENTS))
def test_each_alarm_kind_becomes_one_routed_email_with_graph(
    world: World, lambda_context: Any, name: str
) -> None:
    if name == "sns-alarm-math.json":
        stub_math_enrichment(world.stub)
    elif name == "sns-alarm-composite.json":
        world.stub.add_response(
            "describe_alarms",
            {"MetricAlarms": [CLIENT_ERRORS_ALARM]},
            {"AlarmNames": ["Bedrock-ClientErrors"], "AlarmTypes": ["MetricAlarm"]},
        )
        stub_alarm_enrichment(world.stub, [("us.anthropic.claude-sonnet-4-5-20250929-v1:0", 30.0)])
    else:
        stub_alarm_enrichment(world.stub, [("us.anthropic.claude-sonnet-4-5-20250929-v1:0", 180000.0)])
    result = world.run(load_event(name), lambda_context)
    world.stub.assert_no_pending_responses()
    [sent] = world.sent()
    assert sent.destinations["ToAddresses"] == list(ALARM_EVENTS[name])
    assert sent.source == SENDER
    assert sent.subject.startswith("ALARM: Bedrock-")
    assert 'src="cid:alarm-graph"' in sent.body
    [request] = world.requests
    [attachment] = request["Content"]["Simple"]["Attachments"]
    assert (attachment["ContentId"], attachment["ContentDisposition"], attachment["RawContent"]) == (
        "alarm-graph",
        "INLINE",
        PNG,
    )
    assert "Text" in request["Content"]["Simple"]["Body"]
    assert [r["action"] for r in result["results"]] == ["emailed"]


def test_bedrock_alarm_names_the_models_that_drove_it(world: World, lambda_context: Any) -> None:
    stub_alarm_enrichment(
        world.stub, [("global.anthropic.claude-opus-4-6-v1", 52000.0), ("amazon.nova-lite-v1:0", 9.0)]
    )
    world.run(load_event("sns-alarm-insights.json"), lambda_context)
    [sent] = world.sent()
    assert "global.anthropic.claude-opus-4-6-v1" in sent.body
    assert "amazon.nova-lite-v1:0" in sent.body


def test_graph_failure_still_sends_the_email_without_it(world: World, lambda_context: Any) -> None:
    stub_alarm_enrichment(world.stub, [("m", 1.0)], graph_fails=True)
    result = world.run(load_event("sns-alarm-single.json"), lambda_context)
    [sent] = world.sent()
    assert "cid:" not in sent.body
    assert "Attachments" not in world.requests[0]["Content"]["Simple"]
    assert "Not included: the graph" in sent.body
    assert result["results"][0]["enrichmentFailures"] == [
        "the graph (CloudWatch GetMetricWidgetImage failed)"
    ]


def test_resolved_email_says_how_long_the_alarm_lasted(world: World, lambda_context: Any) -> None:
    began = datetime(2026, 11, 28, 18, 5, 41, tzinfo=UTC)
    world.stub.add_response(
        "describe_alarm_history",
        {
            "AlarmHistoryItems": [
                {
                    "AlarmName": "Bedrock-HighInputTokenUsage",
                    "Timestamp": began,
                    "HistoryItemType": "StateUpdate",
                    "HistorySummary": "Alarm updated from OK to ALARM",
                    "HistoryData": json.dumps(
                        {"oldState": {"stateValue": "OK"}, "newState": {"stateValue": "ALARM"}}
                    ),
                }
            ]
        },
        {
            "AlarmName": "Bedrock-HighInputTokenUsage",
            "HistoryItemType": "StateUpdate",
            "AlarmTypes": ["MetricAlarm", "CompositeAlarm"],
            "EndDate": datetime(2026, 11, 28, 19, 17, 41, 228000, tzinfo=UTC) + timedelta(seconds=1),
            "ScanBy": "TimestampDescending",
            "MaxRecords": 50,
        },
    )
    world.run(load_event("sns-alarm-ok.json"), lambda_context)
    [sent] = world.sent()
    assert sent.subject == "Resolved: Bedrock-HighInputTokenUsage (lasted 1 h 12 min)"
    assert sent.destinations["ToAddresses"] == ["ml@example.com"]


def test_budget_goes_to_the_budget_recipients(world: World, lambda_context: Any) -> None:
    world.run(load_event("sns-budget.json"), lambda_context)
    [sent] = world.sent()
    assert sent.destinations["ToAddresses"] == ["finance@example.com"]
    assert sent.subject.startswith("Budget alert: BedrockUsageBudget")
    assert "$84.17" in sent.body


def broken_events() -> dict[str, dict[str, Any]]:
    events: dict[str, dict[str, Any]] = {}
    full = load_event("sns-alarm-insights.json")
    message = full["Records"][0]["Sns"]["Message"]
    events["truncated"] = _with_message(message[: len(message) // 2])
    data = json.loads(message)
    del data["Trigger"]
    events["missing-trigger"] = _with_message(json.dumps(data))
    events["empty"] = _with_message("")
    events["200kb"] = _with_message("z" * 200_000)
    events["other"] = load_event("sns-other.json")
    return events


def _with_message(message: str) -> dict[str, Any]:
    event = load_event("sns-other.json")
    event["Records"][0]["Sns"]["Message"] = message
    return event


@pytest.mark.parametrize("kind", ["truncated", "missing-trigger", "empty", "200kb", "other"])
def test_unreadable_notifications_are_forwarded_as_received(
    world: World, lambda_context: Any, kind: str
) -> None:
    event = broken_events()[kind]
    message = event["Records"][0]["Sns"]["Message"]
    result = world.run(event, lambda_context)
    [sent] = world.sent()
    assert sent.subject.startswith("Forwarded notification:")
    # missing-trigger keeps the alarm name, and the alarm-name rule still routes it
    expected = ["ml@example.com"] if kind == "missing-trigger" else ["ops@example.com"]
    assert sent.destinations["ToAddresses"] == expected
    text = world.requests[0]["Content"]["Simple"]["Body"]["Text"]["Data"]
    assert message in text  # the whole message, however long
    assert result["results"][0]["kind"] == "forwarded"


def digest_event() -> dict[str, Any]:
    event = _with_message("This is the plain-text Bedrock usage digest. ...")
    event["Records"][0]["Sns"]["Subject"] = "Bedrock usage 2026-11-27"
    event["Records"][0]["Sns"]["MessageAttributes"] = {
        "bedrock_usage_origin": {"Type": "String", "Value": "digest"}
    }
    return event


def test_digest_fallback_is_emailed_once_when_the_topic_has_no_email_subscription(
    world: World, lambda_context: Any
) -> None:
    """With SenderEmail set, AlertEmail has no raw subscription: the router is the digest's only way out."""
    result = world.run(digest_event(), lambda_context)
    [sent] = world.sent()
    assert sent.destinations["ToAddresses"] == ["ops@example.com"]  # the `default` rule
    assert sent.subject == "Bedrock usage 2026-11-27"
    assert (
        "This is the plain-text Bedrock usage digest."
        in world.requests[0]["Content"]["Simple"]["Body"]["Text"]["Data"]
    )
    assert [(r["kind"], r["action"]) for r in result["results"]] == [("digest", "emailed")]


def test_digest_fallback_without_a_sender_is_left_to_the_topic_subscription(
    world: World, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without SenderEmail, AlertEmail's raw subscription delivers it; the router adds no second copy."""
    monkeypatch.setenv("SENDER_EMAIL", "")
    app = load_handler_module("alarm_router")
    monkeypatch.setattr(app, "clients", lambda: (world.sesv2, world.cloudwatch, world.sns))
    result = app.handler(digest_event(), lambda_context)
    assert world.sent() == []
    assert [(r["kind"], r["action"]) for r in result["results"]] == [("digest", "logged")]


def test_every_record_of_a_batch_gives_exactly_one_email(world: World, lambda_context: Any) -> None:
    records = [load_event(n)["Records"][0] for n in ("sns-budget.json", "sns-other.json")]
    records.append(broken_events()["empty"]["Records"][0])
    result = world.run({"Records": records}, lambda_context)
    assert len(world.sent()) == 3
    assert [r["action"] for r in result["results"]] == ["emailed"] * 3


def test_not_an_sns_event_is_still_forwarded(world: World, lambda_context: Any) -> None:
    world.run({"hello": "world"}, lambda_context)
    [sent] = world.sent()
    assert '"hello": "world"' in world.requests[0]["Content"]["Simple"]["Body"]["Text"]["Data"]
    assert sent.destinations["ToAddresses"] == ["ops@example.com"]


def test_hostile_alarm_name_is_escaped_in_the_sent_html(world: World, lambda_context: Any) -> None:
    event = load_event("sns-budget.json")
    event["Records"][0]["Sns"]["Message"] = event["Records"][0]["Sns"]["Message"].replace(
        "Budget Name: BedrockUsageBudget", 'Budget Name: <script>alert("x")</script>'
    )
    world.run(event, lambda_context)
    [sent] = world.sent()
    assert "<script>" not in sent.body
    assert "&lt;script&gt;" in sent.body


def test_without_a_sender_nothing_is_sent_and_each_notification_is_logged(
    world: World, lambda_context: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """SES not configured: the topic's own email subscription carries the raw notification; we only log."""
    monkeypatch.setenv("SENDER_EMAIL", "")
    app = load_handler_module("alarm_router")
    monkeypatch.setattr(app, "clients", lambda: (world.sesv2, world.cloudwatch, world.sns))
    sns = boto3.client("sns", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    topic = sns.create_topic(Name="bedrock-usage-alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="topic-spy")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    names = [*ALARM_EVENTS, "sns-alarm-ok.json", "sns-budget.json", "sns-other.json"]
    records = [load_event(n)["Records"][0] for n in names]
    result = app.handler({"Records": records}, lambda_context)
    assert world.sent() == []
    assert [r["action"] for r in result["results"]] == ["logged"] * len(names)
    logged = [r for r in caplog.records if r.getMessage() == "notification logged, not emailed"]
    assert len(logged) == len(names)
    assert {getattr(r, "sns_message_id", None) for r in logged} == {r["Sns"]["MessageId"] for r in records}
    budget_log = next(r for r in logged if getattr(r, "kind", None) == "budget")
    assert "Dear AWS Customer" in getattr(budget_log, "notification_text", "")
    # an alarm is logged as the JSON CloudWatch sent, so nothing of it is lost
    alarm_log = next(r for r in logged if getattr(r, "alarm", None) == "Bedrock-HighErrorRate")
    assert json.loads(getattr(alarm_log, "notification_text", ""))["AlarmRule"].startswith("ALARM(")
    # it never publishes back into the topic it listens to
    assert sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0).get("Messages", []) == []


def test_no_matching_rule_and_no_default_is_logged(
    world: World, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALARM_ROUTING", "budget=finance@example.com")
    app = load_handler_module("alarm_router")
    monkeypatch.setattr(app, "clients", lambda: (world.sesv2, world.cloudwatch, world.sns))
    result = app.handler(load_event("sns-other.json"), lambda_context)
    assert world.sent() == []
    assert result["results"][0]["action"] == "logged"


def test_a_failed_send_is_raised_so_lambda_retries_and_dead_letters(
    world: World, lambda_context: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """SES rejects an unverified sender (as in the sandbox): the invocation fails, and the log says why."""
    monkeypatch.setenv("SENDER_EMAIL", "unverified@example.com")
    app = load_handler_module("alarm_router")
    monkeypatch.setattr(app, "clients", lambda: (world.sesv2, world.cloudwatch, world.sns))
    with pytest.raises(DeliveryError, match="1 of 1 notification"):
        app.handler(load_event("sns-budget.json"), lambda_context)
    assert world.sent() == []
    errors = [r for r in caplog.records if r.getMessage() == "sending the alarm email failed"]
    assert len(errors) == 1
    assert "not verified" in getattr(errors[0], "error", "")
    assert getattr(errors[0], "recipients", None) == ["finance@example.com"]


def test_bad_routing_setting_fails_loudly(
    world: World, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALARM_ROUTING", "default=not-an-address")
    app = load_handler_module("alarm_router")
    monkeypatch.setattr(app, "clients", lambda: (world.sesv2, world.cloudwatch, world.sns))
    with pytest.raises(ValueError, match="not an email address"):
        app.handler(load_event("sns-budget.json"), lambda_context)


def test_composite_alarm_email_shows_the_child_metric_and_models(world: World, lambda_context: Any) -> None:
    world.stub.add_response(
        "describe_alarms",
        {"MetricAlarms": [CLIENT_ERRORS_ALARM]},
        {"AlarmNames": ["Bedrock-ClientErrors"], "AlarmTypes": ["MetricAlarm"]},
    )
    stub_alarm_enrichment(
        world.stub, [("amazon.nova-lite-v1:0", 30.0), ("global.anthropic.claude-opus-4-6-v1", 7.0)]
    )
    world.run(load_event("sns-alarm-composite.json"), lambda_context)
    [sent] = world.sent()
    assert sent.subject == "ALARM: Bedrock-HighErrorRate - Client errors 37 > 10"
    assert "Triggered by Bedrock-ClientErrors" in sent.body
    assert "amazon.nova-lite-v1:0" in sent.body
    widget = json.loads(world.stub_requests("GetMetricWidgetImage")[0]["MetricWidget"])
    # the child is a Metrics Insights alarm: drawn as one plain row per model found, never as SQL
    assert [row[:4] for row in widget["metrics"]] == [
        ["AWS/Bedrock", "InvocationClientErrors", "ModelId", "amazon.nova-lite-v1:0"],
        ["AWS/Bedrock", "InvocationClientErrors", "ModelId", "global.anthropic.claude-opus-4-6-v1"],
    ]
    assert "SELECT" not in json.dumps(widget)


def test_composite_alarm_without_child_details_still_names_the_children(
    world: World, lambda_context: Any
) -> None:
    world.stub.add_client_error("describe_alarms", "AccessDenied", "not allowed", 403)
    result = world.run(load_event("sns-alarm-composite.json"), lambda_context)
    [sent] = world.sent()
    assert sent.subject == "ALARM: Bedrock-HighErrorRate - triggered by Bedrock-ClientErrors"
    assert (
        'ALARM("Bedrock-ClientErrors") OR ALARM("Bedrock-ServerErrors")'
        in world.requests[0]["Content"]["Simple"]["Body"]["Text"]["Data"]
    )
    assert result["results"][0]["enrichmentFailures"] == [
        "the triggering child alarm's metric (CloudWatch DescribeAlarms failed)"
    ]


def test_insufficient_data_is_emailed_without_querying_cloudwatch(world: World, lambda_context: Any) -> None:
    event = load_event("sns-alarm-single.json")
    data = json.loads(event["Records"][0]["Sns"]["Message"])
    data["NewStateValue"] = "INSUFFICIENT_DATA"
    event["Records"][0]["Sns"]["Message"] = json.dumps(data)
    world.run(event, lambda_context)  # no Stubber responses queued: any CloudWatch call would fail
    [sent] = world.sent()
    assert sent.subject == "INSUFFICIENT_DATA: Bedrock-HighLatency-ClaudeSonnet"
    assert world.cw_calls == []


def test_with_a_sender_and_no_routing_everything_goes_to_alert_email_once(
    world: World, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SenderEmail set, AlarmRouting empty: AlertEmail gets the readable email (no raw subscription)."""
    monkeypatch.setenv("ALARM_ROUTING", "")
    monkeypatch.setenv("ALERT_EMAIL", "oncall@example.com")
    app = load_handler_module("alarm_router")
    monkeypatch.setattr(app, "clients", lambda: (world.sesv2, world.cloudwatch, world.sns))
    names = ["sns-alarm-math.json", "sns-budget.json", "sns-other.json"]
    stub_math_enrichment(world.stub)
    result = app.handler({"Records": [load_event(n)["Records"][0] for n in names]}, lambda_context)
    sent = world.sent()
    assert [m.destinations["ToAddresses"] for m in sent] == [["oncall@example.com"]] * 3
    assert [r["kind"] for r in result["results"]] == ["alarm", "budget", "forwarded"]
    assert [r["action"] for r in result["results"]] == ["emailed"] * 3


def test_alert_email_catches_what_no_rule_claims(
    world: World, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALARM_ROUTING", "budget=finance@example.com")
    monkeypatch.setenv("ALERT_EMAIL", "oncall@example.com")
    app = load_handler_module("alarm_router")
    monkeypatch.setattr(app, "clients", lambda: (world.sesv2, world.cloudwatch, world.sns))
    app.handler(
        {"Records": [load_event(n)["Records"][0] for n in ("sns-budget.json", "sns-other.json")]},
        lambda_context,
    )
    assert [m.destinations["ToAddresses"] for m in world.sent()] == [
        ["finance@example.com"],
        ["oncall@example.com"],
    ]


def test_a_bad_alert_email_setting_fails_loudly(
    world: World, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALERT_EMAIL", "not an address")
    app = load_handler_module("alarm_router")
    monkeypatch.setattr(app, "clients", lambda: (world.sesv2, world.cloudwatch, world.sns))
    with pytest.raises(ValueError, match="ALERT_EMAIL"):
        app.handler(load_event("sns-budget.json"), lambda_context)


def _topic_with_alert_email_queue(world: World) -> tuple[str, str]:
    """The alert topic, and a queue subscribed with AlertEmail's filter policy: what AlertEmail gets."""
    topic = world.sns.create_topic(Name="bedrock-usage-alerts")["TopicArn"]
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="alert-email")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    world.sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={
            "RawMessageDelivery": "true",
            "FilterPolicy": json.dumps({"bedrock_usage_origin": ["digest", "ses-failed"]}),
        },
    )
    return topic, url


def _received(url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=REGION)
    return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get(
        "Messages", []
    )


def test_what_ses_refuses_reaches_alert_email_raw_through_its_filtered_subscription(
    world: World, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SES rejects the sender (sandbox, unverified): the alarm still reaches a person, once, and no retry."""
    topic, url = _topic_with_alert_email_queue(world)
    monkeypatch.setenv("SENDER_EMAIL", "unverified@example.com")
    monkeypatch.setenv("FALLBACK_TOPIC_ARN", topic)
    app = load_handler_module("alarm_router")
    monkeypatch.setattr(app, "clients", lambda: (world.sesv2, world.cloudwatch, world.sns))
    result = app.handler(load_event("sns-budget.json"), lambda_context)  # no DeliveryError: a person has it
    assert world.sent() == []
    [message] = _received(url)
    assert message["MessageAttributes"]["bedrock_usage_origin"]["StringValue"] == "ses-failed"
    assert "could not email this notification through SES" in message["Body"]
    assert "AWS Budget Notification" in message["Body"]  # the notification as received
    assert [(r["kind"], r["action"]) for r in result["results"]] == [("forwarded", "republished")]


def test_the_routers_own_republished_copy_is_never_sent_again(world: World, lambda_context: Any) -> None:
    """The router is subscribed to the topic it republishes to: its own copy must not loop or email."""
    event = load_event("sns-budget.json")
    event["Records"][0]["Sns"]["MessageAttributes"] = {
        "bedrock_usage_origin": {"Type": "String", "Value": "ses-failed"}
    }
    result = world.run(event, lambda_context)
    assert world.sent() == []
    assert [(r["kind"], r["action"]) for r in result["results"]] == [("forwarded", "logged")]


def test_an_alarm_sent_by_ses_is_not_republished(
    world: World, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    topic, url = _topic_with_alert_email_queue(world)
    monkeypatch.setenv("FALLBACK_TOPIC_ARN", topic)
    app = load_handler_module("alarm_router")
    monkeypatch.setattr(app, "clients", lambda: (world.sesv2, world.cloudwatch, world.sns))
    app.handler(load_event("sns-budget.json"), lambda_context)
    assert len(world.sent()) == 1
    assert _received(url) == []


def test_digest_fallback_is_left_to_alert_emails_filtered_subscription(
    world: World, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With AlertEmail subscribed (filtered to the digest), the router adds no second copy of the digest."""
    topic, _ = _topic_with_alert_email_queue(world)
    monkeypatch.setenv("FALLBACK_TOPIC_ARN", topic)
    app = load_handler_module("alarm_router")
    monkeypatch.setattr(app, "clients", lambda: (world.sesv2, world.cloudwatch, world.sns))
    result = app.handler(digest_event(), lambda_context)
    assert world.sent() == []
    assert [(r["kind"], r["action"]) for r in result["results"]] == [("digest", "logged")]


def test_the_real_client_factory_delivers_under_moto(
    monkeypatch: pytest.MonkeyPatch, lambda_context: Any
) -> None:
    """The other handler tests hand the handler their own clients; here `clients()` itself runs, so a wrong
    service name, region or retry budget in the factory shows. moto has no GetMetricWidgetImage, so the
    email goes out with the graph listed as missing, as it would when CloudWatch fails."""
    monkeypatch.setenv("SENDER_EMAIL", SENDER)
    monkeypatch.setenv("ALARM_ROUTING", ROUTING)
    monkeypatch.setenv("DASHBOARD_NAME", "BedrockUsageMonitoring")
    monkeypatch.setenv("LOG_GROUP_NAME", "/aws/bedrock/modelinvocations")
    with mock_aws():
        boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity=SENDER)
        app = load_handler_module("alarm_router")
        result = app.handler(load_event("sns-alarm-single.json"), lambda_context)
        sesv2, cloudwatch, sns = app.clients()
        [sent] = list(ses_backends[ACCOUNT_ID][REGION].sent_messages)
    assert [r["action"] for r in result["results"]] == ["emailed"]
    assert sent.destinations["ToAddresses"] == ["ml@example.com"]
    assert sent.source == SENDER
    assert result["results"][0]["enrichmentFailures"] == [
        "the graph (CloudWatch GetMetricWidgetImage failed)"
    ]
    assert (sesv2.meta.service_model.service_name, cloudwatch.meta.service_model.service_name) == (
        "sesv2",
        "cloudwatch",
    )
    assert sns.meta.service_model.service_name == "sns"
    # CloudWatch only adds extras: it must give up after 2 attempts; sending gets 3.
    assert cloudwatch.meta.config.retries["total_max_attempts"] == 2
    assert sesv2.meta.config.retries["total_max_attempts"] == 3
    assert sns.meta.config.retries["total_max_attempts"] == 3
    assert {c.meta.region_name for c in (sesv2, cloudwatch, sns)} == {REGION}
