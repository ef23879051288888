"""The daily estimated cost per model, published once per report for the anomaly-detection alarm (moto)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from bedrock_usage.model import Window
from bedrock_usage.pipeline import ReportSettings, run_report
from moto import mock_aws

from ..engine.helpers import NOVA_LITE, SONNET45, record, write_gz
from .conftest import SONNET_GEO

END = datetime(2026, 11, 28, 6, tzinfo=UTC)


def _logs(tmp_path: Path) -> Path:
    root = tmp_path / "logs"
    write_gz(
        root / "AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1/2026/11/27/10/x.json.gz",
        [
            record("2026-11-27T10:00:00Z", f"us.{SONNET45}", input_tokens=1_000_000, output_tokens=0),
            record("2026-11-27T10:00:01Z", NOVA_LITE, input_tokens=1_000_000, output_tokens=0),
        ],
    )
    return root


def _run(tmp_path: Path, publish: bool) -> list[dict[str, Any]]:
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        calls: list[dict[str, Any]] = []
        session.events.register(
            "provide-client-params.cloudwatch.PutMetricData", lambda params, **_: calls.append(params)
        )
        settings = ReportSettings(
            regions=("us-east-1",), logs_source=str(_logs(tmp_path)), publish_cost_metric=publish
        )
        run_report(Window(datetime(2026, 11, 27, tzinfo=UTC), END), settings, session=session, now=END)
        cw = session.client("cloudwatch")
        got = cw.get_metric_data(
            MetricDataQueries=[
                {
                    "Id": "total",
                    "MetricStat": {
                        "Metric": {"Namespace": "BedrockUsageMonitor", "MetricName": "EstimatedCostUSD"},
                        "Period": 86400,
                        "Stat": "Maximum",
                    },
                }
            ],
            StartTime=datetime(2026, 11, 27, tzinfo=UTC),
            EndTime=datetime(2026, 11, 29, tzinfo=UTC),
        )["MetricDataResults"]
        models = cw.list_metrics(Namespace="BedrockUsageMonitor")["Metrics"]
        stamps = {d["Timestamp"] for c in calls for d in c["MetricData"]}
        return [{"calls": len(calls), "total": got[0]["Values"], "models": models, "stamps": stamps}]


def test_one_put_metric_data_with_the_last_complete_days_cost_stamped_when_reported(tmp_path: Path) -> None:
    out = _run(tmp_path, publish=True)[0]
    # Nov 27: 1M us. Sonnet 4.5 input at $3.30 + 1M Nova Lite input at $0.06 (US list prices)
    expected = SONNET_GEO["input"] + Decimal("0.06")
    assert out["calls"] == 1
    # Stamped when reported: the alarm's sliding 1-day window sees only the last 24 hours.
    assert out["stamps"] == {END}
    assert out["total"] == [pytest.approx(float(expected))]
    dims = sorted(d["Value"] for m in out["models"] for d in m.get("Dimensions", []))
    assert dims == sorted([f"us.{SONNET45}", NOVA_LITE])


def test_the_cli_path_publishes_nothing(tmp_path: Path) -> None:
    out = _run(tmp_path, publish=False)[0]
    assert out["calls"] == 0
    assert out["models"] == []
