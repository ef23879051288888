"""Step: one alarm notification through AlarmRouterFunction; its email, written to build/demo/alarm.*."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from scripts.demo.common import REPO, Demo, DemoError, say, skip
from scripts.demo.emulator import account_id, captured_ses_requests, client
from scripts.demo.functions import stack_function
from scripts.demo.mail import sent_messages, verify_identities, write_email


def _hourly_input_tokens(start: datetime, end: datetime) -> dict[datetime, float]:
    """SUM(InputTokenCount) over every ModelId per hour: what the alarm's Metrics Insights query computes.

    moto does not run Metrics Insights, so the same sum is taken with ListMetrics + GetMetricData (Sum).
    """
    cloudwatch = client("cloudwatch")
    metrics = [
        m
        for page in cloudwatch.get_paginator("list_metrics").paginate(
            Namespace="AWS/Bedrock", MetricName="InputTokenCount"
        )
        for m in page["Metrics"]
        if [d["Name"] for d in m.get("Dimensions", [])] == ["ModelId"]
    ]
    totals: dict[datetime, float] = {}
    for i in range(0, len(metrics), 500):
        queries = [
            {
                "Id": f"m{n}",
                "MetricStat": {"Metric": metric, "Period": 3600, "Stat": "Sum"},
                "ReturnData": True,
            }
            for n, metric in enumerate(metrics[i : i + 500])
        ]
        for page in cloudwatch.get_paginator("get_metric_data").paginate(
            MetricDataQueries=queries, StartTime=start, EndTime=end
        ):
            for result in page["MetricDataResults"]:
                for stamp, value in zip(result["Timestamps"], result["Values"], strict=True):
                    totals[stamp] = totals.get(stamp, 0.0) + value
    return totals


def _alarm_event(base: dict[str, Any], now: datetime) -> tuple[dict[str, Any], str] | None:
    """The SNS delivery CloudWatch would make for the stack's input-token alarm at its latest breaching hour.

    Built from the emulated alarm's real configuration and the emulated metrics; None when no hour in the
    last day crossed the threshold (then nothing would have fired).
    """
    message = json.loads(base["Records"][0]["Sns"]["Message"])
    found = client("cloudwatch").describe_alarms(AlarmNames=[message["AlarmName"]])["MetricAlarms"]
    if not found:
        return None
    alarm = found[0]
    last_hour = now.replace(minute=0, second=0, microsecond=0)
    hours = _hourly_input_tokens(last_hour - dt.timedelta(hours=24), last_hour)
    if not hours:
        return None
    crossed = sorted((hour, value) for hour, value in hours.items() if value > alarm["Threshold"])
    if not crossed:
        return None
    hour, value = crossed[-1]  # the latest hour over the threshold: the alarm's latest change to ALARM
    changed = hour.astimezone(UTC) + dt.timedelta(hours=1, seconds=41)
    message.update(
        AlarmName=alarm["AlarmName"],
        AlarmDescription=alarm.get("AlarmDescription"),
        AWSAccountId=account_id(),
        AlarmArn=alarm["AlarmArn"],
        NewStateValue="ALARM",
        OldStateValue="OK",
        NewStateReason=(
            f"Threshold Crossed: 1 out of the last 1 datapoints [{value:.1f} "
            f"({hour.astimezone(UTC):%d/%m/%y %H:%M:%S})] was greater than the threshold "
            f"({alarm['Threshold']:.1f}) (minimum 1 datapoint for OK -> ALARM transition)."
        ),
        StateChangeTime=changed.strftime("%Y-%m-%dT%H:%M:%S.") + f"{changed.microsecond // 1000:03d}+0000",
        OKActions=alarm.get("OKActions", []),
        AlarmActions=alarm.get("AlarmActions", []),
    )
    message["Trigger"].update(
        Threshold=float(alarm["Threshold"]), ComparisonOperator=alarm["ComparisonOperator"]
    )
    if alarm.get("Metrics"):
        message["Trigger"]["Metrics"] = [
            {k: q[k] for k in ("Expression", "Id", "Label", "Period", "ReturnData") if k in q}
            for q in alarm["Metrics"]
        ]
    event = json.loads(json.dumps(base))
    sns = event["Records"][0]["Sns"]
    topic = (alarm.get("AlarmActions") or [sns["TopicArn"]])[0]
    sns.update(
        Message=json.dumps(message),
        Subject=f'ALARM: "{alarm["AlarmName"]}" in US East (N. Virginia)',
        TopicArn=topic,
        Timestamp=changed.strftime("%Y-%m-%dT%H:%M:%S.") + f"{changed.microsecond // 1000:03d}Z",
        MessageId=str(uuid.uuid4()),
    )
    return (
        event,
        f"{alarm['AlarmName']}: {value:,.0f} input tokens in the hour from {hour.astimezone(UTC):%H:%M} UTC",
    )


def step(demo: Demo) -> None:
    """Fire one alarm notification through AlarmRouterFunction and write the email to build/demo/alarm.*."""
    stack, outcome, log, now = demo.stack, demo.outcome, demo.log, demo.now
    function = stack_function(stack, "AlarmRouterFunction", log)
    event_file = REPO / "events" / "sns-alarm-insights.json"
    if function is None or not event_file.exists():
        skip(outcome, "AlarmRouterFunction", "the function or events/sns-alarm-insights.json is missing")
        return
    base = json.loads(event_file.read_text())
    built = _alarm_event(base, now)
    if built is None:
        event = base
        say(f"    no hour of this traffic crossed the alarm threshold: sending {event_file.name} as it is")
    else:
        event, what = built
        say(
            "    moto neither evaluates alarms nor delivers SNS to Lambda: the notification CloudWatch would "
            f"send is built from the emulated alarm and metrics ({what})"
        )
    say(
        "    moto has no GetMetricWidgetImage and no Metrics Insights: those calls fail here, so the email "
        "goes without its graph and its per-model breakdown"
    )
    # In the SES sandbox both the sender and the recipients must be verified identities.
    addresses = re.findall(
        r"[^\s=,;]+@[^\s=,;]+", " ".join(function.env.get(k, "") for k in ("SENDER_EMAIL", "ALARM_ROUTING"))
    )
    if function.env.get("SENDER_EMAIL"):
        verify_identities(*dict.fromkeys(addresses))
    before = len(sent_messages())
    with captured_ses_requests() as requests:
        result = function.invoke(event)
    sent = sent_messages()[before:]
    if not sent or not requests:
        raise DemoError(f"AlarmRouterFunction sent no email: {json.dumps(result)[:300]}")
    outcome.alarm_subject = requests[-1]["Content"]["Simple"]["Subject"]["Data"]
    write_email(requests[-1], sent[-1], outcome.out_dir, "alarm", outcome)
    say(
        f"    AlarmRouterFunction emailed {', '.join(requests[-1]['Destination'].get('ToAddresses', []))}: "
        f"{outcome.alarm_subject}"
    )
