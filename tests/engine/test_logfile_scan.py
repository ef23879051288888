"""The log-file collector's reading loop and its latency percentiles.

Percentiles come from 1%-wide buckets; a bucket's middle must never read below the fastest call nor above
the slowest. The reading loop inflates gzip on a helper thread and parses with msgspec's schema when it
is installed: it must count exactly what the plain standard-library reading counted, whatever the file's
shape.
"""

from __future__ import annotations

import gc
import gzip
import json
import math
from pathlib import Path

import pytest
from bedrock_usage.collect import logfile_parse, logfiles
from bedrock_usage.collect.logfiles import collect_logfiles

from .helpers import NOVA_LITE, gz_lines, record, window, write_gz

DAY = window("2026-11-27T00:00:00", "2026-11-28T00:00:00")
CLAUDE = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"


def _timed(latencies: list[int], model_id: str = CLAUDE) -> list[dict]:
    return [
        record(f"2026-11-27T10:{i // 60:02d}:{i % 60:02d}Z", model_id, latency_ms=ms)
        for i, ms in enumerate(latencies)
    ]


def _nearest_rank(values: list[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def test_identical_latencies_give_exactly_that_value_for_every_percentile(tmp_path: Path) -> None:
    # Given 40 calls that all took 2,435 ms (the case: p99 read 2,431, below the average)
    write_gz(tmp_path / "a.json.gz", _timed([2435] * 40))
    # When the archive is collected
    latency = collect_logfiles(str(tmp_path), DAY).latency[CLAUDE]
    # Then every statistic is 2,435 ms
    assert (latency.p50_ms, latency.p90_ms, latency.p99_ms) == (2435, 2435, 2435)
    assert latency.average_ms == latency.max_ms == 2435


def test_percentiles_stay_between_the_fastest_and_the_slowest_call(tmp_path: Path) -> None:
    # 1,007 ms sits near the top of its 1%-wide bucket (1,000-1,010), whose middle is 1,003: unclamped,
    # p50 read 1,003, faster than any call.
    fast, slow = [1007] * 60, [1015] * 40
    write_gz(tmp_path / "a.json.gz", _timed(fast + slow))
    latency = collect_logfiles(str(tmp_path), DAY).latency[CLAUDE]
    assert 1007 <= latency.p50_ms <= latency.p90_ms <= latency.p99_ms <= 1015
    assert latency.p50_ms == 1007
    assert latency.max_ms == 1015


def test_percentiles_are_within_one_percent_of_the_exact_nearest_rank(tmp_path: Path) -> None:
    values = [300 + (i * 7919) % 8700 for i in range(500)]  # spread 300..9,000 ms, no two runs alike
    write_gz(tmp_path / "a.json.gz", _timed(values))
    latency = collect_logfiles(str(tmp_path), DAY).latency[CLAUDE]
    for q, got in ((0.5, latency.p50_ms), (0.9, latency.p90_ms), (0.99, latency.p99_ms)):
        assert got == pytest.approx(_nearest_rank(values, q), rel=0.01)
        assert min(values) <= got <= max(values)


def test_sub_millisecond_latencies_are_not_rounded_up_to_the_first_bucket(tmp_path: Path) -> None:
    write_gz(tmp_path / "a.json.gz", _timed([0] * 5))
    latency = collect_logfiles(str(tmp_path), DAY).latency[CLAUDE]
    assert latency.p99_ms == 0


def _many(n: int) -> list[dict]:
    return [
        record(
            f"2026-11-27T{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z",
            NOVA_LITE if i % 3 else CLAUDE,
            input_tokens=i,
            output_tokens=2 * i + 1,
            latency_ms=200 + i % 900,
            stream=i % 4 == 0,
        )
        for i in range(n)
    ]


def _summary(usage: logfiles.Usage) -> tuple:
    return (
        dict(usage.by_model),
        dict(usage.by_caller),
        dict(usage.latency),
        usage.skipped_records,
        usage.warnings,
    )


def test_a_file_larger_than_the_read_ahead_counts_every_record(tmp_path: Path, monkeypatch) -> None:
    # Small pieces force records to straddle piece boundaries and the queue to fill.
    monkeypatch.setattr(logfiles, "CHUNK", 777)
    records = _many(3000)
    write_gz(tmp_path / "big.json.gz", records)
    usage = collect_logfiles(str(tmp_path), DAY)
    total = sum(c.invocations for c in usage.by_model.values())
    assert total == 3000
    assert sum(c.input_tokens for c in usage.by_model.values()) == sum(range(3000))
    assert usage.skipped_records == 0


def test_the_fast_engine_and_the_standard_library_count_the_same(tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("msgspec")
    lines = [json.dumps(r) for r in _many(400)]
    lines[7] = lines[7][:90]  # cut line
    lines[11] = lines[11].replace(
        '"requestId": "', '"requestId": "\\ud800'
    )  # a lone surrogate: msgspec refuses, json reads it
    lines[13] = lines[13].replace('"inputTokenCount": 13', '"inputTokenCount": 9007199254740993')
    (tmp_path / "m.json.gz").write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    fast = _summary(collect_logfiles(str(tmp_path), DAY))
    monkeypatch.setattr(logfile_parse, "msgspec", None)
    assert _summary(collect_logfiles(str(tmp_path), DAY)) == fast
    assert fast[3] == 1  # the cut line; the surrogate and 2**53 + 1 are records like any other
    assert sum(c.invocations for c in fast[0].values()) == 399
    assert sum(c.input_tokens for c in fast[0].values()) == sum(range(400)) - 7 - 13 + 9007199254740993


def test_multi_member_gzip_and_a_last_line_without_newline_are_read(tmp_path: Path) -> None:
    # gzip allows concatenated members (as `cat a.gz b.gz` makes); zero padding after them is allowed too.
    first = gz_lines(_timed([100, 200]))
    second = gzip.compress(json.dumps(record("2026-11-27T11:00:00Z", latency_ms=300)).encode())
    (tmp_path / "joined.json.gz").write_bytes(first + second + b"\0" * 16)
    usage = collect_logfiles(str(tmp_path), DAY)
    assert usage.by_model[CLAUDE].invocations == 3
    assert usage.latency[CLAUDE].max_ms == 300
    assert usage.warnings == []


def test_an_empty_gzip_file_is_no_records_and_no_warning(tmp_path: Path) -> None:
    (tmp_path / "empty.json.gz").write_bytes(b"")
    (tmp_path / "none.json.gz").write_bytes(gzip.compress(b""))
    usage = collect_logfiles(str(tmp_path), DAY)
    assert usage.by_model == {}
    assert usage.warnings == []


def test_corruption_after_good_records_keeps_them_and_says_where(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(logfiles, "CHUNK", 1000)
    good = gz_lines(_timed([100] * 200))
    (tmp_path / "bad.json.gz").write_bytes(good + b"\x1f\x8b\x08\x00 this member is garbage")
    usage = collect_logfiles(str(tmp_path), DAY)
    assert usage.by_model[CLAUDE].invocations == 200
    assert any("unreadable gzip file" in w and "after 200 line(s)" in w for w in usage.warnings)


def test_the_garbage_collector_is_left_as_it_was(tmp_path: Path) -> None:
    write_gz(tmp_path / "a.json.gz", _timed([100]))
    assert gc.isenabled()
    collect_logfiles(str(tmp_path), DAY)
    assert gc.isenabled()
    gc.disable()
    try:
        collect_logfiles(str(tmp_path), DAY)
        assert not gc.isenabled()
    finally:
        gc.enable()
