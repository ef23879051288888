"""AWS API calls to collect one window's CloudWatch metrics, ours against the seed's way, on moto.

For 5, 50 and 200 models (each with the 9 Bedrock runtime metrics), count the calls each way makes,
through botocore's `before-call` event hook:
- ours: `collect_metrics` for the last 24 hours with a daily series from the previous midnight
  (ListMetrics discovery + GetMetricData batched 500 queries a call): counts, latency average, maximum,
  p50/p90/p99 and per-day sums;
- the seed's way: one GetMetricStatistics per model per metric over the window (no percentiles, no
  daily series: less data, for far more calls).
moto cannot compute percentiles; this benchmark teaches its Statistics class nearest-rank percentiles so
the real request set runs. Not a test: `make bench` or `python -m bench api_calls` (`--quick`: 2 models only).
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
from bedrock_usage.collect.cloudwatch import collect_metrics
from bedrock_usage.model import Window
from moto import mock_aws
from moto.cloudwatch import models as moto_cloudwatch

METRICS = [
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
SIZES = (5, 50, 200)


def _teach_moto_percentiles() -> None:
    """Let moto answer `Stat: pNN` (it returns None and crashes otherwise); nearest-rank on raw values."""
    original = moto_cloudwatch.Statistics.get_statistics_for_type

    def get_statistics_for_type(self: Any, stat: str) -> Any:
        if stat.startswith("p") and stat[1:].replace(".", "", 1).isdigit():
            values = sorted(self.metric_single_values_list)
            if not values:
                return None
            rank = max(1, math.ceil(float(stat[1:]) / 100 * len(values)))
            return values[rank - 1]
        return original(self, stat)

    moto_cloudwatch.Statistics.get_statistics_for_type = get_statistics_for_type  # type: ignore[method-assign]


def _seed_metrics(cw: Any, models: list[str], window: Window) -> None:
    """The seed's way: a GetMetricStatistics per model per metric."""
    for model_id in models:
        for metric in METRICS:
            stats = ["Average", "Maximum"] if metric == "InvocationLatency" else ["Sum"]
            cw.get_metric_statistics(
                Namespace="AWS/Bedrock",
                MetricName=metric,
                Dimensions=[{"Name": "ModelId", "Value": model_id}],
                StartTime=window.start,
                EndTime=window.end,
                Period=int((window.end - window.start).total_seconds()),
                Statistics=stats,
            )


def _populate(cw: Any, models: list[str], at: datetime) -> None:
    for model_id in models:
        cw.put_metric_data(
            Namespace="AWS/Bedrock",
            MetricData=[
                {
                    "MetricName": metric,
                    "Dimensions": [{"Name": "ModelId", "Value": model_id}],
                    "Value": 1.0,
                    "Timestamp": at,
                }
                for metric in METRICS
            ],
        )


def measure(n_models: int) -> dict[str, Any]:
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    window = Window(end - timedelta(hours=24), end)
    daily_from = (window.start - timedelta(days=1)).replace(hour=0, minute=0)
    models = [f"us.vendor.model-{n:03d}-v1:0" for n in range(n_models)]
    with mock_aws():
        cw = boto3.client("cloudwatch", region_name="us-east-1")
        _populate(cw, models, end - timedelta(hours=1))
        calls: Counter[str] = Counter()
        cw.meta.events.register("before-call.cloudwatch.*", lambda model, **_: calls.update([model.name]))
        usage = collect_metrics(cw, window, daily_from=daily_from)
        ours = dict(calls)
        if len(usage.by_model) != n_models or any(lat.p99_ms is None for lat in usage.latency.values()):
            raise RuntimeError("the benchmark run did not collect every model with its percentiles")
        calls.clear()
        _seed_metrics(cw, models, window)
        seed = dict(calls)
    return {"models": n_models, "ours": ours, "seed": seed}


def findings_calls(n_models: int, n_quotas: int) -> tuple[Counter[str], Counter[str]]:
    """The extra calls the findings make in one Region (advise/__init__._from_aws, plus the cost metric), in a
    first report and in a second one the same day (the quota lists then come from the cache).

    Bedrock and Service Quotas are not in moto: Stubber answers them (n_quotas quotas, 100 a page, one
    matching each model); CloudWatch GetMetricData and PutMetricData run on moto."""
    import tempfile
    from pathlib import Path

    from bedrock_usage.advise import advise
    from bedrock_usage.advise.metrics import publish_daily_cost
    from bedrock_usage.advise.quota_cache import QuotaCache
    from bedrock_usage.analyze import build_report
    from bedrock_usage.model import Counts, Usage
    from bedrock_usage.price import Pricer
    from bedrock_usage.pricing.cache import FileStore
    from botocore.stub import Stubber

    end = datetime.now(UTC).replace(second=0, microsecond=0)
    window = Window(end - timedelta(hours=24), end)
    models = [f"vendor.model-{n:03d}-v1:0" for n in range(n_models)]
    usage = Usage(window=window, source="cloudwatch")
    for m in models:
        usage.model(m).add(Counts(invocations=1))
        usage.regional(m, "us-east-1").add(Counts(invocations=1))
    names = [
        f"On-demand model inference requests per minute for Vendor Model {n:03d}" for n in range(n_quotas)
    ]
    quotas = [
        {"ServiceCode": "bedrock", "QuotaCode": f"L-{n:08X}", "QuotaName": name, "Value": 100.0}
        for n, name in enumerate(names)
    ]
    summaries = [
        {
            "modelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{m}",
            "modelId": m,
            "modelName": f"Model {n:03d}",
            "providerName": "Vendor",
        }
        for n, m in enumerate(models)
    ]
    runs: list[Counter[str]] = []
    with mock_aws(), tempfile.TemporaryDirectory() as cache_dir:
        store = FileStore(Path(cache_dir) / "service-quotas.json")
        for _ in range(2):
            calls: Counter[str] = Counter()
            clients = {
                "bedrock": boto3.client("bedrock", region_name="us-east-1"),
                "service-quotas": boto3.client("service-quotas", region_name="us-east-1"),
                "cloudwatch": boto3.client("cloudwatch", region_name="us-east-1"),
            }
            for c in clients.values():
                # before-parameter-build fires for every call, stubbed or not (Stubber answers later).
                c.meta.events.register(
                    "before-parameter-build.*", lambda model, calls=calls, **_: calls.update([model.name])
                )
            with Stubber(clients["bedrock"]) as b, Stubber(clients["service-quotas"]) as q:
                b.add_response("list_foundation_models", {"modelSummaries": summaries}, {})
                b.add_response("list_provisioned_model_throughputs", {"provisionedModelSummaries": []}, None)
                for page in range(0, max(n_quotas, 1), 100) if not runs else ():
                    answer: dict[str, Any] = {"Quotas": quotas[page : page + 100]}
                    if page + 100 < n_quotas:
                        answer["NextToken"] = f"t{page + 100}"
                    q.add_response("list_service_quotas", answer, None)
                pricer = Pricer(default_region="us-east-1")
                report = build_report(usage, pricer=pricer, now=end, regions=["us-east-1"])
                cache = QuotaCache(store, now=end)
                advise(
                    report,
                    usage,
                    pricer,
                    client=lambda service, region, clients=clients: clients[service],
                    regions=["us-east-1"],
                    quota_cache=cache,
                )
                cache.save()
                publish_daily_cost(clients["cloudwatch"], end, {m: Decimal(1) for m in models})
                q.assert_no_pending_responses()
            runs.append(calls)
    return runs[0], runs[1]


def main(quick: bool = False) -> None:
    _teach_moto_percentiles()
    print_findings(quick)
    rows = [measure(n) for n in ((2,) if quick else SIZES)]
    header = (
        f"{'models':>6} | {'seed GetMetricStatistics':>24} | {'ours ListMetrics':>16} | "
        f"{'ours GetMetricData':>18} | {'ours total':>10} | {'fewer calls':>11}"
    )
    print("AWS API calls to collect one 24-hour window of CloudWatch metrics (moto)")
    print(header)
    print("-" * len(header))
    for row in rows:
        seed = sum(row["seed"].values())
        ours = sum(row["ours"].values())
        print(
            f"{row['models']:>6} | {seed:>24,} | {row['ours'].get('ListMetrics', 0):>16} | "
            f"{row['ours'].get('GetMetricData', 0):>18} | {ours:>10} | {seed / ours:>10.0f}x"
        )
    print(
        "ours also fetches p50/p90/p99 latency and a per-UTC-day series; the seed's way fetches neither.\n"
        "A report collects the current and the previous window (x2), plus one Logs Insights StartQuery with\n"
        "its GetQueryResults polls and Cost Explorer's GetCostAndUsage pages, whatever the model count."
    )
    billing_main()


def _ce_page(
    days: list[tuple[str, list[tuple[list[str], str]], bool]], token: str | None = None
) -> dict[str, Any]:
    """A GetCostAndUsage response in the real API's shape (the Stubber validates it against the model)."""
    periods = [
        {
            "TimePeriod": {
                "Start": start,
                "End": (date.fromisoformat(start) + timedelta(days=1)).isoformat(),
            },
            "Total": {},
            "Groups": [
                {"Keys": k, "Metrics": {"UnblendedCost": {"Amount": a, "Unit": "USD"}}} for k, a in groups
            ],
            "Estimated": estimated,
        }
        for start, groups, estimated in days
    ]
    return {
        "ResultsByTime": periods,
        "DimensionValueAttributes": [],
        **({"NextPageToken": token} if token else {}),
    }


def cost_explorer_calls(tag_keys: tuple[str, ...]) -> int:
    """GetCostAndUsage requests of one daily report's bill (collect_bill) with these principal tag keys."""
    from bedrock_usage.billing import collect_bill
    from botocore.stub import ANY, Stubber

    claude = "Claude Sonnet 4.5 (Amazon Bedrock Edition)"
    ce = boto3.client("ce", region_name="us-east-1")
    calls: Counter[str] = Counter()
    # before-parameter-build fires once per request, before the Stubber answers it (before-call would not).
    ce.meta.events.register(
        "before-parameter-build.cost-explorer.GetCostAndUsage", lambda **_: calls.update(["GetCostAndUsage"])
    )
    stub = Stubber(ce)
    billed = [(["Amazon Bedrock"], "0.15"), ([claude], "2.40")]
    stub.add_response(
        "get_cost_and_usage",
        _ce_page([("2026-11-18", billed, False), ("2026-11-19", billed, True)]),
        {k: ANY for k in ("TimePeriod", "Granularity", "Metrics", "GroupBy", "Filter")},
    )
    stub.add_response(
        "get_cost_and_usage",
        _ce_page([("2026-11-18", [([claude, "USE1-MP:USE1_InputTokenCount-Units"], "2.40")], False)]),
    )
    for key in tag_keys:
        stub.add_response(
            "get_cost_and_usage",
            _ce_page([("2026-11-18", [([f"iamPrincipal/{key}$payments"], "2.55")], False)]),
        )
    with stub:
        collect_bill(
            ce, date(2026, 11, 1), date(2026, 11, 20), month_start=date(2026, 11, 1), tag_keys=tag_keys
        )
    return calls["GetCostAndUsage"]


def billing_main() -> None:
    print("\nCost Explorer requests per daily report with ReportCostExplorer=true ($0.01 each; Stubber)")
    for keys in ((), ("team",), ("team", "cost-center"), ("team", "cost-center", "project")):
        n = cost_explorer_calls(keys)
        print(f"  CostAllocationTagKeys={','.join(keys) or '(empty)':<28} {n} requests, ${n / 100:.2f} a day")


def print_findings(quick: bool = False) -> None:
    print("Extra AWS API calls the findings make per Region and report (Stubber for Bedrock/Service Quotas)")
    for n_models, n_quotas in ((5, 300),) if quick else ((5, 300), (50, 1000), (200, 1000)):
        first, second = findings_calls(n_models, n_quotas)
        for label, calls in (("first report", first), ("same day", second)):
            listed = ", ".join(f"{k} {v}" for k, v in sorted(calls.items()))
            print(
                f"  {n_models:>3} models, {n_quotas:>4} Bedrock quotas, {label:<12}: "
                f"{sum(calls.values()):>3} calls ({listed})"
            )
    print(
        "  The quota counts are assumptions. ListServiceQuotas is paged 100 at a time: its page count grows\n"
        "  with Bedrock's quota count, not with usage; ListAWSDefaultServiceQuotas pages follow only when a\n"
        "  model has no applied quota. Both lists are cached a day per Region beside the Price List\n"
        "  cache, so a second report the same day lists none. moto holds one datapoint per series here:\n"
        "  with a full day of per-minute data CloudWatch pages GetMetricData at 100,800 datapoints (about\n"
        "  11 models a call).\n"
    )


if __name__ == "__main__":
    main()
