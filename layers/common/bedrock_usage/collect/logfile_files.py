"""Which Bedrock invocation log files to read (local folders and S3 listings), and their bytes as lines.

A file is chosen by its name alone: the suffix, and the `YYYY/MM/DD/HH` hour folder Bedrock delivers it
into, which must overlap the span read. Gzip is inflated ahead on a helper thread, in bounded pieces.
"""

from __future__ import annotations

import gzip
import os
import queue
import re
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

SUFFIXES = (".json.gz", ".jsonl.gz", ".json", ".jsonl")
# Bedrock delivers a record into the hour folder of its delivery time; allow for that lag (and clock skew).
HOUR_SLACK = timedelta(hours=1)
LIST_PAGE_SIZE = 1000  # ListObjectsV2's maximum
AHEAD = 4  # pieces inflated ahead of the parser: chunk * AHEAD bytes of memory at most

_HOUR_RE = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})/(\d{2})(?=/)")
_DATA_RE = re.compile(r"(?:^|/)\d{2}/data/")  # large request/response bodies and media, not records
_YEAR_RE = re.compile(r"^(19|20|21)\d{2}$")


def _wanted(name: str, span_start: datetime, span_end: datetime) -> bool:
    """A log file by its name or key: right suffix, not a large-body object, hour folder can overlap."""
    if not name.endswith(SUFFIXES) or _DATA_RE.search(name):
        return False
    hours = _HOUR_RE.findall(name)
    if not hours:
        return True  # no date path: read it, the record timestamps decide
    y, m, d, h = (int(x) for x in hours[-1])
    try:
        folder = datetime(y, m, d, h, tzinfo=UTC)
    except ValueError:
        return True
    return folder + timedelta(hours=1) + HOUR_SLACK > span_start and folder - HOUR_SLACK < span_end


def _local_files(root: Path, span_start: datetime, span_end: datetime) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    if not root.is_dir():
        raise FileNotFoundError(f"log source {root} is neither a file nor a folder")
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            if _wanted(path.relative_to(root).as_posix(), span_start, span_end):
                yield path


def _days(start: datetime, end: datetime) -> Iterator[date]:
    day = start.date()
    while day <= end.date():
        yield day
        day += timedelta(days=1)


def _s3_keys(s3: Any, bucket: str, prefix: str, span_start: datetime, span_end: datetime) -> Iterator[str]:
    """Keys to read. Finds the `YYYY/` folders first so a day's report lists only the days it needs."""
    paginator = s3.get_paginator("list_objects_v2")
    lo, hi = span_start - HOUR_SLACK, span_end + HOUR_SLACK
    roots = _date_roots(paginator, bucket, prefix)
    if not roots:
        listings: Iterable[str] = [prefix]
    else:
        listings = [f"{root}{day:%Y/%m/%d}/" for root in roots for day in _days(lo, hi)]
    for listing in listings:
        pages = paginator.paginate(
            Bucket=bucket, Prefix=listing, PaginationConfig={"PageSize": LIST_PAGE_SIZE}
        )
        for page in pages:
            for obj in page.get("Contents", []):
                key = obj["Key"]
                if _wanted(key[len(prefix) :], span_start, span_end):
                    yield key


def _date_roots(paginator: Any, bucket: str, prefix: str, depth: int = 0) -> list[str]:
    """Folders under `prefix` that hold `YYYY/` year folders (the Bedrock layout ends in region/YYYY/)."""
    if prefix and not prefix.endswith("/"):
        return []  # a partial name: list it flat
    roots: list[str] = []
    children: list[str] = []
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
        for common in page.get("CommonPrefixes", []):
            children.append(common["Prefix"])
    for child in children:
        segment = child[len(prefix) :].rstrip("/")
        if _YEAR_RE.match(segment):
            if prefix not in roots:
                roots.append(prefix)
        elif depth < 6 and not (segment.isdigit() and len(segment) <= 2):  # MM, DD, HH: list flat
            roots.extend(_date_roots(paginator, bucket, child, depth + 1))
    return roots


# ---------------------------------------------------------------------------------------------
# Bytes to lines


def _inflated(raw: IO[bytes], chunk: int) -> Iterator[bytes]:
    """The decompressed bytes of a gzip stream, in `chunk`-sized pieces inflated ahead on a helper thread.

    zlib releases the GIL while it inflates (and S3 reads wait on the network), so the next piece is
    produced while this thread parses the last one, as `zcat | jq` overlaps its two processes. At most
    AHEAD pieces wait in the queue: memory stays flat. GzipFile keeps the error semantics: EOFError for a
    cut file, BadGzipFile or zlib.error for a corrupt one, raised here after the pieces before it.
    """
    pieces: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=AHEAD)
    stop = threading.Event()

    def produce() -> None:
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                while not stop.is_set() and (piece := stream.read1(chunk)):
                    pieces.put(piece)
            pieces.put(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            pieces.put(exc)

    worker = threading.Thread(target=produce, name="logfiles-inflate", daemon=True)
    worker.start()
    try:
        while (piece := pieces.get()) is not None:
            if isinstance(piece, BaseException):
                raise piece
            yield piece
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue, then let it finish
            try:
                pieces.get_nowait()
            except queue.Empty:
                worker.join(0.01)


def _lines(pieces: Iterable[bytes]) -> Iterator[bytes | memoryview]:
    """Split byte pieces into lines (without the newline); a last line without one is kept.

    Lines come as views into their piece, not copies (msgspec decodes a view as it decodes bytes):
    copying every line, and the piece with the previous one's tail, cost a tenth of the scan. Only a line
    that spans two pieces is joined into bytes.
    """
    tail = b""
    for piece in pieces:
        find = piece.find
        start = 0
        if tail:
            end = find(b"\n")
            if end < 0:
                tail += piece
                continue
            yield tail + piece[:end]
            start = end + 1
        view = memoryview(piece)
        while (end := find(b"\n", start)) >= 0:
            yield view[start:end]
            start = end + 1
        tail = piece[start:]
    if tail:
        yield tail
