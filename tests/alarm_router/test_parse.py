"""Parsing every notification the alert topic carries, from the real-shaped events in events/."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from bedrock_usage.alarms.location import arn_location
from bedrock_usage.alarms.notification import (
    AlarmNotification,
    AlarmQuery,
    BudgetNotification,
    Envelope,
    ForwardedNotification,
    MetricRef,
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


def test_the_sns_envelope_is_kept_for_the_email_and_the_log() -> None:
    """The message ID is what the run log and the result name; topic and time show in a forwarded email."""
    alarm = parse_record(record_of("sns-alarm-single.json"))
    assert alarm.envelope == Envelope(
        message_id="a3c9e4f1-6d2b-5a87-b1c0-9e8d7f6a5b43",
        topic_arn="arn:aws:sns:us-east-1:123456789012:bedrock-usage-alerts",
        subject='ALARM: "Bedrock-HighLatency-ClaudeSonnet" in US East (N. Virginia)',
        timestamp="2026-11-28T18:15:12.810Z",
    )


def test_an_envelope_without_fields_reads_as_empty_text_not_none() -> None:
    record = {"Sns": {"Message": "hello"}}
    assert parse_record(record).envelope == Envelope("", "", "", "")


def test_record_without_sns_part_says_so_and_shows_all_of_it() -> None:
    record = {"EventSource": "aws:sqs", "body": "hello"}
    forwarded = parse_record(record)
    assert isinstance(forwarded, ForwardedNotification)
    assert forwarded.note == "The Lambda record has no SNS part; the whole record is shown."
    assert json.loads(forwarded.text) == record


def test_a_message_that_is_not_text_is_shown_with_its_envelope() -> None:
    record = record_of("sns-alarm-single.json")
    record["Sns"]["Message"] = {"AlarmName": "x", "n": 1}
    forwarded = parse_record(record)
    assert isinstance(forwarded, ForwardedNotification)
    assert forwarded.note == "The SNS message is not text."
    assert json.loads(forwarded.text) == {"AlarmName": "x", "n": 1}
    assert forwarded.envelope.message_id == "a3c9e4f1-6d2b-5a87-b1c0-9e8d7f6a5b43"


def test_every_query_of_a_math_alarm_is_read_whole() -> None:
    """Periods, statistics and ReturnData decide what the graph draws and which line is the alarm's."""
    alarm = parse_record(record_of("sns-alarm-math.json"))
    assert isinstance(alarm, AlarmNotification)

    def errors(kind: str) -> MetricRef:
        return MetricRef("AWS/Bedrock", f"Invocation{kind}Errors", (), "Sum", 300)

    assert alarm.trigger.queries == (
        AlarmQuery(id="e1", expression="m1 + m2", label="Client + server errors", return_data=True),
        AlarmQuery(id="m1", metric=errors("Client"), return_data=False, period=300),
        AlarmQuery(id="m2", metric=errors("Server"), return_data=False, period=300),
    )


def test_anomaly_and_insights_queries_keep_dimensions_labels_and_periods() -> None:
    anomaly = parse_record(record_of("sns-alarm-anomaly.json"))
    assert isinstance(anomaly, AlarmNotification)
    opus = (("ModelId", "global.anthropic.claude-opus-4-6-v1"),)
    assert anomaly.trigger.queries == (
        AlarmQuery(id="m1", metric=MetricRef("AWS/Bedrock", "Invocations", opus, "Sum", 3600), period=3600),
        AlarmQuery(id="ad1", expression="ANOMALY_DETECTION_BAND(m1, 2)", label="Invocations (expected)"),
    )
    insights = parse_record(record_of("sns-alarm-insights.json"))
    assert isinstance(insights, AlarmNotification)
    assert insights.trigger.queries == (
        AlarmQuery(
            id="q1",
            expression='SELECT SUM(InputTokenCount) FROM SCHEMA("AWS/Bedrock", ModelId)',
            label="Input tokens, all models",
            period=3600,
        ),
    )


def test_a_metric_query_takes_the_outer_period_when_its_metric_stat_has_none() -> None:
    data = message_of("sns-alarm-math.json")
    del data["Trigger"]["Metrics"][1]["MetricStat"]["Period"]
    data["Trigger"]["Metrics"][1]["Period"] = 60
    data["Trigger"]["Metrics"].append({"Expression": "m1", "ReturnData": False})  # no Id: not a query
    alarm = parse_message(json.dumps(data))
    assert isinstance(alarm, AlarmNotification)
    assert [(q.id, q.period, q.metric.period if q.metric else None) for q in alarm.trigger.queries] == [
        ("e1", None, None),
        ("m1", 60, 60),
        ("m2", 300, 300),
    ]


def test_composite_children_keep_their_arn_for_links_and_a_bare_name_has_none() -> None:
    """A child's console link is built from its ARN (partition and region); a bare name has no ARN."""
    gov = "arn:aws-us-gov:cloudwatch:us-gov-west-1:123456789012:alarm:Bedrock-ServerErrors"
    data = message_of("sns-alarm-composite.json")
    data["TriggeringChildren"] = [gov, "Bedrock-Throttles", {"Arn": gov, "State": "ALARM"}]
    alarm = parse_message(json.dumps(data))
    assert isinstance(alarm, AlarmNotification)
    assert [(c.name, c.arn, c.state) for c in alarm.trigger.children] == [
        ("Bedrock-ServerErrors", gov, None),
        ("Bedrock-Throttles", None, None),
        ("Bedrock-ServerErrors", gov, None),  # a State that is not an object is ignored
    ]
    assert alarm.trigger.comparison == ""


def test_an_alarm_name_containing_the_arn_marker_is_kept_whole() -> None:
    """Alarm names may hold colons: only the first ':alarm:' of the ARN separates the name."""
    arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:team:alarm:cost"
    data = message_of("sns-alarm-composite.json")
    data["TriggeringChildren"] = [arn]
    alarm = parse_message(json.dumps(data))
    assert isinstance(alarm, AlarmNotification)
    assert [c.name for c in alarm.trigger.children] == ["team:alarm:cost"]


def test_dimension_without_value_reads_as_empty_and_percentiles_keep_their_spelling() -> None:
    data = message_of("sns-alarm-single.json")
    data["Trigger"]["Dimensions"] = [{"name": "ModelId"}]
    data["Trigger"]["Statistic"] = None
    data["Trigger"]["ExtendedStatistic"] = "p99"
    alarm = parse_message(json.dumps(data))
    assert isinstance(alarm, AlarmNotification)
    assert alarm.trigger.metric is not None
    assert alarm.trigger.metric.dimensions == (("ModelId", ""),)
    assert alarm.trigger.metric.stat == "p99"


def test_a_repeated_budget_line_keeps_its_first_value() -> None:
    """The fields table lists what AWS Budgets wrote first; a quoted line further down does not replace it."""
    message = record_of("sns-budget.json")["Sns"]["Message"] + "\nAlert Type: FORECASTED\n"
    budget = parse_message(message)
    assert isinstance(budget, BudgetNotification)
    assert budget.fields["Alert Type"] == "ACTUAL"


def test_an_anomaly_reason_without_thresholds_has_no_band() -> None:
    data = message_of("sns-alarm-anomaly.json")
    data["NewStateReason"] = "Thresholds Crossed: 1 datapoint [900.0 (28/11/26 18:00:00)] was not in the band"
    alarm = parse_message(json.dumps(data))
    assert isinstance(alarm, AlarmNotification)
    assert alarm.band is None


def test_a_boolean_threshold_is_not_a_number() -> None:
    data = message_of("sns-alarm-single.json")
    data["Trigger"]["Threshold"] = True
    alarm = parse_message(json.dumps(data))
    assert isinstance(alarm, AlarmNotification)
    assert alarm.trigger.threshold is None


def test_a_forwarded_record_is_shown_indented_as_json() -> None:
    forwarded = parse_record({"body": ["hello"]})
    assert isinstance(forwarded, ForwardedNotification)
    assert forwarded.text == '{\n  "body": [\n    "hello"\n  ]\n}'


def test_a_single_metric_alarm_is_read_field_by_field() -> None:
    """What the email shows (account, ARN link, reason, evaluation) comes from these fields as CloudWatch sent
    them in events/sns-alarm-single.json."""
    record = record_of("sns-alarm-single.json")
    alarm = parse_record(record)
    assert isinstance(alarm, AlarmNotification)
    assert alarm.description is None  # null in the message
    assert alarm.account_id == "123456789012"
    assert alarm.arn == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:Bedrock-HighLatency-ClaudeSonnet"
    assert alarm.reason.startswith("Threshold Crossed: 2 out of the last 3 datapoints [14210.5")
    assert alarm.envelope.message_id == record["Sns"]["MessageId"]
    trigger = alarm.trigger
    assert (trigger.comparison, trigger.period, trigger.evaluation_periods, trigger.datapoints_to_alarm) == (
        "GreaterThanThreshold",
        300,
        3,
        2,
    )
    assert trigger.metric == MetricRef(
        "AWS/Bedrock",
        "InvocationLatency",
        (("ModelId", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"),),
        "Average",
        300,
    )
    assert alarm.band is None  # not an anomaly alarm, though the reason quotes a threshold


def test_an_alarm_with_a_description_and_no_reason() -> None:
    data = message_of("sns-alarm-single.json")
    data["AlarmDescription"] = "  p99 over 10 s  "
    del data["NewStateReason"]
    del data["OldStateValue"]
    data["Trigger"]["ComparisonOperator"] = None
    alarm = parse_message(json.dumps(data))
    assert isinstance(alarm, AlarmNotification)
    assert (alarm.description, alarm.reason, alarm.old_state) == ("p99 over 10 s", "", None)
    assert alarm.trigger.comparison == ""


def test_a_metric_name_without_a_namespace_is_not_a_metric_alarm() -> None:
    data = message_of("sns-alarm-single.json")
    del data["Trigger"]["Namespace"]
    forwarded = parse_message(json.dumps(data))
    assert isinstance(forwarded, ForwardedNotification)
    assert forwarded.note == (
        "The alarm notification has no usable Trigger (cut off, or an alarm kind we do not know)."
    )
    assert forwarded.alarm_name == "Bedrock-HighLatency-ClaudeSonnet"


def test_forwarded_alarms_keep_name_and_envelope_and_say_which_state() -> None:
    envelope = Envelope(message_id="m-1")
    data = message_of("sns-alarm-single.json")
    del data["NewStateValue"]
    forwarded = parse_message(json.dumps(data), envelope)
    assert isinstance(forwarded, ForwardedNotification)
    assert forwarded.note == "The alarm notification has no known new state (missing)."
    assert (forwarded.alarm_name, forwarded.envelope) == ("Bedrock-HighLatency-ClaudeSonnet", envelope)
    del data["Trigger"]
    data["NewStateValue"] = "alarm"
    no_trigger = parse_message(json.dumps(data), envelope)
    assert isinstance(no_trigger, ForwardedNotification)
    assert no_trigger.envelope == envelope


@pytest.mark.parametrize(
    ("message", "note"),
    [
        (" \n ", "The notification is empty."),
        ("[" * 100_000, "The notification is JSON nested too deeply to read."),
        ("[1, 2]", "The notification is JSON but not a CloudWatch alarm state change."),
        ("hello [world", "The notification is plain text that is neither an alarm nor a budget alert."),
        ("  [1, 2", "The notification looks like JSON but cannot be read ("),
    ],
)
def test_each_kind_of_unreadable_message_says_why_and_keeps_the_envelope(message: str, note: str) -> None:
    envelope = Envelope(message_id="m-2", subject="s")
    forwarded = parse_message(message, envelope)
    assert isinstance(forwarded, ForwardedNotification)
    assert forwarded.note.startswith(note)
    assert (forwarded.text, forwarded.envelope) == (message, envelope)


def test_a_budget_keeps_its_envelope() -> None:
    envelope = Envelope(message_id="m-3")
    budget = parse_message(record_of("sns-budget.json")["Sns"]["Message"], envelope)
    assert isinstance(budget, BudgetNotification)
    assert budget.envelope == envelope


def test_query_kinds_are_recognised_in_any_case_and_take_the_query_period() -> None:
    """An alarm's kind decides the email's wording and graph; the period comes from its query if not set."""
    insights = message_of("sns-alarm-insights.json")
    insights["Trigger"].pop("Period", None)
    insights["Trigger"]["Metrics"][0]["Expression"] = 'select sum(InputTokenCount) from schema("AWS/Bedrock")'
    alarm = parse_message(json.dumps(insights))
    assert isinstance(alarm, AlarmNotification)
    assert (alarm.trigger.kind, alarm.trigger.period) == ("insights", 3600)

    anomaly = message_of("sns-alarm-anomaly.json")
    anomaly["Trigger"].pop("ThresholdMetricId")
    anomaly["Trigger"]["Metrics"][1]["Expression"] = "anomaly_detection_band(m1, 2)"
    alarm = parse_message(json.dumps(anomaly))
    assert isinstance(alarm, AlarmNotification)
    assert alarm.trigger.kind == "anomaly"
    # One input metric: the graph and the per-model breakdown use it.
    assert alarm.trigger.metric is not None
    assert alarm.trigger.metric.name == "Invocations"


def test_a_math_alarm_over_two_metrics_has_no_single_input() -> None:
    alarm = parse_record(record_of("sns-alarm-math.json"))
    assert isinstance(alarm, AlarmNotification)
    assert alarm.trigger.metric is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-28T18:25:03.114+0000", datetime(2026, 11, 28, 18, 25, 3, 114000, tzinfo=UTC)),
        ("2026-11-28T19:25:03+0100", datetime(2026, 11, 28, 18, 25, 3, tzinfo=UTC)),
        ("2026-11-28T18:25:03", datetime(2026, 11, 28, 18, 25, 3, tzinfo=UTC)),
        ("2026-11-28T20:25:03.5+02:00", datetime(2026, 11, 28, 18, 25, 3, 500000, tzinfo=UTC)),
        ("yesterday", None),
    ],
)
@pytest.mark.usefixtures("tokyo_local_time")  # the router's clock must not leak into the email's times
def test_state_change_times_are_read_as_utc_whatever_the_local_zone(
    text: str, expected: datetime | None
) -> None:
    from bedrock_usage.alarms.notification import parse_time

    moment = parse_time(text)

    assert moment == expected
    assert moment is None or moment.utcoffset() == timedelta(0)


def test_an_alarm_in_govcloud_links_to_the_govcloud_console() -> None:
    """Partition and region come from the alarm's ARN, so the email's links go to the right console."""
    data = message_of("sns-alarm-single.json")
    data["AlarmArn"] = "arn:aws-us-gov:cloudwatch:us-gov-west-1:123456789012:alarm:Bedrock-HighLatency"
    alarm = parse_message(json.dumps(data))
    assert isinstance(alarm, AlarmNotification)
    assert (alarm.partition, alarm.region) == ("aws-us-gov", "us-gov-west-1")


def test_a_math_alarm_without_any_period_and_a_query_without_return_data_still_parse() -> None:
    data = message_of("sns-alarm-math.json")
    data["Trigger"].pop("Period", None)
    for query in data["Trigger"]["Metrics"]:
        query.get("MetricStat", {}).pop("Period", None)
    del data["Trigger"]["Metrics"][0]["ReturnData"]  # the API's default is true
    alarm = parse_message(json.dumps(data))
    assert isinstance(alarm, AlarmNotification)
    assert alarm.trigger.period is None
    assert alarm.trigger.queries[0].return_data is True


def test_a_child_alarm_from_describe_alarms_is_read_field_by_field() -> None:
    """A composite's child, as DescribeAlarms returns it (API casing, a datetime), feeds the email's
    per-child lines and links."""
    from bedrock_usage.alarms.notification import metric_alarm

    from tests.alarm_router.test_cloudwatch import CLIENT_ERRORS_ALARM

    gov_arn = "arn:aws-us-gov:cloudwatch:us-gov-east-1:123456789012:alarm:Bedrock-ClientErrors"
    child = metric_alarm({**CLIENT_ERRORS_ALARM, "AlarmArn": gov_arn})
    assert child is not None
    assert (child.name, child.new_state, child.old_state) == ("Bedrock-ClientErrors", "ALARM", None)
    assert child.reason == CLIENT_ERRORS_ALARM["StateReason"]
    assert child.description == "More than 10 Bedrock client errors (4xx, all models) in 5 minutes."
    assert (child.arn, child.partition, child.region) == (gov_arn, "aws-us-gov", "us-gov-east-1")
    assert child.state_change_time == datetime(2026, 11, 28, 18, 25, 3, tzinfo=UTC)
    assert child.state_change_time.tzinfo is UTC  # shown as UTC, not in the function's local zone
    assert [(d.value, d.at) for d in child.observed] == [(37.0, "28/11/26 18:20:00")]
    assert child.band is None
    assert (child.trigger.kind, child.trigger.threshold, child.trigger.period) == ("insights", 10.0, 300)
    # No StateValue, no reason, no timestamp, commercial ARN: read with the defaults the email expects.
    assert metric_alarm({**CLIENT_ERRORS_ALARM, "StateValue": "OK"}).new_state == "OK"  # type: ignore[union-attr]
    bare = {
        k: v for k, v in CLIENT_ERRORS_ALARM.items() if k not in {"StateValue", "StateReason", "AlarmArn"}
    }
    plain = metric_alarm({**bare, "StateUpdatedTimestamp": "2026-11-28"})
    assert plain is not None
    assert (plain.new_state, plain.reason, plain.state_change_time, plain.partition) == (
        "ALARM",
        "",
        None,
        "aws",
    )
    assert metric_alarm({**CLIENT_ERRORS_ALARM, "AlarmName": ""}) is None
    assert metric_alarm({"AlarmName": "x"}) is None


def test_a_child_anomaly_alarm_has_its_band() -> None:
    from bedrock_usage.alarms.notification import metric_alarm

    anomaly = message_of("sns-alarm-anomaly.json")
    child = metric_alarm(
        {
            **anomaly["Trigger"],
            "AlarmName": "Bedrock-InvocationsAnomaly",
            "StateReason": anomaly["NewStateReason"],
        }
    )
    assert child is not None
    assert child.trigger.kind == "anomaly"
    assert child.band == (212.7, 1180.4)
