"""Bedrock runtime metrics from CloudWatch (namespace AWS/Bedrock, dimension ModelId).

Discovery: one paginated `ListMetrics(Namespace="AWS/Bedrock", Dimensions=[{"Name": "ModelId"}])` finds
every ModelId and which metric names exist for it (this is how the cache-token metric names are settled
at runtime, REFERENCE.md §13.1). `RecentlyActive` is NOT set: its only value, PT3H, would hide every model
idle in the last three hours. Without it ListMetrics lists series with data in the last 14 days, so a
window that starts earlier than that can miss a model that has been idle since; we warn when it does.

Only series whose dimension set is exactly {ModelId} are used. Bedrock may also publish account-wide
series without dimensions ("Across all model IDs", §13.2); adding those would count everything twice.

Fetching: every (model, metric, statistic) becomes one query of `GetMetricData`, packed up to 500 queries
and 100,800 datapoints per call and grouped by time range (queries in one call share Start/EndTime),
following NextToken. Never one call per model per metric.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from bedrock_usage.model import Counts, Latency, Usage, Window

logger = logging.getLogger(__name__)

SOURCE = "cloudwatch-metrics"
NAMESPACE = "AWS/Bedrock"
DIMENSION = "ModelId"

MAX_QUERIES_PER_CALL = 500  # GetMetricData: "You can include as many as 500 MetricDataQuery structures"
MAX_DATAPOINTS_PER_CALL = 100_800  # GetMetricData: at most 100,800 data points per call
LIST_METRICS_HORIZON = timedelta(days=14)  # ListMetrics only lists series with data in the last 2 weeks
DAY = timedelta(days=1)

# Metric name -> Counts field, summed over the window. The cache metrics have two spellings in AWS's own
# docs (REFERENCE.md §12.1, §13.1); whichever ListMetrics shows is fetched, and if a model has both, the
# larger sum wins: they would measure the same tokens, so adding them would double count.
SUM_METRICS: dict[str, str] = {
    "Invocations": "invocations",
    "InputTokenCount": "input_tokens",
    "OutputTokenCount": "output_tokens",
    "CacheReadInputTokenCount": "cache_read_tokens",
    "CacheReadInputTokens": "cache_read_tokens",
    "CacheWriteInputTokenCount": "cache_write_tokens",
    "CacheWriteInputTokens": "cache_write_tokens",
    "InvocationClientErrors": "client_errors",
    "InvocationServerErrors": "server_errors",
    "InvocationThrottles": "throttles",
}
LATENCY_METRIC = "InvocationLatency"
LATENCY_STATS: dict[str, str] = {"Average": "average_ms", "Maximum": "max_ms"}
PERCENTILE_FIELDS: dict[str, str] = {"p50": "p50_ms", "p90": "p90_ms", "p99": "p99_ms"}
THROTTLING_CODES = frozenset(
    {"Throttling", "ThrottlingException", "TooManyRequestsException", "LimitExceeded"}
)


class MetricsError(RuntimeError):
    """CloudWatch metrics could not be read completely (throttled past retries, forbidden, internal error)."""


@dataclass(frozen=True)
class _Query:
    id: str
    kind: str  # "window": over the whole window; "day": per UTC day
    model_id: str
    metric: str
    stat: str
    period: int
    start: datetime
    end: datetime

    @property
    def datapoints(self) -> int:
        return math.ceil((self.end - self.start).total_seconds() / self.period)

    def to_api(self) -> dict[str, Any]:
        return {
            "Id": self.id,
            "MetricStat": {
                "Metric": {
                    "Namespace": NAMESPACE,
                    "MetricName": self.metric,
                    "Dimensions": [{"Name": DIMENSION, "Value": self.model_id}],
                },
                "Period": self.period,
                "Stat": self.stat,
            },
            "ReturnData": True,
        }


def discover(cloudwatch: Any) -> dict[str, set[str]]:
    """Every ModelId with its metric names, from series whose only dimension is ModelId."""
    found: dict[str, set[str]] = defaultdict(set)
    kwargs: dict[str, Any] = {"Namespace": NAMESPACE, "Dimensions": [{"Name": DIMENSION}]}
    while True:
        page = _call(cloudwatch.list_metrics, **kwargs)
        for metric in page.get("Metrics", []):
            dims = metric.get("Dimensions", [])
            if len(dims) == 1 and dims[0].get("Name") == DIMENSION and dims[0].get("Value"):
                found[dims[0]["Value"]].add(metric["MetricName"])
        token = page.get("NextToken")
        if not token:
            return dict(found)
        kwargs["NextToken"] = token


def collect_metrics(
    cloudwatch: Any,
    window: Window,
    *,
    daily_from: datetime | None = None,
    percentiles: Sequence[str] = ("p50", "p90", "p99"),
    now: datetime | None = None,
    daily: bool = True,
) -> Usage:
    """Per-model counts and latency over `window`, and per-UTC-day counts from `daily_from` to its end.

    `daily_from` (default: the window start) earlier than the window extends the daily series, e.g. to
    the start of the month; `daily=False` fetches no daily series (a window compared by its totals).
    `percentiles` is a subset of p50/p90/p99 (extended statistics); `now` (default: the clock) decides
    how old the data is, which sets CloudWatch's resolution and the 14-day warning.
    Raises MetricsError or botocore's ClientError when CloudWatch cannot be read.
    """
    unknown = set(percentiles) - set(PERCENTILE_FIELDS)
    if unknown:
        raise ValueError(
            f"unsupported percentiles {sorted(unknown)}; choose from {sorted(PERCENTILE_FIELDS)}"
        )
    if daily_from is not None and daily_from.tzinfo is None:
        raise ValueError("daily_from must be timezone-aware (UTC)")
    now = (now or datetime.now(UTC)).astimezone(UTC)
    usage = Usage(window=window, source=SOURCE)
    span_start = min(window.start, daily_from) if daily_from else window.start
    # Only for the window: a month-long daily series reaches past 14 days in most reports, and a warning
    # on every digest would be noise; a model idle for two weeks barely moves a month's figures.
    if now - window.start > LIST_METRICS_HORIZON:
        usage.warnings.append(
            f"CloudWatch lists only metrics with data in the last 14 days; a model idle since "
            f"{(now - LIST_METRICS_HORIZON).date().isoformat()} is missing from this window's figures"
        )

    models = discover(cloudwatch)
    if not models:
        usage.warnings.append(f"no {NAMESPACE} metrics with a {DIMENSION} dimension in this region")
        return usage

    plan = _Plan(models, window, span_start, tuple(percentiles), now, daily=daily)
    values = _fetch(cloudwatch, plan.queries, usage.warnings)
    plan.fill(usage, values)
    logger.info(
        "cloudwatch metrics collected",
        extra={"models": len(models), "queries": len(plan.queries), "with_data": len(usage.by_model)},
    )
    return usage


class _Plan:
    """The queries for one report, and how their results map back onto a Usage."""

    def __init__(
        self,
        models: dict[str, set[str]],
        window: Window,
        span_start: datetime,
        percentiles: tuple[str, ...],
        now: datetime,
        *,
        daily: bool = True,
    ) -> None:
        self.queries: list[_Query] = []
        self.window_start, self.window_end = _aligned(window.start, window.end, now)
        window_period = int((self.window_end - self.window_start).total_seconds())
        # Daily buckets must be UTC days: whole days run from the first midnight after span_start; a
        # partial first day is the window sum minus the whole days when the span is the window, else
        # a query of its own.
        self.first_midnight = _next_midnight(span_start)
        span_start_aligned, self.days_end = _aligned(span_start, window.end, now)
        self.head: tuple[datetime, datetime] | None = None
        if not daily:
            self.first_midnight = self.days_end  # no whole days and no head: no daily series at all
        elif span_start_aligned < self.first_midnight:
            self.head = (span_start_aligned, min(self.first_midnight, self.days_end))
        self.head_is_window_remainder = self.head is not None and span_start >= window.start
        latency_stats = [*LATENCY_STATS, *percentiles]
        for model_id in sorted(models):
            names = models[model_id]
            for metric in (m for m in SUM_METRICS if m in names):
                self._add(
                    "window", model_id, metric, "Sum", window_period, self.window_start, self.window_end
                )
                if self.first_midnight < self.days_end:
                    self._add("day", model_id, metric, "Sum", 86_400, self.first_midnight, self.days_end)
                if self.head is not None and not self.head_is_window_remainder:
                    head_period = int((self.head[1] - self.head[0]).total_seconds())
                    self._add("day", model_id, metric, "Sum", head_period, *self.head)
            if LATENCY_METRIC in names:
                for stat in latency_stats:
                    self._add(
                        "window",
                        model_id,
                        LATENCY_METRIC,
                        stat,
                        window_period,
                        self.window_start,
                        self.window_end,
                    )

    def _add(
        self, kind: str, model_id: str, metric: str, stat: str, period: int, start: datetime, end: datetime
    ) -> None:
        # Ids must start with a lower-case letter; the mapping back goes through the query, not the Id.
        self.queries.append(_Query(f"q{len(self.queries)}", kind, model_id, metric, stat, period, start, end))

    def fill(self, usage: Usage, values: dict[str, list[tuple[datetime, float]]]) -> None:
        window_sums: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)  # (model, field) -> metric
        day_sums: dict[tuple[date, str, str], dict[str, float]] = defaultdict(dict)
        for query in self.queries:
            points = values.get(query.id, [])
            if not points:
                continue
            if query.metric == LATENCY_METRIC:
                self._fill_latency(usage, query, [v for _, v in points])
                continue
            field = SUM_METRICS[query.metric]
            if query.kind == "window":
                window_sums[(query.model_id, field)][query.metric] = sum(v for _, v in points)
            else:
                for stamp, value in points:
                    # A bucket is labelled with its start; the head bucket starts before midnight.
                    key = (stamp.astimezone(UTC).date(), query.model_id, field)
                    day_sums[key][query.metric] = day_sums[key].get(query.metric, 0.0) + value
        for (model_id, field), by_metric in window_sums.items():
            setattr(usage.model(model_id), field, round(max(by_metric.values())))
        for (day, model_id, field), by_metric in day_sums.items():
            setattr(usage.day(day, model_id), field, round(max(by_metric.values())))
        if self.head is not None and self.head_is_window_remainder:
            head_day = self.head[0].date()
            for model_id, counts in usage.by_model.items():
                rest = Counts()
                for day, models in usage.daily.items():
                    if day != head_day and model_id in models:
                        rest.add(models[model_id])
                head = Counts(**{k: max(0, v - getattr(rest, k)) for k, v in counts.to_dict().items()})
                if any(head.to_dict().values()):
                    usage.daily.setdefault(head_day, {})[model_id] = head

    def _fill_latency(self, usage: Usage, query: _Query, values: list[float]) -> None:
        field = LATENCY_STATS.get(query.stat) or PERCENTILE_FIELDS[query.stat]
        latency = usage.latency.setdefault(query.model_id, Latency())
        # One period covers the whole window, so one value is expected; if CloudWatch split it anyway,
        # the maximum of maxima is exact and the mean of the rest is the best available summary.
        value = max(values) if query.stat == "Maximum" else sum(values) / len(values)
        setattr(latency, field, value)


def _fetch(
    cloudwatch: Any, queries: Sequence[_Query], warnings: list[str]
) -> dict[str, list[tuple[datetime, float]]]:
    """Run every query with as few GetMetricData calls as the limits allow; id -> [(timestamp, value)]."""
    values: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
    groups: dict[tuple[datetime, datetime], list[_Query]] = defaultdict(list)
    for query in queries:
        groups[(query.start, query.end)].append(query)
    for (start, end), members in groups.items():
        for batch in _batches(members):
            _fetch_batch(cloudwatch, batch, start, end, values, warnings)
    return values


def _batches(queries: Iterable[_Query]) -> Iterator[list[_Query]]:
    """Greedy packing under both per-call limits (500 queries, 100,800 datapoints)."""
    batch: list[_Query] = []
    points = 0
    for query in queries:
        if batch and (
            len(batch) == MAX_QUERIES_PER_CALL or points + query.datapoints > MAX_DATAPOINTS_PER_CALL
        ):
            yield batch
            batch, points = [], 0
        batch.append(query)
        points += query.datapoints
    if batch:
        yield batch


def _fetch_batch(
    cloudwatch: Any,
    batch: list[_Query],
    start: datetime,
    end: datetime,
    values: dict[str, list[tuple[datetime, float]]],
    warnings: list[str],
) -> None:
    by_id = {q.id: q for q in batch}
    kwargs: dict[str, Any] = {
        "MetricDataQueries": [q.to_api() for q in batch],
        "StartTime": start,
        "EndTime": end,
        "ScanBy": "TimestampAscending",
        "MaxDatapoints": MAX_DATAPOINTS_PER_CALL,
    }
    status: dict[str, str] = {}
    while True:
        page = _call(cloudwatch.get_metric_data, **kwargs)
        for result in page.get("MetricDataResults", []):
            values[result["Id"]].extend(
                zip(result.get("Timestamps", []), result.get("Values", []), strict=False)
            )
            status[result["Id"]] = result.get("StatusCode", "Complete")
            for message in result.get("Messages", []):
                warnings.append(f"CloudWatch on {_describe(by_id.get(result['Id']))}: {message.get('Value')}")
        for message in page.get("Messages", []):
            warnings.append(f"CloudWatch GetMetricData: {message.get('Code')}: {message.get('Value')}")
        token = page.get("NextToken")
        if not token:
            break
        kwargs["NextToken"] = token
    failed = {qid: code for qid, code in status.items() if code in ("Forbidden", "InternalError")}
    if failed:
        qid, code = next(iter(failed.items()))
        raise MetricsError(
            f"CloudWatch returned {code} for {len(failed)} metric query(ies), "
            f"e.g. {_describe(by_id.get(qid))}"
        )
    partial = [qid for qid, code in status.items() if code == "PartialData"]
    if partial:
        # NextToken was followed to the end, so this is CloudWatch declining to return more.
        warnings.append(
            f"CloudWatch returned partial data for {len(partial)} metric query(ies), "
            f"e.g. {_describe(by_id.get(partial[0]))}; figures may be low"
        )


def _call(method: Any, **kwargs: Any) -> Any:
    """One API call; throttling that outlasted botocore's retries becomes a MetricsError that says so."""
    try:
        return method(**kwargs)
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "")
        if code in THROTTLING_CODES:
            attempts = err.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
            raise MetricsError(
                f"CloudWatch throttled {err.operation_name} ({code}) after {attempts} retries; "
                "try again later or raise the GetMetricData/ListMetrics TPS quota"
            ) from err
        raise


def _describe(query: _Query | None) -> str:
    return "an unknown query" if query is None else f"{query.metric} {query.stat} for {query.model_id}"


def _aligned(start: datetime, end: datetime, now: datetime) -> tuple[datetime, datetime]:
    """Round a range outward to the resolution CloudWatch keeps for data of that age.

    CloudWatch keeps 1-minute data for 15 days, 5-minute data for 63 days, then hourly; a period and
    start time must be multiples of that, and periods must be multiples of 60 s in any case.
    """
    age = now - start
    step = 60 if age <= timedelta(days=15) else 300 if age <= timedelta(days=63) else 3600
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    low = math.floor((start - epoch).total_seconds() / step) * step
    high = math.ceil((end - epoch).total_seconds() / step) * step
    return epoch + timedelta(seconds=low), epoch + timedelta(seconds=max(high, low + step))


def _next_midnight(moment: datetime) -> datetime:
    """`moment` itself if it is 00:00 UTC, else the following 00:00 UTC."""
    moment = moment.astimezone(UTC)
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight if midnight == moment else midnight + DAY
