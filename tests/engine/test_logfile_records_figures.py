"""Record-level figures of the log-file scan: token counts in every JSON spelling, the reasons a record is
skipped (word for word), callers/Regions/accounts, large requests, time zones, latency from every body shape,
and the single-record reader `tail` uses. Expected figures are worked out by hand in each test."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from bedrock_usage.collect import logfile_parse
from bedrock_usage.collect.logfiles import Latencies, Seen, collect_logfiles, read_record
from moto import mock_aws

from .helpers import ALICE, SONNET45, invoke_stream_record, record, window, write_gz

CLAUDE = f"us.{SONNET45}"
DAY = window("2026-11-27T00:00:00", "2026-11-28T00:00:00")


def _jsonl(path: Path, records: list[Any]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


def test_token_counts_written_as_whole_floats_null_or_left_out_count_as_integers(tmp_path: Path) -> None:
    """7.0 output tokens are 7; a null or missing count is 0, not 1; 0.0 is a count, not a bad record."""
    floats = record("2026-11-27T10:00:00Z")
    floats["input"].update(inputTokenCount=None, cacheReadInputTokenCount=5.0, cacheWriteInputTokenCount=3.0)
    floats["output"]["outputTokenCount"] = 7.0
    missing = record("2026-11-27T10:00:01Z")
    del missing["input"]["inputTokenCount"], missing["output"]["outputTokenCount"]
    zero = record("2026-11-27T10:00:02Z", input_tokens=11)
    zero["output"]["outputTokenCount"] = 0.0
    write_gz(tmp_path / "t.json.gz", [floats, missing, zero])
    usage = collect_logfiles(str(tmp_path), DAY)
    c = usage.by_model[CLAUDE]
    figures = (c.invocations, c.input_tokens, c.output_tokens, c.cache_read_tokens, c.cache_write_tokens)
    assert figures == (3, 0 + 0 + 11, 7 + 0 + 0, 5, 3)
    assert all(type(n) is int for n in figures)  # 7.0 would print as "7.0" and price as a float
    assert usage.skipped_records == 0
    assert usage.warnings == []


def test_negative_or_non_numeric_token_counts_skip_the_record_with_the_reason_word_for_word(
    tmp_path: Path,
) -> None:
    bad_read = record("2026-11-27T10:00:00Z", cache_read=-3)
    bad_write = record("2026-11-27T10:00:01Z", cache_write=-2)
    bad_out = record("2026-11-27T10:00:02Z", output_tokens=-1)
    long_text = record("2026-11-27T10:00:03Z")
    long_text["input"]["inputTokenCount"] = "x" * 200
    good = record("2026-11-27T10:00:04Z", input_tokens=9)
    path = _jsonl(tmp_path / "n.jsonl", [bad_read, bad_write, bad_out, long_text, good])
    usage = collect_logfiles(str(path), DAY)
    assert usage.by_model[CLAUDE].invocations == 1
    assert usage.by_model[CLAUDE].input_tokens == 9
    # The reason is cut at 120 characters so one odd value cannot flood the warning.
    long_reason = ("inputTokenCount is not a token count: '" + "x" * 200)[:120]
    assert usage.warnings == [
        "4 malformed log record(s) skipped; first: "
        f"{path}:1: cacheReadInputTokenCount is not a token count: -3 | "
        f"{path}:2: cacheWriteInputTokenCount is not a token count: -2 | "
        f"{path}:3: outputTokenCount is not a token count: -1 | "
        f"{path}:4: {long_reason}"
    ]
    assert len(long_reason) == 120


def test_records_without_a_usable_timestamp_model_or_shape_are_named_with_the_reason(tmp_path: Path) -> None:
    no_model = record("2026-11-27T10:00:00Z", model_id="")
    numeric_stamp = record("2026-11-27T10:00:01Z")
    numeric_stamp["timestamp"] = 1764237601
    stamp = "yesterday at ten past ten, more or less, in the afternoon"
    bad_stamp = record("2026-11-27T10:00:02Z")
    bad_stamp["timestamp"] = stamp
    path = _jsonl(tmp_path / "s.jsonl", [no_model, numeric_stamp, [1, 2], bad_stamp])
    usage = collect_logfiles(str(path), DAY)
    assert usage.by_model == {}
    assert usage.warnings == [
        "4 malformed log record(s) skipped; first: "
        f"{path}:1: record has no timestamp or modelId | "
        f"{path}:2: record has no timestamp or modelId | "
        f"{path}:3: record is not a JSON object | "
        f"{path}:4: bad timestamp {stamp[:40]!r}"
    ]


def test_a_json_file_names_a_bad_array_item_by_index_and_a_bad_line_by_its_number(tmp_path: Path) -> None:
    array = tmp_path / "a.json"
    array.write_text(json.dumps([record("2026-11-27T10:00:00Z"), 5, record("2026-11-27T10:00:01Z")]))
    lines = _jsonl(
        tmp_path / "l.json", [record("2026-11-27T10:00:02Z"), "{cut", record("2026-11-27T10:00:03Z")]
    )
    single = tmp_path / "s.json"
    single.write_text(json.dumps(["not", "records"][0]))
    usage = collect_logfiles(str(tmp_path), DAY)
    assert usage.by_model[CLAUDE].invocations == 4
    assert usage.warnings == [
        "3 malformed log record(s) skipped; first: "
        f"{array}[1]: record is not a JSON object | "
        f"{lines}:2: not valid JSON (truncated line?) | "
        f"{single}: record is not a JSON object"
    ]


def test_a_gzip_file_cut_before_its_first_line_says_it_read_none(tmp_path: Path) -> None:
    whole = gzip.compress(json.dumps(record("2026-11-27T10:00:00Z")).encode() * 20)
    cut = tmp_path / "c.json.gz"
    cut.write_bytes(whole[:30])
    usage = collect_logfiles(str(tmp_path), DAY)
    assert usage.warnings == [f"truncated gzip file {cut}: read 0 line(s) before it ended"]


def test_a_record_without_caller_or_region_counts_under_unknown(tmp_path: Path) -> None:
    anonymous = record("2026-11-27T10:00:00Z", input_tokens=3)
    del anonymous["identity"]
    anonymous["region"] = ""
    blank = record("2026-11-27T10:00:02Z", input_tokens=30)
    blank["identity"] = {"arn": ""}
    write_gz(tmp_path / "u.json.gz", [anonymous, record("2026-11-27T10:00:01Z", input_tokens=5), blank])
    usage = collect_logfiles(str(tmp_path), DAY)
    assert usage.by_caller[("unknown", CLAUDE)].input_tokens == 3 + 30
    assert usage.by_caller[(ALICE, CLAUDE)].input_tokens == 5
    assert {r: c.input_tokens for r, c in usage.by_region[CLAUDE].items()} == {
        "unknown": 3,
        "us-east-1": 5 + 30,
    }


def test_a_request_is_large_from_exactly_100000_input_tokens_counting_cache_reads_and_writes(
    tmp_path: Path,
) -> None:
    """Long-context rates start at 100,000 tokens of input: fresh + cache read + cache write."""
    at_floor = record("2026-11-27T10:00:00Z", input_tokens=60_000, cache_read=30_000, cache_write=10_000)
    below = record("2026-11-27T10:00:01Z", input_tokens=60_000, cache_read=30_000, cache_write=9_999)
    write_gz(tmp_path / "big.json.gz", [at_floor, below])
    usage = collect_logfiles(str(tmp_path), DAY)
    total = 60_000 + 30_000 + 10_000
    key = (CLAUDE, "us-east-1", ALICE, date(2026, 11, 27), True, total)
    assert list(usage.large_requests) == [key]
    assert usage.large_requests[key].cache_write_tokens == 10_000


def test_each_account_gets_its_own_usage_for_the_same_window(tmp_path: Path) -> None:
    first, second = (
        record("2026-11-27T10:00:00Z", input_tokens=7),
        record("2026-11-27T10:00:01Z", input_tokens=4),
    )
    second["accountId"] = "210987654321"
    numeric = record("2026-11-27T10:00:03Z", input_tokens=50)
    numeric["accountId"] = 123456789012  # not a string: no account can be trusted from it
    write_gz(
        tmp_path / "acc.json.gz", [first, second, record("2026-11-27T10:00:02Z", input_tokens=1), numeric]
    )
    per_account: dict[str, Any] = {}
    collect_logfiles(str(tmp_path), DAY, per_account=per_account)
    assert list(per_account) == ["123456789012", "210987654321", "unknown"]
    assert per_account["unknown"].by_model[CLAUDE].input_tokens == 50
    assert per_account["123456789012"].by_model[CLAUDE].input_tokens == 7 + 1
    assert per_account["210987654321"].by_model[CLAUDE].input_tokens == 4
    assert all(u.window == DAY and u.source == "log-files" for u in per_account.values())


@pytest.mark.usefixtures("tokyo_local_time")
def test_timestamps_are_read_in_utc_whatever_the_machine_s_time_zone(tmp_path: Path) -> None:
    """On a laptop in Tokyo: a timestamp without offset is UTC; one with +02:00 is moved to UTC's day."""
    naive = record("2026-11-27T05:00:00", input_tokens=1)  # 05:00 UTC, not 05:00 Tokyo (20:00 the day before)
    offset = record("2026-11-28T01:30:00+02:00", input_tokens=2)  # 23:30 UTC on the 27th
    write_gz(tmp_path / "tz.json.gz", [naive, offset])
    seen: list[Seen] = []

    usage = collect_logfiles(str(tmp_path), DAY, on_record=seen.append)

    assert usage.by_model[CLAUDE].input_tokens == 1 + 2
    assert list(usage.daily) == [date(2026, 11, 27)]
    assert [s.moment for s in seen] == [
        datetime(2026, 11, 27, 5, 0, tzinfo=UTC),
        datetime(2026, 11, 27, 23, 30, tzinfo=UTC),
    ]


def test_latency_is_read_from_every_body_shape_and_impossible_values_are_ignored(tmp_path: Path) -> None:
    fractional = record("2026-11-27T10:00:00Z", "m-fraction", latency_ms=1)
    fractional["output"]["outputBodyJson"]["metrics"]["latencyMs"] = 812.5
    trailing = record("2026-11-27T10:00:01Z", "m-trailing", stream=True, latency_ms=640)
    trailing["output"]["outputBodyJson"].append("[DONE]")  # a chunk that is not an object, after the metrics
    records = [
        fractional,
        trailing,
        invoke_stream_record("2026-11-27T10:00:02Z", 0, None, model_id="m-zero"),
        invoke_stream_record("2026-11-27T10:00:03Z", -5, None, model_id="m-negative"),
        invoke_stream_record("2026-11-27T10:00:04Z", float("inf"), None, model_id="m-infinite"),
    ]
    write_gz(tmp_path / "lat.json.gz", records)
    usage = collect_logfiles(str(tmp_path), DAY)
    assert {m: (lat.average_ms, lat.p50_ms, lat.max_ms) for m, lat in usage.latency.items()} == {
        "m-fraction": (812.5, 812.5, 812.5),
        "m-trailing": (640.0, 640.0, 640.0),
        "m-zero": (0.0, 0.0, 0.0),
    }
    assert usage.by_model["m-negative"].invocations == usage.by_model["m-infinite"].invocations == 1


def test_time_to_first_byte_alone_is_reported_as_the_mean_to_one_decimal(tmp_path: Path) -> None:
    """Two streamed calls whose records give first-byte times only: (100 + 150.5) / 2 = 125.25 -> 125.2."""
    write_gz(
        tmp_path / "fb.json.gz",
        [
            invoke_stream_record("2026-11-27T10:00:00Z", None, 100),
            invoke_stream_record("2026-11-27T10:00:01Z", None, 150.5),
        ],
    )
    latency = collect_logfiles(str(tmp_path), DAY).latency[CLAUDE]
    assert latency.first_byte_ms == 125.2
    assert (latency.average_ms, latency.p50_ms, latency.max_ms) == (None, None, None)


def test_merging_reads_whose_calls_share_a_latency_keeps_every_call(tmp_path: Path) -> None:
    """Reads of [500, 500, 500] and [500, 2000]: five calls, the median 500, the maximum 2000."""
    write_gz(tmp_path / "a/a.json.gz", [record(f"2026-11-27T10:00:0{i}Z", latency_ms=500) for i in range(3)])
    write_gz(
        tmp_path / "b/b.json.gz",
        [record("2026-11-27T11:00:00Z", latency_ms=500), record("2026-11-27T11:00:01Z", latency_ms=2000)],
    )
    merged = Latencies()
    collect_logfiles(str(tmp_path / "a"), DAY, latency=merged)
    collect_logfiles(str(tmp_path / "b"), DAY, latency=merged)
    summary = merged.summaries()[CLAUDE]
    assert sum(merged.histograms[CLAUDE].buckets.values()) == 5
    assert (summary.p50_ms, summary.max_ms) == (500.0, 2000.0)
    assert summary == collect_logfiles(str(tmp_path), DAY).latency[CLAUDE]  # as one read of both


def test_each_request_in_the_window_is_handed_over_with_its_id_caller_and_tier(tmp_path: Path) -> None:
    flex = record("2026-11-27T10:00:00Z", input_tokens=12)
    flex["requestId"] = "req-1"
    flex["input"]["inputBodyJson"] = {"serviceTier": {"type": "flex"}}
    anonymous = record("2026-11-27T10:00:01Z", input_tokens=5)
    del anonymous["requestId"]
    write_gz(tmp_path / "r.json.gz", [flex, anonymous])
    seen: list[Seen] = []
    collect_logfiles(str(tmp_path), DAY, on_record=seen.append)
    assert [(s.request_id, s.caller, s.region, s.service_tier, s.counts.input_tokens) for s in seen] == [
        ("req-1", ALICE, "us-east-1", "flex", 12),
        ("-", ALICE, "us-east-1", None, 5),
    ]


def test_one_record_on_its_own_is_read_or_the_reason_given(monkeypatch: pytest.MonkeyPatch) -> None:
    """What `tail` prints for each event: the request, or why it was not counted."""
    seen = read_record(json.dumps(record("2026-11-27T10:00:00Z", input_tokens=42)))
    assert isinstance(seen, Seen)
    assert (seen.model_id, seen.counts.input_tokens) == (CLAUDE, 42)
    assert read_record("{cut", "evt-7") == "evt-7: not valid JSON (truncated line?)"
    assert read_record(b"[1]") == "event: record is not a JSON object"
    assert read_record("") == "event: empty"
    monkeypatch.setattr(logfile_parse, "msgspec", None)  # the Lambda layer's engine: stdlib json
    assert read_record("{cut", "evt-8") == "evt-8: not valid JSON (truncated line?)"
    assert isinstance(read_record(json.dumps(record("2026-11-27T10:00:00Z"))), Seen)


def test_the_fast_engine_drops_keys_nobody_reads_and_stdlib_json_keeps_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("msgspec")
    line = b'{"timestamp": "2026-11-27T10:00:00Z", "schemaType": "ModelInvocationLog"}'
    assert logfile_parse.line_parser()(line) == {"timestamp": "2026-11-27T10:00:00Z"}
    monkeypatch.setattr(logfile_parse, "msgspec", None)
    assert logfile_parse.line_parser()(line)["schemaType"] == "ModelInvocationLog"


def test_an_s3_source_without_a_client_uses_boto3_s_default_one() -> None:
    """moto stands in for S3 (faithful for ListObjectsV2 and GetObject)."""
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="bedrock-logs-test")
        key = "bedrock/AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1/2026/11/27/10/a.json.gz"
        s3.put_object(
            Bucket="bedrock-logs-test",
            Key=key,
            Body=gzip.compress(json.dumps(record("2026-11-27T10:00:00Z")).encode()),
        )
        usage = collect_logfiles("s3://bedrock-logs-test/bedrock/", DAY)
    assert usage.by_model[CLAUDE].invocations == 1


def test_an_s3_source_without_a_bucket_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"log source 's3:///logs/' is not s3://bucket/prefix"):
        collect_logfiles("s3:///logs/", DAY)
