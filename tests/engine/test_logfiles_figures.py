"""The log-file collector's figures: which hour folders are read at the window's edges, client vs server
errors counted apart, and latency percentiles against values worked out by hand."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from bedrock_usage.collect.logfiles import Latencies, collect_logfiles

from .helpers import ALICE, BOB, NOVA_LITE, SONNET45, invoke_stream_record, record, window, write_gz

CLAUDE = f"us.{SONNET45}"
ROOT = "AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1"


def test_the_hour_folders_at_both_edges_of_the_window_are_read_and_no_further(tmp_path: Path) -> None:
    """Window 10:00-12:00. Bedrock files a record under the hour it delivers it, up to an hour late."""
    logs = tmp_path / ROOT
    wanted = window("2026-11-27T10:00:00", "2026-11-27T12:00:00")
    # The window's first hour folder: two records, the very first second of the window among them.
    write_gz(
        logs / "2026/11/27/10/a.json.gz", [record("2026-11-27T10:00:00Z"), record("2026-11-27T10:59:00Z")]
    )
    # An hour early (clock skew) and an hour late (delivery lag): both still read.
    write_gz(logs / "2026/11/27/09/b.json.gz", [record("2026-11-27T10:00:01Z", input_tokens=1)])
    write_gz(logs / "2026/11/27/12/c.json.gz", [record("2026-11-27T11:59:59Z", input_tokens=2)])
    write_gz(logs / "2026/11/27/11/d.json.gz", [record("2026-11-27T11:30:00Z", input_tokens=4)])
    # Folders that cannot hold a record of the window are not opened (a corrupt file would warn).
    for hour in ("08", "13"):
        (logs / f"2026/11/27/{hour}").mkdir(parents=True)
        (logs / f"2026/11/27/{hour}/x.json.gz").write_bytes(b"not gzip")
    usage = collect_logfiles(str(tmp_path), wanted)
    claude = usage.by_model[CLAUDE]
    assert claude.invocations == 5
    assert claude.input_tokens == 100 + 100 + 1 + 2 + 4
    assert usage.warnings == []


def test_client_and_server_errors_are_counted_apart_for_models_callers_and_days(tmp_path: Path) -> None:
    day = window("2026-11-27T00:00:00", "2026-11-28T00:00:00")
    client = ["ValidationException", "AccessDeniedException"]
    server = ["InternalServerException", "ServiceUnavailableException", "InternalServerException"]
    records = [record(f"2026-11-27T10:00:0{i}Z", error_code=c, input_tokens=0) for i, c in enumerate(client)]
    records += [
        record(f"2026-11-27T11:00:0{i}Z", caller=BOB, error_code=c, input_tokens=0)
        for i, c in enumerate(server)
    ]
    records += [record("2026-11-27T12:00:00Z", caller=BOB, error_code="ThrottlingException")]
    records += [record("2026-11-27T12:00:01Z")] * 4
    write_gz(tmp_path / "e.json.gz", records)
    usage = collect_logfiles(str(tmp_path), day)
    c = usage.by_model[CLAUDE]
    assert (c.invocations, c.client_errors, c.server_errors, c.throttles) == (2 + 3 + 4, 2, 3, 1)
    alice, bob = usage.by_caller[(ALICE, CLAUDE)], usage.by_caller[(BOB, CLAUDE)]
    assert (alice.client_errors, alice.server_errors, alice.invocations) == (2, 0, 6)
    assert (bob.client_errors, bob.server_errors, bob.throttles, bob.invocations) == (0, 3, 1, 3)
    assert usage.daily[date(2026, 11, 27)][CLAUDE].server_errors == 3
    assert usage.errors_by_code["InternalServerException"] == 2
    assert sum(usage.errors_by_code.values()) == 6


def test_latency_percentiles_match_the_hand_computed_ranks(tmp_path: Path) -> None:
    """100 calls of 100, 200, ..., 10,000 ms: p50 is the 50th value, p90 the 90th, p99 the 99th.

    Neighbouring values differ by at least 1%, and a bucket is 1% wide with its middle reported, so
    each percentile is within 0.5% of its exact value and never its neighbour's.
    """
    day = window("2026-11-27T00:00:00", "2026-11-28T00:00:00")
    values = [100 * i for i in range(1, 101)]
    # Shuffled order: a percentile must not depend on arrival order.
    order = values[1::2] + values[::2]
    write_gz(
        tmp_path / "l.json.gz",
        [record(f"2026-11-27T10:{i // 60:02d}:{i % 60:02d}Z", latency_ms=v) for i, v in enumerate(order)],
    )
    latency = collect_logfiles(str(tmp_path), day).latency[CLAUDE]
    assert latency.average_ms == sum(values) / 100  # 5,050 exactly
    assert latency.max_ms == 10_000
    assert latency.p50_ms == pytest.approx(5_000, rel=0.005)
    assert latency.p90_ms == pytest.approx(9_000, rel=0.005)
    assert latency.p99_ms == pytest.approx(9_900, rel=0.005)
    for p in (latency.p50_ms, latency.p90_ms, latency.p99_ms):
        assert p is not None
        assert min(values) <= p <= max(values)


def test_a_single_call_has_every_percentile_equal_to_it(tmp_path: Path) -> None:
    day = window("2026-11-27T00:00:00", "2026-11-28T00:00:00")
    write_gz(tmp_path / "one.json.gz", [record("2026-11-27T10:00:00Z", latency_ms=2_345)])
    latency = collect_logfiles(str(tmp_path), day).latency[CLAUDE]
    assert latency.average_ms == 2_345
    assert latency.max_ms == 2_345
    for p in (latency.p50_ms, latency.p90_ms, latency.p99_ms):
        assert p == pytest.approx(2_345, rel=0.005)
        assert p is not None
        assert p <= 2_345


def test_records_before_the_window_fill_only_the_daily_series_not_latency_or_callers(tmp_path: Path) -> None:
    day = window("2026-11-27T00:00:00", "2026-11-28T00:00:00")
    write_gz(
        tmp_path / "d.json.gz",
        [
            record("2026-11-26T10:00:00Z", caller=BOB, latency_ms=9_000, error_code="ValidationException"),
            record("2026-11-27T10:00:00Z", latency_ms=1_000),
        ],
    )
    usage = collect_logfiles(
        str(tmp_path), day, daily_from=window("2026-11-26T00:00:00", "2026-11-27T00:00:00").start
    )
    assert usage.daily[date(2026, 11, 26)][CLAUDE].client_errors == 1
    assert usage.by_model[CLAUDE].invocations == 1
    assert usage.by_model[CLAUDE].client_errors == 0
    assert (BOB, CLAUDE) not in usage.by_caller
    assert usage.errors_by_code == {}
    assert usage.latency[CLAUDE].max_ms == 1_000


def test_the_median_of_two_calls_is_the_faster_one_and_figures_keep_one_decimal(tmp_path: Path) -> None:
    day = window("2026-11-27T00:00:00", "2026-11-28T00:00:00")
    write_gz(
        tmp_path / "two.json.gz",
        [
            record("2026-11-27T10:00:00Z", latency_ms=1_000),
            record("2026-11-27T10:00:01Z", latency_ms=2_000),
            record("2026-11-27T10:00:02Z", NOVA_LITE, latency_ms=1_000),
            record("2026-11-27T10:00:03Z", NOVA_LITE, latency_ms=1_000),
            record("2026-11-27T10:00:04Z", NOVA_LITE, latency_ms=1_001),
        ],
    )
    usage = collect_logfiles(str(tmp_path), day)
    claude, nova = usage.latency[CLAUDE], usage.latency[NOVA_LITE]
    assert claude.p50_ms == pytest.approx(1_000, rel=0.005)  # rank ceil(0.5 x 2) = 1: the faster call
    assert claude.p99_ms == pytest.approx(2_000, rel=0.005)
    assert nova.average_ms == 1_000.3  # 3,001 / 3, to one decimal
    for p in (claude.p50_ms, claude.p90_ms, claude.p99_ms):  # bucket middles, e.g. 1,002.75... -> 1,002.8
        assert p is not None
        assert p == round(p, 1)
    for p in (nova.p50_ms, nova.p90_ms, nova.p99_ms):
        assert isinstance(p, float)
        assert p == round(p, 1)


def test_a_latency_that_is_not_a_number_is_ignored_and_the_call_still_counted(tmp_path: Path) -> None:
    day = window("2026-11-27T00:00:00", "2026-11-28T00:00:00")
    odd = [record("2026-11-27T10:00:00Z", latency_ms=1), record("2026-11-27T10:00:01Z", latency_ms=1)]
    odd[0]["output"]["outputBodyJson"]["metrics"]["latencyMs"] = "fast"
    odd[1]["output"]["outputBodyJson"]["metrics"]["latencyMs"] = True
    write_gz(tmp_path / "odd.json.gz", [*odd, record("2026-11-27T10:00:02Z", latency_ms=700)])
    usage = collect_logfiles(str(tmp_path), day)
    assert usage.by_model[CLAUDE].invocations == 3
    assert usage.skipped_records == 0
    assert usage.latency[CLAUDE].max_ms == 700
    assert usage.latency[CLAUDE].average_ms == 700


def test_the_skipped_records_warning_quotes_the_first_five(tmp_path: Path) -> None:
    day = window("2026-11-27T00:00:00", "2026-11-28T00:00:00")
    (tmp_path / "bad.jsonl").write_text("".join(f"not json {i}\n" for i in range(7)))
    usage = collect_logfiles(str(tmp_path), day)
    assert usage.skipped_records == 7
    [warning] = usage.warnings
    assert warning.startswith("7 malformed log record(s) skipped; first: ")
    assert warning.count("not valid JSON") == 5
    assert "bad.jsonl:5:" in warning
    assert "bad.jsonl:6:" not in warning


def test_a_missing_local_source_names_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope is neither a file nor a folder"):
        collect_logfiles(str(tmp_path / "nope"), window("2026-11-27T00:00:00", "2026-11-28T00:00:00"))


def test_malformed_records_are_sampled_with_their_line_number_and_reason(tmp_path: Path) -> None:
    day = window("2026-11-27T00:00:00", "2026-11-28T00:00:00")
    bad_input = record("2026-11-27T10:00:01Z")
    bad_input["input"] = [1]
    bad_code = record("2026-11-27T10:00:02Z")
    bad_code["errorCode"] = 500
    bad_stamp = record("2026-11-27T10:00:03Z")
    bad_stamp["timestamp"] = "yesterday"
    write_gz(tmp_path / "x.json.gz", [record("2026-11-27T10:00:00Z"), bad_input, bad_code, bad_stamp])
    usage = collect_logfiles(str(tmp_path), day)
    assert usage.skipped_records == 3
    [warning] = usage.warnings
    samples = warning.split("; first: ", 1)[1].split(" | ")
    assert samples == [
        f"{tmp_path / 'x.json.gz'}:2: input/output is not an object",
        f"{tmp_path / 'x.json.gz'}:3: errorCode is not a string",
        f"{tmp_path / 'x.json.gz'}:4: bad timestamp 'yesterday'",
    ]


def test_latencies_of_two_reads_merged_equal_those_of_one_read_over_both(tmp_path: Path) -> None:
    """Given two folders read apart, When their Latencies are merged, Then they are those of one read of
    both: same count, sum, minimum, maximum, bucket counts and first-byte sums, so the same summaries."""
    day = window("2026-11-27T00:00:00", "2026-11-28T00:00:00")
    fast = [record(f"2026-11-27T10:00:{i:02d}Z", latency_ms=100 + 37 * i) for i in range(30)]
    fast.append(invoke_stream_record("2026-11-27T10:01:00Z", 900, 120))
    slow = [record(f"2026-11-27T11:00:{i:02d}Z", latency_ms=4_000 + 911 * i) for i in range(7)]
    slow += [record("2026-11-27T11:01:00Z", NOVA_LITE, latency_ms=333)]  # a model only this folder has
    slow += [invoke_stream_record(f"2026-11-27T11:02:0{i}Z", 5_000, 700 + i) for i in range(2)]
    write_gz(tmp_path / "fast/a.json.gz", fast)
    write_gz(tmp_path / "slow/b.json.gz", slow)
    merged = Latencies()
    collect_logfiles(str(tmp_path / "fast"), day, latency=merged)
    collect_logfiles(str(tmp_path / "slow"), day, latency=merged)
    whole = Latencies()
    union = collect_logfiles(str(tmp_path), day, latency=whole)
    assert merged == whole
    assert merged.summaries() == union.latency
    assert merged.histograms[CLAUDE].n == 30 + 1 + 7 + 2
    assert merged.first_byte[CLAUDE] == [120 + 700 + 701, 3]
    # Neither folder alone has the whole's percentiles: the merge is not the first read's summary kept.
    alone = collect_logfiles(str(tmp_path / "fast"), day).latency[CLAUDE]
    assert alone.p90_ms != union.latency[CLAUDE].p90_ms
