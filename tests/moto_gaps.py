"""Workarounds for what moto 5.2.5 does not do (PRODUCT.md), for the tests that run the pipeline on it."""

from __future__ import annotations

from typing import Any


def drop_percentiles(params: dict[str, Any], **_: Any) -> None:
    """moto 5.2.5 crashes on percentile statistics; drop those queries so the rest runs against moto.

    Register on a session or client: `provide-client-params.cloudwatch.GetMetricData`."""
    params["MetricDataQueries"] = [
        q for q in params["MetricDataQueries"] if not q.get("MetricStat", {}).get("Stat", "").startswith("p")
    ]
