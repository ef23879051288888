"""Turn a notification (plus what CloudWatch told us) into an email: subject, HTML and text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import escape
from typing import Any
from urllib.parse import quote

from bedrock_usage.alarms.cloudwatch import ModelValue
from bedrock_usage.alarms.notification import (
    AlarmNotification,
    BudgetNotification,
    Datapoint,
    ForwardedNotification,
    Notification,
    Trigger,
)
from bedrock_usage.deliver import InlineImage
from bedrock_usage.render import environment, inline_css

GRAPH_CID = "alarm-graph"
HTML_RAW_LIMIT = 60_000  # characters of a forwarded message shown in the HTML part (Gmail clips at 102 KB)
SUBJECT_MAX = 160

_METRIC_NAMES = {
    "InputTokenCount": "Input tokens",
    "OutputTokenCount": "Output tokens",
    "CacheReadInputTokenCount": "Cache-read input tokens",
    "CacheWriteInputTokenCount": "Cache-write input tokens",
    "Invocations": "Invocations",
    "InvocationLatency": "Latency (ms)",
    "TimeToFirstToken": "Time to first token (ms)",
    "InvocationClientErrors": "Client errors",
    "InvocationServerErrors": "Server errors",
    "InvocationThrottles": "Throttled requests",
    "EstimatedTPMQuotaUsage": "Estimated TPM quota usage",
}
_COMPARISONS = {
    "GreaterThanThreshold": ("above", ">"),
    "GreaterThanOrEqualToThreshold": ("at or above", ">="),
    "LessThanThreshold": ("below", "<"),
    "LessThanOrEqualToThreshold": ("at or below", "<="),
    "GreaterThanUpperThreshold": ("above the expected band", ">"),
    "LessThanLowerThreshold": ("below the expected band", "<"),
    "LessThanLowerOrGreaterThanUpperThreshold": ("outside the expected band", "outside"),
}
_STATE_COLORS = {"ALARM": "#c0392b", "OK": "#1e8e3e", "INSUFFICIENT_DATA": "#5f6b7a"}


@dataclass(frozen=True)
class Links:
    """Console links for the email footer; built by `console_links`."""

    alarm: str | None = None
    dashboard: str | None = None
    logs: str | None = None
    budgets: str | None = None


@dataclass(frozen=True)
class Extras:
    """What CloudWatch added to an alarm notification; any part may be missing."""

    models: tuple[ModelValue, ...] | None = None
    graph: bytes | None = None
    started: datetime | None = None  # when the alarm went into ALARM (for OK transitions)
    child: AlarmNotification | None = None  # a composite alarm's triggering child, with its metric
    missing: tuple[str, ...] = field(default=())  # what could not be fetched, said in the email


@dataclass(frozen=True)
class Email:
    subject: str
    html: str
    text: str
    images: tuple[InlineImage, ...] = ()


def console_base(partition: str, region: str) -> str:
    """The console host of a partition (China and GovCloud have their own domains, without the region).

    Hosts as used by console tools such as common-fate/granted `pkg/console`: console.amazonaws.cn,
    console.amazonaws-us-gov.com, <region>.console.aws.amazon.com. The caller passes a validated region.
    """
    if partition == "aws-cn":
        return "https://console.amazonaws.cn"
    if partition == "aws-us-gov":
        return "https://console.amazonaws-us-gov.com"
    return f"https://{region}.console.aws.amazon.com"


def console_links(
    *,
    region: str,
    partition: str = "aws",
    alarm_name: str | None = None,
    dashboard: str | None = None,
    log_group: str | None = None,
) -> Links:
    """Links into the CloudWatch and Billing consoles (the console double-encodes log group names)."""
    base = f"{console_base(partition, region)}/cloudwatch/home?region={quote(region, safe='')}"
    return Links(
        alarm=f"{base}#alarmsV2:alarm/{quote(scrub(alarm_name), safe='')}" if alarm_name else None,
        dashboard=f"{base}#dashboards/dashboard/{quote(scrub(dashboard), safe='')}" if dashboard else None,
        logs=(
            f"{base}#logsV2:log-groups/log-group/{quote(scrub(log_group), safe='').replace('%', '$25')}"
            if log_group
            else None
        ),
        budgets=f"{console_base(partition, 'us-east-1')}/costmanagement/home#/budgets",
    )


def number(value: float | None) -> str:
    """125000.0 -> '125,000'; 0.3333 -> '0.33'; None -> 'n/a'."""
    if value is None:
        return "n/a"
    if float(value).is_integer() or abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) >= 0.01 else f"{value:.3g}"


def duration(delta: timedelta) -> str:
    """'1 h 12 min', '3 min', '2 d 4 h', 'under a minute'."""
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return "under a minute"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"


def latest_datapoint(points: tuple[Datapoint, ...]) -> Datapoint | None:
    """The newest datapoint quoted in the reason (CloudWatch writes 'dd/mm/yy HH:MM:SS'); else the first."""
    dated = []
    for point in points:
        try:
            dated.append((datetime.strptime(point.at, "%d/%m/%y %H:%M:%S"), point))  # noqa: DTZ007 - order only
        except ValueError:
            return points[0]
    return max(dated, key=lambda item: item[0])[1] if dated else None


def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "unknown"


def period_words(seconds: int | None) -> str:
    """300 -> '5 minutes', 3600 -> '1 hour'."""
    if not seconds:
        return ""
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour" + ("s" if hours != 1 else "")
    if seconds % 60 == 0:
        minutes = seconds // 60
        return f"{minutes} minute" + ("s" if minutes != 1 else "")
    return f"{seconds} seconds"


def metric_label(trigger: Trigger) -> str:
    """'Input tokens (sum per hour, all models)' - what the alarm watches, in words."""
    name = trigger.metric_name
    returned = trigger.returned
    if trigger.kind == "math" and returned and returned.label:
        base = returned.label
    elif name:
        base = _METRIC_NAMES.get(name, name)
    elif returned and returned.expression:
        base = returned.label or returned.expression
    else:
        base = "The metric"
    per = period_words(trigger.period).removeprefix("1 ")
    details = [part for part in ((trigger.statistic or "").lower(), per) if part]
    detail = " per ".join(details) if len(details) == 2 else "".join(details)
    if trigger.kind == "insights":
        detail = f"{detail}, all models" if detail else "all models"
    elif trigger.metric and trigger.metric.dimensions:
        detail = ", ".join([detail, *(f"{n}={v}" for n, v in trigger.metric.dimensions)]).strip(", ")
    return f"{base} ({detail})" if detail else base


def scrub(text: str) -> str:
    """Text that can be encoded as UTF-8: a lone surrogate (JSON allows "\\ud800") becomes '?'.

    Python strings may hold lone surrogates; the CSS inliner, botocore and the log writer cannot encode them.
    """
    return text.encode("utf-8", errors="replace").decode("utf-8")


def _clean(text: str) -> str:
    """One printable line: subjects must not carry line breaks (header injection) or control characters."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def _subject(text: str) -> str:
    flat = _clean(scrub(text)) or "(no subject)"
    return flat if len(flat) <= SUBJECT_MAX else flat[: SUBJECT_MAX - 3] + "..."


def alarm_view(alarm: AlarmNotification, extras: Extras, now: datetime) -> dict[str, Any]:
    """Everything the alarm templates show, computed here so templates only lay it out."""
    composite = alarm.trigger if alarm.trigger.kind == "composite" else None
    # A composite alarm has no metric of its own: show the metric of the child that triggered it.
    source = extras.child if composite and extras.child else alarm
    trigger = source.trigger
    words, symbol = _COMPARISONS.get(trigger.comparison, (trigger.comparison or "compared with", "vs"))
    newest = latest_datapoint(source.observed)
    latest = newest.value if newest else None
    what = metric_label(trigger) if trigger.kind != "composite" else "The alarm rule"
    children = ", ".join(child.name for child in composite.children) if composite else ""
    if trigger.kind == "composite":
        limit, limit_short = f"its rule {trigger.rule}", "rule"
    elif trigger.kind == "anomaly":
        lower, upper = source.band or (None, None)
        if lower is not None and upper is not None:
            limit, limit_short = (
                f"the expected band {number(lower)} to {number(upper)}",
                (f"band {number(lower)}-{number(upper)}"),
            )
        elif upper is not None:
            limit, limit_short = (
                f"the expected band (upper bound {number(upper)})",
                f"band max {number(upper)}",
            )
        elif lower is not None:
            limit, limit_short = (
                f"the expected band (lower bound {number(lower)})",
                f"band min {number(lower)}",
            )
        else:
            limit, limit_short = "the expected band", "band"
    else:
        limit = f"the threshold of {number(trigger.threshold)}"
        limit_short = number(trigger.threshold)
    state = alarm.new_state
    resolved = state == "OK" and alarm.old_state == "ALARM"
    lasted = None
    if resolved and extras.started and alarm.state_change_time:
        lasted = duration(alarm.state_change_time - extras.started)
    if state == "ALARM" and latest is not None:
        verb = words if trigger.kind == "anomaly" else f"{words} {limit}"
        headline = f"{what} was {number(latest)}, {verb}" + (
            f" ({limit})" if trigger.kind == "anomaly" else ""
        )
    elif state == "ALARM":
        headline = f"{what} crossed {limit}."
    elif resolved:
        headline = f"{what} is back within {limit}" + (f"; the alarm lasted {lasted}." if lasted else ".")
    elif state == "OK":
        headline = f"{what} is within {limit}."
    else:
        headline = f"{what} has not enough data to evaluate the alarm."
    headline = headline if headline.endswith(".") else headline + "."
    if composite and state == "ALARM":
        lead = f"Triggered by {children or 'a child alarm'}"
        headline = f"{lead}: {headline}" if source is not alarm else f"{lead} (rule {composite.rule})."
    periods = ""
    if trigger.evaluation_periods:
        needed = trigger.datapoints_to_alarm or trigger.evaluation_periods
        plural = "s" if trigger.evaluation_periods != 1 else ""
        length = period_words(trigger.period) or "n/a"
        periods = f"{needed} of {trigger.evaluation_periods} period{plural} of {length}"
    ratio = None
    if state == "ALARM" and latest is not None and trigger.threshold not in (None, 0.0):
        ratio = f"{latest / trigger.threshold:.1f}x the threshold"
    models = list(extras.models or ())
    total = sum(m.value for m in models) or 0.0
    statistic = trigger.statistic or "Sum"
    additive = statistic in ("Sum", "SampleCount")
    model_rows = [
        {
            "model_id": m.model_id,
            "account": m.account,
            "value": number(m.value),
            "share": (m.value / total) if additive and total > 0 else None,
            "bar": max(1, round(100 * m.value / (models[0].value or 1))) if models[0].value > 0 else 1,
        }
        for m in models
    ]
    if resolved:
        subject = f"Resolved: {alarm.name}" + (f" (lasted {lasted})" if lasted else "")
    elif state == "ALARM":
        short = _METRIC_NAMES.get(trigger.metric_name or "") or (
            trigger.returned.label if trigger.returned and trigger.returned.label else "value"
        )
        observed = f" - {short} {number(latest)}" if latest is not None else ""
        subject = (
            f"ALARM: {alarm.name}{observed} {symbol} {limit_short}" if observed else f"ALARM: {alarm.name}"
        )
        if composite and not observed and children:
            subject = f"ALARM: {alarm.name} - triggered by {children}"
    else:
        subject = f"{state}: {alarm.name}"
    metric_rows = []
    if composite:
        metric_rows.append(("Rule", composite.rule or ""))
        if children:
            metric_rows.append(("Triggered by", children))
    if source is not alarm:
        metric_rows.append(("Child alarm", source.name))
    if trigger.namespace:
        metric_rows.append(("Namespace", trigger.namespace))
    if trigger.metric:
        metric_rows.append(("Metric", trigger.metric.name))
        metric_rows.extend((f"Dimension {n}", v) for n, v in trigger.metric.dimensions)
    for query in trigger.queries:
        if query.expression:
            metric_rows.append((f"Expression {query.id}", query.expression))
    if trigger.statistic:
        metric_rows.append(("Statistic", trigger.statistic))
    if periods:
        metric_rows.append(("Evaluation", periods))
    if trigger.treat_missing_data:
        metric_rows.append(("Missing data", trigger.treat_missing_data))
    return {
        "kind": "resolved" if resolved else "alarm",
        "subject": _subject(subject),
        "state": state,
        "state_label": "RESOLVED" if resolved else state.replace("_", " "),
        "color": _STATE_COLORS.get("OK" if resolved else state, "#5f6b7a"),
        "name": alarm.name,
        "description": alarm.description,
        "headline": headline,
        "reason": alarm.reason,
        "what": what,
        "observed": number(latest) if latest is not None else None,
        "composite": composite is not None,
        "observed_at": newest.at if newest else None,
        "datapoints": [number(d.value) for d in alarm.observed],
        "comparison": f"{symbol} {limit_short}" if trigger.kind != "composite" else "rule true",
        "limit": limit,
        "ratio": ratio,
        "changed": when(alarm.state_change_time),
        "started": when(extras.started) if extras.started else None,
        "lasted": lasted,
        "old_state": alarm.old_state,
        "account": alarm.account_id,
        "region": alarm.region or alarm.region_name,
        "region_name": alarm.region_name,
        "models": model_rows,
        "models_statistic": statistic.lower(),
        "graph_cid": GRAPH_CID if extras.graph else None,
        "missing": list(extras.missing),
        "metric_rows": metric_rows,
        "generated": when(now),
    }


def budget_view(budget: BudgetNotification, now: datetime) -> dict[str, Any]:
    fields = budget.fields
    alert = fields.get("Alert Type", "")
    amount_key = next((k for k in fields if k.endswith("Amount") and k != "Budgeted Amount"), None)
    amount = fields.get(amount_key, "") if amount_key else ""
    threshold = fields.get("Alert Threshold", "")
    parts = [f"Budget alert: {budget.budget_name}"]
    if alert and amount:
        parts.append(f"- {alert.lower()} {amount}")
    if threshold:
        parts.append(f"(threshold {threshold}")
        parts[-1] += f" of {fields['Budgeted Amount']})" if fields.get("Budgeted Amount") else ")"
    headline = (
        f"The {alert.lower() or 'reported'} cost of budget {budget.budget_name} is "
        + (amount or "over its threshold")
        + (f", past its alert threshold ({threshold})" if threshold else "")
        + (f" of a {fields['Budgeted Amount']} budget." if fields.get("Budgeted Amount") else ".")
    )
    if alert.upper() == "FORECASTED":
        headline = headline.replace("cost of", "forecast cost of", 1)
    return {
        "kind": "budget",
        "subject": _subject(" ".join(parts)),
        "state_label": "BUDGET",
        "color": "#b45309",
        "name": budget.budget_name,
        "headline": headline,
        "fields": list(fields.items()),
        "raw": budget.text,
        "raw_truncated": False,
        "generated": when(now),
    }


def forwarded_view(item: ForwardedNotification, now: datetime) -> dict[str, Any]:
    first_line = next((line for line in item.text.splitlines() if line.strip()), "")
    title = item.envelope.subject or item.alarm_name or first_line[:80] or "empty message"
    raw = item.text
    return {
        "kind": "forwarded",
        "subject": _subject(f"Forwarded notification: {title}"),
        "state_label": "FORWARDED",
        "color": "#44546a",
        "name": item.alarm_name or item.envelope.subject or "Notification from the alert topic",
        "headline": item.note,
        "envelope": item.envelope,
        "raw": raw[:HTML_RAW_LIMIT],
        "raw_full": raw,
        "raw_truncated": len(raw) > HTML_RAW_LIMIT,
        "raw_size": len(raw.encode("utf-8", errors="replace")),
        "generated": when(now),
    }


def compose(
    notification: Notification, *, links: Links, extras: Extras | None = None, now: datetime
) -> Email:
    """Render the email for one notification (HTML autoescaped and CSS-inlined, plus plain text)."""
    extras = extras or Extras()
    if isinstance(notification, AlarmNotification):
        view = alarm_view(notification, extras, now)
    elif isinstance(notification, BudgetNotification):
        view = budget_view(notification, now)
    else:
        view = forwarded_view(notification, now)
    view["links"] = links
    env = environment()
    html = inline_css(scrub(env.get_template("alarm.html").render(**view)))
    text = scrub(env.get_template("alarm.txt").render(**view))
    images: tuple[InlineImage, ...] = ()
    if view.get("graph_cid") and extras.graph:
        images = (InlineImage(content_id=GRAPH_CID, data=extras.graph, filename="alarm-graph.png"),)
    return Email(
        subject=view["subject"], html=html, text=re.sub(r"\n{3,}", "\n\n", text).strip() + "\n", images=images
    )


def plain_forward(text: str, *, note: str, subject: str, now: datetime) -> Email:
    """A template-free email carrying `text` as received: the last resort when reading or rendering failed.

    Kept free of Jinja and the CSS inliner so that whatever broke them cannot break this too.
    """
    safe_text, safe_note = scrub(text), scrub(note)
    html = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Forwarded notification</title>'
        '</head><body><p style="font-family: Arial, sans-serif; font-size: 14px;">'
        f'{escape(safe_note)}</p><pre style="white-space: pre-wrap; word-wrap: break-word; '
        f'font-size: 12px;">{escape(safe_text[:HTML_RAW_LIMIT])}</pre>'
        + (
            "<p>(Cut here; the plain-text part has the whole message.)</p>"
            if len(safe_text) > HTML_RAW_LIMIT
            else ""
        )
        + f'<p style="color: #8a94a0; font-size: 11px;">Bedrock Usage Monitor &middot; {when(now)}</p>'
        "</body></html>"
    )
    body = f"{safe_note}\n\n--- Message as received ---\n{safe_text or '(empty)'}\n"
    return Email(subject=_subject(f"Forwarded notification: {subject}"), html=html, text=body)
