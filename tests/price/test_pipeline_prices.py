"""The report pipeline prices with the AWS Price List catalogue: a fresh cache (no API call), the calling
Region of each log record, and the ReportFunction's cache setting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import boto3
from bedrock_usage.model import Window
from bedrock_usage.pipeline import ReportSettings, run_report
from bedrock_usage.pricing.cache import Catalogue, FileStore
from bedrock_usage.report_job import ReportConfig
from botocore.stub import Stubber

from tests.engine.helpers import record, write_gz

from .price_list_items import stub_region

NOVA_MICRO = "amazon.nova-micro-v1:0"


def _fresh_cache(path: Path, now: datetime) -> None:
    client = boto3.client("pricing", region_name="us-east-1")
    with Stubber(client) as stub:
        stub_region(stub, "ap-northeast-1")
        cat = Catalogue(FileStore(path), pricing=lambda: client, now=now)
        cat.region("ap-northeast-1")
        cat.save()


def test_given_a_fresh_catalogue_when_a_log_archive_is_reported_then_tokyo_calls_cost_tokyo_prices(
    tmp_path: Path,
) -> None:
    now = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    cache = tmp_path / "prices.json"
    _fresh_cache(cache, now - timedelta(hours=2))
    rec = record("2026-11-30T10:00:00Z", f"apac.{NOVA_MICRO}", input_tokens=1_000_000, output_tokens=250_000)
    rec["region"] = "ap-northeast-1"
    write_gz(tmp_path / "logs" / "a.json.gz", [rec])
    settings = ReportSettings(
        regions=("us-east-1",), logs_source=str(tmp_path / "logs"), log_group=None, price_cache=str(cache)
    )
    window = Window(datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    report = run_report(window, settings, now=now)
    assert report.failures == []
    (line,) = report.models
    assert line.cost_usd == Decimal("0.084")  # 1.0 x $0.042 + 0.25 x $0.168, Tokyo's Price List rates
    assert line.price.source == "AWS Price List 2026-12-01"
    assert report.to_dict()["regions"] == ["ap-northeast-1"]
    assert not any("Price List" in w for w in report.warnings)


def test_the_report_function_caches_the_price_list_in_tmp_unless_told_otherwise() -> None:
    base = {"AWS_REGION": "eu-west-1", "ALERT_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:t"}
    default = ReportConfig.from_env(base).price_cache
    assert default is not None
    assert default.endswith("bedrock-usage/prices.json")
    assert ReportConfig.from_env({**base, "PRICE_CACHE": "off"}).price_cache == "off"
    assert ReportConfig.from_env({**base, "PRICE_CACHE": "s3://b/k.json"}).price_cache == "s3://b/k.json"
