"""CloudWatch reads that make an alarm email useful: top models, the metric graph, when the alarm began.

Each function takes a CloudWatch client and raises botocore errors as they come; the caller decides
that a missing graph or model list must not stop the email.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bedrock_usage.alarms.notification import AlarmNotification, MetricRef, metric_alarm

BEDROCK_NAMESPACE = "AWS/Bedrock"
_INSIGHTS_FUNCTION = {
    "Sum": "SUM",
    "Average": "AVG",
    "Maximum": "MAX",
    "Minimum": "MIN",
    "SampleCount": "COUNT",
}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
WIDGET_WIDTH, WIDGET_HEIGHT = 600, 260


@dataclass(frozen=True)
class ModelValue:
    """One model's value of the alarm's metric over the last hour."""

    model_id: str
    value: float
    account: str | None = None  # monitoring mode: the linked account whose series this is


def top_models_query(alarm: AlarmNotification, limit: int = 5, *, by_account: bool = False) -> str | None:
    """The Metrics Insights query ranking models by the alarm's metric; None when it does not apply.

    `by_account` (monitoring mode) ranks (account, model) series: GROUP BY AWS.AccountId in a monitoring
    account splits by source account (CloudWatch "Metrics Insights query components")."""
    trigger = alarm.trigger
    metric = trigger.metric_name
    if trigger.namespace != BEDROCK_NAMESPACE or not metric or not _IDENTIFIER.fullmatch(metric):
        return None
    function = _INSIGHTS_FUNCTION.get(trigger.statistic or "Sum", "SUM")
    # SCHEMA(..., ModelId) matches only per-model series, never an account-wide aggregate (REFERENCE §13.2).
    # Not SQL: a CloudWatch Metrics Insights query; the metric name was checked against _IDENTIFIER above.
    group = "AWS.AccountId, ModelId" if by_account else "ModelId"
    return (
        f'SELECT {function}({metric}) FROM SCHEMA("{BEDROCK_NAMESPACE}", ModelId) '  # noqa: S608
        f"GROUP BY {group} ORDER BY {function}() DESC LIMIT {int(limit)}"
    )


def top_models(
    cloudwatch: Any, alarm: AlarmNotification, *, now: datetime, limit: int = 5, by_account: bool = False
) -> tuple[ModelValue, ...] | None:
    """Which models (and, `by_account`, which accounts) drove the alarm: one GetMetricData with a Metrics
    Insights query over the last hour."""
    query = top_models_query(alarm, limit, by_account=by_account)
    if query is None:
        return None
    end = now.astimezone(UTC).replace(second=0, microsecond=0)
    request: dict[str, Any] = {
        "MetricDataQueries": [{"Id": "models", "Expression": query, "Period": 3600, "ReturnData": True}],
        "StartTime": end - timedelta(hours=1),
        "EndTime": end,
        "ScanBy": "TimestampDescending",
    }
    statistic = alarm.trigger.statistic or "Sum"
    values: dict[str, list[float]] = {}
    for _ in range(10):  # one page is the norm; bounded so a misbehaving API cannot loop forever
        response = cloudwatch.get_metric_data(**request)
        for result in response.get("MetricDataResults", []):
            label = str(result.get("Label") or result.get("Id"))
            values.setdefault(label, []).extend(float(v) for v in result.get("Values", []))
        if not response.get("NextToken"):
            break
        request["NextToken"] = response["NextToken"]
    ranked = []
    for label, points in values.items():
        if points:
            model_id, account = _model_and_account(label, by_account)
            ranked.append(ModelValue(model_id, _combine(statistic, points), account))
    ranked.sort(key=lambda item: item.value, reverse=True)
    return tuple(ranked[:limit])


def _model_and_account(label: str, by_account: bool) -> tuple[str, str | None]:
    """A grouped series' label holds its group values; with the account, it is the 12-digit word."""
    words = label.split()
    account = next((w for w in words if by_account and len(w) == 12 and w.isdigit()), None)
    if account is None:
        return label, None
    return " ".join(w for w in words if w != account) or label, account


def _combine(statistic: str, points: list[float]) -> float:
    # An hour that is not aligned to the period can come back as two datapoints.
    if statistic in ("Sum", "SampleCount"):
        return sum(points)
    if statistic == "Maximum":
        return max(points)
    if statistic == "Minimum":
        return min(points)
    return sum(points) / len(points)


def metric_widget(alarm: AlarmNotification, models: tuple[ModelValue, ...] | None = None) -> dict[str, Any]:
    """The GetMetricWidgetImage definition: the alarm's metric(s) over the last hours, threshold marked.

    A Metrics Insights alarm is drawn as plain metric rows, one per model in `models` (stacked when the
    statistic adds up), because GetMetricWidgetImage documents metric math only, never SQL (REFERENCE §14.1).
    Raises ValueError when such an alarm has no models to draw.
    """
    trigger = alarm.trigger
    period = trigger.period or 300
    hours = max(3, min(24, -(-period * max(trigger.evaluation_periods or 1, 1) * 4 // 3600)))
    metrics: list[list[Any]] = []
    stacked = False
    if trigger.kind == "insights":
        name, statistic = trigger.metric_name, trigger.statistic or "Sum"
        if not models or trigger.namespace != BEDROCK_NAMESPACE or not name:
            raise ValueError(
                "a Metrics Insights alarm is drawn from its per-model series, and none was found"
            )
        stacked = statistic in ("Sum", "SampleCount")
        for model in models:
            row_options = {"stat": statistic, "period": period, "label": model.model_id}
            metrics.append([BEDROCK_NAMESPACE, name, "ModelId", model.model_id, row_options])
    elif trigger.kind == "metric" and trigger.metric:
        metrics.append(_metric_row(trigger.metric, {"label": trigger.metric.name}))
    for query in trigger.queries if trigger.kind != "insights" else ():
        visible = query.return_data or query.id == trigger.threshold_metric_id
        if query.expression:
            options: dict[str, Any] = {"expression": query.expression, "id": query.id, "visible": visible}
            options["label"] = query.label or (
                "expected band" if query.id == trigger.threshold_metric_id else query.id
            )
            metrics.append([options])
        elif query.metric:
            metrics.append(_metric_row(query.metric, {"id": query.id, "visible": visible}))
    widget: dict[str, Any] = {
        "title": alarm.name[:200],
        "view": "timeSeries",
        "stacked": stacked,
        "metrics": metrics,
        "period": period,
        "start": f"-PT{hours}H",
        "end": "P0D",
        "width": WIDGET_WIDTH,
        "height": WIDGET_HEIGHT,
        "legend": {"position": "bottom"},
    }
    if alarm.region:
        widget["region"] = alarm.region
    if trigger.threshold is not None:
        label = "threshold (all models)" if trigger.kind == "insights" else "threshold"
        widget["annotations"] = {
            "horizontal": [{"value": trigger.threshold, "label": label, "color": "#d13212"}]
        }
    return widget


def _metric_row(metric: MetricRef, options: dict[str, Any]) -> list[Any]:
    row: list[Any] = [metric.namespace, metric.name]
    for name, value in metric.dimensions:
        row.extend([name, value])
    if metric.stat:
        options = {**options, "stat": metric.stat}
    if metric.period:
        options = {**options, "period": metric.period}
    return [*row, options]


def widget_image(
    cloudwatch: Any, alarm: AlarmNotification, models: tuple[ModelValue, ...] | None = None
) -> bytes:
    """A PNG of the alarm's metric from CloudWatch GetMetricWidgetImage (see `metric_widget`)."""
    response = cloudwatch.get_metric_widget_image(
        MetricWidget=json.dumps(metric_widget(alarm, models)), OutputFormat="png"
    )
    image = response["MetricWidgetImage"]
    if not image:
        raise ValueError("GetMetricWidgetImage returned no image")
    return bytes(image)


def alarm_started(
    cloudwatch: Any, alarm_name: str, *, before: datetime, max_pages: int = 5
) -> datetime | None:
    """When the alarm last went into ALARM at or before `before`, from its state history; None if unknown."""
    request: dict[str, Any] = {
        "AlarmName": alarm_name,
        "HistoryItemType": "StateUpdate",
        # without AlarmTypes only metric alarms are searched; composite alarms notify too
        "AlarmTypes": ["MetricAlarm", "CompositeAlarm"],
        "EndDate": before + timedelta(seconds=1),
        "ScanBy": "TimestampDescending",
        "MaxRecords": 50,
    }
    for _ in range(max_pages):
        response = cloudwatch.describe_alarm_history(**request)
        for item in response.get("AlarmHistoryItems", []):
            if _entered_alarm(item):
                stamp = item.get("Timestamp")
                if isinstance(stamp, datetime):
                    return stamp.astimezone(UTC) if stamp.tzinfo else stamp.replace(tzinfo=UTC)
        if not response.get("NextToken"):
            return None
        request["NextToken"] = response["NextToken"]
    return None


def _entered_alarm(item: dict[str, Any]) -> bool:
    try:
        data = json.loads(item.get("HistoryData") or "{}")
        new_state = data["newState"]["stateValue"]
        old_state = data.get("oldState", {}).get("stateValue")
    except (ValueError, KeyError, TypeError, AttributeError):
        summary = str(item.get("HistorySummary") or "")
        match = re.search(r"from (\w+) to (\w+)", summary)
        if not match:
            return False
        old_state, new_state = match.groups()
    return new_state == "ALARM" and old_state != "ALARM"


def child_alarms(cloudwatch: Any, alarm: AlarmNotification) -> tuple[AlarmNotification, ...]:
    """A composite alarm's triggering children, with their metrics, from one DescribeAlarms call."""
    names = [child.name for child in alarm.trigger.children][:100]  # DescribeAlarms takes up to 100 names
    if not names:
        return ()
    response = cloudwatch.describe_alarms(AlarmNames=names, AlarmTypes=["MetricAlarm"])
    found = (metric_alarm(item) for item in response.get("MetricAlarms", []))
    return tuple(child for child in found if child is not None)
