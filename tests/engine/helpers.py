"""Builders for real-shaped Bedrock invocation log records (REFERENCE.md section 1)."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bedrock_usage.model import Window

ALICE = "arn:aws:iam::123456789012:user/alice"
BOB = "arn:aws:sts::123456789012:assumed-role/BatchRole/job-42"
SONNET45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"
NOVA_LITE = "amazon.nova-lite-v1:0"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def window(start: str, end: str) -> Window:
    return Window(at(start), at(end))


def record(
    timestamp: str,
    model_id: str = f"us.{SONNET45}",
    *,
    caller: str = ALICE,
    input_tokens: int = 100,
    output_tokens: int = 20,
    cache_read: int | None = None,
    cache_write: int | None = None,
    error_code: str | None = None,
    operation: str = "Converse",
    latency_ms: int | None = None,
    stream: bool = False,
) -> dict[str, Any]:
    """One record as Bedrock logs it; cache fields are left out unless given, as in older records."""
    inp: dict[str, Any] = {"inputContentType": "application/json", "inputTokenCount": input_tokens}
    if cache_read is not None:
        inp["cacheReadInputTokenCount"] = cache_read
    if cache_write is not None:
        inp["cacheWriteInputTokenCount"] = cache_write
    out: dict[str, Any] = {"outputContentType": "application/json", "outputTokenCount": output_tokens}
    if stream:
        # ...Stream operations log the chunk array; the last chunk carries usage and metrics.
        out["outputBodyJson"] = [
            {"messageStart": {"role": "assistant"}},
            {"contentBlockDelta": {"delta": {"text": "Hello"}, "contentBlockIndex": 0}},
            {"messageStop": {"stopReason": "end_turn"}},
            {
                "metadata": {
                    "usage": {"inputTokens": input_tokens, "outputTokens": output_tokens},
                    "metrics": {"latencyMs": latency_ms or 0},
                }
            },
        ]
    elif latency_ms is not None:
        out["outputBodyJson"] = {
            "output": {"message": {"role": "assistant", "content": [{"text": "Hi"}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": input_tokens, "outputTokens": output_tokens},
            "metrics": {"latencyMs": latency_ms},
        }
    rec: dict[str, Any] = {
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": timestamp,
        "accountId": "123456789012",
        "identity": {"arn": caller},
        "region": "us-east-1",
        "requestId": "0b3c5b4e-1f0a-4a53-9d6b-1b1f6f6b7e2a",
        "operation": operation,
        "modelId": model_id,
        "input": inp,
        "output": out,
    }
    if error_code:
        rec["errorCode"] = error_code
    return rec


def invoke_stream_record(timestamp: str, latency: Any, first_byte: Any, **kw: Any) -> dict[str, Any]:
    """InvokeModelWithResponseStream (Anthropic messages API): the body is the array of stream chunks.

    The last chunk's `amazon-bedrock-invocationMetrics`: REFERENCE.md §1, tests/collect/test_records.py.
    """
    rec = record(timestamp, operation="InvokeModelWithResponseStream", **kw)
    rec["output"]["outputBodyJson"] = [
        {"type": "message_start", "message": {"usage": {"input_tokens": 100, "output_tokens": 1}}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 20}},
        {
            "type": "message_stop",
            "amazon-bedrock-invocationMetrics": {
                "inputTokenCount": 100,
                "outputTokenCount": 20,
                "invocationLatency": latency,
                "firstByteLatency": first_byte,
            },
        },
    ]
    return rec


def bedrock_key(moment: datetime, region: str = "us-east-1", prefix: str = "", suffix: str = "a1") -> str:
    """Bedrock's S3 layout: <prefix>AWSLogs/<acct>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/…"""
    return (
        f"{prefix}AWSLogs/123456789012/BedrockModelInvocationLogs/{region}/"
        f"{moment:%Y/%m/%d/%H}/{moment:%Y%m%dT%H%M%S}000Z_{suffix}.json.gz"
    )


def gz_lines(records: list[Any]) -> bytes:
    return gzip.compress("".join(json.dumps(r) + "\n" for r in records).encode())


def write_gz(path: Path, records: list[Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gz_lines(records))
    return path
