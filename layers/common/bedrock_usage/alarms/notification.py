"""Parse what the alert topic carries into typed values: alarm state changes, budget alerts, or raw text.

Parsing never raises for bad input: anything that is not a recognisable alarm or budget notification
becomes a `ForwardedNotification` that carries the raw text and a note saying why (REFERENCE.md §5).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from bedrock_usage.alarms.location import arn_location

ALARM_STATES = ("ALARM", "OK", "INSUFFICIENT_DATA")
TriggerKind = Literal["metric", "math", "insights", "anomaly", "composite"]


@dataclass(frozen=True)
class Envelope:
    """The SNS part of one Lambda record."""

    message_id: str = ""
    topic_arn: str = ""
    subject: str = ""
    timestamp: str = ""


@dataclass(frozen=True)
class MetricRef:
    """One CloudWatch metric with the statistic the alarm evaluates (API casing: 'Sum', 'Average')."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...] = ()
    stat: str | None = None
    period: int | None = None


@dataclass(frozen=True)
class AlarmQuery:
    """One entry of Trigger.Metrics: a metric, a metric-math expression or a Metrics Insights query."""

    id: str
    expression: str | None = None
    metric: MetricRef | None = None
    label: str | None = None
    return_data: bool = True
    period: int | None = None


@dataclass(frozen=True)
class ChildAlarm:
    """A composite alarm's triggering child, as listed in TriggeringChildren."""

    name: str
    arn: str | None = None
    state: str | None = None
    since: datetime | None = None


@dataclass(frozen=True)
class Trigger:
    """What the alarm evaluates. Composite alarms have a rule and triggering children instead of metrics."""

    kind: TriggerKind
    comparison: str
    threshold: float | None = None
    metric: MetricRef | None = None  # single-metric alarms, or the one input of a math/anomaly alarm
    queries: tuple[AlarmQuery, ...] = ()
    threshold_metric_id: str | None = None
    period: int | None = None
    evaluation_periods: int | None = None
    datapoints_to_alarm: int | None = None
    treat_missing_data: str | None = None
    rule: str | None = None
    children: tuple[ChildAlarm, ...] = ()

    @property
    def returned(self) -> AlarmQuery | None:
        """The query whose value the alarm compares (ReturnData true, not the anomaly band)."""
        for query in self.queries:
            if query.return_data and query.id != self.threshold_metric_id:
                return query
        return None

    @property
    def namespace(self) -> str | None:
        """The metric namespace, also for Metrics Insights queries (from their SCHEMA/FROM clause)."""
        if self.metric:
            return self.metric.namespace
        for query in self.queries:
            if query.expression and (match := _FROM_NAMESPACE.search(query.expression)):
                return match.group(1)
        return None

    @property
    def metric_name(self) -> str | None:
        if self.metric:
            return self.metric.name
        for query in self.queries:
            if query.expression and (match := _SELECT.search(query.expression)):
                return match.group(2)
        return None

    @property
    def statistic(self) -> str | None:
        """API-cased statistic ('Sum', 'Average', ...) of the evaluated metric, when it has one."""
        if self.metric and self.metric.stat:
            return self.metric.stat
        for query in self.queries:
            if query.expression and (match := _SELECT.search(query.expression)):
                return _INSIGHTS_FUNCTIONS.get(match.group(1).upper())
        return None


@dataclass(frozen=True)
class Datapoint:
    value: float
    at: str  # as CloudWatch wrote it in the reason, e.g. '28/11/26 18:00:00'


@dataclass(frozen=True)
class AlarmNotification:
    """A CloudWatch alarm state change, as CloudWatch publishes it to SNS."""

    name: str
    new_state: str
    old_state: str | None
    reason: str
    trigger: Trigger
    description: str | None = None
    account_id: str | None = None
    arn: str | None = None
    region: str | None = None  # the code, e.g. us-east-1 (SNS carries the long name)
    region_name: str | None = None
    partition: str = "aws"
    state_change_time: datetime | None = None
    observed: tuple[Datapoint, ...] = ()
    band: tuple[float | None, float | None] | None = None  # anomaly detection (lower, upper)
    envelope: Envelope = field(default_factory=Envelope)

    @property
    def route_key(self) -> str:
        return self.name


@dataclass(frozen=True)
class BudgetNotification:
    """An AWS Budgets alert: plain text with 'Key: Value' lines."""

    text: str
    fields: dict[str, str]
    envelope: Envelope = field(default_factory=Envelope)

    @property
    def budget_name(self) -> str:
        return self.fields.get("Budget Name", "") or "(unnamed budget)"

    @property
    def route_key(self) -> str:
        return self.budget_name


@dataclass(frozen=True)
class ForwardedNotification:
    """Anything else: forwarded as received, with a note saying why it was not understood."""

    text: str
    note: str
    alarm_name: str | None = None  # when the text was an alarm we could not read fully
    envelope: Envelope = field(default_factory=Envelope)

    @property
    def route_key(self) -> str | None:
        return self.alarm_name


Notification = AlarmNotification | BudgetNotification | ForwardedNotification

_FROM_NAMESPACE = re.compile(r"""\bFROM\s+(?:SCHEMA\(\s*)?["']?([^"',)\s]+)""", re.IGNORECASE)
_SELECT = re.compile(r"\bSELECT\s+(AVG|SUM|MAX|MIN|COUNT)\s*\(\s*\"?([A-Za-z0-9_.\-/:]+)\"?\s*\)", re.I)
_INSIGHTS_FUNCTIONS = {
    "SUM": "Sum",
    "AVG": "Average",
    "MAX": "Maximum",
    "MIN": "Minimum",
    "COUNT": "SampleCount",
}
# CloudWatch writes statistics in upper case in SNS messages; the APIs want 'Sum', 'Average', ...
_STATISTICS = {s.upper(): s for s in ("Sum", "Average", "Maximum", "Minimum", "SampleCount")}
_NUMBER = r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_DATAPOINT = re.compile(rf"({_NUMBER})\s*\(([^)]*)\)")
_BUDGET_LINE = re.compile(r"^\s*([A-Z][A-Za-z ]{1,40}?)\s*:\s*(.+?)\s*$")


def parse_record(record: Any) -> Notification:
    """One Lambda record from an SNS subscription -> a typed notification (never raises)."""
    if not isinstance(record, dict) or not isinstance(record.get("Sns"), dict):
        return ForwardedNotification(
            text=_dump(record), note="The Lambda record has no SNS part; the whole record is shown."
        )
    sns = record["Sns"]
    envelope = Envelope(
        message_id=str(sns.get("MessageId") or ""),
        topic_arn=str(sns.get("TopicArn") or ""),
        subject=str(sns.get("Subject") or ""),
        timestamp=str(sns.get("Timestamp") or ""),
    )
    message = sns.get("Message")
    if not isinstance(message, str):
        return ForwardedNotification(_dump(message), "The SNS message is not text.", envelope=envelope)
    return parse_message(message, envelope)


def parse_message(message: str, envelope: Envelope | None = None) -> Notification:
    """The SNS Message string -> alarm, budget or forwarded notification."""
    envelope = envelope or Envelope()
    if not message.strip():
        return ForwardedNotification(message, "The notification is empty.", envelope=envelope)
    try:
        data = json.loads(message)
    except RecursionError:
        # json.loads recurses per nesting level: '[' * 100000 exhausts the stack (not a ValueError).
        return ForwardedNotification(
            message, "The notification is JSON nested too deeply to read.", envelope=envelope
        )
    except ValueError as error:
        if _looks_like_budget(message):
            return BudgetNotification(message, _budget_fields(message), envelope)
        note = (
            f"The notification looks like JSON but cannot be read ({error}); it may be truncated."
            if message.lstrip().startswith(("{", "["))
            else "The notification is plain text that is neither an alarm nor a budget alert."
        )
        return ForwardedNotification(message, note, envelope=envelope)
    if not isinstance(data, dict) or not data.get("AlarmName"):
        return ForwardedNotification(
            message, "The notification is JSON but not a CloudWatch alarm state change.", envelope=envelope
        )
    return _alarm(data, message, envelope)


def _alarm(data: dict[str, Any], message: str, envelope: Envelope) -> Notification:
    name = str(data["AlarmName"])
    new_state = str(data.get("NewStateValue") or "").upper()
    if new_state not in ALARM_STATES:
        return ForwardedNotification(
            message,
            f"The alarm notification has no known new state ({new_state or 'missing'}).",
            name,
            envelope,
        )
    trigger = _composite(data) if data.get("AlarmRule") else _trigger(data.get("Trigger"))
    if trigger is None:
        return ForwardedNotification(
            message,
            "The alarm notification has no usable Trigger (cut off, or an alarm kind we do not know).",
            name,
            envelope,
        )
    arn = _str(data.get("AlarmArn"))
    region_name = _str(data.get("Region"))
    partition, region = arn_location(arn)
    reason = _str(data.get("NewStateReason")) or ""
    return AlarmNotification(
        name=name,
        new_state=new_state,
        old_state=(_str(data.get("OldStateValue")) or "").upper() or None,
        reason=reason,
        trigger=trigger,
        description=_str(data.get("AlarmDescription")),
        account_id=_str(data.get("AWSAccountId")),
        arn=arn,
        # Never from the long name: CloudWatch's legacy "EU (Ireland)" is not botocore's "Europe (Ireland)".
        region=region,
        region_name=region_name,
        partition=partition or "aws",
        state_change_time=parse_time(_str(data.get("StateChangeTime"))),
        observed=observed_datapoints(reason),
        band=anomaly_band(reason) if trigger.kind == "anomaly" else None,
        envelope=envelope,
    )


def _composite(data: dict[str, Any]) -> Trigger:
    children = []
    for child in _list(data.get("TriggeringChildren")):
        if isinstance(child, str):  # the docs' schema says [String]; real messages carry objects
            children.append(
                ChildAlarm(name=_alarm_name(child), arn=child if child.startswith("arn:") else None)
            )
        elif isinstance(child, dict) and child.get("Arn"):
            raw_state = child.get("State")
            state: dict[str, Any] = raw_state if isinstance(raw_state, dict) else {}
            children.append(
                ChildAlarm(
                    name=_alarm_name(str(child["Arn"])),
                    arn=str(child["Arn"]),
                    state=_str(state.get("Value")),
                    since=parse_time(_str(state.get("Timestamp"))),
                )
            )
    return Trigger(kind="composite", comparison="", rule=str(data["AlarmRule"]), children=tuple(children))


def _alarm_name(arn_or_name: str) -> str:
    return arn_or_name.split(":alarm:", 1)[1] if ":alarm:" in arn_or_name else arn_or_name


def metric_alarm(data: dict[str, Any]) -> AlarmNotification | None:
    """A MetricAlarm from DescribeAlarms (API casing) as a notification-like value; None if unreadable."""
    trigger = _trigger(data)
    if trigger is None or not data.get("AlarmName"):
        return None
    arn = _str(data.get("AlarmArn"))
    partition, region = arn_location(arn)
    reason = _str(data.get("StateReason")) or ""
    updated = data.get("StateUpdatedTimestamp")
    return AlarmNotification(
        name=str(data["AlarmName"]),
        new_state=str(data.get("StateValue") or "ALARM"),
        old_state=None,
        reason=reason,
        trigger=trigger,
        description=_str(data.get("AlarmDescription")),
        arn=arn,
        region=region,
        partition=partition or "aws",
        state_change_time=updated.astimezone(UTC) if isinstance(updated, datetime) else None,
        observed=observed_datapoints(reason),
        band=anomaly_band(reason) if trigger.kind == "anomaly" else None,
    )


def _trigger(raw: Any) -> Trigger | None:
    if not isinstance(raw, dict):
        return None
    common: dict[str, Any] = {
        "comparison": _str(raw.get("ComparisonOperator")) or "",
        "threshold": _float(raw.get("Threshold")),
        "threshold_metric_id": _str(raw.get("ThresholdMetricId")),
        "period": _int(raw.get("Period")),
        "evaluation_periods": _int(raw.get("EvaluationPeriods")),
        "datapoints_to_alarm": _int(raw.get("DatapointsToAlarm")),
        "treat_missing_data": _treat_missing(raw.get("TreatMissingData")),
    }
    if raw.get("MetricName") and raw.get("Namespace"):
        metric = MetricRef(
            namespace=str(raw["Namespace"]),
            name=str(raw["MetricName"]),
            dimensions=_dimensions(raw.get("Dimensions")),
            stat=_statistic(raw.get("Statistic") or raw.get("ExtendedStatistic")),
            period=common["period"],
        )
        return Trigger(kind="metric", metric=metric, **common)
    queries = tuple(q for q in (_query(item) for item in _list(raw.get("Metrics"))) if q is not None)
    if not queries:
        return None
    inputs = [q.metric for q in queries if q.metric is not None]
    expressions = " ".join(q.expression or "" for q in queries)
    kind: TriggerKind
    if common["threshold_metric_id"] or "ANOMALY_DETECTION_BAND" in expressions.upper():
        kind = "anomaly"
    elif re.search(r"\bSELECT\b", expressions, re.IGNORECASE):
        kind = "insights"
    else:
        kind = "math"
    if kind != "anomaly" and common["threshold"] is None:
        return None
    period = common["period"] or next((q.period for q in queries if q.period), None)
    common["period"] = period
    return Trigger(kind=kind, metric=inputs[0] if len(inputs) == 1 else None, queries=queries, **common)


def _query(raw: Any) -> AlarmQuery | None:
    if not isinstance(raw, dict) or not raw.get("Id"):
        return None
    metric = None
    period = _int(raw.get("Period"))
    stat_block = raw.get("MetricStat")
    if isinstance(stat_block, dict) and isinstance(stat_block.get("Metric"), dict):
        inner = stat_block["Metric"]
        period = _int(stat_block.get("Period")) or period
        metric = MetricRef(
            namespace=str(inner.get("Namespace") or ""),
            name=str(inner.get("MetricName") or ""),
            dimensions=_dimensions(inner.get("Dimensions")),
            stat=_statistic(stat_block.get("Stat")),
            period=period,
        )
    return_data = raw.get("ReturnData")
    return AlarmQuery(
        id=str(raw["Id"]),
        expression=_str(raw.get("Expression")),
        metric=metric,
        label=_str(raw.get("Label")),
        return_data=True if return_data is None else bool(return_data),
        period=period,
    )


def _dimensions(raw: Any) -> tuple[tuple[str, str], ...]:
    """SNS writes [{"value":..,"name":..}] (lower-case keys); the API writes Name/Value. Accept both."""
    result = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, dict):
            lowered = {str(k).lower(): v for k, v in item.items()}
            if lowered.get("name") is not None:
                result.append((str(lowered["name"]), str(lowered.get("value", ""))))
    return tuple(result)


def _statistic(raw: Any) -> str | None:
    if not raw:
        return None
    text = str(raw)
    return _STATISTICS.get(text.upper(), text)  # percentiles such as p99 stay as written


def _treat_missing(raw: Any) -> str | None:
    # Older alarms sent "- TreatMissingData:                    missing" (a known CloudWatch quirk).
    text = _str(raw)
    return text.split(":")[-1].strip() or None if text else None


def observed_datapoints(reason: str) -> tuple[Datapoint, ...]:
    """Datapoints quoted in NewStateReason: '... datapoints [125000.0 (28/11/26 18:00:00)] ...'."""
    match = re.search(r"datapoints?\s*\[([^\]]*)\]", reason)
    if not match:
        return ()
    points = ((float(value), at.strip()) for value, at in _DATAPOINT.findall(match.group(1)))
    return tuple(Datapoint(value, at) for value, at in points if math.isfinite(value))


def anomaly_band(reason: str) -> tuple[float | None, float | None] | None:
    """Lower/upper thresholds quoted by anomaly-detection alarms ('... the upper thresholds [0.33]')."""
    bounds = []
    for side in ("lower", "upper"):
        match = re.search(rf"{side} thresholds?\s*\[\s*({_NUMBER})", reason)
        bounds.append(_float(match.group(1)) if match else None)
    return (bounds[0], bounds[1]) if any(b is not None for b in bounds) else None


def parse_time(text: str | None) -> datetime | None:
    """CloudWatch's '2023-10-10T06:41:58.348+0000' (or ISO-8601) -> aware UTC datetime; None if unreadable."""
    if not text:
        return None
    try:
        # Since Python 3.11 (the runtime is 3.13) this reads CloudWatch's '+0000' and a 'Z' as well.
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


_BUDGET_FIRST_LINE = re.compile(r"AWS Budget Notification\b")
_BUDGET_NAME_LINE = re.compile(r"^Budget Name:[ \t]*\S", re.MULTILINE)


def _looks_like_budget(message: str) -> bool:
    """AWS Budgets' plain-text shape: first line 'AWS Budget Notification <date>', a 'Budget Name:' line.

    Both are required (REFERENCE §5, events/sns-budget.json): a word such as 'Alert' anywhere is not enough.
    """
    head = message[:4000]
    first = next((line.strip() for line in head.splitlines() if line.strip()), "")
    return bool(_BUDGET_FIRST_LINE.match(first)) and bool(_BUDGET_NAME_LINE.search(head))


def _budget_fields(message: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in message.splitlines():
        match = _BUDGET_LINE.match(line)
        if match and match.group(1) not in fields:
            fields[match.group(1)] = match.group(2)
    return fields


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _float(value: Any) -> float | None:
    """A finite float, or None: NaN, Infinity and 1e999 (json.loads reads it as inf) are not numbers."""
    try:
        number = None if value is None or isinstance(value, bool) else float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number is not None and math.isfinite(number) else None


def _int(value: Any) -> int | None:
    number = _float(value)
    return int(number) if number is not None else None


def _dump(value: Any) -> str:
    try:
        return json.dumps(value, indent=2, default=str)
    except (TypeError, ValueError):
        return repr(value)
