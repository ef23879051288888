"""The daily estimated cost as a CloudWatch metric, so an anomaly-detection alarm can watch it.

One PutMetricData per report: namespace `BedrockUsageMonitor`, metric `EstimatedCostUSD`, the cost of the last
complete UTC day before the report's end, one datum per model (dimension `ModelId`) and one for the total
(no dimension; the template's `CostAnomalyAlarm` watches it). The datum is stamped when the report is made,
not at the day's midnight: the alarm's default sliding 1-day window only sees data of the last 24 hours
(CloudWatch "Alarm evaluation window"). A retried or repeated report publishes the same values again; the
alarm reads the Maximum, so repeats do not inflate it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from bedrock_usage.advise.common import model_unit
from bedrock_usage.model import Report, Usage
from bedrock_usage.price import Pricer

NAMESPACE = "BedrockUsageMonitor"
METRIC = "EstimatedCostUSD"
MAX_DATA = 1000  # PutMetricData accepts up to 1,000 metrics a call: the total and the 999 dearest models


def last_day_costs(report: Report, usage: Usage, pricer: Pricer) -> tuple[date, dict[str, Decimal]] | None:
    """The last complete UTC day in the report's daily series, and each priced model's estimated cost."""
    day = report.window.end.date() - timedelta(days=1)
    if not report.daily or day < report.daily[0].day:
        return None
    costs: dict[str, Decimal] = {}
    for model_id, counts in usage.daily.get(day, {}).items():
        unit = model_unit(pricer, usage, model_id, report.window.end)
        if unit is not None:
            costs[model_id] = unit.cost(counts)
    return day, costs


def publish_daily_cost(cloudwatch: Any, stamp: datetime, costs: dict[str, Decimal]) -> None:
    """One PutMetricData: a day's total and per-model estimated cost, stamped when it was reported."""
    total = sum(costs.values(), Decimal(0))
    data: list[dict[str, Any]] = [
        {"MetricName": METRIC, "Timestamp": stamp, "Value": float(total), "Unit": "None"}
    ]
    for model_id, cost in sorted(costs.items(), key=lambda kv: -kv[1])[: MAX_DATA - 1]:
        data.append(
            {
                "MetricName": METRIC,
                "Dimensions": [{"Name": "ModelId", "Value": model_id[:1024]}],
                "Timestamp": stamp,
                "Value": float(cost),
                "Unit": "None",
            }
        )
    cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=data)
