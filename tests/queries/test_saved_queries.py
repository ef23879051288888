"""The saved Logs Insights queries: the template holds exactly the module's texts, every field they name is in
real-shaped records, and their `parse` regexes read the record's own values.

There is no Logs Insights engine offline (moto does not run `stats ... by`), so each query is checked the way
Logs Insights reads a record: JSON flattened with dots (arrays by index, REFERENCE.md §1), and the `parse`
regexes run with Python's `re`, which reads the constructs they use (`[\\s\\S]`, `\\d`, `[^}]`, named groups)
the same way.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from bedrock_usage.queries import SAVED_QUERIES, SavedQuery
from samtranslator.yaml_helper import yaml_parse

from tests.collect.test_insights import reordered, stream_record
from tests.collect.test_records import invoke_stream_record
from tests.engine.helpers import BOB, NOVA_LITE, record
from tests.template.cfn import of_type
from tests.template.conftest import TEMPLATE

KEYWORDS = {
    "filter", "parse", "fields", "stats", "sort", "display", "limit", "by", "as", "and", "or", "not",
    "asc", "desc", "count", "sum", "avg", "pct", "max", "coalesce", "ispresent", "bin",
}  # fmt: skip
BUILT_IN = {"@message", "@timestamp"}


def fixture_records() -> list[dict[str, Any]]:
    """Every record shape the project's tests hold: Converse (with and without latency, cache, errors),
    ConverseStream, InvokeModelWithResponseStream with its metrics chunk, the 2026 field order."""
    failed = record("2026-11-27T10:00:03Z", NOVA_LITE, caller=BOB, error_code="ThrottlingException")
    return [
        record("2026-11-27T10:00:00Z", latency_ms=2000, cache_read=300, cache_write=40),
        record("2026-11-27T10:00:01Z", stream=True, latency_ms=750),
        invoke_stream_record("2026-11-27T10:00:02Z", 3000, 400),
        failed,
        stream_record(),
    ]


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Logs Insights' field names for a JSON event: nested keys joined with dots, array items by index."""
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = ((str(i), v) for i, v in enumerate(value))
    else:
        return {prefix: value}
    out: dict[str, Any] = {}
    for key, item in items:
        out.update(flatten(item, f"{prefix}.{key}" if prefix else key))
    return out


def record_fields(query: SavedQuery) -> set[str]:
    """The record fields a query reads: every name that is not a keyword, function, alias or parsed group."""
    text = re.sub(r"parse @message /.*/$", "parse @message", query.text, flags=re.MULTILINE)
    text = re.sub(r'"[^"]*"', '""', text)
    names = set(re.findall(r"(?<![\w.@])[@A-Za-z_][\w.]*", text))
    aliases = set(re.findall(r"\bas (\w+)", text)) | set(re.findall(r"\(\?<(\w+)>", query.text))
    return names - KEYWORDS - BUILT_IN - aliases


def parse_regexes(query: SavedQuery) -> dict[str, re.Pattern[str]]:
    found = {}
    for regex in re.findall(r"parse @message /(.+)/$", query.text, flags=re.MULTILINE):
        compiled = re.compile(regex.replace("(?<", "(?P<"))
        (name,) = compiled.groupindex
        found[name] = compiled
    return found


def parsed(query: SavedQuery, rec: dict[str, Any]) -> dict[str, str | None]:
    message = json.dumps(rec)
    return {
        name: (m.group(name) if (m := rx.search(message)) else None)
        for name, rx in parse_regexes(query).items()
    }


def by_id(logical_id: str) -> SavedQuery:
    return next(q for q in SAVED_QUERIES if q.logical_id == logical_id)


# --- the template ------------------------------------------------------------------------------------


def test_the_template_saves_every_query_with_the_modules_text_scoped_to_the_invocation_log_group() -> None:
    saved = of_type(yaml_parse(TEMPLATE.read_text())["Resources"], "AWS::Logs::QueryDefinition")
    assert set(saved) == {q.logical_id for q in SAVED_QUERIES}, "run: python -m bedrock_usage.queries"
    for query in SAVED_QUERIES:
        props = saved[query.logical_id]["Properties"]
        assert props["QueryString"] == query.text, f"{query.logical_id} drifted from bedrock_usage/queries.py"
        assert props["LogGroupNames"] == [{"Ref": "InvocationLogGroup"}]
        assert props["Name"]["Fn::Sub"].endswith("/" + query.name)


def test_the_seeds_five_questions_and_per_caller_tokens_are_all_saved() -> None:
    names = [q.name for q in SAVED_QUERIES]
    assert names == [
        "Tokens and invocations by model",
        "Largest requests",
        "Requests by hour",
        "Latency by model",
        "Errors by model and errorCode",
        "Tokens per caller and model",
    ]


# --- fields the records have -------------------------------------------------------------------------


@pytest.mark.parametrize("query", SAVED_QUERIES, ids=lambda q: q.logical_id)
def test_every_field_a_query_names_is_in_the_real_records(query: SavedQuery) -> None:
    present = set().union(*(flatten(r) for r in fixture_records()))
    assert record_fields(query) <= present, record_fields(query) - present


def test_the_seeds_wrong_fields_are_gone() -> None:
    """The seed read top-level inputTokenCount and an invocationLatency field; neither exists in a record."""
    for query in SAVED_QUERIES:
        assert not {"inputTokenCount", "outputTokenCount", "invocationLatency"} & record_fields(query)


def test_token_queries_count_cache_tokens_and_fall_back_to_parsing() -> None:
    for logical_id in ("TokensByModelQuery", "LargestRequestsQuery", "CallerTokensByModelQuery"):
        fields = record_fields(by_id(logical_id))
        assert {"input.cacheReadInputTokenCount", "input.cacheWriteInputTokenCount"} <= fields
        assert {"rxInput", "rxOutput", "rxCacheRead", "rxCacheWrite"} <= set(parse_regexes(by_id(logical_id)))


# --- parse fallbacks read the record's own values ----------------------------------------------------


def test_given_look_alike_keys_when_parsed_then_tokens_and_caller_are_the_records_own() -> None:
    # Its metrics chunk and request body repeat token keys with other numbers; identity after the bodies
    # (the 2026 order) is where the caller fallback is needed.
    rec = reordered(stream_record())
    got = parsed(by_id("LargestRequestsQuery"), rec)
    assert got == {
        "rxInput": "1234",
        "rxCacheRead": "5000",
        "rxCacheWrite": "60",
        "rxOutput": "42",
        "rxArn": rec["identity"]["arn"],
    }


def test_given_each_latency_carrier_when_parsed_then_the_latency_query_reads_it() -> None:
    query = by_id("LatencyByModelQuery")
    converse = parsed(query, record("2026-11-27T10:00:00Z", latency_ms=2000))
    converse_stream = parsed(query, record("2026-11-27T10:00:00Z", stream=True, latency_ms=750))
    invoke_stream = parsed(query, invoke_stream_record("2026-11-27T10:00:00Z", 3000, 400))
    no_body = parsed(query, record("2026-11-27T10:00:00Z"))
    assert converse == {"rxLatencyMs": "2000", "rxStreamLatency": None, "rxFirstByte": None}
    assert converse_stream == {"rxLatencyMs": "750", "rxStreamLatency": None, "rxFirstByte": None}
    assert invoke_stream == {"rxLatencyMs": None, "rxStreamLatency": "3000", "rxFirstByte": "400"}
    assert no_body == {"rxLatencyMs": None, "rxStreamLatency": None, "rxFirstByte": None}


def test_given_a_request_body_that_quotes_metrics_when_parsed_then_the_responses_latency_is_taken() -> None:
    rec = record("2026-11-27T10:00:00Z", latency_ms=2000)
    rec["input"]["inputBodyJson"] = {"messages": [{"content": [{"json": {"metrics": {"latencyMs": 5}}}]}]}
    assert parsed(by_id("LatencyByModelQuery"), rec)["rxLatencyMs"] == "2000"


def test_given_a_failed_call_when_parsed_then_the_errors_query_reads_its_code() -> None:
    failed = record("2026-11-27T10:00:00Z", error_code="ValidationException")
    ok = record("2026-11-27T10:00:00Z")
    query = by_id("ErrorsByModelQuery")
    assert parsed(query, failed)["rxError"] == "ValidationException"
    assert parsed(query, ok)["rxError"] is None
    assert {"errorCode", "modelId"} <= record_fields(query)
