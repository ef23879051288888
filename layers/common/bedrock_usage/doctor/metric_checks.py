"""Checks 4, 7 and 9: which Bedrock metrics exist here, each alarm's state and graph, and the report
function's last run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from functools import partial
from typing import Any

from botocore.exceptions import ClientError

from bedrock_usage.alarms.cloudwatch import ModelValue, top_models, widget_image
from bedrock_usage.alarms.notification import AlarmNotification, metric_alarm
from bedrock_usage.collect import cloudwatch as metrics
from bedrock_usage.doctor.core import (
    ACCESS_DENIED,
    FAIL,
    PASS,
    SKIP,
    UNAVAILABLE,
    WARN,
    Check,
    Context,
    describe_error,
    error_code,
    guarded,
)
from bedrock_usage.price import parse_model_id

CACHE_NAMES = (
    "CacheReadInputTokenCount",
    "CacheWriteInputTokenCount",
    "CacheReadInputTokens",
    "CacheWriteInputTokens",
)
PNG = b"\x89PNG\r\n\x1a\n"
ALARM_TYPES = ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")
LAST_RUN_WINDOW = timedelta(hours=26)  # a daily schedule, with room for a late or retried run


def _listed(ids: list[str], limit: int = 4) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" (+{len(ids) - limit} more)" if len(ids) > limit else "")


def check_metric_names(ctx: Context) -> list[Check]:
    """4a/4b. ModelId values and metric names in AWS/Bedrock (ListMetrics: series with data in 14 days)."""
    cloudwatch = ctx.client("cloudwatch")
    found = metrics.discover(cloudwatch)
    aggregate = cloudwatch.list_metrics(Namespace=metrics.NAMESPACE, MetricName="Invocations")
    account_wide = any(not m.get("Dimensions") for m in aggregate.get("Metrics", []))
    if not found:
        return [
            Check(
                "4a",
                "Bedrock metrics (ModelId)",
                WARN,
                f"no AWS/Bedrock series with a ModelId in {ctx.region} in the last 14 days",
                "invoke a model through bedrock-runtime in this Region, then re-run",
            )
        ]
    kinds: dict[str, list[str]] = {}
    for model_id in sorted(found):
        kinds.setdefault(parse_model_id(model_id).kind, []).append(model_id)
    parts = [f"{len(found)} ModelId values"]
    parts += [f"{kind}: {_listed(ids)}" for kind, ids in sorted(kinds.items())]
    parts.append(f"account-wide series without ModelId: {'yes' if account_wide else 'no'}")
    rows = [Check("4a", "Bedrock metrics (ModelId)", PASS, "; ".join(parts))]
    names = set().union(*found.values())
    cache = [name for name in CACHE_NAMES if name in names]
    if cache:
        rows.append(Check("4b", "Cache-token metric names", PASS, ", ".join(cache)))
    else:
        rows.append(
            Check(
                "4b",
                "Cache-token metric names",
                SKIP,
                "no cache-token metric in 14 days (no prompt caching used here yet)",
            )
        )
    return rows


def _alarms(ctx: Context) -> Iterator[dict[str, Any]]:
    names = ctx.stack.of_type(*ALARM_TYPES)
    cloudwatch = ctx.client("cloudwatch")
    for start in range(0, len(names), 100):  # DescribeAlarms takes up to 100 names
        response = cloudwatch.describe_alarms(
            AlarmNames=names[start : start + 100], AlarmTypes=["MetricAlarm", "CompositeAlarm"]
        )
        yield from ({**a, "_composite": False} for a in response.get("MetricAlarms", []))
        yield from ({**a, "_composite": True} for a in response.get("CompositeAlarms", []))


def check_alarm_states(ctx: Context) -> Check:
    """7a. Every alarm of the stack exists; which are firing."""
    name = "Alarm states"
    expected = ctx.stack.of_type(*ALARM_TYPES)
    if not expected:
        return Check("7a", name, SKIP, "the stack lists no alarms")
    alarms = list(_alarms(ctx))
    missing = sorted(set(expected) - {a["AlarmName"] for a in alarms})
    states: dict[str, int] = {}
    for item in alarms:
        states[item.get("StateValue", "?")] = states.get(item.get("StateValue", "?"), 0) + 1
    seen = f"{len(alarms)} alarms: " + ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
    if missing:
        return Check("7a", name, FAIL, f"{seen}; missing: {', '.join(missing)}", "update the stack")
    firing = [a for a in alarms if a.get("StateValue") == "ALARM"]
    if firing:
        detail = "; ".join(f"{a['AlarmName']}: {str(a.get('StateReason', ''))[:120]}" for a in firing)
        return Check("7a", name, WARN, f"{seen}; firing: {detail}", "act on the alarm (its email says how)")
    return Check("7a", name, PASS, seen)


def _graph(cloudwatch: Any, alarm: AlarmNotification, ctx: Context) -> Check:
    name = f"Graph of {alarm.name}"
    models: tuple[ModelValue, ...] | None = None
    placeholder = False
    if alarm.trigger.kind == "insights":
        # Drawn as the alarm emails draw it: one plain row per model that drove it in the last hour.
        models = top_models(cloudwatch, alarm, now=ctx.now)
        if not models:
            # No traffic in the last hour: an empty series still shows whether the API draws the widget.
            models, placeholder = (ModelValue("no-traffic-in-the-last-hour", 0.0),), True
    try:
        image = widget_image(cloudwatch, alarm, models)
    except ClientError as exc:
        if error_code(exc) in UNAVAILABLE | ACCESS_DENIED:
            raise  # guarded() says SKIP and why
        return Check(
            "7b",
            name,
            WARN,
            f"GetMetricWidgetImage refused it: {describe_error(exc)}",
            "its alarm emails will have no graph; please report the message",
        )
    if not image.startswith(PNG):
        return Check("7b", name, WARN, f"GetMetricWidgetImage returned {len(image)} bytes that are not a PNG")
    drawn = f"GetMetricWidgetImage drew it ({len(image):,} bytes of PNG)"
    if placeholder:
        drawn += "; no model had traffic in the last hour, so the graph was empty"
    elif models:
        drawn += f" from {len(models)} model series"
    return Check("7b", name, PASS, drawn)


def check_alarm_graphs(ctx: Context) -> list[Check]:
    """7b. GetMetricWidgetImage draws each metric alarm's graph (as the alarm emails do)."""
    cloudwatch = ctx.client("cloudwatch")
    rows: list[Check] = []
    for item in _alarms(ctx):
        if item["_composite"]:
            continue  # drawn through its children
        alarm = metric_alarm(item)
        if alarm is None:
            rows.append(Check("7b", f"Graph of {item['AlarmName']}", WARN, "its metrics could not be read"))
            continue
        row = guarded("7b", f"Graph of {alarm.name}", partial(_graph, cloudwatch, alarm), ctx)[0]
        if row.status == SKIP:  # no such API here, or not allowed: the same for every alarm
            return [Check("7b", "Alarm graphs", SKIP, row.seen, row.fix)]
        rows.append(row)
    return rows or [Check("7b", "Alarm graphs", SKIP, "the stack lists no metric alarms")]


def _sum(cloudwatch: Any, ctx: Context, function: str) -> dict[str, float]:
    queries = [
        {
            "Id": ident,
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/Lambda",
                    "MetricName": metric,
                    "Dimensions": [{"Name": "FunctionName", "Value": function}],
                },
                "Period": int(LAST_RUN_WINDOW.total_seconds()),
                "Stat": stat,
            },
            "ReturnData": True,
        }
        for ident, metric, stat in (
            ("runs", "Invocations", "Sum"),
            ("errors", "Errors", "Sum"),
            ("duration", "Duration", "Maximum"),
        )
    ]
    response = cloudwatch.get_metric_data(
        MetricDataQueries=queries, StartTime=ctx.now - LAST_RUN_WINDOW, EndTime=ctx.now
    )
    values = {r["Id"]: r.get("Values", []) for r in response.get("MetricDataResults", [])}
    return {
        "runs": sum(values.get("runs", [])),
        "errors": sum(values.get("errors", [])),
        "duration": max(values.get("duration", []), default=0.0),
    }


def _last_result(ctx: Context, group: str) -> dict[str, Any] | None:
    """The newest "digest done" line the function logged (Powertools JSON), if any in the window."""
    response = ctx.client("logs").filter_log_events(
        logGroupName=group,
        startTime=int((ctx.now - LAST_RUN_WINDOW).timestamp() * 1000),
        endTime=int(ctx.now.timestamp() * 1000),
        filterPattern='"digest done"',
    )
    newest = None
    for event in response.get("events", []):
        try:
            data = json.loads(event.get("message", ""))
        except ValueError:
            continue
        if data.get("message") == "digest done" and (newest is None or event["timestamp"] > newest[0]):
            newest = (event["timestamp"], data)
    return newest[1] if newest else None


def check_report_run(ctx: Context) -> Check:
    """9. The report function's last day: runs, errors, longest duration (AWS/Lambda), and what it sent."""
    name = "Report function's last run"
    function = ctx.stack.output("ReportFunctionName") or ctx.stack.resources.get("ReportFunction")
    if not function:
        return Check("9", name, SKIP, "the stack has no ReportFunctionName output")
    figures = _sum(ctx.client("cloudwatch"), ctx, function)
    schedule = ctx.stack.parameter("ReportSchedule", "cron(0 6 * * ? *)")
    if not figures["runs"]:
        return Check(
            "9",
            name,
            WARN,
            f"{function}: no run in the last 26 h (schedule {schedule})",
            f"wait for the schedule, or run it now: aws lambda invoke --function-name {function} "
            "--payload file://events/24h.json --cli-binary-format raw-in-base64-out out.json",
        )
    seen = (
        f"{function}: {figures['runs']:g} run(s), {figures['errors']:g} failed, "
        f"longest {figures['duration'] / 1000:.1f} s"
    )
    group = ctx.stack.resources.get("ReportFunctionLogGroup") or f"/aws/lambda/{function}"
    result = None
    try:
        result = _last_result(ctx, group)
    except ClientError as exc:  # the metrics above still answer; the log detail is extra
        seen += f"; its log could not be read ({describe_error(exc)})"
    if result:
        seen += f"; last digest via {result.get('delivered_via')}"
        if result.get("fallback_reason"):
            seen += f" (fallback: {result['fallback_reason']})"
        if result.get("data_source_failures"):
            seen += f"; failed sources: {', '.join(result['data_source_failures'])}"
    if figures["errors"]:
        return Check(
            "9",
            name,
            FAIL,
            seen,
            f"read its log group {group}; failed runs wait in ReportDeadLetterQueueUrl",
        )
    if result and (result.get("data_source_failures") or result.get("fallback_reason")):
        return Check("9", name, WARN, seen, "see the digest's 'missing data' note and checks 1-5")
    return Check("9", name, PASS, seen)
