"""The saved Logs Insights queries (`AWS::Logs::QueryDefinition` in template.yaml), written once, here.

They answer the seed's questions against the record as Bedrock really writes it (REFERENCE.md §1): token
counts are nested (`input.inputTokenCount`, not `inputTokenCount`), cache tokens are counted apart, and there
is no `invocationLatency` field at the top level. Every token, caller and errorCode read uses the report
collector's fragments (collect/insights.py), so the discovered field is used where Logs Insights found it
and a `parse @message` fallback where a large body pushed it past the 200 discovered fields.

Latency is only in the response body: Converse's `metrics.latencyMs`, ConverseStream's last chunk
`metadata.metrics.latencyMs`, and InvokeModelWithResponseStream's last chunk
`amazon-bedrock-invocationMetrics.invocationLatency` / `firstByteLatency`. A streamed body is an array, so
the chunk's index varies and only a regex reaches it; the LAST match is taken, since the response follows
the request body. Records without a response body (text delivery off, InvokeModel) carry no latency: the
CloudWatch metric InvocationLatency on the dashboard covers them.

template.yaml holds the same texts; tests/queries/test_saved_queries.py fails when they drift, and
`python -m bedrock_usage.queries` prints the template block to paste.
"""

from __future__ import annotations

from dataclasses import dataclass

from bedrock_usage.collect.insights import (
    CALLER,
    ERROR_CODE,
    MODEL,
    NO_ERROR,
    PARSE_CALLER,
    PARSE_ERROR,
    PARSE_TOKENS,
    RECORDS_ONLY,
    TOKENS,
)

# The console shows saved queries in folders: a name's text before its last "/". One folder per stack.
FOLDER = "Bedrock usage"


@dataclass(frozen=True)
class SavedQuery:
    """One saved query: its template logical ID, its console name, what it answers and its text."""

    logical_id: str
    name: str
    answers: str
    text: str


def _lines(*parts: str) -> str:
    return "\n".join([parts[0], *("| " + p for p in parts[1:])])


_SUMS = (
    "sum(in_tokens) as input_tokens, sum(out_tokens) as output_tokens,"
    " sum(cache_read) as cache_read_tokens, sum(cache_write) as cache_write_tokens,"
    " sum(in_tokens + out_tokens + cache_read + cache_write) as total_tokens"
)

# The record's own latency: the last `"metrics":{"latencyMs":N` (Converse body, ConverseStream's metadata
# chunk) and the last invocation-metrics object of an InvokeModelWithResponseStream chunk array.
PARSE_CONVERSE_LATENCY = (
    r'parse @message /^[\s\S]*"metrics"\s*:\s*\{\s*"latencyMs"\s*:\s*(?<rxLatencyMs>\d+(?:\.\d+)?)/'
)
PARSE_STREAM_LATENCY = (
    r'parse @message /^[\s\S]*"amazon-bedrock-invocationMetrics"\s*:\s*\{[^}]*'
    r'"invocationLatency"\s*:\s*(?<rxStreamLatency>\d+(?:\.\d+)?)/'
)
PARSE_FIRST_BYTE = (
    r'parse @message /^[\s\S]*"amazon-bedrock-invocationMetrics"\s*:\s*\{[^}]*'
    r'"firstByteLatency"\s*:\s*(?<rxFirstByte>\d+(?:\.\d+)?)/'
)

SAVED_QUERIES: tuple[SavedQuery, ...] = (
    SavedQuery(
        "TokensByModelQuery",
        "Tokens and invocations by model",
        "Calls and tokens per ModelId (uncached input, output, cache read, cache write, total),"
        " largest first.",
        _lines(
            RECORDS_ONLY,
            *PARSE_TOKENS,
            f"fields {MODEL}, {TOKENS}",
            f"stats count(*) as invocations, {_SUMS} by model",
            "sort total_tokens desc",
        ),
    ),
    SavedQuery(
        "LargestRequestsQuery",
        "Largest requests",
        "The 50 single requests with the most tokens: when, who, which model, the token split, request ID.",
        _lines(
            RECORDS_ONLY,
            *PARSE_TOKENS,
            PARSE_CALLER,
            f"fields {CALLER}, {MODEL}, {TOKENS}",
            "fields in_tokens + out_tokens + cache_read + cache_write as total_tokens",
            "sort total_tokens desc",
            "display @timestamp, caller, model, operation, total_tokens, in_tokens, out_tokens, cache_read,"
            " cache_write, requestId",
            "limit 50",
        ),
    ),
    SavedQuery(
        "RequestsByHourQuery",
        "Requests by hour",
        "Calls, failed calls and tokens per hour: when traffic peaks.",
        _lines(
            RECORDS_ONLY,
            *PARSE_TOKENS,
            PARSE_ERROR,
            # count(field) counts the records where it is present: the failed ones.
            f"fields coalesce(errorCode, rxError) as failed_code, {TOKENS}",
            f"stats count(*) as requests, count(failed_code) as failed_requests, {_SUMS} by bin(1h) as hour",
            "sort hour asc",
        ),
    ),
    SavedQuery(
        "LatencyByModelQuery",
        "Latency by model",
        "Average, p50, p99 and maximum latency (ms) per model, from the records that carry it (Converse"
        " metrics.latencyMs, streamed records' last chunk); time to first byte for"
        " InvokeModelWithResponseStream.",
        _lines(
            RECORDS_ONLY,
            PARSE_CONVERSE_LATENCY,
            PARSE_STREAM_LATENCY,
            PARSE_FIRST_BYTE,
            f"fields {MODEL},"
            " coalesce(output.outputBodyJson.metrics.latencyMs, rxLatencyMs, rxStreamLatency) as latency_ms",
            "filter ispresent(latency_ms)",
            "stats count(*) as timed_requests, avg(latency_ms) as avg_ms, pct(latency_ms, 50) as p50_ms,"
            " pct(latency_ms, 99) as p99_ms, max(latency_ms) as max_ms, avg(rxFirstByte) as avg_first_byte_ms"
            " by model",
            "sort p99_ms desc",
        ),
    ),
    SavedQuery(
        "ErrorsByModelQuery",
        "Errors by model and errorCode",
        "Failed calls per model and errorCode (throttling, validation, access, server errors), most first.",
        _lines(
            RECORDS_ONLY,
            PARSE_ERROR,
            f"fields {MODEL}, {ERROR_CODE}",
            f'filter error_code != "{NO_ERROR}" and error_code != "null"',
            "stats count(*) as errors by model, error_code",
            "sort errors desc",
        ),
    ),
    SavedQuery(
        "CallerTokensByModelQuery",
        "Tokens per caller and model",
        "Calls and tokens per caller (IAM user or role session) and model, largest first.",
        _lines(
            RECORDS_ONLY,
            *PARSE_TOKENS,
            PARSE_CALLER,
            f"fields {CALLER}, {MODEL}, {TOKENS}",
            f"stats count(*) as invocations, {_SUMS} by caller, model",
            "sort total_tokens desc",
        ),
    ),
)


def template_block() -> str:
    """The QueryDefinition resources as template.yaml holds them (two-space indent under Resources)."""
    out = ["  #### saved Logs Insights queries (generated by `python -m bedrock_usage.queries`) ####"]
    for query in SAVED_QUERIES:
        out += [
            f"  {query.logical_id}:",
            "    Type: AWS::Logs::QueryDefinition",
            "    Properties:",
            f'      Name: !Sub "{FOLDER} (${{AWS::StackName}})/{query.name}"',
            "      LogGroupNames: [!Ref InvocationLogGroup]",
            "      QueryString: |-",
            *(f"        {line}" for line in query.text.splitlines()),
            "",
        ]
    return "\n".join(out)


if __name__ == "__main__":
    print(template_block())
