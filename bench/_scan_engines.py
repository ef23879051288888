"""The log scan's stages, one candidate engine at a time, on bench.logfiles' archive (run from it).

Each stage is timed alone in this process, over the whole archive, best CPU time of `repeat`: inflating,
splitting lines, parsing them (stdlib json, orjson, msgspec untyped, msgspec with the scan's schema that
skips the bodies), counting the parsed records (`_add`), and DuckDB's `read_json` doing the whole per-model
sum by itself. Candidates not installed are named, not timed. What chose the scan's engine; not a test.
"""

from __future__ import annotations

import gc
import gzip
import importlib
import json
import time
import zlib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from bedrock_usage.collect import logfile_files, logfile_parse, logfile_records
from bedrock_usage.model import Window

from bench.logfiles import START


def _optional(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _best_cpu(work: Callable[[], object], repeat: int) -> float:
    """Least process CPU time (every thread) of `repeat` runs, the cyclic collector paused as in the scan."""
    times = []
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        began = time.process_time()
        try:
            work()
        finally:
            times.append(time.process_time() - began)
            gc.enable()
    return min(times)


def _inflate(module: Any, files: list[Path]) -> Callable[[], None]:
    def run() -> None:
        for path in files:
            with path.open("rb") as raw, module.GzipFile(fileobj=raw, mode="rb") as stream:
                while stream.read1(1 << 20):
                    pass

    return run


def _each(parse: Callable[[Any], Any], lines: list[bytes]) -> Callable[[], None]:
    def run() -> None:
        for line in lines:
            parse(line)

    return run


def _duckdb_sums(duckdb: Any, files: list[Path]) -> Callable[[], None]:
    columns = {
        "modelId": "VARCHAR",
        "input": "STRUCT(inputTokenCount BIGINT)",
        "output": "STRUCT(outputTokenCount BIGINT)",
    }
    query = (
        "SELECT modelId, count(*), sum(input.inputTokenCount), sum(output.outputTokenCount) "
        "FROM read_json(?, format = 'newline_delimited', columns = ?, maximum_object_size = 67108864) "
        "GROUP BY modelId"
    )

    def run() -> None:
        with duckdb.connect() as con:
            con.execute(query, [[str(f) for f in files], columns]).fetchall()

    return run


def main(files: list[Path], size: int, records: int, repeat: int = 3) -> None:
    """Print each stage's CPU seconds per candidate, with MB of JSON per CPU second."""
    pieces = [gzip.decompress(path.read_bytes()) for path in files]
    lines = [line for piece in pieces for line in piece.split(b"\n") if line]
    rows: list[tuple[str, str, float]] = []
    missing: list[str] = []

    rows.append(
        (
            "inflate",
            f"gzip module (zlib {zlib.ZLIB_RUNTIME_VERSION})",
            _best_cpu(_inflate(gzip, files), repeat),
        )
    )
    for label, name in (("isal igzip", "isal.igzip"), ("zlib-ng gzip_ng", "zlib_ng.gzip_ng")):
        module = _optional(name)
        if module is None:
            missing.append(label)
        else:
            rows.append(("inflate", label, _best_cpu(_inflate(module, files), repeat)))
    rows.append(
        ("split lines", "logfile_files._lines", _best_cpu(lambda: list(logfile_files._lines(pieces)), repeat))
    )

    rows.append(("parse", "json.loads (stdlib)", _best_cpu(_each(json.loads, lines), repeat)))
    orjson, msgspec = _optional("orjson"), logfile_parse.msgspec
    if orjson is None:
        missing.append("orjson")
    else:
        rows.append(("parse", "orjson.loads", _best_cpu(_each(orjson.loads, lines), repeat)))
    if msgspec is None:
        missing.append("msgspec")
    else:
        untyped = msgspec.json.Decoder().decode
        rows.append(("parse", "msgspec, untyped", _best_cpu(_each(untyped, lines), repeat)))
        schema = logfile_parse.line_parser()
        rows.append(
            ("parse", "msgspec, the scan's schema (+ UTF-8 check)", _best_cpu(_each(schema, lines), repeat))
        )

    parse = logfile_parse.line_parser()
    parsed = [parse(line) for line in lines]
    window = Window(START, START + timedelta(hours=len(files) + 1))

    def count() -> None:
        agg = logfile_records._Aggregator(window, window.start)
        for record in parsed:
            agg._add(record)
        agg.finish()

    rows.append(("count", f"_add over {logfile_parse.engine()}'s dicts", _best_cpu(count, repeat)))

    duckdb = _optional("duckdb")
    if duckdb is None:
        missing.append("duckdb")
    else:
        label = "DuckDB read_json: inflate + parse + per-model sums"
        rows.append(("whole sum", label, _best_cpu(_duckdb_sums(duckdb, files), repeat)))

    print(
        f"the scan's stages alone on the same archive ({size / 1e6:,.0f} MB JSON, {records:,} records), "
        f"best CPU time of {repeat}"
    )
    width = max(len(engine) for _, engine, _ in rows)
    print(f"{'stage':<11}  {'candidate':<{width}}  {'CPU s':>6}  {'MB/CPU s':>8}")
    for stage, engine, cpu in rows:
        print(f"{stage:<11}  {engine:<{width}}  {cpu:>6.2f}  {size / 1e6 / max(cpu, 1e-9):>8,.0f}")
    if missing:
        print("not installed, not timed: " + ", ".join(missing))
