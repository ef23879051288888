"""`bedrock-usage tail`: each new invocation as one priced line, a running total, the totals on Ctrl-C.

FilterLogEvents is driven with botocore's Stubber fed the real response shape (botocore validates both
directions). Stubber cannot hold an event stream, so the Live Tail test answers at the HTTP layer
(`before-send`) with the real wire format (AWS event-stream frames: prelude, headers, JSON payload, CRC32),
and botocore's own parser decodes it; moto 5.2.5 has no StartLiveTail. Ctrl-C is the KeyboardInterrupt that
the injected sleep raises. Costs by hand: Claude Sonnet 4.5 through `us.` $3.30 in, $16.50 out per 1M; Nova
Lite $0.06 in, $0.24 out per 1M (the list prices tests/engine/test_price.py pins).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from bedrock_usage.price import Pricer
from bedrock_usage.tail import follow
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber

from tests.engine.helpers import ALICE, BOB, NOVA_LITE, record

GROUP = "/aws/bedrock/modelinvocations"
GROUP_ARN = f"arn:aws:logs:us-east-1:123456789012:log-group:{GROUP}"
STARTED_MS = 1_764_237_600_000  # 2025-11-27T10:00:00Z
SECRET = "my card number is 4111 1111 1111 1111"

CLAUDE_COST = (100 * Decimal("3.30") + 20 * Decimal("16.50")) / 1_000_000  # 0.00066
NOVA_COST = (1_000 * Decimal("0.06") + 200 * Decimal("0.24")) / 1_000_000  # 0.000108


def claude_message() -> str:
    rec = record("2026-11-27T10:00:01Z", caller=ALICE)
    rec["input"]["inputBodyJson"] = {"messages": [{"role": "user", "content": [{"text": SECRET}]}]}
    return json.dumps(rec)


def nova_message() -> str:
    return json.dumps(
        record("2026-11-27T10:00:02Z", NOVA_LITE, caller=BOB, input_tokens=1_000, output_tokens=200)
    )


def event(event_id: str, message: str, stamp: int) -> dict[str, Any]:
    return {
        "logStreamName": "aws/bedrock/modelinvocations",
        "timestamp": stamp,
        "message": message,
        "ingestionTime": stamp + 500,
        "eventId": event_id,
    }


def groups() -> dict[str, Any]:
    """DescribeLogGroups as the real API answers it: `arn` ends in :*, `logGroupArn` does not."""
    return {
        "logGroups": [
            {
                "logGroupName": GROUP,
                "creationTime": 1_700_000_000_000,
                "retentionInDays": 30,
                "storedBytes": 0,
                "arn": GROUP_ARN + ":*",
                "logGroupArn": GROUP_ARN,
            }
        ]
    }


def ctrl_c_after(n: int) -> Any:
    calls = {"n": 0}

    def sleep(_: float) -> None:
        calls["n"] += 1
        if calls["n"] >= n:
            raise KeyboardInterrupt

    return sleep


def run(logs: Any, **kw: Any) -> tuple[Any, list[str], list[str]]:
    out: list[str] = []
    notes: list[str] = []
    totals = follow(
        logs, GROUP, Pricer(), write=out.append, warn=notes.append, now_ms=lambda: STARTED_MS, **kw
    )
    return totals, out, notes


def test_given_live_tail_refused_when_polled_then_one_priced_line_per_request_once_and_ctrl_c_totals() -> (
    None
):
    logs = boto3.client("logs", region_name="us-east-1")
    with Stubber(logs) as stub:
        stub.add_response("describe_log_groups", groups(), {"logGroupNamePrefix": GROUP})
        stub.add_client_error(
            "start_live_tail",
            "AccessDeniedException",
            "not authorized to perform: logs:StartLiveTail",
            http_status_code=400,
            expected_params={"logGroupIdentifiers": [GROUP_ARN]},
        )
        stub.add_response(
            "filter_log_events",
            {
                "events": [
                    event("e1", claude_message(), STARTED_MS + 1000),
                    event("e2", "{not json", STARTED_MS + 1500),
                ],
                "nextToken": "page2",
            },
            {"logGroupName": GROUP, "startTime": STARTED_MS},
        )
        stub.add_response(
            "filter_log_events",
            {"events": [event("e3", nova_message(), STARTED_MS + 2000)]},
            {"logGroupName": GROUP, "startTime": STARTED_MS, "nextToken": "page2"},
        )
        # The next poll starts at the newest timestamp, inclusive: e3 comes back and is not printed again.
        stub.add_response(
            "filter_log_events",
            {"events": [event("e3", nova_message(), STARTED_MS + 2000)]},
            {"logGroupName": GROUP, "startTime": STARTED_MS + 2000},
        )
        totals, out, notes = run(logs, sleep=ctrl_c_after(2))
        stub.assert_no_pending_responses()

    assert any("AccessDeniedException" in n for n in notes)
    assert len(out) == 3
    claude, skipped, nova = out
    assert "user/alice" in claude
    assert "us.anthropic.claude-sonnet-4-5-20250929-v1:0" in claude
    assert "in 100 out 20" in claude
    assert "$0.0007" in claude  # 0.00066, four places
    assert skipped.startswith("skipped: ")
    assert "not valid JSON" in skipped
    assert "assumed-role/BatchRole/job-42" in nova
    assert "amazon.nova-lite-v1:0" in nova
    assert "total 2 requests, 1,320 tokens" in nova
    assert totals.requests == 2
    assert totals.unreadable == 1
    assert totals.cost_usd == CLAUDE_COST + NOVA_COST
    assert SECRET not in "\n".join(out) + totals.summary()
    assert totals.summary().startswith("tail totals: 2 requests, 1,320 tokens, $0.0008")


def test_given_an_empty_log_group_when_followed_then_nothing_is_printed_and_the_totals_are_zero() -> None:
    logs = boto3.client("logs", region_name="us-east-1")
    with Stubber(logs) as stub:
        stub.add_response("describe_log_groups", groups(), {"logGroupNamePrefix": GROUP})
        stub.add_response(
            "filter_log_events", {"events": []}, {"logGroupName": GROUP, "startTime": STARTED_MS}
        )
        totals, out, _ = run(logs, sleep=ctrl_c_after(1), live=False)
    assert out == []
    assert (totals.requests, totals.tokens, totals.cost_usd) == (0, 0, Decimal(0))
    assert totals.summary() == "tail totals: 0 requests, 0 tokens, $0.00"


def test_given_no_such_log_group_when_followed_then_lookup_error_names_it() -> None:
    logs = boto3.client("logs", region_name="us-east-1")
    with Stubber(logs) as stub:
        stub.add_response("describe_log_groups", {"logGroups": []}, {"logGroupNamePrefix": GROUP})
        with pytest.raises(LookupError, match=GROUP):
            run(logs, sleep=ctrl_c_after(1))


# --- Live Tail's event stream, on the wire ------------------------------------------------------------


def frame(event_type: str, payload: dict[str, Any]) -> bytes:
    """One AWS event-stream message: total and header lengths, prelude CRC, string headers, body, CRC."""
    headers = b""
    for name, value in (
        (":message-type", "event"),
        (":event-type", event_type),
        (":content-type", "application/json"),
    ):
        n, v = name.encode(), value.encode()
        headers += bytes([len(n)]) + n + bytes([7]) + len(v).to_bytes(2, "big") + v
    body = json.dumps(payload).encode()
    prelude = (12 + len(headers) + len(body) + 4).to_bytes(4, "big") + len(headers).to_bytes(4, "big")
    message = prelude + zlib.crc32(prelude).to_bytes(4, "big") + headers + body
    return message + zlib.crc32(message).to_bytes(4, "big")


class Raw:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data

    def close(self) -> None:
        pass


def test_given_a_live_tail_session_when_followed_then_its_events_are_priced_and_a_bad_record_skipped() -> (
    None
):
    logs = boto3.client("logs", region_name="us-east-1")
    sent: list[str] = []
    stream = b"".join(
        [
            frame("initial-response", {}),  # JSON-protocol event streams open with it
            frame("sessionStart", {"requestId": "r", "sessionId": "s", "logGroupIdentifiers": [GROUP_ARN]}),
            frame("sessionUpdate", {"sessionMetadata": {"sampled": False}, "sessionResults": []}),
            frame(
                "sessionUpdate",
                {
                    "sessionMetadata": {"sampled": False},
                    "sessionResults": [
                        {
                            "logStreamName": "s1",
                            "logGroupIdentifier": GROUP_ARN,
                            "message": claude_message(),
                            "timestamp": STARTED_MS + 1000,
                            "ingestionTime": STARTED_MS + 1200,
                        },
                        {
                            "logStreamName": "s1",
                            "logGroupIdentifier": GROUP_ARN,
                            "message": '{"schemaType": "ModelInvocationLog"}',
                            "timestamp": STARTED_MS + 1100,
                            "ingestionTime": STARTED_MS + 1200,
                        },
                        {
                            "logStreamName": "s1",
                            "logGroupIdentifier": GROUP_ARN,
                            "message": nova_message(),
                            "timestamp": STARTED_MS + 3000,
                            "ingestionTime": STARTED_MS + 3100,
                        },
                    ],
                },
            ),
        ]
    )
    answers = {
        "DescribeLogGroups": json.dumps(groups()).encode(),
        "StartLiveTail": stream,
        # after the session ends, polling resumes just after the last event Live Tail delivered
        "FilterLogEvents": json.dumps({"events": []}).encode(),
    }

    def answer(request: Any, **_: Any) -> AWSResponse:
        operation = request.headers["X-Amz-Target"].decode().split(".")[-1]
        sent.append(operation)
        if operation == "FilterLogEvents":
            assert json.loads(request.body)["startTime"] == STARTED_MS + 3001
        return AWSResponse(
            request.url, 200, {"content-type": "application/x-amz-json-1.1"}, Raw(answers[operation])
        )

    logs.meta.events.register("before-send.logs", answer)
    totals, out, notes = run(logs, sleep=ctrl_c_after(1))
    assert sent == ["DescribeLogGroups", "StartLiveTail", "FilterLogEvents"]
    assert len(out) == 3
    assert "user/alice" in out[0]
    assert "$0.0007" in out[0]
    assert out[1].startswith("skipped: ")
    assert "no timestamp or modelId" in out[1]
    assert "amazon.nova-lite-v1:0" in out[2]
    assert totals.cost_usd == CLAUDE_COST + NOVA_COST
    assert notes == ["Live Tail session ended; polling FilterLogEvents"]
    assert SECRET not in "\n".join(out)


def test_the_cli_says_which_log_group_is_missing_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    from bedrock_usage.cli import main
    from moto import mock_aws

    with mock_aws():
        assert main(["tail", "--log-group", "/no/such/group", "--price-cache", "off"]) == 1
    assert "no log group /no/such/group" in capsys.readouterr().err
