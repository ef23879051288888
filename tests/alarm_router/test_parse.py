"""Parsing every notification the alert topic carries, from the real-shaped events in events/."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from bedrock_usage.alarms.location import arn_location
from bedrock_usage.alarms.notification import (
    AlarmNotification,
    BudgetNotification,
    ForwardedNotification,
    parse_message,
    parse_record,
)

from tests.conftest import load_event


def record_of(name: str) -> dict:
    return load_event(name)["Records"][0]


def message_of(name: str) -> dict:
    return json.loads(record_of(name)["Sns"]["Message"])


def with_message(name: str, message: str) -> dict:
    record = record_of(name)
    record["Sns"]["Message"] = message
    return record


def test_single_metric_alarm_is_read_with_api_casing_and_region_code() -> None:
    """Given CloudWatch's SNS shape: lower-case dimension keys, AVERAGE, null description, long region."""
    alarm = parse_record(record_of("sns-alarm-single.json"))
    assert isinstance(alarm, AlarmNotification)
    assert alarm.name == "Bedrock-HighLatency-ClaudeSonnet"
    assert (alarm.new_state, alarm.old_state) == ("ALARM", "OK")
    assert alarm.description is None
    assert alarm.region == "us-east-1"
    assert alarm.region_name == "US East (N. Virginia)"
    assert alarm.state_change_time == datetime(2026, 11, 28, 18, 15, 12, 733000, tzinfo=UTC)
    trigger = alarm.trigger
    assert trigger.kind == "metric"
    assert trigger.metric is not None
    assert trigger.metric.dimensions == (("ModelId", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"),)
    assert trigger.statistic == "Average"
    assert trigger.threshold == 10000.0
    assert [d.value for d in alarm.observed] == [14210.5, 12877.25]


def test_metrics_insights_alarm_knows_its_namespace_metric_and_statistic() -> None:
    alarm = parse_record(record_of("sns-alarm-insights.json"))
    assert isinstance(alarm, AlarmNotification)
    assert alarm.trigger.kind == "insights"
    assert alarm.trigger.namespace == "AWS/Bedrock"
    assert alarm.trigger.metric_name == "InputTokenCount"
    assert alarm.trigger.statistic == "Sum"
    assert alarm.trigger.period == 3600


def test_metric_math_alarm_keeps_its_expression_and_fixes_the_treat_missing_quirk() -> None:
    alarm = parse_record(record_of("sns-alarm-math.json"))
    assert isinstance(alarm, AlarmNotification)
    assert alarm.trigger.kind == "math"
    assert alarm.trigger.returned is not None
    assert alarm.trigger.returned.expression == "m1 + m2"
    assert alarm.trigger.treat_missing_data == "notBreaching"
    assert [q.metric.name for q in alarm.trigger.queries if q.metric] == [
        "InvocationClientErrors",
        "InvocationServerErrors",
    ]


def test_anomaly_alarm_has_no_threshold_but_a_band_from_the_reason() -> None:
    alarm = parse_record(record_of("sns-alarm-anomaly.json"))
    assert isinstance(alarm, AlarmNotification)
    assert alarm.trigger.kind == "anomaly"
    assert alarm.trigger.threshold is None
    assert alarm.trigger.threshold_metric_id == "ad1"
    assert alarm.band == (212.7, 1180.4)
    assert alarm.trigger.returned is not None
    assert alarm.trigger.returned.id == "m1"


def test_ok_transition_is_an_alarm_notification_from_alarm() -> None:
    alarm = parse_record(record_of("sns-alarm-ok.json"))
    assert isinstance(alarm, AlarmNotification)
    assert (alarm.old_state, alarm.new_state) == ("ALARM", "OK")


def test_budget_plain_text_is_read_into_fields() -> None:
    budget = parse_record(record_of("sns-budget.json"))
    assert isinstance(budget, BudgetNotification)
    assert budget.budget_name == "BedrockUsageBudget"
    assert budget.fields["Alert Type"] == "ACTUAL"
    assert budget.fields["ACTUAL Amount"] == "$84.17"
    assert budget.fields["Budgeted Amount"] == "$100.00"


@pytest.mark.parametrize(
    "text",
    [
        # 'Alert' and 'Budget Name:' somewhere: the old test read this as a budget alert
        "Security Alert from our SIEM\nBudget Name: Q4 marketing\nSeverity: high\n",
        # the anchor quoted in the middle of other text, not as the first line
        "FYI, forwarding this:\nAWS Budget Notification November 28, 2026\nBudget Name: x\n",
        # the first line alone, without a Budget Name line
        "AWS Budget Notification November 28, 2026\nAlert Type: ACTUAL\n",
    ],
)
def test_budget_look_alikes_are_forwarded_not_read_as_budgets(text: str) -> None:
    forwarded = parse_record(with_message("sns-other.json", text))
    assert isinstance(forwarded, ForwardedNotification)
    assert forwarded.text == text


def test_deeply_nested_json_is_forwarded_not_raised() -> None:
    """json.loads raises RecursionError (not ValueError) beyond ~1,000 levels."""
    text = "[" * 100_000 + "]" * 100_000
    forwarded = parse_record(with_message("sns-other.json", text))
    assert isinstance(forwarded, ForwardedNotification)
    assert "nested too deeply" in forwarded.note
    assert forwarded.text == text


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_read_as_missing(bad: str) -> None:
    """json.loads accepts NaN/Infinity and reads 1e999 as inf; int() of them raises."""
    text = record_of("sns-alarm-single.json")["Sns"]["Message"]
    text = (
        text.replace('"Period": 300', f'"Period": {bad}')
        .replace('"Threshold": 10000.0', f'"Threshold": {bad}')
        .replace('"EvaluationPeriods": 3', f'"EvaluationPeriods": {bad}')
        .replace("14210.5 (28/11/26", "1e999 (28/11/26")
    )
    alarm = parse_message(text)
    assert isinstance(alarm, AlarmNotification)
    assert (alarm.trigger.period, alarm.trigger.threshold, alarm.trigger.evaluation_periods) == (
        None,
        None,
        None,
    )
    assert [d.value for d in alarm.observed] == [12877.25]  # the infinite datapoint is dropped


def test_other_plain_text_is_forwarded_with_a_note() -> None:
    other = parse_record(record_of("sns-other.json"))
    assert isinstance(other, ForwardedNotification)
    assert other.text.startswith("Checking that the bedrock-usage-alerts subscription works")
    assert "neither an alarm nor a budget" in other.note


def test_actions_as_strings_and_api_cased_dimensions_are_accepted() -> None:
    """One 2022 sample had actions as strings; API-shaped Name/Value dimensions must work too."""
    data = message_of("sns-alarm-single.json")
    data["AlarmActions"] = "arn:aws:sns:us-east-1:123456789012:bedrock-usage-alerts"
    data["Trigger"]["Dimensions"] = [{"Name": "ModelId", "Value": "amazon.nova-lite-v1:0"}]
    data["Trigger"]["Statistic"] = "Sum"
    alarm = parse_message(json.dumps(data))
    assert isinstance(alarm, AlarmNotification)
    assert alarm.trigger.metric is not None
    assert alarm.trigger.metric.dimensions == (("ModelId", "amazon.nova-lite-v1:0"),)
    assert alarm.trigger.statistic == "Sum"


def test_region_is_never_taken_from_the_legacy_long_name() -> None:
    """CloudWatch writes 'EU (Ireland)', botocore 'Europe (Ireland)': without an ARN the region is unknown."""
    data = message_of("sns-alarm-single.json")
    del data["AlarmArn"]
    data["Region"] = "EU (Ireland)"
    alarm = parse_message(json.dumps(data))
    assert isinstance(alarm, AlarmNotification)
    assert (alarm.region, alarm.partition) == (None, "aws")
    assert alarm.region_name == "EU (Ireland)"


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        ("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:a", ("aws", "eu-west-1")),
        ("arn:aws:cloudwatch:ap-southeast-4:123456789012:alarm:a", ("aws", "ap-southeast-4")),
        ("arn:aws-cn:cloudwatch:cn-northwest-1:123456789012:alarm:a", ("aws-cn", "cn-northwest-1")),
        ("arn:aws-us-gov:cloudwatch:us-gov-west-1:123456789012:alarm:a", ("aws-us-gov", "us-gov-west-1")),
        # forged or broken: never trusted
        ("arn:aws:cloudwatch:evil.example/x?:123456789012:alarm:a", (None, None)),
        ("arn:aws:cloudwatch:us-east-1.evil.example:123456789012:alarm:a", (None, None)),
        ("arn:aws:cloudwatch:US-EAST-1:123456789012:alarm:a", (None, None)),
        ("arn:aws:cloudwatch:us-east-123:123456789012:alarm:a", (None, None)),
        ("arn:evil:cloudwatch:us-east-1:123456789012:alarm:a", (None, None)),
        ("arn:aws:cloudwatch:cn-north-1:123456789012:alarm:a", (None, None)),  # partition and region disagree
        ("arn:aws-cn:cloudwatch:us-east-1:123456789012:alarm:a", (None, None)),
        ("arn:aws:cloudwatch:us-gov-west-1:123456789012:alarm:a", (None, None)),
        ("not-an-arn", (None, None)),
        (None, (None, None)),
    ],
)
def test_partition_and_region_come_only_from_a_real_arn(arn: str | None, expected: tuple) -> None:
    assert arn_location(arn) == expected


def test_truncated_json_is_forwarded_as_received() -> None:
    full = record_of("sns-alarm-insights.json")["Sns"]["Message"]
    cut = full[: len(full) // 2]
    forwarded = parse_record(with_message("sns-alarm-insights.json", cut))
    assert isinstance(forwarded, ForwardedNotification)
    assert forwarded.text == cut
    assert "truncated" in forwarded.note


def test_alarm_without_trigger_is_forwarded_but_keeps_its_name_for_routing() -> None:
    data = message_of("sns-alarm-insights.json")
    del data["Trigger"]
    forwarded = parse_record(with_message("sns-alarm-insights.json", json.dumps(data)))
    assert isinstance(forwarded, ForwardedNotification)
    assert forwarded.alarm_name == "Bedrock-HighInputTokenUsage"
    assert "Trigger" in forwarded.note


@pytest.mark.parametrize("message", ["", "   \n"])
def test_empty_message_is_forwarded(message: str) -> None:
    forwarded = parse_record(with_message("sns-other.json", message))
    assert isinstance(forwarded, ForwardedNotification)
    assert "empty" in forwarded.note


def test_200_kb_message_is_forwarded_whole() -> None:
    big = "x" * 200_000
    forwarded = parse_record(with_message("sns-other.json", big))
    assert isinstance(forwarded, ForwardedNotification)
    assert forwarded.text == big


def test_json_that_is_not_an_alarm_is_forwarded() -> None:
    forwarded = parse_record(with_message("sns-other.json", json.dumps({"detail-type": "Something"})))
    assert isinstance(forwarded, ForwardedNotification)
    assert "not a CloudWatch alarm" in forwarded.note


def test_record_without_sns_part_is_forwarded_whole() -> None:
    forwarded = parse_record({"EventSource": "aws:sqs", "body": "hello"})
    assert isinstance(forwarded, ForwardedNotification)
    assert '"body": "hello"' in forwarded.text


def test_unknown_state_is_forwarded() -> None:
    data = message_of("sns-alarm-single.json")
    data["NewStateValue"] = "PANIC"
    forwarded = parse_message(json.dumps(data))
    assert isinstance(forwarded, ForwardedNotification)
    assert "PANIC" in forwarded.note


def test_composite_alarm_has_a_rule_and_triggering_children() -> None:
    """Composite alarms carry AlarmRule and TriggeringChildren instead of a Trigger."""
    alarm = parse_record(record_of("sns-alarm-composite.json"))
    assert isinstance(alarm, AlarmNotification)
    assert alarm.trigger.kind == "composite"
    assert alarm.trigger.rule == 'ALARM("Bedrock-ClientErrors") OR ALARM("Bedrock-ServerErrors")'
    [child] = alarm.trigger.children
    assert (child.name, child.state) == ("Bedrock-ClientErrors", "ALARM")
    assert child.since == datetime(2026, 11, 28, 18, 25, 3, 114000, tzinfo=UTC)


def test_composite_children_listed_as_plain_strings_are_accepted() -> None:
    """The CloudWatch docs' schema lists TriggeringChildren as [String]."""
    data = message_of("sns-alarm-composite.json")
    data["TriggeringChildren"] = ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:Bedrock-ServerErrors"]
    alarm = parse_message(json.dumps(data))
    assert isinstance(alarm, AlarmNotification)
    assert [c.name for c in alarm.trigger.children] == ["Bedrock-ServerErrors"]


ODD_VALUES: list[object] = [None, "", "x", 0, -1.5, True, [], {}, ["x"], {"a": 1}, [{"name": None}]]
RENDERED_ODD_VALUES: list[object] = [None, "x", -1.5, ["x"]]


@pytest.mark.parametrize(
    "name",
    [
        "sns-alarm-single.json",
        "sns-alarm-math.json",
        "sns-alarm-insights.json",
        "sns-alarm-anomaly.json",
        "sns-alarm-composite.json",
        "sns-alarm-ok.json",
    ],
)
def test_any_field_of_any_shape_never_breaks_parsing_or_the_email(name: str) -> None:
    """Defensive parsing: every top-level and Trigger field replaced by odd values still yields an email."""
    from bedrock_usage.alarms.compose import compose, console_links

    links = console_links(region="us-east-1")
    now = datetime(2026, 11, 28, 19, 0, tzinfo=UTC)
    original = message_of(name)
    paths = [(key,) for key in original] + [("Trigger", key) for key in original.get("Trigger", {})]
    for path in paths:
        for odd in ODD_VALUES:
            data = json.loads(json.dumps(original))
            target = data
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = odd
            notification = parse_message(json.dumps(data))
            if odd in RENDERED_ODD_VALUES:  # rendering is the slow part; these shapes cover its branches
                email = compose(notification, links=links, now=now)
                assert email.subject, (path, odd)
                assert email.text.strip(), (path, odd)
