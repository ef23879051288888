"""Realistic, seeded Amazon Bedrock traffic, written the way the real service writes it.

`generate()` makes the invocations (several models in every ModelId form, users and assumed roles, prompt
caching, a daily rhythm, a spike, client errors and throttles). The writers put them where Bedrock puts them:
AWS/Bedrock metrics per ModelId (`write_metrics`), invocation log records in the log group
(`write_log_events`) and the same records as `.json.gz` objects under the bucket's real key layout
(`write_log_files`).
`Traffic.expected(window)` is the ground truth a report over that window must show. Used by the demo,
its test and the benchmarks; clients are passed in (moto in all of them).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import math
import random
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bedrock_usage.model import Counts, Window

# CloudWatch rejects metric data and log events more than 14 days old (PutMetricData: "up to two weeks in the
# past"; PutLogEvents: tooOldLogEventEndIndex). Bedrock writes in real time, so it never meets these limits;
# a backfill does. moto enforces the log limit but accepts older metrics; we keep to the real one.
CLOUDWATCH_MAX_AGE = timedelta(days=14)
# PutLogEvents limits (CloudWatch Logs quotas): 10,000 events, 1,048,576 bytes counting 26 bytes per event,
# one batch may not span more than 24 hours, events in chronological order.
LOGS_MAX_EVENTS = 10_000
LOGS_MAX_BYTES = 1_048_576
LOGS_EVENT_OVERHEAD = 26
LOGS_MAX_SPAN = timedelta(hours=24)
# PutMetricData takes up to 1,000 metrics per call and 1 MB; stay well inside.
METRICS_PER_CALL = 500
LOG_STREAM = "aws/bedrock/modelinvocations"  # the stream Bedrock itself writes to
FILE_SLICE = timedelta(minutes=30)  # Bedrock writes an object every few minutes; fewer keeps the demo fast

CLIENT_ERRORS = ("ValidationException", "AccessDeniedException")
SERVER_ERRORS = ("InternalServerException", "ServiceUnavailableException")  # 5xx: see bedrock_usage.errors


@dataclass(frozen=True)
class ModelSpec:
    """One model as callers use it: the ModelId they pass and how its requests look."""

    model_id: str  # as logged: the ID the caller passed (base ID, profile ID or profile ARN)
    metric_model_id: str  # the ModelId dimension CloudWatch shows for it
    operation: str
    input_tokens: int  # median uncached input tokens
    output_tokens: int  # median output tokens
    cache_prefix: int = 0  # tokens of a cached system prompt; 0 = no prompt caching
    latency_ms: float = 400.0  # fixed part; plus ms_per_output_token
    ms_per_output_token: float = 12.0
    inference_regions: tuple[str, ...] = ()  # where cross-region inference ran it; () = in-region


@dataclass(frozen=True)
class CallerSpec:
    """A principal calling Bedrock: how much, when, which models, with what request metadata."""

    arn: str
    share: float  # of the daily volume
    models: dict[str, float]  # model_id -> weight
    rhythm: str = "office"  # office | always | nightly | burst (flat, for a caller active only recently)
    request_metadata: dict[str, str] | None = None
    cache_hit_rate: float = 0.0
    # Of the calls that use the cache, the share that write it (prompts that vary write and never read back).
    cache_write_share: float = 0.15
    input_scale: float = 1.0  # times the model's median input (a job sending whole documents)
    recent_hours: float | None = None  # calls only in the last N hours before `now` (a new runaway job)


@dataclass(frozen=True)
class Invocation:
    """One request to bedrock-runtime, as the service saw it."""

    timestamp: datetime  # UTC, millisecond precision
    request_id: str
    caller: str
    model: ModelSpec
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    latency_ms: int = 0
    error_code: str | None = None
    inference_region: str | None = None
    request_metadata: dict[str, str] | None = None
    prompt: str = ""
    answer: str = ""

    @property
    def throttled(self) -> bool:
        return self.error_code == "ThrottlingException"

    @property
    def client_error(self) -> bool:
        return self.error_code in CLIENT_ERRORS

    @property
    def server_error(self) -> bool:
        return self.error_code in SERVER_ERRORS

    def counts(self) -> Counts:
        """What this request adds to the usage counters a report shows."""
        if self.throttled:
            return Counts(throttles=1)
        return Counts(
            invocations=1,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            cache_read_tokens=self.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens,
            client_errors=int(self.client_error),
            server_errors=int(self.server_error),
        )


def default_models(account_id: str, region: str) -> list[ModelSpec]:
    """Six models, one per ModelId form a real account shows, one of them with no known price."""
    us_regions = ("us-east-1", "us-east-2", "us-west-2")
    return [
        ModelSpec(
            "anthropic.claude-3-haiku-20240307-v1:0",
            "anthropic.claude-3-haiku-20240307-v1:0",
            "InvokeModel",
            600,
            180,
            latency_ms=300,
            ms_per_output_token=6,
        ),
        ModelSpec(
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "Converse",
            1800,
            650,
            cache_prefix=4000,
            latency_ms=900,
            ms_per_output_token=18,
            inference_regions=us_regions,
        ),
        ModelSpec(
            "global.anthropic.claude-haiku-4-5-20251001-v1:0",
            "global.anthropic.claude-haiku-4-5-20251001-v1:0",
            "ConverseStream",
            900,
            300,
            cache_prefix=2500,
            latency_ms=350,
            ms_per_output_token=8,
            inference_regions=("us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1"),
        ),
        # A system profile passed as its ARN: the log keeps the ARN, the metric shows the profile ID.
        ModelSpec(
            f"arn:aws:bedrock:{region}:{account_id}:inference-profile/us.amazon.nova-pro-v1:0",
            "us.amazon.nova-pro-v1:0",
            "Converse",
            1200,
            400,
            latency_ms=500,
            ms_per_output_token=9,
            inference_regions=us_regions,
        ),
        ModelSpec(
            "amazon.nova-lite-v1:0",
            "amazon.nova-lite-v1:0",
            "InvokeModel",
            500,
            150,
            latency_ms=250,
            ms_per_output_token=5,
        ),
        ModelSpec(
            "acme.private-model-v1:0",
            "acme.private-model-v1:0",
            "InvokeModel",
            700,
            220,
            latency_ms=600,
            ms_per_output_token=10,
        ),
    ]


def default_callers(account_id: str, models: Sequence[ModelSpec]) -> list[CallerSpec]:
    """Users and assumed roles with different habits; the support bot tags its calls with request metadata."""
    haiku3, sonnet, haiku45, nova_pro, nova_lite, private = (m.model_id for m in models)
    acct = account_id
    return [
        CallerSpec(
            f"arn:aws:sts::{acct}:assumed-role/support-bot-role/support-bot-handler",
            0.34,
            {haiku45: 6, sonnet: 2, haiku3: 2},
            rhythm="always",
            request_metadata={"tenant": "acme-retail", "feature": "ticket-summary"},
            cache_hit_rate=0.85,
        ),
        CallerSpec(
            f"arn:aws:iam::{acct}:user/alice", 0.16, {sonnet: 6, haiku45: 2, nova_pro: 1}, cache_hit_rate=0.6
        ),
        CallerSpec(f"arn:aws:iam::{acct}:user/bob", 0.10, {nova_lite: 4, nova_pro: 3, haiku3: 2}),
        # Findings the demo shows (README "Findings"): carol caches prompts that change every call, so her
        # cache writes are rarely read back; the nightly job sends large documents (a batch candidate); the
        # eval harness started a runaway regression run in the last 20 hours (a daily cost anomaly); and the
        # us. Sonnet 4.5 profile costs 10% more than its global one.
        CallerSpec(
            f"arn:aws:sts::{acct}:assumed-role/AWSReservedSSO_DataScience_5f1c2a9e/carol@example.com",
            0.15,
            {sonnet: 3, private: 4, nova_pro: 2},
            cache_hit_rate=0.9,
            cache_write_share=0.9,
        ),
        CallerSpec(
            f"arn:aws:sts::{acct}:assumed-role/data-pipeline-role/nightly-enrichment",
            0.25,
            {haiku3: 5, nova_lite: 4, private: 1},
            rhythm="nightly",
            input_scale=10.0,
        ),
        CallerSpec(
            f"arn:aws:sts::{acct}:assumed-role/eval-harness-role/regression-run",
            0.5,
            {sonnet: 1},
            rhythm="burst",
            recent_hours=20,
        ),
    ]


def _hour_weight(rhythm: str, moment: datetime) -> float:
    """Relative traffic in the hour starting at `moment` (UTC): office hours are US daytime, 13-23 UTC."""
    hour, weekend = moment.hour, moment.weekday() >= 5
    if rhythm == "burst":
        return 1.0
    if rhythm == "nightly":
        return 12.0 if hour in (2, 3) else 0.0
    if rhythm == "always":
        return (1.6 if 13 <= hour < 23 else 0.6) * (0.7 if weekend else 1.0)
    office = 2.4 if 14 <= hour < 22 else (1.0 if hour in (13, 22) else 0.08)
    return office * (0.15 if weekend else 1.0)


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 60:  # normal approximation; exact sampling is slow and the difference does not matter here
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _tokens(rng: random.Random, median: int) -> int:
    return max(1, round(median * rng.lognormvariate(0, 0.5)))


PROMPTS = (
    "Summarise this support ticket in three bullet points.",
    "Classify the sentiment of the following customer review.",
    "Extract the order number and the delivery address from this email.",
    "Translate the product description into German.",
    "Write a SQL query that lists last week's refunds by store.",
    "Explain this stack trace and suggest a fix.",
)
ANSWERS = (
    "Here is a short summary of the ticket.",
    "The sentiment is mostly positive.",
    "Order 48213, delivered to 12 Harbour Road.",
    "Hier ist die Produktbeschreibung auf Deutsch.",
    "SELECT store_id, SUM(amount) FROM refunds GROUP BY store_id;",
    "The error comes from a missing null check in the parser.",
)


@dataclass
class Traffic:
    """The generated invocations, oldest first, and what was written where."""

    invocations: list[Invocation]
    account_id: str
    region: str
    spike_hour: datetime
    written: dict[str, int] = field(default_factory=dict)  # sink -> items written (for the summary)

    def expected(self, window: Window, since: datetime | None = None) -> Counts:
        """The usage a report over `window` must show: every request in [start, end), none before `since`."""
        total = Counts()
        for inv in self.invocations:
            if window.start <= inv.timestamp < window.end and (since is None or inv.timestamp >= since):
                total.add(inv.counts())
        return total

    def by_model(self, window: Window) -> dict[str, Counts]:
        out: dict[str, Counts] = defaultdict(Counts)
        for inv in self.invocations:
            if window.start <= inv.timestamp < window.end:
                out[inv.model.model_id].add(inv.counts())
        return dict(out)

    def by_caller(self, window: Window) -> dict[str, Counts]:
        out: dict[str, Counts] = defaultdict(Counts)
        for inv in self.invocations:
            if window.start <= inv.timestamp < window.end:
                out[inv.caller].add(inv.counts())
        return dict(out)


def generate(
    *,
    now: datetime,
    account_id: str,
    region: str,
    days: int = 15,
    per_day: int = 2000,
    seed: int = 7,
    models: Sequence[ModelSpec] | None = None,
    callers: Sequence[CallerSpec] | None = None,
) -> Traffic:
    """Bedrock traffic for the `days` before `now`, about `per_day` requests a day; same inputs, same traffic.

    A one-hour spike (the support bot in a retry loop, many throttles) lands six hours before `now`, so a
    24-hour report sees it.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    if per_day < 0 or days < 1:
        raise ValueError("per_day must be >= 0 and days >= 1")
    rng = random.Random(seed)  # noqa: S311 - reproducible sample data, not security
    models = list(models or default_models(account_id, region))
    callers = list(callers or default_callers(account_id, models))
    by_id = {m.model_id: m for m in models}
    now = now.astimezone(UTC)
    first_hour = (now - timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    spike_hour = (now - timedelta(hours=6)).replace(minute=0, second=0, microsecond=0)
    # Normalise each caller's rhythm so its share of per_day holds on an average day.
    mean_weight = {
        rhythm: sum(
            _hour_weight(rhythm, datetime(2026, 1, 5, tzinfo=UTC) + timedelta(hours=h)) for h in range(168)
        )
        / 7
        for rhythm in {c.rhythm for c in callers}
    }
    invocations: list[Invocation] = []
    hour = first_hour
    while hour < now:
        for caller in callers:
            if caller.recent_hours is not None and hour < now - timedelta(hours=caller.recent_hours):
                continue
            lam = per_day * caller.share * _hour_weight(caller.rhythm, hour) / mean_weight[caller.rhythm]
            spike = hour == spike_hour and caller.rhythm == "always"
            if spike:
                lam = lam * 8 + 10
            for _ in range(_poisson(rng, lam)):
                moment = hour + timedelta(milliseconds=rng.randrange(3_600_000))
                if not (now - timedelta(days=days) <= moment < now):
                    continue
                model = by_id[rng.choices(list(caller.models), weights=list(caller.models.values()))[0]]
                invocations.append(_one(rng, moment, caller, model, spike=spike))
        hour += timedelta(hours=1)
    invocations.sort(key=lambda inv: inv.timestamp)
    return Traffic(invocations, account_id, region, spike_hour)


def _one(
    rng: random.Random,
    moment: datetime,
    caller: CallerSpec,
    model: ModelSpec,
    *,
    spike: bool,
) -> Invocation:
    request_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    region = rng.choice(model.inference_regions) if model.inference_regions else None
    common: dict[str, Any] = {
        "timestamp": moment,
        "request_id": request_id,
        "caller": caller.arn,
        "model": model,
        "inference_region": region,
        "request_metadata": caller.request_metadata,
    }
    roll = rng.random()
    if roll < (0.22 if spike else 0.01):
        return Invocation(**common, error_code="ThrottlingException")
    if roll < (0.24 if spike else 0.025):
        return Invocation(**common, error_code=rng.choice(CLIENT_ERRORS))
    if roll < (0.245 if spike else 0.027):
        return Invocation(**common, error_code=rng.choice(SERVER_ERRORS))
    cache_read = cache_write = 0
    if model.cache_prefix and rng.random() < caller.cache_hit_rate:
        # A cached system prompt: mostly read from the cache, written again when it expired (5-minute TTL).
        if rng.random() < caller.cache_write_share:
            cache_write = model.cache_prefix
        else:
            cache_read = model.cache_prefix
    output = _tokens(rng, model.output_tokens)
    pick = rng.randrange(len(PROMPTS))
    return Invocation(
        **common,
        input_tokens=_tokens(rng, round(model.input_tokens * caller.input_scale)),
        output_tokens=output,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        latency_ms=round(model.latency_ms + output * model.ms_per_output_token * rng.uniform(0.7, 1.4)),
        prompt=PROMPTS[pick],
        answer=ANSWERS[pick],
    )


# ---------------------------------------------------------------------------------------------- log records


def _bodies(inv: Invocation) -> tuple[dict[str, Any], Any]:
    """Request and response bodies in the shape each operation logs (stream ops log an array of chunks)."""
    usage = {
        "inputTokens": inv.input_tokens,
        "outputTokens": inv.output_tokens,
        "totalTokens": inv.input_tokens + inv.output_tokens + inv.cache_read_tokens + inv.cache_write_tokens,
        "cacheReadInputTokens": inv.cache_read_tokens,
        "cacheWriteInputTokens": inv.cache_write_tokens,
    }
    if inv.model.operation == "InvokeModel":
        if "anthropic" in inv.model.model_id:
            request: dict[str, Any] = {
                "anthropic_version": "bedrock-2023-05-31",
                "max_tokens": 1024,
                "messages": [{"role": "user", "content": inv.prompt}],
            }
            response: Any = {
                "id": f"msg_bdrk_{inv.request_id[:12]}",
                "type": "message",
                "role": "assistant",
                "content": [{"type": "text", "text": inv.answer}],
                "stop_reason": "end_turn",
                "usage": {"input_tokens": inv.input_tokens, "output_tokens": inv.output_tokens},
            }
        else:
            request = {
                "messages": [{"role": "user", "content": [{"text": inv.prompt}]}],
                "inferenceConfig": {"maxTokens": 1024},
            }
            response = {
                "output": {"message": {"role": "assistant", "content": [{"text": inv.answer}]}},
                "stopReason": "end_turn",
                "usage": usage,
            }
        return request, response
    request = {
        "messages": [{"role": "user", "content": [{"text": inv.prompt}]}],
        "inferenceConfig": {"maxTokens": 1024},
    }
    if inv.request_metadata:
        request["requestMetadata"] = inv.request_metadata
    if inv.model.operation == "ConverseStream":
        response = [
            {"messageStart": {"role": "assistant"}},
            {"contentBlockDelta": {"delta": {"text": inv.answer}, "contentBlockIndex": 0}},
            {"contentBlockStop": {"contentBlockIndex": 0}},
            {"messageStop": {"stopReason": "end_turn"}},
            {"metadata": {"usage": usage, "metrics": {"latencyMs": inv.latency_ms}}},
        ]
    else:
        response = {
            "output": {"message": {"role": "assistant", "content": [{"text": inv.answer}]}},
            "stopReason": "end_turn",
            "usage": usage,
            "metrics": {"latencyMs": inv.latency_ms},
        }
    return request, response


def log_record(
    inv: Invocation, *, account_id: str, region: str, text_delivery: bool = True
) -> dict[str, Any]:
    """The model-invocation log record Bedrock writes for `inv` (REFERENCE.md §1: token counts are nested)."""
    record: dict[str, Any] = {
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": inv.timestamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "accountId": account_id,
        "identity": {"arn": inv.caller},
        "region": region,
        "requestId": inv.request_id,
        "operation": inv.model.operation,
        "modelId": inv.model.model_id,
    }
    if inv.inference_region:
        record["inferenceRegion"] = inv.inference_region
    if inv.request_metadata:
        record["requestMetadata"] = dict(inv.request_metadata)
    if inv.error_code:
        record["errorCode"] = inv.error_code
    request, response = _bodies(inv)
    record["input"] = {"inputContentType": "application/json"}
    if text_delivery:
        record["input"]["inputBodyJson"] = request
    record["input"]["inputTokenCount"] = inv.input_tokens
    if inv.model.cache_prefix:  # models without prompt caching omit the cache fields
        record["input"]["cacheReadInputTokenCount"] = inv.cache_read_tokens
        record["input"]["cacheWriteInputTokenCount"] = inv.cache_write_tokens
    record["output"] = {"outputContentType": "application/json"}
    if text_delivery and not inv.error_code:
        record["output"]["outputBodyJson"] = response
    record["output"]["outputTokenCount"] = inv.output_tokens
    return record


def logged(traffic: Traffic) -> Iterator[Invocation]:
    """The requests that produce an invocation log record.

    A throttled request never reaches the model; we assume it is not logged (REFERENCE.md §12.2: which
    failures are logged is not documented), so throttles show only in the InvocationThrottles metric.
    """
    return (inv for inv in traffic.invocations if not inv.throttled)


# ---------------------------------------------------------------------------------------------- writers


def write_log_events(
    logs: Any, traffic: Traffic, *, log_group: str, text_delivery: bool = True, now: datetime | None = None
) -> int:
    """Put the records into `log_group`'s Bedrock stream, in batches PutLogEvents accepts; returns the count.

    Records more than 14 days older than `now` (the service's clock: default, the wall clock) are left out,
    as CloudWatch Logs would reject them (they are in S3).
    """
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_stream(logGroupName=log_group, logStreamName=LOG_STREAM)
    oldest = _oldest_accepted(now)
    events = (
        {
            "timestamp": int(inv.timestamp.timestamp() * 1000),
            "message": json.dumps(
                log_record(
                    inv, account_id=traffic.account_id, region=traffic.region, text_delivery=text_delivery
                ),
                separators=(",", ":"),
            ),
        }
        for inv in logged(traffic)
        if inv.timestamp >= oldest
    )
    written = 0
    for batch in _log_batches(events):
        response = logs.put_log_events(logGroupName=log_group, logStreamName=LOG_STREAM, logEvents=batch)
        rejected = response.get("rejectedLogEventsInfo")
        if rejected:
            raise RuntimeError(f"CloudWatch Logs rejected part of a batch: {rejected}")
        written += len(batch)
    traffic.written["log events"] = written
    return written


def _log_batches(events: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    size = 0
    for event in events:
        event_size = len(event["message"].encode("utf-8")) + LOGS_EVENT_OVERHEAD
        span_ok = (
            not batch or event["timestamp"] - batch[0]["timestamp"] < LOGS_MAX_SPAN.total_seconds() * 1000
        )
        if batch and (len(batch) >= LOGS_MAX_EVENTS or size + event_size > LOGS_MAX_BYTES or not span_ok):
            yield batch
            batch, size = [], 0
        batch.append(event)
        size += event_size
    if batch:
        yield batch


def log_file_key(key_prefix: str, account_id: str, region: str, written_at: datetime, suffix: str) -> str:
    """`<prefix>/AWSLogs/<acct>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/<ts>_<hex>.json.gz`."""
    prefix = key_prefix.strip("/")
    at = written_at.astimezone(UTC)
    stamp = at.strftime("%Y%m%dT%H%M%S") + f"{at.microsecond // 1000:03d}Z"
    path = (
        f"AWSLogs/{account_id}/BedrockModelInvocationLogs/{region}/{at:%Y/%m/%d/%H}/{stamp}_{suffix}.json.gz"
    )
    return f"{prefix}/{path}" if prefix else path


def write_log_files(
    s3: Any, traffic: Traffic, *, bucket: str, key_prefix: str = "", text_delivery: bool = True, seed: int = 7
) -> int:
    """Write the records as gzipped JSON lines, an object per 30 minutes of traffic; returns the count."""
    rng = random.Random(seed)  # noqa: S311 - reproducible file names, not security
    slices: dict[datetime, list[Invocation]] = defaultdict(list)
    for inv in logged(traffic):
        start = inv.timestamp.replace(
            minute=inv.timestamp.minute - inv.timestamp.minute % 30, second=0, microsecond=0
        )
        slices[start].append(inv)
    for _start, invs in sorted(slices.items()):
        body = "".join(
            json.dumps(
                log_record(
                    inv, account_id=traffic.account_id, region=traffic.region, text_delivery=text_delivery
                ),
                separators=(",", ":"),
            )
            + "\n"
            for inv in invs
        )
        written_at = invs[-1].timestamp  # named after the last record; it stays in the slice's hour folder
        key = log_file_key(
            key_prefix, traffic.account_id, traffic.region, written_at, f"{rng.getrandbits(64):016x}"
        )
        s3.put_object(Bucket=bucket, Key=key, Body=gzip.compress(body.encode("utf-8"), mtime=0))
    traffic.written["log files"] = len(slices)
    traffic.written["log file records"] = sum(len(v) for v in slices.values())
    return len(slices)


_TOKEN_METRICS = (
    ("InputTokenCount", "input_tokens"),
    ("OutputTokenCount", "output_tokens"),
    ("CacheReadInputTokenCount", "cache_read_tokens"),
    ("CacheWriteInputTokenCount", "cache_write_tokens"),
)


def _oldest_accepted(now: datetime | None) -> datetime:
    # CloudWatch checks ages against its own clock; the margin covers the time the writing itself takes.
    return (now or datetime.now(UTC)) - CLOUDWATCH_MAX_AGE + timedelta(minutes=5)


def metric_data(traffic: Traffic, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """AWS/Bedrock datapoints per minute and ModelId, as Bedrock publishes them (last 14 days only)."""
    oldest = _oldest_accepted(now)
    minutes: dict[tuple[datetime, str], list[Invocation]] = defaultdict(list)
    for inv in traffic.invocations:
        if inv.timestamp >= oldest:
            minute = inv.timestamp.replace(second=0, microsecond=0)
            minutes[(minute, inv.model.metric_model_id)].append(inv)
    data: list[dict[str, Any]] = []
    for (minute, model_id), invs in sorted(minutes.items()):
        dims = [{"Name": "ModelId", "Value": model_id}]

        def put(
            name: str, value: float, unit: str = "Count", *, when: datetime = minute, d: Any = dims
        ) -> None:
            data.append(
                {"MetricName": name, "Dimensions": d, "Timestamp": when, "Value": value, "Unit": unit}
            )

        served = [inv for inv in invs if not inv.throttled]
        throttles = len(invs) - len(served)
        if served:
            # Invocations counts requests accepted for processing, failed ones included (REFERENCE.md §13.5).
            put("Invocations", len(served))
            for metric, attr in _TOKEN_METRICS:
                total = sum(getattr(inv, attr) for inv in served)
                if total or metric in ("InputTokenCount", "OutputTokenCount"):
                    put(metric, total)
            latencies = [inv.latency_ms for inv in served if not inv.error_code]
            # Values/Counts keep the distribution, so the real service can give percentiles for it;
            # one datum takes at most 150 values.
            for i in range(0, len(latencies), 150):
                chunk = latencies[i : i + 150]
                data.append(
                    {
                        "MetricName": "InvocationLatency",
                        "Dimensions": dims,
                        "Timestamp": minute,
                        "Values": [float(v) for v in chunk],
                        "Counts": [1.0] * len(chunk),
                        "Unit": "Milliseconds",
                    }
                )
            client = sum(inv.client_error for inv in served)
            server = sum(inv.server_error for inv in served)
            if client:
                put("InvocationClientErrors", client)
            if server:
                put("InvocationServerErrors", server)
        if throttles:
            put("InvocationThrottles", throttles)
    return data


def write_metrics(cloudwatch: Any, traffic: Traffic, *, now: datetime | None = None) -> int:
    """Put the AWS/Bedrock datapoints (PutMetricData in batches); returns how many were written."""
    data = metric_data(traffic, now=now)
    for i in range(0, len(data), METRICS_PER_CALL):
        cloudwatch.put_metric_data(Namespace="AWS/Bedrock", MetricData=data[i : i + METRICS_PER_CALL])
    traffic.written["metric datapoints"] = len(data)
    return len(data)
