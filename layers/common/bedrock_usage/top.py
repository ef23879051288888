"""The most expensive single requests of a window (`bedrock-usage top`), priced with the project's own prices.

Two sources. Log files (local or S3): every request in the window is read and priced, so the ranking is exact.
Logs Insights: a query cannot price, so it returns the largest requests by total tokens *per model* (one
query lists the models, then one per model; for the single dearest, one query with `dedup`), and those are
priced here; a request that is not among its
model's N largest cannot be among the N dearest of that model, as long as a model's price per token does not
change within the window, which holds except where Region, long context or service tier differ.

A request's cost is its calling Region's rate (profile kind and cache included, pricing/…), plus the
long-context premium when its whole input is above the model's threshold, plus the flex or priority tier's
difference where the record names one (log files only: the query does not read the request body).
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bedrock_usage.collect.insights import (
    CALLER,
    MODEL,
    PARSE_CALLER,
    PARSE_TOKENS,
    RECORDS_ONLY,
    TOKENS,
    UNKNOWN,
    _int,
    _wait,
)
from bedrock_usage.collect.logfiles import Seen, collect_logfiles
from bedrock_usage.model import Counts, Window, iso, money
from bedrock_usage.price import Pricer
from bedrock_usage.pricing.long_context import premiums
from bedrock_usage.pricing.service_tiers import tier_premiums

ORDERS = ("cost", "tokens")


@dataclass(frozen=True)
class PricedRequest:
    """One request: when, who, which model, its tokens and what it cost (None: the model is unpriced)."""

    seen: Seen
    cost_usd: Decimal | None
    price_source: str

    def to_dict(self) -> dict[str, Any]:
        s = self.seen
        return {
            "time": iso(s.moment),
            "caller": s.caller,
            "model_id": s.model_id,
            "region": s.region,
            "request_id": s.request_id,
            **{k: v for k, v in s.counts.to_dict().items() if k.endswith("_tokens")},
            "total_tokens": s.counts.total_tokens,
            "service_tier": s.service_tier,
            "cost_usd": money(self.cost_usd),
            "price_source": self.price_source,
        }


@dataclass
class TopResult:
    """The ranked requests and what the reader should know about them."""

    window: Window
    source: str
    by: str
    requests: list[PricedRequest]
    seen: int = 0  # requests read (log files) or returned by the queries (Logs Insights)
    skipped_records: int = 0
    warnings: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "window": self.window.to_dict(),
            "source": self.source,
            "by": self.by,
            "requests_read": self.seen,
            "skipped_records": self.skipped_records,
            "requests": [r.to_dict() for r in self.requests],
            "warnings": self.warnings or [],
        }


def price_request(pricer: Pricer, seen: Seen) -> PricedRequest:
    """What one request cost: its Region's rate, plus its long-context and service-tier differences."""
    quote = pricer.quote(seen.model_id, seen.moment, seen.region)
    if quote.unit is None:
        return PricedRequest(seen, None, quote.info.source)
    cost = quote.unit.cost(seen.counts)
    day = seen.moment.date()
    size = seen.counts.total_input_tokens
    long = premiums(
        pricer, {(seen.model_id, seen.region, seen.caller, day, True, size): seen.counts}, seen.moment
    )
    cost += long.by_model.get(seen.model_id, Decimal(0))
    if seen.service_tier:
        tier_key = (seen.model_id, seen.region, seen.caller, day, True, seen.service_tier)
        tier, _ = tier_premiums(pricer, {tier_key: seen.counts}, seen.moment)
        cost += tier.by_model.get(seen.model_id, Decimal(0))
    return PricedRequest(seen, cost, quote.info.source)


def _rank_key(by: str) -> Callable[[PricedRequest], tuple[Any, ...]]:
    # Unpriced requests rank below every priced one by cost (their cost is unknown, never $0).
    if by == "tokens":
        return lambda r: (r.seen.counts.total_tokens, r.cost_usd is not None, r.cost_usd or Decimal(0))
    return lambda r: (r.cost_usd is not None, r.cost_usd or Decimal(0), r.seen.counts.total_tokens)


class _Ranking:
    """The `limit` highest requests seen so far; memory stays at `limit` however many requests pass."""

    def __init__(self, pricer: Pricer, by: str, limit: int) -> None:
        self.pricer, self.key, self.limit = pricer, _rank_key(by), limit
        self.heap: list[tuple[tuple[Any, ...], int, PricedRequest]] = []
        self.order = itertools.count()
        self.seen = 0

    def add(self, seen: Seen) -> None:
        self.seen += 1
        priced = price_request(self.pricer, seen)
        # Ties go to the earlier request: a lower sequence number ranks higher.
        item = (self.key(priced), -next(self.order), priced)
        if len(self.heap) < self.limit:
            heapq.heappush(self.heap, item)
        elif item[:2] > self.heap[0][:2]:
            heapq.heapreplace(self.heap, item)

    def ranked(self) -> list[PricedRequest]:
        return [item[2] for item in sorted(self.heap, key=lambda i: i[:2], reverse=True)]


def top_from_logfiles(
    source: str, window: Window, pricer: Pricer, *, by: str = "cost", limit: int = 10, s3: Any = None
) -> TopResult:
    """The `limit` dearest (or largest) requests in `window` from invocation log files."""
    ranking = _Ranking(pricer, by, limit)
    usage = collect_logfiles(source, window, s3=s3, on_record=ranking.add)
    return TopResult(
        window, "log-files", by, ranking.ranked(), ranking.seen, usage.skipped_records, usage.warnings
    )


# ---------------------------------------------------------------------------------------------
# Logs Insights


def _quoted(model_id: str) -> str:
    """A ModelId as a query string literal; IDs are ARNs or dotted names, never quotes or backslashes."""
    if '"' in model_id or "\\" in model_id:
        raise ValueError(f"model ID {model_id!r} cannot be quoted in a Logs Insights query")
    return f'"{model_id}"'


MODELS_QUERY = f"{RECORDS_ONLY}\n| stats count(*) as requests by modelId"


def _largest(*, model_id: str | None) -> list[str]:
    where = [f"| filter modelId = {_quoted(model_id)}"] if model_id is not None else []
    return [
        RECORDS_ONLY,
        *where,
        *("| " + p for p in (*PARSE_TOKENS, PARSE_CALLER)),
        f"| fields @timestamp, region, requestId, {CALLER}, {MODEL}, {TOKENS}",
        "| fields in_tokens + out_tokens + cache_read + cache_write as total_tokens",
        "| sort total_tokens desc",
    ]


def largest_query(model_id: str, limit: int) -> str:
    """The `limit` largest requests of one model by total tokens, with the report's parse fallbacks."""
    return "\n".join([*_largest(model_id=model_id), f"| limit {limit}"])


# One scan for every model's single largest request: `dedup` keeps the first row of each model in sort order
# (CloudWatch Logs docs, "dedup"; only `limit` may follow it).
LARGEST_PER_MODEL_QUERY = "\n".join([*_largest(model_id=None), "| dedup model", "| limit 10000"])


def _run(
    logs: Any, log_group: str, window: Window, query: str, limit: int, **wait: Any
) -> list[dict[str, str]]:
    started = logs.start_query(
        logGroupName=log_group,
        # Inclusive epoch seconds: end one second early to keep the window half-open (as the report does).
        startTime=int(window.start.timestamp()),
        endTime=int(window.end.timestamp()) - 1,
        queryString=query,
        limit=limit,
    )
    response = _wait(logs, started["queryId"], **wait)
    return [{c["field"]: c.get("value", "") for c in row} for row in response.get("results", [])]


def _moment(text: str) -> datetime:
    """Logs Insights' @timestamp: '2026-11-27 10:00:00.000' in UTC (epoch milliseconds also read)."""
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
    return datetime.fromisoformat(text.replace(" ", "T")).replace(tzinfo=UTC)


def _seen(row: dict[str, str]) -> Seen:
    counts = Counts(
        invocations=1,
        input_tokens=_int(row.get("in_tokens")),
        output_tokens=_int(row.get("out_tokens")),
        cache_read_tokens=_int(row.get("cache_read")),
        cache_write_tokens=_int(row.get("cache_write")),
    )
    return Seen(
        _moment(row["@timestamp"]),
        row.get("model") or UNKNOWN,
        row.get("caller") or UNKNOWN,
        row.get("region") or UNKNOWN,
        row.get("requestId") or "-",
        counts,
        None,
    )


def top_from_insights(
    logs: Any,
    log_group: str,
    window: Window,
    pricer: Pricer,
    *,
    by: str = "cost",
    limit: int = 10,
    sleep: Callable[[float], None] = time.sleep,
    timeout_s: float = 120,
    clock: Callable[[], float] = time.monotonic,
) -> TopResult:
    """The `limit` dearest (or largest) requests in `window`: each model's largest by tokens, then priced.

    Raises InsightsError when a query fails or times out, botocore's ClientError when Logs refuses.
    """
    wait = {"sleep": sleep, "timeout_s": timeout_s, "clock": clock}
    ranking = _Ranking(pricer, by, limit)
    warnings: list[str] = []
    if limit == 1:
        for row in _run(logs, log_group, window, LARGEST_PER_MODEL_QUERY, 10_000, **wait):
            if row.get("model"):  # every real row has one (coalesced); an emulator's may not
                ranking.add(_seen(row))
    else:
        models = [r.get("modelId", "") for r in _run(logs, log_group, window, MODELS_QUERY, 10_000, **wait)]
        for model_id in sorted(m for m in models if m):
            try:
                query = largest_query(model_id, limit)
            except ValueError as exc:
                warnings.append(str(exc))
                continue
            for row in _run(logs, log_group, window, query, limit, **wait):
                if row.get("model"):
                    ranking.add(_seen(row))
    warnings.append(
        "Logs Insights: each model's largest requests by tokens, priced at standard-tier rates "
        "(the query does not read a request's service tier)"
    )
    return TopResult(window, "logs-insights", by, ranking.ranked(), ranking.seen, 0, warnings)


def dearest_request(
    *,
    window: Window,
    pricer: Pricer,
    client: Callable[..., Any],
    regions: Iterable[str],
    logs_source: str | None,
    log_group: str | None,
    sleep: Callable[[float], None] = time.sleep,
    timeout_s: float = 60,
) -> dict[str, Any] | None:
    """The window's most expensive priced request as `PricedRequest.to_dict()`, for the digest; None when
    there is none or no source to ask (no log group). One Logs Insights scan per Region, or one pass over
    the files.

    Raises what the sources raise (InsightsError, ClientError, OSError, ValueError).
    """
    found: list[PricedRequest] = []
    if logs_source:
        from bedrock_usage.log_archive import locations

        for source in locations(logs_source):
            s3 = client("s3") if source.startswith("s3://") else None
            found += top_from_logfiles(source, window, pricer, limit=1, s3=s3).requests
    elif log_group:
        for region in regions:
            logs = client("logs", region)
            found += top_from_insights(
                logs, log_group, window, pricer, limit=1, sleep=sleep, timeout_s=timeout_s
            ).requests
    priced = [r for r in found if r.cost_usd is not None]
    if not priced:
        return None
    return max(priced, key=lambda r: r.cost_usd or Decimal(0)).to_dict()


# ---------------------------------------------------------------------------------------------
# Text


def format_top(result: TopResult) -> str:
    """A table of the ranked requests: time, caller, model, tokens, cost, request ID."""
    from bedrock_usage.render import count, usd

    out = [
        f"Most expensive Bedrock requests {iso(result.window.start)} -> {iso(result.window.end)} "
        f"(by {result.by}; {result.source}; {count(result.seen)} requests read)",
        "",
    ]
    if not result.requests:
        out.append("  no requests in this window")
    rows = [
        [
            iso(r.seen.moment),
            r.seen.caller,
            r.seen.model_id,
            count(r.seen.counts.total_tokens),
            usd(r.cost_usd, 4) if r.cost_usd is not None else "unpriced",
            r.seen.request_id,
        ]
        for r in result.requests
    ]
    headers = ["time", "caller", "model", "tokens", "cost", "request ID"]
    if rows:
        widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
        for row in [headers, *rows]:
            cells = [c.rjust(widths[i]) if i in (3, 4) else c.ljust(widths[i]) for i, c in enumerate(row)]
            out.append("  " + "  ".join(cells).rstrip())
    if result.skipped_records:
        out += ["", f"Skipped records: {count(result.skipped_records)} malformed"]
    if result.warnings:
        out += ["", "Notes"] + [f"  - {w}" for w in result.warnings]
    return "\n".join(out) + "\n"
