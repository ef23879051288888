"""CloudWatch metrics collector.

Discovery, Sum/Average/Maximum and batching run against moto, which is faithful for put_metric_data,
list_metrics and get_metric_data with those statistics. moto crashes on percentile statistics, so those
tests pass `percentiles=()`; percentiles, PartialData/NextToken, Forbidden and throttling use botocore's
Stubber with response shapes of the real GetMetricData API (botocore validates requests and responses).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from bedrock_usage.collect.cloudwatch import (
    MAX_DATAPOINTS_PER_CALL,
    MAX_QUERIES_PER_CALL,
    MetricsError,
    collect_metrics,
)
from bedrock_usage.model import Window
from botocore.stub import ANY, Stubber
from moto import mock_aws

BASE = "anthropic.claude-sonnet-4-5-20250929-v1:0"
GEO = f"us.{BASE}"
GLOBAL = "global.anthropic.claude-opus-4-6-v1"
AIP = "82ey7vcct4m3"  # application inference profile: its ID is the ModelId dimension (REFERENCE.md §13.2)
NOVA = "amazon.nova-lite-v1:0"


def _hour(now: datetime | None = None) -> datetime:
    return (now or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)


@pytest.fixture
def cloudwatch() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("cloudwatch", region_name="us-east-1")


def put(cw: Any, model_id: str | None, metric: str, value: float, at: datetime, **extra_dims: str) -> None:
    dims = [{"Name": "ModelId", "Value": model_id}] if model_id else []
    dims += [{"Name": k, "Value": v} for k, v in extra_dims.items()]
    cw.put_metric_data(
        Namespace="AWS/Bedrock",
        MetricData=[{"MetricName": metric, "Dimensions": dims, "Value": value, "Timestamp": at}],
    )


def count_calls(client: Any) -> list[tuple[str, dict[str, Any]]]:
    """Every API call the client makes, with its parameters, seen through botocore's event hooks."""
    calls: list[tuple[str, dict[str, Any]]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.append((model.name, params))

    client.meta.events.register("provide-client-params.cloudwatch.*", record)
    return calls


def test_given_every_model_id_form_when_collected_then_each_is_its_own_model_and_aggregates_are_ignored(
    cloudwatch: Any,
) -> None:
    """Base, geo and global profile IDs and an application-profile ID are separate series; the
    dimensionless account-wide series and a {ModelId, ServiceTier} series would double count."""
    end = _hour()
    window = Window(end - timedelta(hours=6), end)
    at = end - timedelta(hours=2)
    for model_id, calls in [(BASE, 3), (GEO, 5), (GLOBAL, 7), (AIP, 11)]:
        put(cloudwatch, model_id, "Invocations", calls, at)
        put(cloudwatch, model_id, "InputTokenCount", calls * 100, at)
        put(cloudwatch, model_id, "OutputTokenCount", calls * 10, at)
    put(cloudwatch, None, "Invocations", 26, at)  # "Across all model IDs"
    put(cloudwatch, None, "InputTokenCount", 2600, at)
    put(cloudwatch, GEO, "Invocations", 5, at, ServiceTier="priority")

    usage = collect_metrics(cloudwatch, window, percentiles=())

    assert usage.source == "cloudwatch-metrics"
    assert set(usage.by_model) == {BASE, GEO, GLOBAL, AIP}
    assert usage.by_model[GEO].invocations == 5
    assert usage.by_model[AIP].input_tokens == 1100
    assert usage.by_model[GLOBAL].output_tokens == 70
    assert usage.totals().invocations == 26
    assert usage.totals().input_tokens == 2600


def test_given_datapoints_in_and_around_the_window_when_collected_then_sums_and_latency_cover_the_window(
    cloudwatch: Any,
) -> None:
    end = _hour()
    window = Window(end - timedelta(hours=3), end)
    for minutes, calls, latency in [(10, 2, 400.0), (70, 3, 1000.0), (170, 1, 2500.0)]:
        put(cloudwatch, NOVA, "Invocations", calls, end - timedelta(minutes=minutes))
        put(cloudwatch, NOVA, "InvocationLatency", latency, end - timedelta(minutes=minutes))
        put(cloudwatch, NOVA, "InvocationClientErrors", 1, end - timedelta(minutes=minutes))
    put(cloudwatch, NOVA, "Invocations", 1000, end - timedelta(hours=4))  # before the window
    put(cloudwatch, NOVA, "Invocations", 1000, end)  # the end is exclusive
    put(cloudwatch, NOVA, "InvocationThrottles", 4, end - timedelta(minutes=5))
    put(cloudwatch, NOVA, "InvocationServerErrors", 2, end - timedelta(minutes=5))

    usage = collect_metrics(cloudwatch, window, percentiles=())

    counts = usage.by_model[NOVA]
    assert (counts.invocations, counts.client_errors, counts.server_errors, counts.throttles) == (6, 3, 2, 4)
    latency = usage.latency[NOVA]
    assert latency.average_ms == pytest.approx((400 + 1000 + 2500) / 3)
    assert latency.max_ms == 2500
    assert latency.p99_ms is None  # not requested


def test_given_both_cache_metric_spellings_when_collected_then_each_is_used_and_never_added_twice(
    cloudwatch: Any,
) -> None:
    """REFERENCE.md §13.1: the cache metrics are CacheRead/WriteInputTokenCount in real accounts, but
    AWS docs also say CacheRead/WriteInputTokens; ListMetrics decides per model."""
    end = _hour()
    window = Window(end - timedelta(hours=1), end)
    at = end - timedelta(minutes=30)
    put(cloudwatch, GEO, "Invocations", 1, at)
    put(cloudwatch, GEO, "CacheReadInputTokenCount", 900, at)
    put(cloudwatch, GEO, "CacheWriteInputTokenCount", 300, at)
    put(cloudwatch, GLOBAL, "Invocations", 1, at)
    put(cloudwatch, GLOBAL, "CacheReadInputTokens", 50, at)
    put(cloudwatch, GLOBAL, "CacheWriteInputTokens", 20, at)
    put(cloudwatch, BASE, "Invocations", 1, at)  # both spellings for the same tokens
    put(cloudwatch, BASE, "CacheReadInputTokenCount", 70, at)
    put(cloudwatch, BASE, "CacheReadInputTokens", 70, at)

    usage = collect_metrics(cloudwatch, window, percentiles=())

    assert (usage.by_model[GEO].cache_read_tokens, usage.by_model[GEO].cache_write_tokens) == (900, 300)
    assert (usage.by_model[GLOBAL].cache_read_tokens, usage.by_model[GLOBAL].cache_write_tokens) == (50, 20)
    assert usage.by_model[BASE].cache_read_tokens == 70


def test_given_daily_from_the_month_start_when_collected_then_each_utc_day_has_its_own_sums(
    cloudwatch: Any,
) -> None:
    """The window is the last 24 hours at 10:00; the daily series runs from three days before."""
    end = _hour().replace(hour=10)
    if end > datetime.now(UTC):
        end -= timedelta(days=1)
    window = Window(end - timedelta(hours=24), end)
    day0 = (end - timedelta(days=3)).replace(hour=0)
    for offset_hours, calls in [(1, 1), (30, 2), (50, 4), (60, 8), (70, 16), (75, 32)]:
        put(cloudwatch, NOVA, "Invocations", calls, day0 + timedelta(hours=offset_hours))

    usage = collect_metrics(cloudwatch, window, daily_from=day0, percentiles=())

    by_day = {day: models[NOVA].invocations for day, models in usage.daily.items()}
    days = [(day0 + timedelta(days=n)).date() for n in range(4)]
    # hours 1 -> day 0; 30 -> day 1; 50, 60, 70 -> day 2; 75 -> day 3 (before 10:00 of the end day)
    assert by_day == {days[0]: 1, days[1]: 2, days[2]: 4 + 8 + 16, days[3]: 32}
    # the window [day 2 10:00, day 3 10:00) holds hours 60, 70 and 75
    assert usage.by_model[NOVA].invocations == 8 + 16 + 32


def test_given_no_daily_from_when_collected_then_the_daily_series_splits_the_window_at_midnight(
    cloudwatch: Any,
) -> None:
    """Day buckets are exact UTC days clipped to the window: nothing from before the window start."""
    end = _hour().replace(hour=6)
    if end > datetime.now(UTC):
        end -= timedelta(days=1)
    window = Window(end - timedelta(hours=12), end)  # 18:00 yesterday to 06:00
    put(cloudwatch, NOVA, "Invocations", 100, end - timedelta(hours=14))  # 16:00, outside
    put(cloudwatch, NOVA, "Invocations", 3, end - timedelta(hours=10))  # 20:00
    put(cloudwatch, NOVA, "Invocations", 5, end - timedelta(hours=2))  # 04:00

    usage = collect_metrics(cloudwatch, window, percentiles=())

    by_day = {day: models[NOVA].invocations for day, models in usage.daily.items()}
    assert by_day == {(end - timedelta(days=1)).date(): 3, end.date(): 5}
    assert usage.by_model[NOVA].invocations == 8


def test_given_daily_off_when_collected_then_only_window_sums_are_asked_and_totals_kept(
    cloudwatch: Any,
) -> None:
    """The previous window is compared by its totals: no day buckets, so no queries spent on them."""
    end = _hour().replace(hour=6)
    if end > datetime.now(UTC):
        end -= timedelta(days=1)
    window = Window(end - timedelta(hours=12), end)
    put(cloudwatch, NOVA, "Invocations", 3, end - timedelta(hours=10))
    put(cloudwatch, NOVA, "Invocations", 5, end - timedelta(hours=2))
    calls = count_calls(cloudwatch)

    usage = collect_metrics(cloudwatch, window, percentiles=(), daily=False)

    assert usage.by_model[NOVA].invocations == 8
    assert usage.daily == {}
    periods = {
        q["MetricStat"]["Period"]
        for name, params in calls
        if name == "GetMetricData"
        for q in params["MetricDataQueries"]
    }
    assert periods == {12 * 3600}  # the window as one bucket, nothing per day


def test_given_daily_from_in_the_middle_of_a_day_when_collected_then_that_day_starts_at_daily_from(
    cloudwatch: Any,
) -> None:
    end = _hour().replace(hour=6)
    if end > datetime.now(UTC):
        end -= timedelta(days=1)
    window = Window(end - timedelta(hours=2), end)
    daily_from = end - timedelta(days=1, hours=3)  # 03:00 yesterday
    put(cloudwatch, NOVA, "Invocations", 100, end - timedelta(days=1, hours=5))  # 01:00 yesterday: before
    put(cloudwatch, NOVA, "Invocations", 3, end - timedelta(days=1, hours=1))  # 05:00 yesterday
    put(cloudwatch, NOVA, "Invocations", 5, end - timedelta(hours=1))  # 05:00 today, in the window

    usage = collect_metrics(cloudwatch, window, daily_from=daily_from, percentiles=())

    by_day = {day: models[NOVA].invocations for day, models in usage.daily.items()}
    assert by_day == {(end - timedelta(days=1)).date(): 3, end.date(): 5}
    assert usage.by_model[NOVA].invocations == 5


def test_given_200_models_when_collected_then_get_metric_data_is_batched_500_queries_a_call(
    cloudwatch: Any,
) -> None:
    """Never one call per model per metric: 200 models x (8 summed metrics + 2 latency statistics)
    = 2,000 queries fit in 4 calls. (The window stays inside one UTC day, so no day queries.)"""
    end = _hour().replace(hour=6)
    if end > datetime.now(UTC):
        end -= timedelta(days=1)
    window = Window(end - timedelta(hours=2), end)
    at = end - timedelta(hours=1)
    metrics = [
        "Invocations",
        "InputTokenCount",
        "OutputTokenCount",
        "CacheReadInputTokenCount",
        "CacheWriteInputTokenCount",
        "InvocationClientErrors",
        "InvocationServerErrors",
        "InvocationThrottles",
        "InvocationLatency",
    ]
    models = [f"us.vendor.model-{n:03d}-v1:0" for n in range(200)]
    for model_id in models:
        cloudwatch.put_metric_data(
            Namespace="AWS/Bedrock",
            MetricData=[
                {
                    "MetricName": m,
                    "Dimensions": [{"Name": "ModelId", "Value": model_id}],
                    "Value": 1.0,
                    "Timestamp": at,
                }
                for m in metrics
            ],
        )
    calls = count_calls(cloudwatch)

    usage = collect_metrics(cloudwatch, window, percentiles=())

    data_calls = [params for name, params in calls if name == "GetMetricData"]
    assert len(data_calls) == 4
    assert all(len(p["MetricDataQueries"]) <= MAX_QUERIES_PER_CALL for p in data_calls)
    assert sum(len(p["MetricDataQueries"]) for p in data_calls) == 2000
    assert [name for name, _ in calls].count("ListMetrics") == math.ceil(200 * len(metrics) / 500)
    assert len(usage.by_model) == 200
    assert usage.totals().invocations == 200
    assert all(usage.latency[m].average_ms == 1.0 for m in models)


def _list_metrics(models: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "Metrics": [
            {
                "Namespace": "AWS/Bedrock",
                "MetricName": metric,
                "Dimensions": [{"Name": "ModelId", "Value": model_id}],
            }
            for model_id, metrics in models.items()
            for metric in metrics
        ]
    }


def _query(qid: str, model_id: str, metric: str, stat: str, period: int) -> dict[str, Any]:
    return {
        "Id": qid,
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/Bedrock",
                "MetricName": metric,
                "Dimensions": [{"Name": "ModelId", "Value": model_id}],
            },
            "Period": period,
            "Stat": stat,
        },
        "ReturnData": True,
    }


def _result(qid: str, at: datetime, value: float, status: str = "Complete") -> dict[str, Any]:
    return {"Id": qid, "Label": qid, "Timestamps": [at], "Values": [value], "StatusCode": status}


WINDOW_END = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
STUB_WINDOW = Window(WINDOW_END - timedelta(hours=1), WINDOW_END)  # inside one UTC day: no day queries


def test_given_latency_percentiles_when_collected_then_extended_statistics_are_requested_and_read() -> None:
    """Stubber: GetMetricData with Stat p50/p90/p99 (moto cannot compute percentiles)."""
    cw = boto3.client("cloudwatch", region_name="us-east-1")
    start = STUB_WINDOW.start
    with Stubber(cw) as stub:
        stub.add_response("list_metrics", _list_metrics({GEO: ["Invocations", "InvocationLatency"]}), None)
        queries = [_query("q0", GEO, "Invocations", "Sum", 3600)] + [
            _query(f"q{n}", GEO, "InvocationLatency", stat, 3600)
            for n, stat in enumerate(["Average", "Maximum", "p50", "p90", "p99"], start=1)
        ]
        stub.add_response(
            "get_metric_data",
            {
                "MetricDataResults": [
                    _result("q0", start, 40.0),
                    _result("q1", start, 850.5),
                    _result("q2", start, 9100.0),
                    _result("q3", start, 610.0),
                    _result("q4", start, 1900.0),
                    _result("q5", start, 7300.0),
                ]
            },
            {
                "MetricDataQueries": queries,
                "StartTime": STUB_WINDOW.start,
                "EndTime": STUB_WINDOW.end,
                "ScanBy": "TimestampAscending",
                "MaxDatapoints": MAX_DATAPOINTS_PER_CALL,
            },
        )
        usage = collect_metrics(cw, STUB_WINDOW, now=WINDOW_END)
        stub.assert_no_pending_responses()

    latency = usage.latency[GEO]
    assert (latency.average_ms, latency.max_ms) == (850.5, 9100.0)
    assert (latency.p50_ms, latency.p90_ms, latency.p99_ms) == (610.0, 1900.0, 7300.0)
    assert usage.by_model[GEO].invocations == 40


def test_given_partial_data_with_next_token_when_collected_then_pages_are_followed_and_added() -> None:
    cw = boto3.client("cloudwatch", region_name="us-east-1")
    start = STUB_WINDOW.start
    with Stubber(cw) as stub:
        stub.add_response("list_metrics", _list_metrics({NOVA: ["Invocations"]}), None)
        stub.add_response(
            "get_metric_data",
            {"MetricDataResults": [_result("q0", start, 30.0, "PartialData")], "NextToken": "page-2"},
            None,
        )
        stub.add_response(
            "get_metric_data",
            {"MetricDataResults": [_result("q0", start + timedelta(minutes=1), 12.0)]},
            {
                "MetricDataQueries": ANY,
                "StartTime": ANY,
                "EndTime": ANY,
                "ScanBy": ANY,
                "MaxDatapoints": ANY,
                "NextToken": "page-2",
            },
        )
        usage = collect_metrics(cw, STUB_WINDOW, now=WINDOW_END)
        stub.assert_no_pending_responses()

    assert usage.by_model[NOVA].invocations == 42
    assert not any("partial" in w for w in usage.warnings)


def test_given_a_forbidden_metric_when_collected_then_a_metrics_error_names_it() -> None:
    cw = boto3.client("cloudwatch", region_name="us-east-1")
    with Stubber(cw) as stub:
        stub.add_response("list_metrics", _list_metrics({NOVA: ["Invocations"]}), None)
        stub.add_response(
            "get_metric_data",
            {"MetricDataResults": [{"Id": "q0", "StatusCode": "Forbidden", "Timestamps": [], "Values": []}]},
            None,
        )
        with pytest.raises(MetricsError, match=f"Forbidden.*Invocations Sum for {NOVA}"):
            collect_metrics(cw, STUB_WINDOW, now=WINDOW_END)


def test_given_throttling_past_retries_when_collected_then_a_clear_metrics_error() -> None:
    cw = boto3.client("cloudwatch", region_name="us-east-1")
    with Stubber(cw) as stub:
        stub.add_response("list_metrics", _list_metrics({NOVA: ["Invocations"]}), None)
        stub.add_client_error("get_metric_data", "Throttling", "Rate exceeded", http_status_code=400)
        with pytest.raises(MetricsError, match="throttled GetMetricData"):
            collect_metrics(cw, STUB_WINDOW, now=WINDOW_END)


def test_given_a_long_daily_series_when_collected_then_no_call_asks_for_more_than_100800_datapoints() -> None:
    """40 models x 8 metrics over 400 days: 320 day queries x 400 points exceed one call's datapoint
    limit long before its 500-query limit, so they are split (Stubber, empty results)."""
    cw = boto3.client("cloudwatch", region_name="us-east-1")
    metrics = [
        "Invocations",
        "InputTokenCount",
        "OutputTokenCount",
        "CacheReadInputTokenCount",
        "CacheWriteInputTokenCount",
        "InvocationClientErrors",
        "InvocationServerErrors",
        "InvocationThrottles",
    ]
    models = {f"vendor.model-{n:02d}": metrics for n in range(40)}
    daily_from = datetime(2025, 10, 24, tzinfo=UTC)  # 400 days before 2026-11-28
    window_queries = 320
    day_points = (WINDOW_END - daily_from).days + 1  # the last, partial day counts
    per_call = MAX_DATAPOINTS_PER_CALL // day_points
    expected_calls = math.ceil(window_queries / MAX_QUERIES_PER_CALL) + math.ceil(320 / per_call)
    calls = count_calls(cw)
    with Stubber(cw) as stub:
        stub.add_response("list_metrics", _list_metrics(models), None)
        for _ in range(expected_calls):
            stub.add_response("get_metric_data", {"MetricDataResults": []}, None)
        usage = collect_metrics(cw, STUB_WINDOW, daily_from=daily_from, now=WINDOW_END)
        stub.assert_no_pending_responses()
    assert not any("14 days" in w for w in usage.warnings)  # the window itself is recent

    for name, params in calls:
        if name != "GetMetricData":
            continue
        span = (params["EndTime"] - params["StartTime"]).total_seconds()
        points = sum(math.ceil(span / q["MetricStat"]["Period"]) for q in params["MetricDataQueries"])
        assert points <= MAX_DATAPOINTS_PER_CALL
        assert all(q["MetricStat"]["Period"] % 60 == 0 for q in params["MetricDataQueries"])


def test_given_a_window_older_than_two_weeks_when_collected_then_it_warns_that_idle_models_may_be_missing(
    cloudwatch: Any,
) -> None:
    end = _hour() - timedelta(days=20)
    usage = collect_metrics(cloudwatch, Window(end - timedelta(hours=24), end), percentiles=())
    assert any("last 14 days" in w for w in usage.warnings)


def test_given_an_unknown_percentile_when_collected_then_value_error(cloudwatch: Any) -> None:
    end = _hour()
    with pytest.raises(ValueError, match="p95"):
        collect_metrics(cloudwatch, Window(end - timedelta(hours=1), end), percentiles=("p95",))
