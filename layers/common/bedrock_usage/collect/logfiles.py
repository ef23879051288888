"""Aggregate Bedrock invocation log files (as Bedrock writes them to S3) from a folder, file or S3 prefix.

Streaming: one record in memory at a time, so memory stays flat however large the archive. Files whose
`YYYY/MM/DD/HH` key path cannot overlap the window are not read; records outside it are ignored. Which
files: logfile_files; counting records: logfile_records; the JSON engine: logfile_parse.
"""

from __future__ import annotations

import gc
import gzip
import json
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from botocore.exceptions import ClientError

from bedrock_usage.collect.logfile_accounts import split_by_account
from bedrock_usage.collect.logfile_files import (
    AHEAD,
    HOUR_SLACK,
    LIST_PAGE_SIZE,
    SUFFIXES,
    _inflated,
    _lines,
    _local_files,
    _s3_keys,
)
from bedrock_usage.collect.logfile_records import (
    LARGE_INPUT_FLOOR,
    MAX_SAMPLES,
    SOURCE,
    STREAM_METRICS,
    Latencies,
    Seen,
    _Aggregator,
)
from bedrock_usage.model import Usage, Window

# The names other modules and tests import from here, wherever they now live.
__all__ = [
    "AHEAD",
    "CHUNK",
    "HOUR_SLACK",
    "LARGE_INPUT_FLOOR",
    "LIST_PAGE_SIZE",
    "MAX_SAMPLES",
    "SOURCE",
    "STREAM_METRICS",
    "SUFFIXES",
    "Latencies",
    "Seen",
    "Usage",
    "collect_logfiles",
    "read_record",
]

CHUNK = 1 << 20  # decompressed bytes handed over at a time


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while records stream through.

    Parsed records hold no reference cycles and are freed as soon as they are counted, yet each one
    allocates dozens of dicts and lists, which sets off a young-generation collection every few records
    (about 15% of the scan's time). Memory stays flat without it; the previous state is restored.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _read_stream(agg: _Aggregator, name: str, raw: IO[bytes]) -> None:
    with _gc_paused():
        _read_records(agg, name, raw)


def _read_records(agg: _Aggregator, name: str, raw: IO[bytes]) -> None:
    if name.endswith(".gz"):
        lineno = 0
        try:
            for lineno, line in enumerate(_lines(_inflated(raw, CHUNK)), 1):
                agg.line(line, name, lineno)
        except EOFError:
            agg.usage.warnings.append(f"truncated gzip file {name}: read {lineno} line(s) before it ended")
        except (gzip.BadGzipFile, zlib.error) as exc:
            agg.usage.warnings.append(f"unreadable gzip file {name} after {lineno} line(s): {exc}")
        return
    if name.endswith(".jsonl"):
        for lineno, line in enumerate(raw, 1):
            agg.line(line, name, lineno)
        return
    # .json: one record, a JSON array of records, or JSON Lines under a .json name.
    data = raw.read()
    try:
        document = json.loads(data)
    except ValueError:
        for lineno, line in enumerate(data.splitlines(), 1):
            agg.line(line, f"{name}:{lineno}")
        return
    if isinstance(document, list):
        for index, record in enumerate(document):
            agg.record(record, f"{name}[{index}]")
    else:
        agg.record(document, name)


_ALL_TIME = Window(datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC))


def read_record(raw: str | bytes, where: str = "event") -> Seen | str:
    """One record on its own (a live tail's event): the request it describes, or why it was not read.

    The same checks as the collector's, so a record `tail` prints is one the report counts.
    """
    got: list[Seen] = []
    agg = _Aggregator(_ALL_TIME, _ALL_TIME.start, got.append)
    agg.line(raw, where)
    if got:
        return got[0]
    return agg.samples[0] if agg.samples else f"{where}: empty"


def collect_logfiles(
    source: str,
    window: Window,
    *,
    s3: Any = None,
    daily_from: datetime | None = None,
    on_record: Callable[[Seen], None] | None = None,
    per_account: dict[str, Usage] | None = None,
    latency: Latencies | None = None,
) -> Usage:
    """Aggregate invocation log records in `window` from a local file/folder or `s3://bucket/prefix`.

    Records from `daily_from` (if earlier than the window) to the window's end also fill `Usage.daily`.
    `on_record` is called with each valid record in the window (not the daily series' earlier ones).
    `per_account`, when given, is filled with each account's share (collect/logfile_accounts.py);
    `latency` has the read's latency added in mergeable form (for several locations: log_archive.py).
    Raises FileNotFoundError for a missing local source; S3 errors propagate as botocore ClientError.
    """
    span_start = min(window.start, daily_from) if daily_from else window.start
    agg = _Aggregator(window, span_start, on_record)
    if source.startswith("s3://"):
        bucket, _, prefix = source[5:].partition("/")
        if not bucket:
            raise ValueError(f"log source {source!r} is not s3://bucket/prefix")
        if s3 is None:
            import boto3

            s3 = boto3.client("s3")
        for key in _s3_keys(s3, bucket, prefix, span_start, window.end):
            try:
                body = s3.get_object(Bucket=bucket, Key=key)["Body"]
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "NoSuchKey":
                    raise
                # Expired by the lifecycle rule between listing and reading: nothing to count.
                agg.usage.warnings.append(f"s3://{bucket}/{key} disappeared before it was read")
                continue
            try:
                _read_stream(agg, f"s3://{bucket}/{key}", body)
            finally:
                body.close()
    else:
        for path in _local_files(Path(source).expanduser(), span_start, window.end):
            with path.open("rb") as raw:
                _read_stream(agg, str(path), raw)
    if per_account is not None:
        per_account.update(split_by_account(agg.cells, window, SOURCE))
    if latency is not None:
        latency.merge(agg.latencies())
    return agg.finish()
