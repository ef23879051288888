"""The JSON engine that reads log lines: orjson when installed, else the standard library's json."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

orjson: Any
try:
    # Optional (`pip install bedrock-usage-monitor[fast]`): parses log lines about twice as fast as the
    # standard library, for the CLI over large archives; the Lambda layer does not ship it.
    import orjson
except ImportError:  # pragma: no cover - exercised where orjson is not installed
    orjson = None


def json_loads(raw: bytes | str | memoryview) -> Any:
    """The standard library's json.loads, which takes no memoryview."""
    return json.loads(bytes(raw) if isinstance(raw, memoryview) else raw)


def line_parser() -> Callable[[bytes | str | memoryview], Any]:
    """The parser for one line: orjson's when it is importable (and not switched off), else json's."""
    return orjson.loads if orjson is not None else json_loads
