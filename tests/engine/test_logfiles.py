"""The log-file collector: record shapes, malformed input, file selection, local folders and S3 (moto)."""

from __future__ import annotations

import gzip
import json
from datetime import date, timedelta
from pathlib import Path

import boto3
import pytest
from bedrock_usage.collect import logfile_files
from bedrock_usage.collect.logfiles import collect_logfiles
from moto import mock_aws

from .helpers import ALICE, BOB, NOVA_LITE, SONNET45, at, bedrock_key, gz_lines, record, window, write_gz

DAY = window("2026-11-27T00:00:00", "2026-11-28T00:00:00")
CLAUDE = f"us.{SONNET45}"


def test_tokens_are_read_from_nested_fields_with_and_without_cache(tmp_path: Path) -> None:
    write_gz(
        tmp_path / "a.json.gz",
        [
            record(
                "2026-11-27T10:00:00Z", input_tokens=100, output_tokens=20
            ),  # older record: no cache fields
            record(
                "2026-11-27T10:01:00Z", input_tokens=50, output_tokens=10, cache_read=900, cache_write=300
            ),
            record(
                "2026-11-27T10:02:00Z", NOVA_LITE, caller=BOB, input_tokens=7, output_tokens=3, cache_read=0
            ),
        ],
    )
    usage = collect_logfiles(str(tmp_path), DAY)
    claude = usage.by_model[CLAUDE]
    assert (claude.invocations, claude.input_tokens, claude.output_tokens) == (2, 150, 30)
    assert (claude.cache_read_tokens, claude.cache_write_tokens) == (900, 300)
    assert usage.by_model[NOVA_LITE].input_tokens == 7
    assert usage.by_caller[(ALICE, CLAUDE)].invocations == 2
    assert usage.by_caller[(BOB, NOVA_LITE)].output_tokens == 3
    assert usage.daily[date(2026, 11, 27)][CLAUDE].invocations == 2
    assert usage.skipped_records == 0
    assert usage.source == "log-files"


def test_guardrail_blocked_call_counts_as_an_invocation_with_zero_tokens(tmp_path: Path) -> None:
    blocked = record("2026-11-27T11:00:00Z", input_tokens=0, output_tokens=0)
    blocked["output"]["outputBodyJson"] = {"stopReason": "guardrail_intervened"}
    write_gz(tmp_path / "g.json.gz", [blocked])
    usage = collect_logfiles(str(tmp_path), DAY)
    assert usage.by_model[CLAUDE].invocations == 1
    assert usage.by_model[CLAUDE].total_tokens == 0
    assert usage.skipped_records == 0


def test_streaming_records_count_tokens_and_latency_from_the_chunk_array(tmp_path: Path) -> None:
    write_gz(
        tmp_path / "s.json.gz",
        [
            record(
                "2026-11-27T12:00:00Z",
                operation="ConverseStream",
                stream=True,
                input_tokens=40,
                output_tokens=400,
                latency_ms=2000,
            ),
            record("2026-11-27T12:00:01Z", latency_ms=1000),
            record("2026-11-27T12:00:02Z", latency_ms=1000),
            record("2026-11-27T12:00:03Z"),  # InvokeModel-style body: no latency
        ],
    )
    usage = collect_logfiles(str(tmp_path), DAY)
    assert usage.by_model[CLAUDE].output_tokens == 400 + 3 * 20
    latency = usage.latency[CLAUDE]
    assert latency.average_ms == pytest.approx(4000 / 3, abs=0.1)
    assert latency.max_ms == 2000
    assert latency.p50_ms == pytest.approx(1000, rel=0.01)  # 1%-wide buckets
    assert latency.p99_ms == pytest.approx(2000, rel=0.01)


def test_error_codes_are_counted_and_classified(tmp_path: Path) -> None:
    write_gz(
        tmp_path / "e.json.gz",
        [
            record("2026-11-27T13:00:00Z", error_code="ThrottlingException", input_tokens=0, output_tokens=0),
            record("2026-11-27T13:00:01Z", error_code="ValidationException", input_tokens=0, output_tokens=0),
            record("2026-11-27T13:00:04Z", error_code="ValidationException", input_tokens=0, output_tokens=0),
            record(
                "2026-11-27T13:00:02Z", error_code="InternalServerException", input_tokens=0, output_tokens=0
            ),
            record("2026-11-27T13:00:03Z"),
        ],
    )
    usage = collect_logfiles(str(tmp_path), DAY)
    c = usage.by_model[CLAUDE]
    # Like CloudWatch: throttled requests are not Invocations; failed ones are.
    # Two client errors and one server error, so a swap of the two kinds shows.
    assert (c.invocations, c.throttles, c.client_errors, c.server_errors) == (4, 1, 2, 1)
    assert usage.errors_by_code == {
        "ThrottlingException": 1,
        "ValidationException": 2,
        "InternalServerException": 1,
    }


def test_truncated_and_malformed_lines_are_skipped_counted_and_sampled(tmp_path: Path) -> None:
    good = json.dumps(record("2026-11-27T14:00:00Z"))
    bad_tokens = record("2026-11-27T14:00:01Z")
    bad_tokens["input"]["inputTokenCount"] = "many"
    no_model = record("2026-11-27T14:00:02Z")
    del no_model["modelId"]
    lines = [good, good[: len(good) // 2], json.dumps(bad_tokens), json.dumps(no_model), "[1, 2]", "", good]
    (tmp_path / "m.json.gz").write_bytes(gzip.compress("\n".join(lines).encode()))
    usage = collect_logfiles(str(tmp_path), DAY)
    assert usage.by_model[CLAUDE].invocations == 2
    assert usage.skipped_records == 4
    warning = next(w for w in usage.warnings if "malformed" in w)
    assert "m.json.gz:2" in warning
    assert "not valid JSON" in warning
    assert "inputTokenCount" in warning


def test_truncated_gzip_is_reported_and_records_before_the_cut_are_kept(tmp_path: Path) -> None:
    records = [record(f"2026-11-27T15:{i:02d}:00Z") for i in range(50)]
    blob = gz_lines(records)
    (tmp_path / "cut.json.gz").write_bytes(blob[: len(blob) - 40])
    usage = collect_logfiles(str(tmp_path), DAY)
    assert any("truncated gzip" in w and "cut.json.gz" in w for w in usage.warnings)
    assert 0 < usage.by_model[CLAUDE].invocations < 50


def test_records_outside_the_window_are_ignored_not_skipped(tmp_path: Path) -> None:
    write_gz(
        tmp_path / "w.json.gz",
        [
            record("2026-11-26T23:59:59Z"),
            record("2026-11-27T00:00:00Z"),  # start is inclusive
            record("2026-11-28T00:00:00Z"),  # end is exclusive
        ],
    )
    usage = collect_logfiles(str(tmp_path), DAY)
    assert usage.by_model[CLAUDE].invocations == 1
    assert usage.skipped_records == 0


def test_daily_from_fills_the_daily_series_only(tmp_path: Path) -> None:
    write_gz(
        tmp_path / "d.json.gz",
        [record("2026-11-20T10:00:00Z"), record("2026-11-25T10:00:00Z"), record("2026-11-27T10:00:00Z")],
    )
    usage = collect_logfiles(str(tmp_path), DAY, daily_from=at("2026-11-21T00:00:00"))
    assert usage.by_model[CLAUDE].invocations == 1
    assert sorted(usage.daily) == [date(2026, 11, 25), date(2026, 11, 27)]


def test_plain_json_one_record_array_and_jsonl(tmp_path: Path) -> None:
    (tmp_path / "one.json").write_text(json.dumps(record("2026-11-27T16:00:00Z"), indent=2))
    (tmp_path / "many.json").write_text(
        json.dumps([record("2026-11-27T16:00:01Z"), record("2026-11-27T16:00:02Z")])
    )
    (tmp_path / "lines.json").write_text(
        "\n".join(json.dumps(record(f"2026-11-27T16:01:0{i}Z")) for i in range(3)) + "\n"
    )
    (tmp_path / "more.jsonl").write_text(
        "\n".join(json.dumps(record(f"2026-11-27T16:02:0{i}Z")) for i in range(4)) + "\n"
    )
    (tmp_path / "notes.txt").write_text("not a log file")
    usage = collect_logfiles(str(tmp_path), DAY)
    assert usage.by_model[CLAUDE].invocations == 1 + 2 + 3 + 4
    assert usage.skipped_records == 0


def test_a_single_file_can_be_the_source(tmp_path: Path) -> None:
    path = write_gz(tmp_path / "x.json.gz", [record("2026-11-27T10:00:00Z")])
    assert collect_logfiles(str(path), DAY).by_model[CLAUDE].invocations == 1


def test_only_hour_folders_that_can_overlap_the_window_are_read(tmp_path: Path) -> None:
    root = tmp_path / "AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1"
    write_gz(root / "2026/11/27/10/a.json.gz", [record("2026-11-27T10:00:00Z")])
    # Delivered in the next hour's folder after the window end: still read (delivery lag).
    write_gz(root / "2026/11/28/00/b.json.gz", [record("2026-11-27T23:59:58Z")])
    # Far outside the window: a corrupt file there would produce a warning if it were opened.
    (root / "2026/11/20/10").mkdir(parents=True)
    (root / "2026/11/20/10/old.json.gz").write_bytes(b"not gzip at all")
    # Large request bodies under .../HH/data/ are not records.
    (root / "2026/11/27/10/data").mkdir(parents=True)
    (root / "2026/11/27/10/data/req_input.json.gz").write_bytes(gz_lines([{"messages": []}]))
    usage = collect_logfiles(str(tmp_path), DAY)
    assert usage.by_model[CLAUDE].invocations == 2
    assert usage.warnings == []
    assert usage.skipped_records == 0


def test_a_corrupt_gzip_is_reported_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "bad.json.gz").write_bytes(b"definitely not gzip")
    write_gz(tmp_path / "good.json.gz", [record("2026-11-27T10:00:00Z")])
    usage = collect_logfiles(str(tmp_path), DAY)
    assert usage.by_model[CLAUDE].invocations == 1
    assert any("bad.json.gz" in w for w in usage.warnings)


def test_missing_local_source_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        collect_logfiles(str(tmp_path / "nope"), DAY)


@mock_aws
def test_s3_prefix_lists_only_the_days_of_the_window_across_regions() -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="bedrock-logs-123456789012")
    start = at("2026-11-20T00:00:00")
    expected = 0
    for hour in range(0, 24 * 10, 5):  # 10 days, every 5 hours, two regions
        moment = start + timedelta(hours=hour, minutes=7)
        for region in ("us-east-1", "eu-west-1"):
            key = bedrock_key(moment, region, prefix="logs/")
            s3.put_object(
                Bucket="bedrock-logs-123456789012",
                Key=key,
                Body=gz_lines([record(f"{moment:%Y-%m-%dT%H:%M:%SZ}")]),
            )
            if DAY.start <= moment < DAY.end:
                expected += 1
    s3.put_object(Bucket="bedrock-logs-123456789012", Key="logs/AWSLogs/123456789012/note.txt", Body=b"x")

    listed: list[str] = []
    s3.meta.events.register(
        "provide-client-params.s3.ListObjectsV2", lambda params, **_: listed.append(params.get("Prefix", ""))
    )
    usage = collect_logfiles("s3://bedrock-logs-123456789012/logs/", DAY, s3=s3)
    assert usage.by_model[CLAUDE].invocations == expected > 0
    day_listings = [p for p in listed if p.count("/") >= 8]
    # Each region: 26th (slack), 27th, 28th (slack): never the whole archive.
    assert sorted({p.split("BedrockModelInvocationLogs/")[1] for p in day_listings}) == [
        f"{region}/2026/11/{d}/" for region in ("eu-west-1", "us-east-1") for d in (26, 27, 28)
    ]


@mock_aws
def test_s3_listing_is_paginated(monkeypatch: pytest.MonkeyPatch) -> None:
    """More than one ListObjectsV2 page under one day's prefix (page size lowered to keep moto fast)."""
    monkeypatch.setattr(logfile_files, "LIST_PAGE_SIZE", 10)
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="bedrock-logs-test")
    moment = at("2026-11-27T10:00:00")
    body = gz_lines([record("2026-11-27T10:00:00Z")])
    for i in range(35):
        s3.put_object(Bucket="bedrock-logs-test", Key=bedrock_key(moment, suffix=f"{i:05d}"), Body=body)
    calls: list[str] = []
    s3.meta.events.register(
        "provide-client-params.s3.ListObjectsV2", lambda params, **_: calls.append(params)
    )
    usage = collect_logfiles("s3://bedrock-logs-test", DAY, s3=s3)
    assert usage.by_model[CLAUDE].invocations == 35
    assert sum(1 for c in calls if c.get("ContinuationToken")) >= 3


@mock_aws
def test_an_object_expired_between_listing_and_reading_is_a_warning() -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="bedrock-logs-test")
    moment = at("2026-11-27T10:00:00")
    for suffix in ("gone", "kept"):
        s3.put_object(
            Bucket="bedrock-logs-test",
            Key=bedrock_key(moment, suffix=suffix),
            Body=gz_lines([record("2026-11-27T10:00:00Z")]),
        )
    other = boto3.client("s3", region_name="us-east-1")

    def expire(params: dict, **_: object) -> None:
        if params["Key"].endswith("_gone.json.gz"):
            other.delete_object(Bucket=params["Bucket"], Key=params["Key"])  # the lifecycle rule, just now

    s3.meta.events.register("provide-client-params.s3.GetObject", expire)
    usage = collect_logfiles("s3://bedrock-logs-test", DAY, s3=s3)
    assert usage.by_model[CLAUDE].invocations == 1
    assert any("disappeared" in w for w in usage.warnings)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_a_token_count_that_is_not_finite_skips_that_record_only(tmp_path: Path, value: str) -> None:
    """stdlib json reads NaN and Infinity; int() of them raised and failed the whole log-file source."""
    good = json.dumps(record("2026-11-27T14:00:00Z"))
    odd = json.dumps(record("2026-11-27T14:00:01Z")).replace(
        '"inputTokenCount": ', f'"inputTokenCount": {value}, "was": ', 1
    )
    (tmp_path / "m.json.gz").write_bytes(gzip.compress("\n".join([good, odd, good]).encode()))
    usage = collect_logfiles(str(tmp_path), DAY)
    assert usage.by_model[CLAUDE].invocations == 2
    assert usage.skipped_records == 1
    assert any("inputTokenCount is not a token count" in w for w in usage.warnings)
