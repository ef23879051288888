"""Logs Insights collector.

moto does not aggregate `stats ... by`, so the API is driven with botocore's Stubber, fed with the
response shapes of the real StartQuery/GetQueryResults/StopQuery (botocore validates both directions).
The query's `parse` regexes are checked against real-shaped records with Python's `re`, which reads
the constructs they use (`[\\s\\S]`, `\\d`, `\\s`, lazy `*?`, named groups) the same way.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.session
import pytest
from bedrock_usage.collect import insights
from bedrock_usage.collect.insights import QUERY, RESULT_LIMIT, InsightsError, collect_insights
from bedrock_usage.model import Window
from botocore.stub import Stubber

LOG_GROUP = "/aws/bedrock/modelinvocations"
END = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)
WINDOW = Window(END - timedelta(hours=24), END)
ALICE = "arn:aws:iam::123456789012:user/alice"
JOB = "arn:aws:sts::123456789012:assumed-role/BatchRole/job-42"
SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
NOVA = "amazon.nova-lite-v1:0"


def row(
    caller: str, model: str, error: str, calls: int, tokens: tuple[int, int, int, int]
) -> list[dict[str, str]]:
    """One result row as GetQueryResults returns it: every value is text."""
    names = ["input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"]
    return [
        {"field": "caller", "value": caller},
        {"field": "model", "value": model},
        {"field": "error_code", "value": error},
        {"field": "calls", "value": str(calls)},
        *({"field": name, "value": str(value)} for name, value in zip(names, tokens, strict=True)),
    ]


def results(status: str, rows: list[list[dict[str, str]]] | None = None) -> dict[str, Any]:
    return {
        "status": status,
        "results": rows or [],
        "statistics": {"recordsMatched": 10.0, "recordsScanned": 12.0, "bytesScanned": 4096.0},
    }


def start_params() -> dict[str, Any]:
    return {
        "logGroupName": LOG_GROUP,
        "startTime": int(WINDOW.start.timestamp()),
        # StartQuery's range is inclusive; the window is half-open, so its last second is end - 1
        "endTime": int(WINDOW.end.timestamp()) - 1,
        "queryString": QUERY,
        "limit": RESULT_LIMIT,
    }


def test_given_a_running_query_when_it_completes_then_callers_models_and_error_codes_are_filled() -> None:
    logs = boto3.client("logs", region_name="us-east-1")
    sleeps: list[float] = []
    rows = [
        row(ALICE, SONNET, "-", 10, (1000, 200, 5000, 300)),
        row(ALICE, SONNET, "ValidationException", 2, (0, 0, 0, 0)),
        row(JOB, SONNET, "-", 5, (500, 100, 0, 0)),
        row(JOB, NOVA, "ThrottlingException", 3, (0, 0, 0, 0)),
        row(JOB, NOVA, "InternalServerException", 1, (40, 0, 0, 0)),
    ]
    with Stubber(logs) as stub:
        stub.add_response("start_query", {"queryId": "q-123"}, start_params())
        stub.add_response("get_query_results", results("Scheduled"), {"queryId": "q-123"})
        stub.add_response("get_query_results", results("Running"), {"queryId": "q-123"})
        stub.add_response("get_query_results", results("Complete", rows), {"queryId": "q-123"})
        usage = collect_insights(logs, WINDOW, LOG_GROUP, sleep=sleeps.append, clock=lambda: 0.0)
        stub.assert_no_pending_responses()

    assert sleeps == [0.5, 1.0]  # backoff between polls
    assert usage.source == "logs-insights"
    alice = usage.by_caller[(ALICE, SONNET)]
    assert (alice.invocations, alice.client_errors, alice.input_tokens, alice.cache_read_tokens) == (
        12,
        2,
        1000,
        5000,
    )
    assert usage.by_caller[(JOB, SONNET)].output_tokens == 100
    nova = usage.by_model[NOVA]
    # throttled calls are not invocations (as in CloudWatch's Invocations metric), but are counted
    assert (nova.invocations, nova.throttles, nova.server_errors, nova.input_tokens) == (1, 3, 1, 40)
    assert usage.by_model[SONNET].invocations == 17
    assert usage.errors_by_code == {
        "ValidationException": 2,
        "ThrottlingException": 3,
        "InternalServerException": 1,
    }


@pytest.mark.parametrize("status", ["Failed", "Cancelled", "Timeout", "Unknown"])
def test_given_a_query_that_ends_badly_when_polled_then_insights_error(status: str) -> None:
    logs = boto3.client("logs", region_name="us-east-1")
    with Stubber(logs) as stub:
        stub.add_response("start_query", {"queryId": "q-1"}, start_params())
        stub.add_response("get_query_results", results("Running"), {"queryId": "q-1"})
        stub.add_response("get_query_results", results(status), {"queryId": "q-1"})
        with pytest.raises(InsightsError, match=status):
            collect_insights(logs, WINDOW, LOG_GROUP, sleep=lambda _: None, clock=lambda: 0.0)
        stub.assert_no_pending_responses()


def test_given_a_query_that_outlasts_the_bound_when_polled_then_it_is_stopped_and_an_error_raised() -> None:
    """Polls at 0, 0.5, 1.5 and 3.0 s of requested sleep; at the 3 s bound StopQuery, then the error."""
    logs = boto3.client("logs", region_name="us-east-1")
    sleeps: list[float] = []
    with Stubber(logs) as stub:
        stub.add_response("start_query", {"queryId": "q-slow"}, start_params())
        for _ in range(4):
            stub.add_response("get_query_results", results("Running"), {"queryId": "q-slow"})
        stub.add_response("stop_query", {"success": True}, {"queryId": "q-slow"})
        with pytest.raises(InsightsError, match="stopped"):
            collect_insights(logs, WINDOW, LOG_GROUP, sleep=sleeps.append, timeout_s=3, clock=lambda: 0.0)
        stub.assert_no_pending_responses()
    assert sleeps == [0.5, 1.0, 1.5]


def test_the_row_ceiling_is_the_bundled_botocore_models_maximum_not_10000() -> None:
    # Given botocore's logs model, When the query is built, Then its limit is the model's own maximum
    model = botocore.session.get_session().get_service_model("logs")
    maximum = model.operation_model("StartQuery").input_shape.members["limit"].metadata["max"]
    assert RESULT_LIMIT == maximum > 10_000
    assert QUERY.endswith(f"| limit {maximum}")


def test_given_a_result_at_the_ceiling_when_collected_then_it_says_rows_were_cut(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A small ceiling stands in for 100,000 rows (Stubber needs 18 s to validate that many).
    monkeypatch.setattr(insights, "RESULT_LIMIT", 50)
    logs = boto3.client("logs", region_name="us-east-1")
    rows = [row(f"arn:aws:iam::123456789012:user/u{n}", NOVA, "-", 1, (1, 1, 0, 0)) for n in range(50)]
    with Stubber(logs) as stub:
        stub.add_response("start_query", {"queryId": "q-big"}, {**start_params(), "limit": 50})
        stub.add_response("get_query_results", results("Complete", rows), {"queryId": "q-big"})
        usage = collect_insights(logs, WINDOW, LOG_GROUP, sleep=lambda _: None, clock=lambda: 0.0)
    assert len(usage.by_caller) == 50
    assert any("rows were cut" in w and "maximum of 50 " in w for w in usage.warnings)


def test_given_10000_rows_when_collected_then_nothing_is_said_to_be_cut() -> None:
    logs = boto3.client("logs", region_name="us-east-1")
    rows = [row(f"arn:aws:iam::123456789012:user/u{n}", NOVA, "-", 1, (1, 1, 0, 0)) for n in range(10_000)]
    with Stubber(logs) as stub:
        stub.add_response("start_query", {"queryId": "q-10k"}, start_params())
        stub.add_response("get_query_results", results("Complete", rows), {"queryId": "q-10k"})
        usage = collect_insights(logs, WINDOW, LOG_GROUP, sleep=lambda _: None, clock=lambda: 0.0)
    assert len(usage.by_caller) == 10_000
    assert not any("cut" in w for w in usage.warnings)


def test_given_a_missing_log_group_when_collected_then_the_client_error_propagates() -> None:
    logs = boto3.client("logs", region_name="us-east-1")
    with Stubber(logs) as stub:
        stub.add_client_error(
            "start_query", "ResourceNotFoundException", "Log group does not exist", http_status_code=400
        )
        with pytest.raises(logs.exceptions.ResourceNotFoundException):
            collect_insights(logs, WINDOW, LOG_GROUP, sleep=lambda _: None)


# --- the parse regexes, on real-shaped records (REFERENCE.md §1) -------------------------------------


def parse_patterns() -> dict[str, re.Pattern[str]]:
    """The query's `parse @message /.../` regexes, translated to Python's named-group syntax."""
    patterns = {}
    for regex in re.findall(r"parse @message /(.+)/$", QUERY, flags=re.MULTILINE):
        compiled = re.compile(regex.replace("(?<", "(?P<"))
        (name,) = compiled.groupindex
        patterns[name] = compiled
    return patterns


TEXT_GROUPS = ("rxArn", "rxError")


def extract(message: str) -> dict[str, int | None]:
    """The token-count groups the query would parse from `message` (None where its regex fails)."""
    found: dict[str, int | None] = {}
    for name, pattern in parse_patterns().items():
        if name in TEXT_GROUPS:
            continue
        match = pattern.search(message)
        found[name] = int(match.group(name)) if match else None
    return found


def extract_text(message: str) -> dict[str, str | None]:
    """The caller ARN and errorCode groups the query would parse from `message`."""
    patterns = parse_patterns()
    found: dict[str, str | None] = {}
    for name in TEXT_GROUPS:
        match = patterns[name].search(message)
        found[name] = match.group(name) if match else None
    return found


def stream_record() -> dict[str, Any]:
    """InvokeModelWithResponseStream: the body is the chunk array; its last chunk repeats token keys,
    here with different numbers so that a wrong match shows."""
    return {
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": "2026-11-27T10:00:00Z",
        "accountId": "123456789012",
        "identity": {"arn": ALICE},
        "region": "us-east-1",
        "requestId": "5d3b1a4e-0000-4000-8000-000000000001",
        "operation": "InvokeModelWithResponseStream",
        "modelId": SONNET,
        "input": {
            "inputContentType": "application/json",
            "inputBodyJson": {
                "messages": [
                    {"role": "user", "content": 'what is "outputTokenCount":999 in a log?'},
                    {
                        "role": "assistant",
                        "content": [{"type": "tool_use", "input": {"inputTokenCount": 777}}],
                    },
                ],
                "max_tokens": 500,
            },
            "inputTokenCount": 1234,
            "cacheReadInputTokenCount": 5000,
            "cacheWriteInputTokenCount": 60,
        },
        "output": {
            "outputContentType": "application/json",
            "outputBodyJson": [
                {"type": "message_start", "message": {"usage": {"input_tokens": 1234}}},
                {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "Hi"}},
                {
                    "type": "message_stop",
                    "amazon-bedrock-invocationMetrics": {
                        "inputTokenCount": 4321,
                        "outputTokenCount": 88,
                        "invocationLatency": 900,
                        "firstByteLatency": 100,
                        "cacheReadInputTokenCount": 1,
                        "cacheWriteInputTokenCount": 2,
                    },
                },
            ],
            "outputTokenCount": 42,
        },
        "requestMetadata": {"outputTokenCount": "13", "team": "search"},
    }


@pytest.mark.parametrize("indent", [None, 2], ids=["compact", "pretty"])
def test_given_look_alike_keys_in_the_bodies_when_parsed_then_the_records_own_counts_are_taken(
    indent: int | None,
) -> None:
    message = json.dumps(stream_record(), indent=indent)
    assert extract(message) == {"rxInput": 1234, "rxCacheRead": 5000, "rxCacheWrite": 60, "rxOutput": 42}


def test_given_a_converse_record_when_parsed_then_its_output_message_is_not_the_output_section() -> None:
    record = stream_record()
    record["operation"] = "Converse"
    record["output"]["outputBodyJson"] = {
        "output": {"message": {"role": "assistant", "content": [{"text": "Hi"}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 1234, "outputTokens": 42, "cacheReadInputTokens": 5000},
    }
    assert extract(json.dumps(record)) == {
        "rxInput": 1234,
        "rxCacheRead": 5000,
        "rxCacheWrite": 60,
        "rxOutput": 42,
    }


def test_given_a_record_without_cache_fields_when_parsed_then_they_stay_empty() -> None:
    """Older records and models without prompt caching omit the cache keys (the query coalesces to 0);
    the stream chunk's cache keys, after the output section starts, must not stand in for them."""
    record = stream_record()
    del record["input"]["cacheReadInputTokenCount"], record["input"]["cacheWriteInputTokenCount"]
    assert extract(json.dumps(record)) == {
        "rxInput": 1234,
        "rxCacheRead": None,
        "rxCacheWrite": None,
        "rxOutput": 42,
    }


# --- identity and errorCode, wherever the record puts them -----------------------------------------


def reordered(record: dict[str, Any], *, error: str | None = None) -> dict[str, Any]:
    """The 2026 field order: identity (and errorCode) after the bodies, as in records captured in 2026."""
    moved = {k: v for k, v in record.items() if k != "identity"}
    moved["identity"] = record["identity"]
    if error is not None:
        moved["errorCode"] = error
    # a caller's own metadata may use the same key names
    moved["requestMetadata"] = {"errorCode": "NotACode", "team": "x", "identity": "nobody"}
    return moved


@pytest.mark.parametrize("indent", [None, 2], ids=["compact", "pretty"])
def test_given_identity_and_error_after_the_bodies_when_parsed_then_the_records_own_are_taken(
    indent: int | None,
) -> None:
    record = stream_record()
    # a look-alike inside the request body, before the record's own keys
    record["input"]["inputBodyJson"]["messages"][0]["content"] = (
        '{"identity": {"arn": "arn:aws:iam::999999999999:user/mallory"}, "errorCode": "Fake"}'
    )
    record["input"]["inputBodyJson"]["tool"] = {
        "identity": {"arn": "arn:aws:iam::999999999999:user/mallory"},
        "errorCode": "FakeException",
    }
    message = json.dumps(reordered(record, error="ModelTimeoutException"), indent=indent)
    assert extract_text(message) == {"rxArn": ALICE, "rxError": "ModelTimeoutException"}
    # the token counts are still the record's own
    assert extract(message) == {"rxInput": 1234, "rxCacheRead": 5000, "rxCacheWrite": 60, "rxOutput": 42}


def test_given_a_successful_record_with_identity_after_the_bodies_when_parsed_then_no_error_is_read() -> None:
    message = json.dumps(reordered(stream_record()))
    assert extract_text(message) == {"rxArn": ALICE, "rxError": None}
    record = reordered(stream_record())
    record["requestMetadata"] = {"team": "x", "errorCode": "ThrottlingException"}
    assert extract_text(json.dumps(record, indent=2))["rxError"] is None


def test_given_an_error_after_a_top_level_string_when_parsed_then_it_is_read() -> None:
    record = {k: v for k, v in stream_record().items() if k != "output"}  # a failed call: no output
    record = {**record, "inferenceRegion": "us-west-2", "errorCode": "ThrottlingException"}
    assert extract_text(json.dumps(record))["rxError"] == "ThrottlingException"


def test_the_query_prefers_discovered_fields_and_falls_back_to_the_parsed_ones() -> None:
    assert 'coalesce(identity.arn, rxArn, "unknown") as caller' in QUERY
    assert 'coalesce(errorCode, rxError, "-") as error_code' in QUERY
