"""Per-caller usage and failures from the invocation log group, with one CloudWatch Logs Insights query.

One `StartQuery` per report groups by (caller, model, errorCode): summing over errorCode gives calls and
tokens per caller and model; summing over caller and model gives failures by errorCode. So one query
does both jobs, and a second one is not needed.

Token counts when fields are hidden. Logs Insights discovers at most 200 fields of a JSON event
(REFERENCE.md §1). The token counts come *after* the request and response bodies (`input.inputBodyJson`
precedes `input.inputTokenCount`; `output.outputBodyJson` precedes `output.outputTokenCount`), so with
text delivery on a large body pushes them out of reach. The query therefore uses the discovered field when
there is one and otherwise `parse`s `@message` with a regex. The regexes are anchored to the record's own
keys, not to look-alikes inside the bodies:
- `output.outputBodyJson` can hold the same key names: an InvokeModelWithResponseStream body is the array
  of stream chunks, whose last chunk carries `amazon-bedrock-invocationMetrics` with `inputTokenCount`,
  `outputTokenCount` and cache counts; a tool-use input is a JSON object the model wrote.
- Input fields: the LAST match that still precedes the top-level output section, which starts
  `"output":{"outputContentType"` (a Converse body's own `"output":{"message"` does not match that).
  The record's counts are the last keys of its input object, so nothing of the request body follows them.
- `outputTokenCount`: the LAST match in the message. It is the last key of the output object, and what
  follows the output (requestMetadata, inferenceRegion, ...) has only string values, which `(\\d+)` skips.

`identity.arn` and `errorCode` are read the same way. Records captured in 2026 put `identity` after
`output`, and the place of `errorCode` is not documented (REFERENCE.md §14.1), so either can fall past
the 200th field. The query uses the discovered field when there is one, else the LAST `"identity":{"arn":`
or `"errorCode":` after the start of the input or output section. What follows the record's own keys at
the top level (inferenceRegion, requestMetadata) holds only strings, so no `"identity":{` can follow it;
`errorCode` must also come right after a closed object or one of the record's top-level string keys, which
keeps out a caller's `requestMetadata` entry of that name. A body with such keys *after* the record's own
would be misread; none of the shapes Bedrock logs has one. `modelId` comes before both bodies and is
always discovered.

Rows: StartQuery's `limit` is capped at the maximum that the bundled botocore model allows (100,000 in
botocore 1.43), not at the 10,000 of older models; when a result reaches it, the report says rows were cut.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

import botocore.session
from botocore.exceptions import ClientError

from bedrock_usage.errors import error_kind
from bedrock_usage.model import Counts, Usage, Window

logger = logging.getLogger(__name__)

SOURCE = "logs-insights"
FALLBACK_LIMIT = 10_000  # what every botocore model since Logs Insights began allows


@cache
def bundled_result_limit() -> int:
    """The largest StartQuery `limit` that the bundled botocore model accepts."""
    try:
        model = botocore.session.get_session().get_service_model("logs")
        shape = model.operation_model("StartQuery").input_shape
        if shape is None:
            return FALLBACK_LIMIT
        member = shape.members["limit"]
        return int(member.metadata.get("max", FALLBACK_LIMIT))
    except (KeyError, ValueError, botocore.exceptions.BotoCoreError):
        return FALLBACK_LIMIT


RESULT_LIMIT = bundled_result_limit()
NO_ERROR = "-"
UNKNOWN = "unknown"

_OUTPUT_SECTION = r'[\s\S]*?"output"\s*:\s*\{\s*"outputContentType"'
_AFTER_A_SECTION = r'^[\s\S]*"(?:input|output)"\s*:\s*\{[\s\S]*'
# The record's own errorCode follows a closed object (output, identity) or one of the record's top-level
# strings; a caller's requestMetadata entry named errorCode follows `{` or another caller key, never these.
_AFTER_A_TOP_LEVEL_VALUE = (
    r'(?:\}|"(?:region|inferenceRegion|requestId|operation|modelId|timestamp|accountId|schemaVersion'
    r'|schemaType)"\s*:\s*"[^"]*")\s*,\s*'
)


def _input_field(key: str, name: str) -> str:
    return rf'parse @message /^[\s\S]*"{key}"\s*:\s*(?<{name}>\d+){_OUTPUT_SECTION}/'


# Fragments the saved queries (bedrock_usage/queries.py) reuse, so the fallbacks are written once.
RECORDS_ONLY = 'filter schemaType = "ModelInvocationLog"'
PARSE_TOKENS = (
    _input_field("inputTokenCount", "rxInput"),
    _input_field("cacheReadInputTokenCount", "rxCacheRead"),
    _input_field("cacheWriteInputTokenCount", "rxCacheWrite"),
    r'parse @message /^[\s\S]*"outputTokenCount"\s*:\s*(?<rxOutput>\d+)/',
)
PARSE_CALLER = rf'parse @message /{_AFTER_A_SECTION}"identity"\s*:\s*\{{\s*"arn"\s*:\s*"(?<rxArn>[^"]+)"/'
PARSE_ERROR = (
    rf"parse @message /{_AFTER_A_SECTION}{_AFTER_A_TOP_LEVEL_VALUE}"
    r'"errorCode"\s*:\s*"(?<rxError>[^"]+)"/'
)
CALLER = f'coalesce(identity.arn, rxArn, "{UNKNOWN}") as caller'
MODEL = f'coalesce(modelId, "{UNKNOWN}") as model'
ERROR_CODE = f'coalesce(errorCode, rxError, "{NO_ERROR}") as error_code'
# Uncached input, output, cache read and cache write tokens of one record: the discovered field, else parsed.
TOKENS = (
    "coalesce(input.inputTokenCount, rxInput, 0) as in_tokens,"
    " coalesce(output.outputTokenCount, rxOutput, 0) as out_tokens,"
    " coalesce(input.cacheReadInputTokenCount, rxCacheRead, 0) as cache_read,"
    " coalesce(input.cacheWriteInputTokenCount, rxCacheWrite, 0) as cache_write"
)

QUERY = "\n".join(
    [
        RECORDS_ONLY,
        *("| " + line for line in (*PARSE_TOKENS, PARSE_CALLER, PARSE_ERROR)),
        f"| fields {CALLER}, {MODEL}, {ERROR_CODE}, {TOKENS}",
        "| stats count(*) as calls, sum(in_tokens) as input_tokens, sum(out_tokens) as output_tokens,"
        " sum(cache_read) as cache_read_tokens, sum(cache_write) as cache_write_tokens"
        " by caller, model, error_code",
        f"| limit {RESULT_LIMIT}",
    ]
)

RUNNING = frozenset({"Scheduled", "Running"})
FAILED = frozenset({"Failed", "Cancelled", "Timeout", "Unknown"})


class InsightsError(RuntimeError):
    """The Logs Insights query failed, was cancelled, or did not finish in time."""


def collect_insights(
    logs: Any,
    window: Window,
    log_group: str,
    *,
    sleep: Callable[[float], None] = time.sleep,
    timeout_s: float = 120,
    clock: Callable[[], float] = time.monotonic,
) -> Usage:
    """Calls, tokens and failures per caller and model in `window`, from the invocation log group.

    Raises InsightsError when the query fails or outlasts `timeout_s` (it is stopped first), and botocore's
    ClientError when Logs refuses the call (missing group, access denied, too many concurrent queries).
    """
    usage = Usage(window=window, source=SOURCE)
    started = logs.start_query(
        logGroupName=log_group,
        # Epoch seconds, and the range is inclusive: end one second early so that the window stays
        # half-open and the next report does not count the boundary second again.
        startTime=int(window.start.timestamp()),
        endTime=int(window.end.timestamp()) - 1,
        queryString=QUERY,
        limit=RESULT_LIMIT,
    )
    query_id = started["queryId"]
    response = _wait(logs, query_id, sleep=sleep, timeout_s=timeout_s, clock=clock)
    rows = response.get("results", [])
    for row in rows:
        _add_row(usage, {cell["field"]: cell.get("value", "") for cell in row})
    if len(rows) >= RESULT_LIMIT:
        usage.warnings.append(
            f"Logs Insights rows were cut: the query returned its maximum of {RESULT_LIMIT:,} "
            "(caller, model, error) rows, so per-caller figures are incomplete - shorten the window"
        )
    stats = response.get("statistics", {})
    logger.info(
        "logs insights query complete",
        extra={
            "query_id": query_id,
            "rows": len(rows),
            "records_matched": stats.get("recordsMatched"),
            "bytes_scanned": stats.get("bytesScanned"),
        },
    )
    return usage


def _wait(
    logs: Any,
    query_id: str,
    *,
    sleep: Callable[[float], None],
    timeout_s: float,
    clock: Callable[[], float],
) -> dict[str, Any]:
    """Poll GetQueryResults with exponential backoff (0.5 s doubling to 5 s) until done or `timeout_s`."""
    began = clock()
    waited = 0.0
    delay = 0.5
    while True:
        response: dict[str, Any] = logs.get_query_results(queryId=query_id)
        status = response.get("status", "Unknown")
        if status == "Complete":
            return response
        if status in FAILED or status not in RUNNING:
            raise InsightsError(f"Logs Insights query {query_id} ended with status {status}")
        # Elapsed time counts both real time and requested sleeps, so an injected sleep bounds it too.
        elapsed = max(waited, clock() - began)
        if elapsed >= timeout_s:
            _stop(logs, query_id)
            raise InsightsError(
                f"Logs Insights query {query_id} still {status} after {elapsed:.0f} s; stopped it. "
                "Shorten the window or raise the timeout"
            )
        step = min(delay, timeout_s - elapsed)
        sleep(step)
        waited += step
        delay = min(delay * 2, 5.0)


def _stop(logs: Any, query_id: str) -> None:
    try:
        logs.stop_query(queryId=query_id)
    except ClientError as err:
        # It may have finished between the last poll and now; either way it no longer runs for us.
        logger.warning("could not stop Logs Insights query", extra={"query_id": query_id, "error": str(err)})


def _add_row(usage: Usage, row: dict[str, str]) -> None:
    caller = row.get("caller") or UNKNOWN
    model_id = row.get("model") or UNKNOWN
    error = row.get("error_code", "")
    calls = _int(row.get("calls"))
    counts = Counts(
        input_tokens=_int(row.get("input_tokens")),
        output_tokens=_int(row.get("output_tokens")),
        cache_read_tokens=_int(row.get("cache_read_tokens")),
        cache_write_tokens=_int(row.get("cache_write_tokens")),
    )
    # A JSON null errorCode may come back as the text "null"; both mean success.
    if error in ("", NO_ERROR, "null"):
        counts.invocations = calls
    else:
        usage.errors_by_code[error] = usage.errors_by_code.get(error, 0) + calls
        kind = error_kind(error)
        if kind == "throttle":
            # CloudWatch's Invocations leaves throttled requests out; so do we, to stay comparable.
            counts.throttles = calls
        elif kind == "server":
            counts.invocations, counts.server_errors = calls, calls
        else:
            counts.invocations, counts.client_errors = calls, calls
    usage.caller(caller, model_id).add(counts)
    usage.model(model_id).add(counts)


def _int(value: str | None) -> int:
    """Logs Insights returns numbers as text, sums sometimes as '1.2E4'."""
    if not value:
        return 0
    try:
        return int(Decimal(value).to_integral_value())
    except InvalidOperation:
        return 0
