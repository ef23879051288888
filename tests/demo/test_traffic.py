"""The traffic generator: realistic, deterministic, and written the way Bedrock writes it (moto)."""

from __future__ import annotations

import gzip
import itertools
import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from bedrock_usage.collect.logfiles import collect_logfiles
from bedrock_usage.model import Window
from moto import mock_aws

from scripts import traffic as gen

# The traffic ends about now: CloudWatch Logs (and moto) refuse events more than 14 days old.
NOW = datetime.now(UTC).replace(microsecond=0)
ACCOUNT = "123456789012"
REGION = "us-east-1"
KEY_RE = re.compile(
    r"^logs/AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1/"
    r"(\d{4})/(\d{2})/(\d{2})/(\d{2})/(\d{8}T\d{6}\d{3}Z)_[0-9a-f]{16}\.json\.gz$"
)


@pytest.fixture(scope="module")
def traffic() -> gen.Traffic:
    return gen.generate(now=NOW, account_id=ACCOUNT, region=REGION, per_day=300, seed=11)


@pytest.fixture(scope="module")
def recent() -> gen.Traffic:
    """Three days: enough for the S3 and metrics checks, and quick to write."""
    return gen.generate(now=NOW, account_id=ACCOUNT, region=REGION, days=3, per_day=300, seed=5)


def test_same_inputs_give_the_same_traffic(traffic: gen.Traffic) -> None:
    again = gen.generate(now=NOW, account_id=ACCOUNT, region=REGION, per_day=300, seed=11)
    other = gen.generate(now=NOW, account_id=ACCOUNT, region=REGION, per_day=300, seed=12)
    assert again.invocations == traffic.invocations
    assert other.invocations != traffic.invocations


def test_traffic_covers_every_model_id_form_and_kind_of_caller(traffic: gen.Traffic) -> None:
    """Given the default mix, Then every ModelId form, users, roles and request metadata appear."""
    model_ids = {inv.model.model_id for inv in traffic.invocations}
    assert "anthropic.claude-3-haiku-20240307-v1:0" in model_ids
    assert "us.anthropic.claude-sonnet-4-5-20250929-v1:0" in model_ids
    assert "global.anthropic.claude-haiku-4-5-20251001-v1:0" in model_ids
    assert f"arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/us.amazon.nova-pro-v1:0" in model_ids
    assert "amazon.nova-lite-v1:0" in model_ids
    assert "acme.private-model-v1:0" in model_ids
    callers = {inv.caller for inv in traffic.invocations}
    assert any(":user/" in c for c in callers)
    assert any(":assumed-role/" in c for c in callers)
    assert any(inv.request_metadata for inv in traffic.invocations)
    assert all(NOW - timedelta(days=15) <= inv.timestamp < NOW for inv in traffic.invocations)
    assert [inv.timestamp for inv in traffic.invocations] == sorted(
        inv.timestamp for inv in traffic.invocations
    )


def test_traffic_has_caching_errors_throttles_a_rhythm_and_a_spike(traffic: gen.Traffic) -> None:
    invs = traffic.invocations
    assert sum(inv.cache_read_tokens for inv in invs) > sum(inv.cache_write_tokens for inv in invs) > 0
    codes = Counter(inv.error_code for inv in invs if inv.error_code)
    assert codes["ThrottlingException"] > 0
    assert any(code in gen.CLIENT_ERRORS for code in codes)
    # Daily rhythm: US office hours (weekdays) are busier than the small hours.
    weekday = [inv for inv in invs if inv.timestamp.weekday() < 5]
    office = sum(1 for inv in weekday if 15 <= inv.timestamp.hour < 21)
    night = sum(1 for inv in weekday if 4 <= inv.timestamp.hour < 10)
    assert office > 2 * night
    # The spiking caller (the support bot, busy around the clock) sends several times its traffic of the same
    # hour a day earlier, with many throttles. Only its calls are compared: the others follow office hours,
    # and the spike lands six hours before the wall clock, whatever time of day the test runs.
    bot = next(inv.caller for inv in invs if "support-bot" in inv.caller)
    spike = [
        inv
        for inv in invs
        if traffic.spike_hour <= inv.timestamp < traffic.spike_hour + timedelta(hours=1) and inv.caller == bot
    ]
    day_before = traffic.spike_hour - timedelta(days=1)
    usual = [
        inv
        for inv in invs
        if day_before <= inv.timestamp < day_before + timedelta(hours=1) and inv.caller == bot
    ]
    assert len(spike) > 2 * max(1, len(usual))
    assert sum(inv.throttled for inv in spike) > max(0, sum(inv.throttled for inv in usual))


def test_log_record_nests_token_counts_as_bedrock_does(traffic: gen.Traffic) -> None:
    stream = next(
        inv for inv in traffic.invocations if inv.model.operation == "ConverseStream" and not inv.error_code
    )
    record = gen.log_record(stream, account_id=ACCOUNT, region=REGION)
    assert record["schemaType"] == "ModelInvocationLog"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", record["timestamp"])
    assert "inputTokenCount" not in record
    assert record["input"]["inputTokenCount"] == stream.input_tokens
    assert record["output"]["outputTokenCount"] == stream.output_tokens
    assert record["input"]["cacheReadInputTokenCount"] == stream.cache_read_tokens
    assert isinstance(record["output"]["outputBodyJson"], list)  # stream ops log the chunks
    assert record["inferenceRegion"]
    quiet = gen.log_record(stream, account_id=ACCOUNT, region=REGION, text_delivery=False)
    assert "inputBodyJson" not in quiet["input"]
    assert "outputBodyJson" not in quiet["output"]
    old_model = next(inv for inv in traffic.invocations if not inv.model.cache_prefix)
    assert (
        "cacheReadInputTokenCount"
        not in gen.log_record(old_model, account_id=ACCOUNT, region=REGION)["input"]
    )
    failed = next(inv for inv in traffic.invocations if inv.client_error)
    assert gen.log_record(failed, account_id=ACCOUNT, region=REGION)["errorCode"] in gen.CLIENT_ERRORS


def test_log_batches_respect_put_log_events_limits() -> None:
    """Given many small, then large, then sparse events, Then each batch fits PutLogEvents' limits."""
    start = int(NOW.timestamp() * 1000)
    small = [{"timestamp": start + i, "message": "x"} for i in range(12_000)]  # hits the 10,000-event cap
    large = [{"timestamp": start + 20_000 + i, "message": "x" * 1000} for i in range(3000)]  # hits 1 MB
    sparse = [{"timestamp": start + 40_000 + i * 3_600_000, "message": "x"} for i in range(50)]  # hits 24 h
    events = small + large + sparse
    batches = list(gen._log_batches(events))
    assert [e for b in batches for e in b] == events  # nothing lost, order kept
    assert max(len(b) for b in batches) == gen.LOGS_MAX_EVENTS
    for batch in batches:
        assert len(batch) <= gen.LOGS_MAX_EVENTS
        assert sum(len(e["message"]) + gen.LOGS_EVENT_OVERHEAD for e in batch) <= gen.LOGS_MAX_BYTES
        assert batch[-1]["timestamp"] - batch[0]["timestamp"] < 24 * 3600 * 1000
    for batch, following in itertools.pairwise(batches):
        # Each cut was needed: the next event would have broken a limit.
        grown = [*batch, following[0]]
        assert (
            len(grown) > gen.LOGS_MAX_EVENTS
            or sum(len(e["message"]) + gen.LOGS_EVENT_OVERHEAD for e in grown) > gen.LOGS_MAX_BYTES
            or grown[-1]["timestamp"] - grown[0]["timestamp"] >= 24 * 3600 * 1000
        )


@mock_aws
def test_log_group_gets_the_last_14_days_of_logged_requests(traffic: gen.Traffic) -> None:
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName="/aws/bedrock/modelinvocations")
    service_now = datetime.now(UTC)  # CloudWatch Logs judges age by its own clock
    written = gen.write_log_events(logs, traffic, log_group="/aws/bedrock/modelinvocations", now=service_now)
    cutoff = service_now - timedelta(days=14) + timedelta(minutes=5)
    expected = [inv for inv in traffic.invocations if not inv.throttled and inv.timestamp >= cutoff]
    assert written == len(expected)
    events = []
    kwargs = {
        "logGroupName": "/aws/bedrock/modelinvocations",
        "logStreamName": gen.LOG_STREAM,
        "startFromHead": True,
    }
    while True:
        page = logs.get_log_events(**kwargs)
        events.extend(page["events"])
        if not page["events"]:
            break
        kwargs["nextToken"] = page["nextForwardToken"]
    assert len(events) == len(expected)
    assert {json.loads(e["message"])["requestId"] for e in events} == {inv.request_id for inv in expected}


@mock_aws
def test_log_files_use_bedrocks_key_layout_and_the_collector_reads_them_back(recent: gen.Traffic) -> None:
    """Given the files in S3, Then keys follow Bedrock's layout and the log-file collector sees the truth."""
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="bedrock-logs-123456789012")
    count = gen.write_log_files(s3, recent, bucket="bedrock-logs-123456789012", key_prefix="logs/")
    keys = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket="bedrock-logs-123456789012")
        for o in page.get("Contents", [])
    ]
    assert len(keys) == count
    records = 0
    for key in keys:
        match = KEY_RE.match(key)
        assert match, key
        year, month, day, hour, stamp = match.groups()
        assert stamp.startswith(f"{year}{month}{day}T{hour}")
        body = s3.get_object(Bucket="bedrock-logs-123456789012", Key=key)["Body"].read()
        records += len(gzip.decompress(body).splitlines())
    assert records == sum(1 for inv in recent.invocations if not inv.throttled)

    window = Window(NOW - timedelta(days=2), NOW)
    usage = collect_logfiles("s3://bedrock-logs-123456789012/logs/", window, s3=s3)
    expected = recent.expected(window)
    got = usage.totals()
    assert got.invocations == expected.invocations
    assert got.input_tokens == expected.input_tokens
    assert got.output_tokens == expected.output_tokens
    assert got.cache_read_tokens == expected.cache_read_tokens
    assert got.client_errors == expected.client_errors
    assert usage.skipped_records == 0


@mock_aws
def test_metrics_sum_to_the_truth_per_model_id(recent: gen.Traffic) -> None:
    """Given the datapoints in CloudWatch, Then Sum per ModelId over a day equals the requests in that day."""
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    gen.write_metrics(cloudwatch, recent)
    end = NOW.replace(second=0)  # datapoints are per minute
    window = Window(end - timedelta(days=1), end)
    truth: dict[str, dict[str, int]] = {}
    for inv in recent.invocations:
        if window.start <= inv.timestamp < window.end:
            row = truth.setdefault(inv.model.metric_model_id, Counter())
            row["Invocations"] += 0 if inv.throttled else 1
            row["InvocationThrottles"] += int(inv.throttled)
            row["InputTokenCount"] += inv.input_tokens
    assert "us.amazon.nova-pro-v1:0" in truth  # the profile ARN shows as its ID in metrics
    queries = [
        {
            "Id": f"q{n}",
            "Label": f"{model}|{metric}",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/Bedrock",
                    "MetricName": metric,
                    "Dimensions": [{"Name": "ModelId", "Value": model}],
                },
                "Period": 86400 * 2,
                "Stat": "Sum",
            },
        }
        for n, (model, metric) in enumerate(
            (m, k) for m in truth for k in ("Invocations", "InvocationThrottles", "InputTokenCount")
        )
    ]
    result = cloudwatch.get_metric_data(
        MetricDataQueries=queries, StartTime=window.start, EndTime=window.end, ScanBy="TimestampAscending"
    )
    for series in result["MetricDataResults"]:
        model, metric = series["Label"].split("|")
        assert sum(series["Values"]) == truth[model][metric], series["Label"]
