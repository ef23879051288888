"""The log-file scan's fast paths count exactly what plain record-by-record sums give.

The scan keeps one table keyed by (day, model, caller, region, in window) and sums it into the per-model,
per-caller, daily and regional tables at the end; it reuses the last timestamp's parse; it hands the parser
views into the inflated piece instead of line copies. Each expectation here is computed from the records
themselves, one loop each, so a mix-up between keys, days or window edges shows as a wrong sum.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from bedrock_usage.collect import logfile_parse, logfiles
from bedrock_usage.collect.logfiles import collect_logfiles

from .helpers import ALICE, BOB, NOVA_LITE, SONNET45, at, record, window

WINDOW = window("2026-11-27T00:00:00", "2026-11-28T00:00:00")
DAILY_FROM = at("2026-11-25T00:00:00")
CAROL = "arn:aws:sts::123456789012:assumed-role/Analytics/carol"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"


def _varied() -> list[dict[str, Any]]:
    """Records over four days (two before the window), three models, callers and two regions, with and
    without cache fields, errors, streams and runs of records sharing one timestamp."""
    out = []
    models, callers, regions = [SONNET45, NOVA_LITE, HAIKU], [ALICE, BOB, CAROL], ["us-east-1", "eu-west-1"]
    for i in range(240):
        day = 25 + i % 4  # 25, 26 before the window; 27 in it; 28 after it
        second = i // 3  # three records per timestamp
        rec = record(
            f"2026-11-{day:02d}T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}Z",
            models[i * 7 % 3],
            caller=callers[i * 5 % 3],
            input_tokens=10 + i,
            output_tokens=3 * i + 1,
            cache_read=(i * 11) if i % 2 else None,
            cache_write=(i * 13) if i % 5 == 0 else None,
            error_code={0: "ThrottlingException", 3: "ValidationException", 4: "InternalServerException"}.get(
                i % 6 if i % 5 else -1
            ),
            latency_ms=100 + i,
            stream=i % 4 == 1,
        )
        rec["region"] = regions[i * 3 % 2]
        out.append(rec)
    return out


def _vec(rec: dict[str, Any]) -> list[int]:
    inp, out = rec["input"], rec["output"]
    code = rec.get("errorCode")
    return [
        0 if code == "ThrottlingException" else 1,
        inp["inputTokenCount"],
        out["outputTokenCount"],
        inp.get("cacheReadInputTokenCount", 0),
        inp.get("cacheWriteInputTokenCount", 0),
        1 if code == "ValidationException" else 0,
        1 if code == "InternalServerException" else 0,
        1 if code == "ThrottlingException" else 0,
    ]


def _sums(records: list[dict[str, Any]], key: Any) -> dict[Any, list[int]]:
    table: dict[Any, list[int]] = {}
    for rec in records:
        acc = table.setdefault(key(rec), [0] * 8)
        for i, v in enumerate(_vec(rec)):
            acc[i] += v
    return table


def _as_vectors(table: dict[Any, Any]) -> dict[Any, list[int]]:
    fields = ("invocations", "input_tokens", "output_tokens", "cache_read_tokens")
    fields += ("cache_write_tokens", "client_errors", "server_errors", "throttles")
    return {k: [getattr(c, f) for f in fields] for k, c in table.items()}


def _write(path: Path, records: list[dict[str, Any]]) -> None:
    path.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in records).encode()))


def test_every_table_equals_the_records_summed_one_by_one(tmp_path: Path, monkeypatch) -> None:
    # Given records over four days, read in small pieces so lines straddle them
    monkeypatch.setattr(logfiles, "CHUNK", 501)
    records = _varied()
    _write(tmp_path / "a.json.gz", records)
    # When the archive is collected with a daily series from two days before the window
    usage = collect_logfiles(str(tmp_path), WINDOW, daily_from=DAILY_FROM)
    # Then each table is the plain sum of its records
    inside = [r for r in records if r["timestamp"].startswith("2026-11-27")]
    span = [r for r in records if r["timestamp"] < "2026-11-28"]
    assert _as_vectors(usage.by_model) == _sums(inside, lambda r: r["modelId"])
    assert list(usage.by_model) == list(dict.fromkeys(r["modelId"] for r in inside))  # first-seen order
    assert _as_vectors(usage.by_caller) == _sums(inside, lambda r: (r["identity"]["arn"], r["modelId"]))
    expected_daily = _sums(span, lambda r: (date.fromisoformat(r["timestamp"][:10]), r["modelId"]))
    got_daily = {(d, m): c for d, per in usage.daily.items() for m, c in per.items()}
    assert _as_vectors(got_daily) == expected_daily
    got_regions = {(m, reg): c for m, per in usage.by_region.items() for reg, c in per.items()}
    assert _as_vectors(got_regions) == _sums(inside, lambda r: (r["modelId"], r["region"]))
    assert usage.errors_by_code == dict(Counter(r["errorCode"] for r in inside if "errorCode" in r))
    assert usage.latency[SONNET45].max_ms == max(
        100 + i for i, r in enumerate(records) if r["timestamp"][8:10] == "27" and r["modelId"] == SONNET45
    )
    assert usage.skipped_records == 0


def test_a_timestamp_shared_with_a_bad_or_an_outside_record_is_judged_on_its_own(tmp_path: Path) -> None:
    good, late = "2026-11-27T10:00:00Z", "2026-11-28T00:00:00Z"  # the window's end is exclusive
    lines = [
        record(good, input_tokens=1),
        {**record(good, input_tokens=2), "timestamp": "2026-11-27T25:00:00Z"},  # no such hour
        record(good, input_tokens=4),
        record(late, input_tokens=8),
        record(late, input_tokens=16),
        record(good, input_tokens=32),
    ]
    _write(tmp_path / "a.json.gz", lines)
    usage = collect_logfiles(str(tmp_path), WINDOW)
    assert usage.by_model[f"us.{SONNET45}"].input_tokens == 1 + 4 + 32
    assert usage.skipped_records == 1


@pytest.mark.parametrize("chunk", [64, 1 << 20])
def test_blank_lines_crlf_and_a_cut_line_read_alike_gzipped_or_plain_with_either_parser(
    tmp_path: Path, monkeypatch, chunk: int
) -> None:
    # Given the same lines as .json.gz (read as views into inflated pieces) and as .jsonl (read as bytes)
    monkeypatch.setattr(logfiles, "CHUNK", chunk)
    rows = [json.dumps(r) for r in _varied()[:60]]
    rows[3] += "\r"  # a CRLF file: \r is JSON whitespace
    rows[5] = rows[5][:70]  # a cut line
    rows[8:8] = ["", "   ", "\r", "\t "]  # blank lines are not records and not skipped
    text = "\n".join(rows)  # and no newline after the last line
    (tmp_path / "gz").mkdir()
    (tmp_path / "plain").mkdir()
    (tmp_path / "gz" / "a.json.gz").write_bytes(gzip.compress(text.encode()))
    (tmp_path / "plain" / "a.jsonl").write_bytes(text.encode())

    def read(folder: str) -> tuple:
        u = collect_logfiles(str(tmp_path / folder), WINDOW, daily_from=DAILY_FROM)
        here = str(tmp_path / folder / "a")
        warnings = [w.replace(here, "a").replace(".json.gz", ".jsonl") for w in u.warnings]
        return _as_vectors(u.by_model), u.daily, u.latency, u.skipped_records, warnings

    # When each is read with the fast engine (where installed) and with the standard library
    results = [read("gz"), read("plain")]
    monkeypatch.setattr(logfile_parse, "msgspec", None)
    results += [read("gz"), read("plain")]
    # Then all four agree, and only the cut line is skipped
    assert all(r == results[0] for r in results)
    assert results[0][3] == 1
    assert "a.jsonl:6: not valid JSON" in results[0][4][0]  # named by its line number
    valid = [json.loads(r) for i, r in enumerate(rows) if r.strip() and i != 5]
    in_span = sum(1 for r in valid if r["timestamp"] < "2026-11-28")
    days = results[0][1]
    assert sum(c.invocations + c.throttles for per in days.values() for c in per.values()) == in_span
