"""The Service Quotas lists are kept a day beside the Price List cache: a second report the same day makes no
Service Quotas call, and finds the same quota headroom.

run_report over moto's CloudWatch (percentile queries dropped: moto 5.2.5 crashes on them). Bedrock's
ListFoundationModels / ListProvisionedModelThroughputs, Service Quotas and the Price List are not in moto, so
botocore's Stubber answers them with the real response shapes (aws_shapes.py). Requests are counted with
botocore's before-parameter-build hook, which fires for every request, stubbed or not.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from bedrock_usage.advise.quota_cache import QuotaCache, store_beside
from bedrock_usage.model import Report
from bedrock_usage.pipeline import ReportSettings, run_report
from bedrock_usage.pricing.cache import FileStore, S3Store
from botocore.stub import Stubber
from moto import mock_aws

from ..moto_gaps import drop_percentiles
from ..stubbed_session import StubbedSession
from .aws_shapes import MODELS, QUOTAS, REGION, SONNET_PROFILE, quota
from .conftest import WINDOW

# 150 quotas of other models first: Service Quotas pages 100 at a time, so Sonnet 4.5's are on page 2.
OTHERS = [
    quota(f"L-{n:08X}", f"On-demand model inference requests per minute for Vendor Model {n:03d}", 100)
    for n in range(150)
]
LISTED = OTHERS + QUOTAS["Quotas"]


def _bedrock(stub: Stubber) -> None:
    stub.add_response("list_foundation_models", MODELS, {})
    stub.add_response(
        "list_provisioned_model_throughputs", {"provisionedModelSummaries": []}, {"statusEquals": "InService"}
    )


def _service_quotas(stub: Stubber) -> None:
    first = {"ServiceCode": "bedrock", "MaxResults": 100}
    stub.add_response("list_service_quotas", {"Quotas": LISTED[:100], "NextToken": "page-2"}, first)
    stub.add_response("list_service_quotas", {"Quotas": LISTED[100:]}, {**first, "NextToken": "page-2"})


def _pricing(stub: Stubber) -> None:
    # The Price List is not what this test is about: denied, the report prices from genai-prices.
    stub.add_client_error("get_products", "AccessDeniedException", "not authorized", 400)


@pytest.fixture
def cloudwatch() -> Iterator[Any]:
    with mock_aws():
        cw = boto3.client("cloudwatch", region_name=REGION)
        # 170 calls of Sonnet 4.5 (us. profile) in one minute: 85% of its 200 requests-a-minute quota.
        cw.put_metric_data(
            Namespace="AWS/Bedrock",
            MetricData=[
                {
                    "MetricName": "Invocations",
                    "Dimensions": [{"Name": "ModelId", "Value": SONNET_PROFILE}],
                    "Timestamp": WINDOW.start + timedelta(hours=3),
                    "Value": 170,
                }
            ],
        )
        yield cw


def _report(price_cache: Path, now: datetime) -> tuple[Report, Counter[str]]:
    session = StubbedSession({"bedrock": _bedrock, "service-quotas": _service_quotas, "pricing": _pricing})
    session.events.register("provide-client-params.cloudwatch.GetMetricData", drop_percentiles)
    calls: Counter[str] = Counter()
    session.events.register("before-parameter-build", lambda model, **_: calls.update([model.name]))
    settings = ReportSettings(regions=(REGION,), log_group=None, price_cache=str(price_cache))
    return run_report(WINDOW, settings, session=session, now=now), calls


def _headroom(report: Report) -> list[str]:
    return [f.title for f in report.findings if f.kind == "quota-headroom"]


def test_a_second_report_the_same_day_lists_no_quotas(cloudwatch: Any, tmp_path: Path) -> None:
    cache = tmp_path / "prices.json"
    first, first_calls = _report(cache, WINDOW.end)
    assert first_calls["ListServiceQuotas"] == 2  # 152 quotas, 100 a page
    title = f"{SONNET_PROFILE} in {REGION}: peak 170 requests a minute is 85% of the quota"
    assert _headroom(first) == [title]
    # Kept beside prices.json: the per-minute quotas only (not the per-day L-381AD9EE).
    saved = json.loads((tmp_path / "service-quotas.json").read_text())
    codes = [q[0] for q in saved["regions"][REGION]["applied"]["quotas"]]
    assert codes == [q["QuotaCode"] for q in OTHERS] + ["L-4A6BFAB1", "L-F4DDD3EB"]

    second, second_calls = _report(cache, WINDOW.end + timedelta(hours=5))
    assert second_calls["ListServiceQuotas"] == 0
    assert second_calls["ListFoundationModels"] == 1  # the other findings' reads are not cached
    assert _headroom(second) == _headroom(first)

    # A day later the list is read again (an increase granted since shows).
    _, later_calls = _report(cache, WINDOW.end + timedelta(days=1, minutes=1))
    assert later_calls["ListServiceQuotas"] == 2


def test_without_a_cache_location_every_report_lists_the_quotas(cloudwatch: Any) -> None:
    off = Path("off")  # --price-cache off: no Price List, and nowhere to keep the quotas
    _, first = _report(off, WINDOW.end)
    _, second = _report(off, WINDOW.end + timedelta(hours=1))
    assert (first["ListServiceQuotas"], second["ListServiceQuotas"]) == (2, 2)


def test_the_cache_sits_beside_the_price_list_cache(tmp_path: Path) -> None:
    beside_file = store_beside(str(tmp_path / "cache" / "prices.json"), lambda _: None)
    assert beside_file == FileStore(tmp_path / "cache" / "service-quotas.json")
    s3 = object()
    beside_key = store_beside("s3://logs-bucket/bedrock-usage/prices.json", lambda _: s3)
    assert beside_key == S3Store(s3, "logs-bucket", "bedrock-usage/service-quotas.json")
    assert store_beside("off", lambda _: None) is None
    assert store_beside(None, lambda _: None) is None


def test_an_unreadable_cache_is_listed_again_and_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "service-quotas.json"
    path.write_text("{not json")
    quotas = boto3.client("service-quotas", region_name=REGION)
    with Stubber(quotas) as stub:
        _service_quotas(stub)
        cache = QuotaCache(FileStore(path), now=WINDOW.end)
        index = cache.index(quotas, REGION)
        cache.save()
        stub.assert_no_pending_responses()
    assert index[("cross-region", "requests", "anthropic claude sonnet 4.5 v1")].code == "L-4A6BFAB1"
    assert json.loads(path.read_text())["schema"] == 1


def test_a_cache_that_cannot_be_saved_is_a_warning(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    quotas = boto3.client("service-quotas", region_name=REGION)
    with Stubber(quotas) as stub:
        _service_quotas(stub)
        cache = QuotaCache(FileStore(blocked / "service-quotas.json"), now=WINDOW.end)  # under a file
        cache.index(quotas, REGION)
        cache.save()
    assert cache.warnings == [
        "service quotas cache not saved (FileExistsError); it is fetched again next run"
    ]
