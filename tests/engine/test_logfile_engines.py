"""The log scan's two JSON engines count the same: msgspec with a schema that skips the bodies, and json.

The fast engine decodes only the keys its schema names (bodies are skipped, not built), so two things must
hold: every key the counting code reads is named in the schema (else it would silently read as missing),
and on records of every shape Bedrock writes, and on broken ones, both engines give the same Usage and the
same single requests. The archive here mixes Converse, ConverseStream and InvokeModelWithResponseStream
records, service tiers, errors, large requests, bodies holding look-alike keys and odd values.
"""

from __future__ import annotations

import ast
import gzip
import inspect
import json
import typing
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from bedrock_usage.collect import logfile_parse, logfile_records
from bedrock_usage.collect.logfiles import Seen, collect_logfiles

from .helpers import ALICE, BOB, NOVA_LITE, SONNET45, record, window

DAY = window("2026-11-27T00:00:00", "2026-11-28T00:00:00")
CLAUDE = f"us.{SONNET45}"


def _schema_keys(kind: Any, seen: set[int] | None = None) -> set[str]:
    """Every key named by the schema's TypedDicts, at any depth."""
    seen = set() if seen is None else seen
    if id(kind) in seen:
        return set()
    seen.add(id(kind))
    keys: set[str] = set()
    if typing.is_typeddict(kind):
        for name, sub in typing.get_type_hints(kind).items():
            keys |= {name} | _schema_keys(sub, seen)
    for arg in typing.get_args(kind):
        keys |= _schema_keys(arg, seen)
    return keys


def _keys_read() -> set[str]:
    """String keys the counting code reads: `get("k")`, `x["k"]`, `"k" in x` and `_tokens(x, "k")`."""
    tree = ast.parse(inspect.getsource(logfile_records))
    names = {
        t.id: n.value.value
        for n in tree.body
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)
        for t in n.targets
        if isinstance(t, ast.Name)
    }

    def text(node: ast.AST) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        return names.get(node.id) if isinstance(node, ast.Name) else None

    found: set[str | None] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name == "get":  # x.get("k"), or `get` bound to a record's get
                found.add(text(node.args[0]))
            elif name == "_tokens":
                found.add(text(node.args[1]))
        elif isinstance(node, ast.Subscript):
            found.add(text(node.slice))
        elif isinstance(node, ast.Compare) and isinstance(node.ops[0], ast.In):
            found.add(text(node.left))
    return {k for k in found if k is not None}


def test_every_key_the_count_reads_is_named_in_the_fast_engines_schema() -> None:
    read = _keys_read()
    # The reader itself must see the keys it is meant to guard (else this test could never fail).
    assert {
        "modelId",
        "inputTokenCount",
        "latencyMs",
        "serviceTier",
        "amazon-bedrock-invocationMetrics",
    } <= read
    missing = read - _schema_keys(logfile_parse._Record)
    assert not missing, f"add {sorted(missing)} to logfile_parse's schema, or the fast engine drops them"


def _invoke_stream(ts: str, latency: int, first_byte: int, **kw: Any) -> dict[str, Any]:
    rec = record(ts, operation="InvokeModelWithResponseStream", **kw)
    rec["output"]["outputBodyJson"] = [
        {"type": "message_start", "message": {"usage": {"input_tokens": 5, "output_tokens": 1}}},
        {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "metrics latencyMs"}},
        {
            "type": "message_stop",
            "amazon-bedrock-invocationMetrics": {
                "inputTokenCount": 7,  # a look-alike inside the body: the record's own count is kept
                "outputTokenCount": 8,
                "invocationLatency": latency,
                "firstByteLatency": first_byte,
            },
        },
    ]
    return rec


def _varied() -> list[tuple[dict[str, Any], int | None]]:
    """60 records with their first-byte latency: three days, models, kinds of call, tiers, errors, sizes."""
    out: list[tuple[dict[str, Any], int | None]] = []
    models, callers = [CLAUDE, NOVA_LITE, "meta.llama3-3-70b-instruct-v1:0"], [ALICE, BOB]
    errors = {1: "ThrottlingException", 4: "ValidationException", 7: "ServiceUnavailableException"}
    for i in range(60):
        ts = f"2026-11-{26 + (i // 2) % 3:02d}T{i % 24:02d}:{i:02d}:00Z"  # the day before, in and after
        kw: dict[str, Any] = {
            "caller": callers[i % 2],
            "input_tokens": 10 + 3 * i + (150_000 if i % 4 == 0 else 0),  # every 4th a large request
            "output_tokens": 1 + i,
            "cache_read": i * 5 if i % 2 else None,
            "cache_write": i * 7 if i % 3 == 0 else None,
            "error_code": errors.get(i % 10),
        }
        first_byte = None
        if i % 4 in (0, 1):  # Converse, ConverseStream
            rec = record(ts, models[i // 3 % 3], stream=i % 4 == 1, latency_ms=300 + 17 * i, **kw)
        elif i % 4 == 2:
            first_byte = 100 + i
            rec = _invoke_stream(ts, 900 + i, first_byte, **kw)
        else:
            rec = record(ts, models[i // 3 % 3], **kw)  # no body at all
        rec["accountId"] = ["111111111111", "222222222222"][i % 2]
        rec["region"] = ["us-east-1", "eu-west-1"][i * 7 % 2]
        if i % 5 == 0:  # a Converse request naming a tier (standard is "default")
            rec["input"]["inputBodyJson"] = {
                "serviceTier": {"type": ["flex", "priority", "default"][i // 5 % 3]}
            }
        if i % 9 == 0 and isinstance(rec["output"].get("outputBodyJson"), dict):
            rec["output"]["outputBodyJson"]["serviceTier"] = "priority"  # the response naming it
        if i % 6 == 0:  # a request body holding the record's own key names
            rec["input"].setdefault("inputBodyJson", {}).update(
                messages=[{"content": [{"text": "x"}], "inputTokenCount": 999_999}],
                metrics={"latencyMs": 1},
                outputTokenCount=999_999,
            )
        out.append((rec, first_byte))
    return out


def _odd_lines() -> list[str]:
    """Odd but valid records, malformed ones (9 in all: skipped) and blank lines."""
    odd = record("2026-11-27T12:00:00Z", input_tokens=1)
    valid: list[Any] = [
        {**odd, "identity": None, "region": ""},  # caller and Region unknown
        {**odd, "input": {"inputTokenCount": 12.0, "inputBodyJson": ["a", 1, None]}},  # a whole float
        {**odd, "output": {"outputTokenCount": 2, "outputBodyJson": "plain text"}},
        {**odd, "output": {"outputTokenCount": 2, "outputBodyJson": None}},
        {**odd, "output": {"outputTokenCount": 2, "outputBodyJson": {"metrics": {"latencyMs": 2.5}}}},
        {**odd, "output": {"outputTokenCount": 2, "outputBodyJson": {"metrics": "fast"}}},
        {**odd, "output": {"outputBodyJson": [{"metadata": {"metrics": {"latencyMs": 40}}}, "end", [1]]}},
    ]
    malformed: list[Any] = [
        {**odd, "input": {"inputTokenCount": -3}},
        {**odd, "input": {"inputTokenCount": "many"}},
        {**odd, "input": "text"},
        {**odd, "errorCode": 5},
        {**odd, "timestamp": "yesterday"},
        [odd],
        "a string",
    ]
    line = json.dumps(odd)
    return [json.dumps(r) for r in valid + malformed] + [
        line[:50],  # cut: malformed
        line.replace('"Hi"', "NaN").replace('"inputContentType"', '"t": NaN, "inputContentType"'),
        line.replace('"identity"', '"note": "\\ud800", "identity"'),  # a lone surrogate
        line.replace('"identity"', '"big": 123456789012345678901234567890, "identity"'),
        line.replace('"identity"', '"huge": 1e999, "identity"'),
        "",
        "  \r",
    ]


def _tier(rec: dict[str, Any]) -> str | None:
    for body in (rec["input"].get("inputBodyJson"), rec["output"].get("outputBodyJson")):
        tier = body.get("serviceTier") if isinstance(body, dict) else None
        name = tier.get("type") if isinstance(tier, dict) else tier
        if name in ("flex", "priority"):
            return name
    return None


def test_both_engines_give_the_same_usage_and_requests_on_every_record_shape(
    tmp_path: Path, monkeypatch
) -> None:
    pytest.importorskip("msgspec")
    # Given varied and odd records gzipped, and one record whose body text is not UTF-8
    varied = _varied()
    lines = [json.dumps(rec) for rec, _ in varied] + _odd_lines()
    bad = json.dumps(record("2026-11-27T13:00:00Z", latency_ms=5)).encode().replace(b'"Hi"', b'"\xff\xfe"')
    (tmp_path / "a.json.gz").write_bytes(gzip.compress(("\n".join(lines) + "\n").encode() + bad))

    def collect() -> tuple[Any, list[Seen]]:
        seen: list[Seen] = []
        usage = collect_logfiles(
            str(tmp_path), DAY, daily_from=DAY.start - timedelta(days=1), on_record=seen.append
        )
        return usage, seen

    # When it is read by the fast engine and by the standard library
    assert logfile_parse.engine() == "msgspec schema"
    fast, fast_seen = collect()
    monkeypatch.setattr(logfile_parse, "msgspec", None)
    assert logfile_parse.engine() == "stdlib json"
    slow, slow_seen = collect()
    # Then every table, warning and single request is the same
    assert fast == slow
    assert fast_seen == slow_seen
    # And the figures are the records' own, not a shared mistake (the look-alikes in bodies not read)
    assert fast.skipped_records == 9  # 7 malformed records, the cut line and the one that is not UTF-8
    inside = [(r, fb) for r, fb in varied if r["timestamp"].startswith("2026-11-27")]
    span = [r for r, _ in varied if r["timestamp"] < "2026-11-28"]
    nova = [r for r, _ in inside if r["modelId"] == NOVA_LITE]
    assert fast.by_model[NOVA_LITE].input_tokens == sum(r["input"]["inputTokenCount"] for r in nova)
    assert fast.by_model[NOVA_LITE].output_tokens == sum(r["output"]["outputTokenCount"] for r in nova)
    first_bytes = [fb for _, fb in inside if fb is not None and True]
    assert fast.latency[CLAUDE].first_byte_ms == pytest.approx(sum(first_bytes) / len(first_bytes), abs=0.05)
    totals = {
        r["input"]["inputTokenCount"]
        + r["input"].get("cacheReadInputTokenCount", 0)
        + r["input"].get("cacheWriteInputTokenCount", 0)
        for r in span
    }
    assert {key[-1] for key in fast.large_requests} == {t for t in totals if t >= 100_000}
    tiers = {(r["modelId"], r["timestamp"][:10], _tier(r)) for r in span if _tier(r)}
    assert {(k[0], k[3].isoformat(), k[-1]) for k in fast.service_tiers} == tiers
    assert {t for *_, t in tiers} == {"flex", "priority"}
