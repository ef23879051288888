"""One region's usage from CloudWatch: metrics for the numbers, Logs Insights for who and which errors.

Metrics are the source for per-model totals, latency and the daily series: they cover every call, logging
on or off. Insights (when there is a log group) adds per-caller figures and failures by errorCode. Either
source may fail; the other still reports, and the failure is recorded, never raised.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from bedrock_usage.collect.cloudwatch import MetricsError, collect_metrics
from bedrock_usage.collect.insights import InsightsError, collect_insights
from bedrock_usage.model import SourceFailure, Usage, Window

logger = logging.getLogger(__name__)

# For the clients handed to these collectors: standard retries back off on throttling (GetMetricData,
# ListMetrics and GetQueryResults have per-account TPS quotas).
CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 8})

DISAGREEMENT = 0.05  # warn when metrics and logs differ by more than this share of invocations

_SOURCE_ERRORS = (ClientError, BotoCoreError, MetricsError, InsightsError)


def collect_account(
    *,
    cloudwatch: Any,
    logs: Any,
    window: Window,
    log_group: str | None,
    daily_from: datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
    insights_timeout_s: float = 120,
    totals_only: bool = False,
) -> Usage:
    """Metrics plus (when `log_group` is set) Insights for one region; data-source failures are recorded.

    `totals_only` skips the daily series and the latency percentiles: for a window compared by its totals.
    """
    metrics: Usage | None = None
    insights: Usage | None = None
    failures: list[SourceFailure] = []
    try:
        if totals_only:
            metrics = collect_metrics(cloudwatch, window, percentiles=(), daily=False)
        else:
            metrics = collect_metrics(cloudwatch, window, daily_from=daily_from)
    except _SOURCE_ERRORS as err:
        logger.warning("cloudwatch metrics failed", extra={"error": str(err)})
        failures.append(SourceFailure("cloudwatch-metrics", _reason(err)))
    if log_group is not None:
        try:
            insights = collect_insights(logs, window, log_group, sleep=sleep, timeout_s=insights_timeout_s)
        except _SOURCE_ERRORS as err:
            logger.warning("logs insights failed", extra={"error": str(err)})
            failures.append(SourceFailure("logs-insights", _reason(err)))

    if metrics is not None:
        usage = metrics
        if insights is not None:
            usage.source = f"{metrics.source}+{insights.source}"
            usage.by_caller = insights.by_caller
            usage.errors_by_code = insights.errors_by_code
            usage.warnings.extend(insights.warnings)
            disagreement = _disagreement(metrics, insights)
            if disagreement:
                usage.warnings.append(disagreement)
    elif insights is not None:
        usage = insights
        usage.warnings.append(
            "per-model figures come from the invocation logs (CloudWatch metrics failed): calls made while "
            "logging was off are missing, and there is no latency or daily series"
        )
    else:
        usage = Usage(window=window, source="none")
    usage.failures.extend(failures)
    return usage


def _disagreement(metrics: Usage, insights: Usage) -> str | None:
    """A warning when the two sources' invocation totals differ by more than DISAGREEMENT."""
    counted = metrics.totals().invocations
    logged = insights.totals().invocations
    if max(counted, logged) == 0 or abs(counted - logged) <= DISAGREEMENT * max(counted, logged):
        return None
    return (
        f"CloudWatch metrics count {counted:,} invocations but the invocation logs hold {logged:,} "
        f"({abs(counted - logged) / max(counted, logged):.0%} apart): invocation logging may be off, "
        "or was off for part of the window, so per-caller figures are incomplete"
    )


def _reason(err: Exception) -> str:
    if isinstance(err, ClientError):
        error = err.response.get("Error", {})
        return f"{err.operation_name}: {error.get('Code', 'error')}: {error.get('Message', '')}".rstrip(": ")
    return str(err)
