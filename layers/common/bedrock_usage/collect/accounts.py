"""Bedrock usage of every account linked to this monitoring account (CloudWatch cross-account observability).

A monitoring account sees its source accounts' AWS/Bedrock metrics and invocation log groups in the same
Region (REFERENCE.md §14.3). Three reads, each growing slowly with the number of accounts:

- Discovery: one paginated `ListMetrics(IncludeLinkedAccounts=True)`; `OwningAccounts` is "a 1:1 mapping
  between each metric that is returned and the ID of the owning account" (botocore cloudwatch model).
- Sums per account and model: one Metrics Insights query per metric name,
  `SELECT SUM(m) FROM SCHEMA("AWS/Bedrock", ModelId) GROUP BY AWS.AccountId, ModelId` (CloudWatch "Metrics
  Insights query components": GROUP BY AWS.AccountId in a monitoring account). A GetMetricData call may hold
  only one Metrics Insights query, and a query returns at most 500 series ("Metrics Insights quotas"), so when
  the (account, model) series of a metric exceed 500, that metric is read as plain MetricStat queries that
  name their account (`MetricDataQuery.AccountId`, botocore cloudwatch model), 500 to a call: calls then grow
  with series / 500, never one per account.
  Each returned series is one MetricDataResult (all with the query's Id) whose Label holds the grouped
  values; the label is read by its 12-digit account ID, whatever the order.
- Callers per account: Logs Insights over the source accounts' invocation log groups by ARN
  (`StartQuery.logGroupIdentifiers`, "up to 50 log groups"; a source account's group must be given by ARN),
  grouped by the record's own `accountId` field (Bedrock "Log entry format", REFERENCE.md §1).
Metrics Insights reads at most two weeks back; an older window is reported as missing, never as zero.
"""

from __future__ import annotations

import logging
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bedrock_usage.collect import insights as li
from bedrock_usage.collect.cloudwatch import (
    DIMENSION,
    MAX_QUERIES_PER_CALL,
    NAMESPACE,
    SUM_METRICS,
    MetricsError,
    _call,
)
from bedrock_usage.model import SourceFailure, Usage, Window

logger = logging.getLogger(__name__)

SOURCE = "cloudwatch-linked-accounts"
MAX_SERIES = 500  # Metrics Insights: "A single query can return no more than 500 time series"
MAX_LOG_GROUPS = 50  # StartQuery.logGroupIdentifiers: "You can include up to 50 log groups"
MI_HORIZON = timedelta(days=14)  # Metrics Insights: "Query up to two weeks of data"
_ACCOUNT = re.compile(r"^\d{12}$")
UNKNOWN = li.UNKNOWN

# The per-caller query of collect/insights.py, with the account of each record kept as a group key.
_FIELDS = f'| fields coalesce(identity.arn, rxArn, "{UNKNOWN}") as caller,'
_STATS_BY = " by caller, model, error_code"
if _FIELDS not in li.QUERY or _STATS_BY not in li.QUERY:  # pragma: no cover - guards a change in insights.py
    raise ImportError("collect/insights.py QUERY changed shape: update collect/accounts.py")
QUERY = li.QUERY.replace(
    _FIELDS, f'| fields coalesce(accountId, "{UNKNOWN}") as account, ' + _FIELDS[9:]
).replace(_STATS_BY, " by account, caller, model, error_code")


@dataclass
class LinkedUsage:
    """One window's usage per account: by_model and by_region from metrics, by_caller from the logs."""

    window: Window
    by_account: dict[str, Usage] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    failures: list[SourceFailure] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # API name -> calls made

    def account(self, account_id: str) -> Usage:
        return self.by_account.setdefault(account_id, Usage(window=self.window, source=SOURCE))

    def merge(self, other: LinkedUsage) -> LinkedUsage:
        """Add another Region's reading of the same window."""
        for account_id, usage in other.by_account.items():
            self.account(account_id).merge(usage)
        self.warnings.extend(other.warnings)
        self.failures.extend(other.failures)
        for name, n in other.calls.items():
            self.calls[name] += n
        return self


def discover_linked(cloudwatch: Any, calls: dict[str, int] | None = None) -> dict[str, dict[str, set[str]]]:
    """account -> ModelId -> metric names, over this account and every linked source account."""
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    kwargs: dict[str, Any] = {
        "Namespace": NAMESPACE,
        "Dimensions": [{"Name": DIMENSION}],
        "IncludeLinkedAccounts": True,
    }
    while True:
        page = _call(cloudwatch.list_metrics, **kwargs)
        if calls is not None:
            calls["ListMetrics"] += 1
        owners = page.get("OwningAccounts", [])
        for i, metric in enumerate(page.get("Metrics", [])):
            dims = metric.get("Dimensions", [])
            owner = owners[i] if i < len(owners) else None
            if owner and len(dims) == 1 and dims[0].get("Name") == DIMENSION and dims[0].get("Value"):
                found[owner][dims[0]["Value"]].add(metric["MetricName"])
        token = page.get("NextToken")
        if not token:
            return {account: dict(models) for account, models in found.items()}
        kwargs["NextToken"] = token


@dataclass(frozen=True)
class MetricPlan:
    """How one report reads the per-account sums: Metrics Insights where it fits, else batched MetricStats."""

    insights: list[tuple[str, str]]  # (metric, Metrics Insights query): one GetMetricData call each
    per_series: list[tuple[str, str, str]]  # (account, model, metric): MetricStat with AccountId, 500 a call


def plan_queries(discovered: dict[str, dict[str, set[str]]]) -> MetricPlan:
    """One grouped Metrics Insights query per metric while its (account, model) series fit in 500; past that,
    that metric's series are read as MetricStat queries naming their AccountId, packed 500 to a call."""
    pairs: dict[str, list[tuple[str, str]]] = defaultdict(list)  # metric -> [(account, model)]
    for account, models in sorted(discovered.items()):
        for model_id, names in sorted(models.items()):
            for name in names:
                if name in SUM_METRICS:
                    pairs[name].append((account, model_id))
    insights: list[tuple[str, str]] = []
    per_series: list[tuple[str, str, str]] = []
    source = f'SCHEMA("{NAMESPACE}", {DIMENSION})'
    for metric in (m for m in SUM_METRICS if m in pairs):
        if len(pairs[metric]) <= MAX_SERIES:
            # Metric names come from SUM_METRICS, not from input: nothing to inject.
            query = f"SELECT SUM({metric}) FROM {source} GROUP BY AWS.AccountId, {DIMENSION} "  # noqa: S608
            insights.append((metric, query + f"ORDER BY SUM() DESC LIMIT {MAX_SERIES}"))
        else:
            per_series.extend((account, model_id, metric) for account, model_id in pairs[metric])
    return MetricPlan(insights, per_series)


def _results(
    cloudwatch: Any, queries: list[dict[str, Any]], times: dict[str, datetime], linked: LinkedUsage
) -> list[dict[str, Any]]:
    """Every MetricDataResult of one GetMetricData request, NextToken followed; failed series raise."""
    out: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"MetricDataQueries": queries, **times}
    while True:
        page = _call(cloudwatch.get_metric_data, **kwargs)
        linked.calls["GetMetricData"] += 1
        for result in page.get("MetricDataResults", []):
            status = result.get("StatusCode")
            if status in ("Forbidden", "InternalError"):
                raise MetricsError(
                    f"CloudWatch returned {status} for a per-account query ({result.get('Id')})"
                )
            if status == "PartialData":
                linked.warnings.append("CloudWatch returned partial per-account data; figures may be low")
            out.append(result)
        token = page.get("NextToken")
        if not token:
            return out
        kwargs["NextToken"] = token


def parse_label(label: str, model_id: str | None) -> tuple[str, str] | None:
    """(account, model) from a grouped series' label; None when it names no account."""
    tokens = label.split()
    accounts = [t for t in tokens if _ACCOUNT.match(t)]
    if not accounts:
        return None
    account = accounts[0]
    rest = [t for t in tokens if t != account]
    model = model_id or " ".join(rest)
    return (account, model) if model else None


def _read(
    cloudwatch: Any,
    plan: MetricPlan,
    start: datetime,
    end: datetime,
    period: int,
    linked: LinkedUsage,
) -> dict[tuple[str, str, str], list[tuple[datetime, float]]]:
    """(account, model, metric) -> [(bucket start, sum)] over [start, end) in `period` buckets."""
    points: dict[tuple[str, str, str], list[tuple[datetime, float]]] = defaultdict(list)
    times = {"StartTime": start, "EndTime": end}
    for metric, expression in plan.insights:
        query = {"Id": "q", "Expression": expression, "Period": period, "ReturnData": True}
        for result in _results(cloudwatch, [query], times, linked):
            key = parse_label(result.get("Label", ""), None)
            if key is None:
                linked.warnings.append(f"a {metric} series labelled {result.get('Label')!r} names no account")
                continue
            points[(*key, metric)] += _pairs(result, start)
    for i in range(0, len(plan.per_series), MAX_QUERIES_PER_CALL):
        batch = plan.per_series[i : i + MAX_QUERIES_PER_CALL]
        queries = [
            {
                "Id": f"s{n}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": NAMESPACE,
                        "MetricName": metric,
                        "Dimensions": [{"Name": DIMENSION, "Value": model_id}],
                    },
                    "Period": period,
                    "Stat": "Sum",
                },
                "AccountId": account,  # "in a monitoring account, which account to retrieve this metric from"
                "ReturnData": True,
            }
            for n, (account, model_id, metric) in enumerate(batch)
        ]
        for result in _results(cloudwatch, queries, times, linked):
            points[batch[int(result["Id"][1:])]] += _pairs(result, start)
    return points


def _pairs(result: dict[str, Any], start: datetime) -> list[tuple[datetime, float]]:
    values = result.get("Values", [])
    stamps = result.get("Timestamps") or [start] * len(values)
    return list(zip(stamps, values, strict=False))


def _fields(sums: dict[tuple[Any, ...], float]) -> dict[tuple[Any, ...], int]:
    """Keys ending in a metric name -> the same keys ending in its Counts field. Of two spellings of a cache
    metric the larger wins: they measure the same tokens (collect/cloudwatch.py)."""
    by_field: dict[tuple[Any, ...], dict[str, float]] = defaultdict(dict)
    for (*key, metric), value in sums.items():
        by_field[(*key, SUM_METRICS[metric])][metric] = value
    return {key: round(max(by_metric.values())) for key, by_metric in by_field.items()}


def collect_linked_metrics(
    cloudwatch: Any,
    window: Window,
    region: str,
    *,
    now: datetime | None = None,
    daily_from: datetime | None = None,
) -> LinkedUsage:
    """Per account and model sums over `window` in this Region, and per UTC day from `daily_from` (clipped to
    the two weeks Metrics Insights keeps) to the window end. Raises MetricsError or ClientError."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    linked = LinkedUsage(window=window)
    if now - window.start > MI_HORIZON:
        raise MetricsError(
            "Metrics Insights reads only the last two weeks: no per-account figures for this window"
        )
    discovered = discover_linked(cloudwatch, linked.calls)
    plan = plan_queries(discovered)
    start = window.start.replace(second=0, microsecond=0)
    period = max(60, -(-int((window.end - start).total_seconds()) // 60) * 60)
    window_sums = {
        key: sum(v for _, v in pts)
        for key, pts in _read(
            cloudwatch, plan, start, start + timedelta(seconds=period), period, linked
        ).items()
    }
    for (account, model_id, name), value in _fields(window_sums).items():
        usage = linked.account(account)
        setattr(usage.model(model_id), name, value)
        setattr(usage.regional(model_id, region), name, value)
    if daily_from is not None:
        oldest = (now - MI_HORIZON).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        first = max(daily_from.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0), oldest)
        if first > daily_from:
            linked.warnings.append(
                f"the daily series of linked accounts starts {first.date().isoformat()}: Metrics Insights "
                "keeps two weeks, so earlier days (and the month to date) hold this account only"
            )
        end = window.end.replace(second=0, microsecond=0)
        if end > first:
            by_day: dict[tuple[Any, ...], float] = defaultdict(float)
            daily = _read(cloudwatch, plan, first, end, 86_400, linked)
            for (account, model_id, metric), pts in daily.items():
                for stamp, amount in pts:
                    by_day[(account, stamp.astimezone(UTC).date(), model_id, metric)] += amount
            for (account, day, model_id, name), value in _fields(by_day).items():
                setattr(linked.account(account).day(day, model_id), name, value)
    for account in discovered:
        linked.account(account)  # an account whose metrics were idle in the window still counts as linked
    return linked


def log_group_arn(region: str, account: str, log_group: str) -> str:
    """A source account's log group as StartQuery wants it: no ':*' at the end (botocore logs model)."""
    partition = (
        "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"
    )
    return f"arn:{partition}:logs:{region}:{account}:log-group:{log_group}"


def collect_linked_callers(
    logs: Any,
    window: Window,
    arns: Iterable[str],
    into: LinkedUsage,
    *,
    sleep: Callable[[float], None] = time.sleep,
    timeout_s: float = 120,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Per account, caller and model from the source accounts' log groups: one query per 50 groups."""
    groups = sorted(set(arns))
    query_ids: list[str] = []
    for i in range(0, len(groups), MAX_LOG_GROUPS):
        started = logs.start_query(
            logGroupIdentifiers=groups[i : i + MAX_LOG_GROUPS],
            startTime=int(window.start.timestamp()),
            endTime=int(window.end.timestamp()) - 1,  # inclusive end: keep the window half-open
            queryString=QUERY,
            limit=li.RESULT_LIMIT,
        )
        into.calls["StartQuery"] += 1
        query_ids.append(started["queryId"])
    for query_id in query_ids:
        response = li._wait(logs, query_id, sleep=sleep, timeout_s=timeout_s, clock=clock)
        into.calls["GetQueryResults"] += 1
        rows = response.get("results", [])
        for row in rows:
            cells = {cell["field"]: cell.get("value", "") for cell in row}
            account = cells.get("account") or UNKNOWN
            caller_usage = Usage(window=window, source=li.SOURCE)
            li._add_row(caller_usage, cells)
            usage = into.account(account)
            for key, counts in caller_usage.by_caller.items():
                usage.caller(*key).add(counts)
            for code, n in caller_usage.errors_by_code.items():
                usage.errors_by_code[code] = usage.errors_by_code.get(code, 0) + n
        if len(rows) >= li.RESULT_LIMIT:
            into.warnings.append(
                f"Logs Insights rows were cut at {li.RESULT_LIMIT:,} for the linked accounts: per-caller "
                "figures are incomplete - shorten the window"
            )


def collect_linked(
    *,
    cloudwatch: Any,
    logs: Any | None,
    window: Window,
    region: str,
    log_group: str | None,
    own_account: str,
    sleep: Callable[[float], None] = time.sleep,
    insights_timeout_s: float = 120,
    now: datetime | None = None,
    daily_from: datetime | None = None,
) -> LinkedUsage:
    """Metrics for every linked account and (with a log group) callers of the source accounts; never raises
    for a data source: a failure is recorded and the rest still reports."""
    try:
        linked = collect_linked_metrics(cloudwatch, window, region, now=now, daily_from=daily_from)
    except (ClientError, BotoCoreError, MetricsError) as err:
        linked = LinkedUsage(window=window)
        linked.failures.append(SourceFailure(f"linked-accounts metrics ({region})", str(err)))
        return linked
    sources = [a for a in linked.by_account if a != own_account]
    if logs is not None and log_group and sources:
        try:
            collect_linked_callers(
                logs,
                window,
                (log_group_arn(region, a, log_group) for a in sources),
                linked,
                sleep=sleep,
                timeout_s=insights_timeout_s,
            )
        except (ClientError, BotoCoreError, li.InsightsError) as err:
            linked.failures.append(SourceFailure(f"linked-accounts logs ({region})", str(err)))
    logger.info("linked accounts collected", extra={"accounts": len(linked.by_account), **linked.calls})
    return linked


def account_names(organizations: Any) -> tuple[dict[str, str], str | None]:
    """Account ID -> name from Organizations, and why there are none when it cannot be read."""
    names: dict[str, str] = {}
    kwargs: dict[str, Any] = {}
    try:
        while True:
            page = organizations.list_accounts(**kwargs)
            for account in page.get("Accounts", []):
                if account.get("Id") and account.get("Name"):
                    names[account["Id"]] = account["Name"]
            token = page.get("NextToken")
            if not token:
                return names, None
            kwargs["NextToken"] = token
    except (ClientError, BotoCoreError) as err:
        code = err.response.get("Error", {}).get("Code", "") if isinstance(err, ClientError) else ""
        return names, (
            f"account names are not readable here ({code or type(err).__name__}): Organizations ListAccounts "
            "answers in the management account or a delegated administrator"
        )
