"""The JSON engine that reads log lines: msgspec with a schema that skips the bodies, else stdlib json.

A record is mostly its request and response bodies (prompt text, a stream's chunk array), which the count
never reads. With the optional msgspec (`pip install bedrock-usage-monitor[fast]`; the CLI over large
archives, not the Lambda layer), lines decode against TypedDicts naming only the keys the count reads:
the result is the same plain dicts json gives, minus the keys nobody reads, so one `_add` serves both
engines. Scalars are `Any`, so a value of an unexpected type reaches `_add`'s own checks as json gives it;
a line the schema or msgspec refuses gets json's verdict, so both engines count the same records.
"""

from __future__ import annotations

import codecs
import functools
import importlib
import json
from collections.abc import Callable
from typing import Any, TypedDict

msgspec: Any  # the module, or None: tests and the benchmark set it to None to use json
try:
    msgspec = importlib.import_module("msgspec")
except ImportError:  # pragma: no cover - exercised where msgspec is not installed
    msgspec = None

Parser = Callable[[bytes | str | memoryview], Any]

# Every JSON type but an object and an array: a key the count reads may hold any of them (it then judges).
_Scalar = str | int | float | bool | None


# Only the keys the count reads (logfile_records: _add, _body_latency_ms, _service_tier); any other key is
# skipped without building it. tests/engine/test_logfile_engines.py checks that every key read is here.
class _Identity(TypedDict, total=False):
    arn: Any


class _Tier(TypedDict, total=False):
    type: Any


class _Metrics(TypedDict, total=False):
    latencyMs: Any


class _StreamMetrics(TypedDict, total=False):
    invocationLatency: Any
    firstByteLatency: Any


class _Metadata(TypedDict, total=False):
    metrics: _Metrics | _Scalar | list[Any]


# A body: a Converse request or response (`metrics`, `serviceTier`), or a stream's chunk array whose last
# chunk holds ConverseStream's `metadata.metrics` or InvokeModelWithResponseStream's invocation metrics.
_Chunk = TypedDict(
    "_Chunk",
    {
        "metadata": _Metadata | _Scalar | list[Any],
        "amazon-bedrock-invocationMetrics": _StreamMetrics | _Scalar | list[Any],
    },
    total=False,
)
_Body = TypedDict(
    "_Body",
    {
        "metrics": _Metrics | _Scalar | list[Any],
        "serviceTier": _Tier | _Scalar | list[Any],
        "amazon-bedrock-invocationMetrics": _StreamMetrics | _Scalar | list[Any],
    },
    total=False,
)
_AnyBody = _Body | list[_Chunk | _Scalar | list[Any]] | _Scalar


class _Input(TypedDict, total=False):
    inputTokenCount: Any
    cacheReadInputTokenCount: Any
    cacheWriteInputTokenCount: Any
    inputBodyJson: _AnyBody


class _Output(TypedDict, total=False):
    outputTokenCount: Any
    outputBodyJson: _AnyBody


class _Record(TypedDict, total=False):
    timestamp: Any
    modelId: Any
    accountId: Any  # per-account view (collect/logfile_accounts.py)
    identity: _Identity | _Scalar | list[Any]
    region: Any
    requestId: Any
    errorCode: Any
    input: _Input | _Scalar | list[Any]
    output: _Output | _Scalar | list[Any]


def json_loads(raw: bytes | str | memoryview) -> Any:
    """The standard library's json.loads, which takes no memoryview."""
    return json.loads(bytes(raw) if isinstance(raw, memoryview) else raw)


@functools.cache
def _schema_parser() -> Parser:
    decode = msgspec.json.Decoder(_Record).decode
    utf8 = codecs.utf_8_decode

    def parse(raw: bytes | str | memoryview) -> Any:
        record = decode(raw)
        if not isinstance(raw, str):
            # msgspec does not check the text of the keys it skips; json refuses a line that is not
            # UTF-8 anywhere (UnicodeDecodeError, a ValueError), and so must this engine.
            utf8(raw, None, True)
        return record

    return parse


def line_parser() -> Parser:
    """The parser for one line: the msgspec schema's when msgspec is importable (and not switched off)."""
    return _schema_parser() if msgspec is not None else json_loads


def engine() -> str:
    """The engine line_parser() gives, by name (the benchmark prints it)."""
    return "msgspec schema" if msgspec is not None else "stdlib json"
