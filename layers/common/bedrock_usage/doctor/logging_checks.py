"""Checks 1-3: the logging setting equals the stack's, logs arrive in both places, and the report's own
Logs Insights query reads every field it needs from a recent record."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from bedrock_usage import logging_config as lc
from bedrock_usage import logging_status
from bedrock_usage.collect import insights
from bedrock_usage.doctor.core import FAIL, PASS, SKIP, WARN, Check, Context, age, error_code

STALE = timedelta(hours=24)
# <YYYY>/<MM>/<DD>/<HH>/<YYYYMMDDTHHMMSSmmmZ>_<hex>.json.gz under .../BedrockModelInvocationLogs/<region>/
# (REFERENCE.md §1, a real key from elastic/integrations #11808).
KEY_LAYOUT = re.compile(r"\d{4}/\d{2}/\d{2}/\d{2}/\d{8}T\d{6}\d{3}Z_[0-9a-f]+\.json\.gz$")
FIX_DELIVERY = (
    "check the logging role's trust and permissions, the log bucket's policy for bedrock.amazonaws.com "
    "and, with KmsKeyArn, the key policy (README: Troubleshooting)"
)


def expected_config(ctx: Context) -> dict[str, Any] | None:
    """The LoggingConfig the stack's custom resource puts, rebuilt from its outputs and parameters."""
    stack = ctx.stack
    log_group, role, bucket = (
        stack.output("InvocationLogGroupName"),
        stack.output("LoggingRoleArn"),
        stack.output("LogBucketName"),
    )
    if not (log_group and role and bucket):
        return None
    flags = tuple(
        (key, stack.parameter(name, "true" if default else "false") == "true")
        for name, (key, default) in lc.FLAG_PROPERTIES.items()
    )
    return lc.LoggingProperties(
        log_group, role, bucket, stack.parameter("LogKeyPrefix"), flags
    ).logging_config()


def check_config(ctx: Context) -> Check:
    """1. The account's logging setting in this Region is the one the stack set."""
    name = "Bedrock logging configuration"
    expected = expected_config(ctx)
    if expected is None:
        return Check("1", name, SKIP, "the stack has no InvocationLogGroupName/LoggingRoleArn/LogBucketName")
    live = lc.get_config(ctx.client("bedrock"))
    if live is None:
        return Check(
            "1",
            name,
            FAIL,
            f"logging is OFF in {ctx.region}",
            "update the stack (the BedrockInvocationLogging custom resource sets it); "
            "its events in CloudFormation say why it did not",
        )
    if lc.canonical(live) == lc.canonical(expected):
        return Check("1", name, PASS, f"{lc.describe(live)}; {lc.describe_flags(live)}")
    if lc.same_destinations(live, expected):
        return Check(
            "1",
            name,
            WARN,
            f"same destinations, other delivery flags: {lc.describe_flags(live)} "
            f"(the stack asks {lc.describe_flags(expected)})",
            "someone changed the flags by hand; update the stack to put its own back",
        )
    return Check(
        "1",
        name,
        FAIL,
        f"set elsewhere: {lc.describe(live)} (the stack expects {lc.describe(expected)})",
        "another tool or stack replaced the setting: update this stack with TakeOverExistingLogging=true, "
        "or remove the other one",
    )


def check_delivery_metrics(ctx: Context) -> Check:
    """2a. Bedrock's own delivery success/failure metrics over the last 24 h."""
    name = "Log delivery (last 24 h)"
    counts = logging_status.delivery_counts(ctx.client("cloudwatch"), now=ctx.now, hours=24)
    seen = "; ".join(f"{d.destination} {d.delivered:g} delivered, {d.failed:g} failed" for d in counts)
    if any(d.failed for d in counts):
        return Check("2a", name, FAIL, seen, FIX_DELIVERY)
    if not any(d.delivered for d in counts):
        return Check(
            "2a", name, WARN, "no deliveries in 24 h", "invoke a model through bedrock-runtime, then re-run"
        )
    return Check("2a", name, PASS, seen)


def log_prefix(ctx: Context) -> str:
    """Where Bedrock writes this Region's records (REFERENCE.md §1):
    <prefix>/AWSLogs/<account>/BedrockModelInvocationLogs/<region>/."""
    prefix = ctx.stack.parameter("LogKeyPrefix").strip("/")
    head = f"{prefix}/" if prefix else ""
    return f"{head}AWSLogs/{ctx.account_id()}/BedrockModelInvocationLogs/{ctx.region}/"


def _newest(s3: Any, bucket: str, prefix: str) -> dict[str, Any] | None:
    """The newest record object under `prefix`: every page, as keys are listed by name, not by age."""
    newest: dict[str, Any] | None = None
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if "/data/" in item["Key"]:
                continue  # large bodies, not records
            if newest is None or item["LastModified"] > newest["LastModified"]:
                newest = item
    return newest


def check_s3_objects(ctx: Context) -> Check:
    """2b. The newest record file under the expected S3 layout, and its age."""
    name = "Newest log object in S3"
    bucket = ctx.stack.output("LogBucketName")
    if not bucket:
        return Check("2b", name, SKIP, "the stack has no LogBucketName output")
    s3 = ctx.client("s3")
    base = log_prefix(ctx)
    newest = None
    try:
        for days_back in (0, 1):  # today's and yesterday's folders (UTC) hold anything under 24 h old
            day = (ctx.now - timedelta(days=days_back)).astimezone(UTC)
            newest = _newest(s3, bucket, f"{base}{day:%Y/%m/%d}/")
            if newest:
                break
    except ClientError as exc:
        if error_code(exc) == "NoSuchBucket":
            return Check("2b", name, FAIL, f"bucket {bucket} does not exist", "update the stack")
        raise
    if newest is None:
        anything = s3.list_objects_v2(Bucket=bucket, MaxKeys=5).get("Contents", [])
        keys = [item["Key"] for item in anything if not item["Key"].startswith(base)]
        if keys:
            return Check(
                "2b",
                name,
                WARN,
                f"nothing in the last 2 days under s3://{bucket}/{base}; other keys: {', '.join(keys[:3])}",
                "the key layout differs from what `bedrock-usage report --logs` reads: please report it",
            )
        return Check(
            "2b",
            name,
            WARN,
            f"nothing in the last 2 days under s3://{bucket}/{base}",
            "invoke a model through bedrock-runtime; Bedrock writes files within minutes",
        )
    key, modified = newest["Key"], newest["LastModified"]
    seen = f"s3://{bucket}/{key}, written {age(ctx.now, modified)}"
    if not KEY_LAYOUT.search(key):
        return Check("2b", name, WARN, f"unexpected key layout: {seen}", "please report this key layout")
    if ctx.now - modified > STALE:
        return Check("2b", name, WARN, seen, "no invocation in the last 24 h, or delivery stopped: see 2a")
    return Check("2b", name, PASS, seen)


def check_log_events(ctx: Context) -> Check:
    """2c. The newest event in the invocation log group, and its age."""
    name = "Newest event in the log group"
    group = ctx.stack.output("InvocationLogGroupName")
    if not group:
        return Check("2c", name, SKIP, "the stack has no InvocationLogGroupName output")
    try:
        streams = ctx.client("logs").describe_log_streams(
            logGroupName=group, orderBy="LastEventTime", descending=True, limit=1
        )["logStreams"]
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return Check(
                "2c", name, FAIL, f"log group {group} does not exist", "update the stack to recreate it"
            )
        raise
    stamp = streams[0].get("lastEventTimestamp") if streams else None
    if stamp is None:
        return Check("2c", name, WARN, f"{group} has no events yet", "invoke a model through bedrock-runtime")
    last = datetime.fromtimestamp(stamp / 1000, UTC)
    # lastEventTimestamp is eventually consistent (updated within about an hour): an age, not an alarm.
    seen = f"{group} stream {streams[0]['logStreamName']}: last event {age(ctx.now, last)}"
    if ctx.now - last > STALE:
        return Check("2c", name, WARN, seen, "no invocation in the last 24 h, or delivery stopped: see 2a")
    return Check("2c", name, PASS, seen)


def record_query() -> str:
    """The report's Logs Insights query (collect/insights.QUERY) up to its `stats`: one raw record."""
    lines = insights.QUERY.splitlines()
    cut = next(i for i, line in enumerate(lines) if line.startswith("| stats"))
    return "\n".join([*lines[:cut], "| sort @timestamp desc", "| limit 1"])


def run_query(ctx: Context, group: str, query: str, *, timeout_s: float = 60) -> list[dict[str, str]]:
    """Start a Logs Insights query over the last 24 h and wait for its rows."""
    logs = ctx.client("logs")
    query_id = logs.start_query(
        logGroupName=group,
        startTime=int((ctx.now - timedelta(hours=24)).timestamp()),
        endTime=int(ctx.now.timestamp()),
        queryString=query,
        limit=1,
    )["queryId"]
    began, delay = time.monotonic(), 0.5
    waited = 0.0
    while True:
        response = logs.get_query_results(queryId=query_id)
        status = response.get("status", "Unknown")
        if status == "Complete":
            return [{c["field"]: c.get("value", "") for c in row} for row in response.get("results", [])]
        if status not in insights.RUNNING or max(waited, time.monotonic() - began) >= timeout_s:
            raise insights.InsightsError(f"Logs Insights query {query_id} ended {status}")
        ctx.sleep(delay)
        waited += delay
        delay = min(delay * 2, 5.0)


def check_insights_record(ctx: Context) -> Check:
    """3. The newest record, read through the report's own query: caller, model and tokens are there."""
    name = "Report query on a recent record"
    group = ctx.stack.output("InvocationLogGroupName")
    if not group:
        return Check("3", name, SKIP, "the stack has no InvocationLogGroupName output")
    rows = run_query(ctx, group, record_query())
    if not rows:
        return Check("3", name, WARN, "no invocation record in the last 24 h", "invoke a model, then re-run")
    row = rows[0]
    caller, model = row.get("caller", insights.UNKNOWN), row.get("model", insights.UNKNOWN)
    error = row.get("error_code", insights.NO_ERROR)
    tokens = {key: row.get(key) or "0" for key in ("in_tokens", "out_tokens", "cache_read", "cache_write")}
    seen = (
        f"caller {caller}, model {model}, input {tokens['in_tokens']}, output {tokens['out_tokens']}, "
        f"cache read/write {tokens['cache_read']}/{tokens['cache_write']}, errorCode {error}"
    )
    if insights.UNKNOWN in (caller, model):
        return Check(
            "3",
            name,
            FAIL,
            seen,
            "identity.arn or modelId was not read: the report would count this usage as 'unknown'; "
            "please report it with the record",
        )
    if error in (insights.NO_ERROR, "", "null") and tokens["in_tokens"] == tokens["out_tokens"] == "0":
        return Check(
            "3",
            name,
            WARN,
            seen,
            "token counts read as 0: the record is past Logs Insights' 200-field limit and the @message "
            "fallback did not match; set TextDataDelivery=false or report it",
        )
    return Check("3", name, PASS, seen)
