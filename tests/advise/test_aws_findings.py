"""Findings 4, 5 and 6: quotas, end of life and idle provisioned throughput.

Service Quotas and Bedrock's ListFoundationModels / ListProvisionedModelThroughputs are not in moto 5.2.5, so
they are answered by botocore's Stubber (which validates every request and response against the service
model) with response shapes from the real APIs; per-minute metrics come from moto's CloudWatch.
Quota names and codes are real: L-4A6BFAB1 / L-F4DDD3EB "Cross-region model inference requests / tokens per
minute for Anthropic Claude Sonnet 4.5 V1" (aws-samples/sample-quota-dashboard-for-amazon-bedrock,
lib/bedrock-registries.ts @5edbea22).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from bedrock_usage.advise import advise
from bedrock_usage.analyze import build_report
from bedrock_usage.model import Counts, Finding, Report, Usage
from bedrock_usage.price import Pricer
from botocore.stub import Stubber
from moto import mock_aws

from .aws_shapes import LEGACY, MODELS, QUOTAS, REGION, SONNET_PROFILE
from .conftest import WINDOW, add, usage

PT_ARN = f"arn:aws:bedrock:{REGION}:123456789012:provisioned-model/abcd1234efgh"


def _provisioned(status: str = "InService") -> dict[str, Any]:
    created = datetime(2026, 11, 1, tzinfo=UTC)
    return {
        "provisionedModelSummaries": [
            {
                "provisionedModelName": "support-bot-pt",
                "provisionedModelArn": PT_ARN,
                "modelArn": f"arn:aws:bedrock:{REGION}::foundation-model/{LEGACY}",
                "desiredModelArn": f"arn:aws:bedrock:{REGION}::foundation-model/{LEGACY}",
                "foundationModelArn": f"arn:aws:bedrock:{REGION}::foundation-model/{LEGACY}",
                "modelUnits": 1,
                "desiredModelUnits": 1,
                "status": status,
                "creationTime": created,
                "lastModifiedTime": created,
            }
        ]
    }


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    with mock_aws():
        bedrock = boto3.client("bedrock", region_name=REGION)
        quotas = boto3.client("service-quotas", region_name=REGION)
        clients = {
            "bedrock": bedrock,
            "service-quotas": quotas,
            "cloudwatch": boto3.client("cloudwatch", region_name=REGION),
        }
        with Stubber(bedrock) as b, Stubber(quotas) as q:
            yield {"clients": clients, "bedrock": b, "quotas": q}


def _minute(cw: Any, at: datetime, model_id: str, **metrics: float) -> None:
    cw.put_metric_data(
        Namespace="AWS/Bedrock",
        MetricData=[
            {
                "MetricName": name,
                "Dimensions": [{"Name": "ModelId", "Value": model_id}],
                "Timestamp": at,
                "Value": v,
            }
            for name, v in metrics.items()
        ],
    )


def _run(aws: dict[str, Any], u: Usage, *, provisioned: dict[str, Any] | None = None) -> Report:
    aws["bedrock"].add_response("list_foundation_models", MODELS, {})
    aws["bedrock"].add_response(
        "list_provisioned_model_throughputs",
        provisioned or {"provisionedModelSummaries": []},
        {"statusEquals": "InService"},
    )
    aws["quotas"].add_response("list_service_quotas", QUOTAS, {"ServiceCode": "bedrock", "MaxResults": 100})
    pricer = Pricer(default_region=REGION)
    report = build_report(u, pricer=pricer, now=u.window.end, regions=[REGION])
    advise(report, u, pricer, client=lambda service, region: aws["clients"][service], regions=[REGION])
    return report


def _of(report: Report, kind: str) -> list[Finding]:
    return [f for f in report.findings if f.kind == kind]


def _in_use(u: Usage, model_id: str, counts: Counts) -> None:
    add(u, model_id, counts)
    u.regional(model_id, REGION).add(counts)


# ------------------------------------------------------------------------------------------ quotas (4)


def test_peak_minute_at_85_percent_of_the_rpm_quota_is_a_finding(aws: dict[str, Any]) -> None:
    u = usage()
    _in_use(u, SONNET_PROFILE, Counts(invocations=400, input_tokens=200_000))
    peak = WINDOW.start + timedelta(hours=3)
    cw = aws["clients"]["cloudwatch"]
    # 170 calls in one minute; 100k + 30k cache write + 20k output = 150k tokens (75% of 200k)
    _minute(
        cw,
        peak,
        SONNET_PROFILE,
        Invocations=170,
        InputTokenCount=100_000,
        CacheWriteInputTokenCount=30_000,
        OutputTokenCount=20_000,
        CacheReadInputTokenCount=500_000,
    )
    _minute(cw, peak + timedelta(minutes=5), SONNET_PROFILE, Invocations=60, InputTokenCount=40_000)
    found = _of(_run(aws, u), "quota-headroom")
    assert len(found) == 1
    ev = found[0].evidence
    assert ev["peak_requests_per_minute"] == 170
    assert ev["peak_tokens_per_minute"] == 150_000  # cache reads do not count toward TPM
    assert ev["requests_quota"] == {
        "name": QUOTAS["Quotas"][0]["QuotaName"],
        "code": "L-4A6BFAB1",
        "value": 200.0,
    }
    assert "85%" in found[0].title  # 170 / 200
    assert "servicequotas/home/services/bedrock/quotas/L-4A6BFAB1" in found[0].action
    assert found[0].severity == "medium"
    assert found[0].monthly_usd is None


def test_aws_tpm_estimate_with_output_burndown_is_preferred_to_the_token_sum(aws: dict[str, Any]) -> None:
    u = usage()
    _in_use(u, SONNET_PROFILE, Counts(invocations=400, input_tokens=200_000))
    cw = aws["clients"]["cloudwatch"]
    # 40k input + 30k output = 70k tokens (35%), but with output burned down x5 AWS estimates 190k (95%)
    _minute(
        cw,
        WINDOW.start + timedelta(hours=4),
        SONNET_PROFILE,
        Invocations=20,
        InputTokenCount=40_000,
        OutputTokenCount=30_000,
        EstimatedTPMQuotaUsage=190_000,
    )
    (found,) = _of(_run(aws, u), "quota-headroom")
    assert found.evidence["peak_tokens_per_minute"] == 190_000
    assert found.evidence["tokens_measure"] == "EstimatedTPMQuotaUsage"
    assert "95%" in found.title
    assert "L-F4DDD3EB" in found.action


def test_throttling_below_the_quota_explains_the_tpm_reservation(aws: dict[str, Any]) -> None:
    u = usage()
    _in_use(u, SONNET_PROFILE, Counts(invocations=40, input_tokens=20_000))
    cw = aws["clients"]["cloudwatch"]
    _minute(
        cw,
        WINDOW.start + timedelta(hours=1),
        SONNET_PROFILE,
        Invocations=40,
        InputTokenCount=20_000,
        InvocationThrottles=7,
    )
    found = _of(_run(aws, u), "quota-headroom")
    assert [f.severity for f in found] == ["high"]
    assert "7 calls throttled" in found[0].title
    assert "unset maxTokens reserves the model's maximum" in found[0].action


def test_no_quota_finding_with_room_to_spare(aws: dict[str, Any]) -> None:
    u = usage()
    _in_use(u, SONNET_PROFILE, Counts(invocations=400, input_tokens=200_000))
    _minute(
        aws["clients"]["cloudwatch"],
        WINDOW.start + timedelta(hours=2),
        SONNET_PROFILE,
        Invocations=100,
        InputTokenCount=100_000,
    )
    report = _run(aws, u)
    assert _of(report, "quota-headroom") == []
    assert "quota-headroom" not in report.findings_not_computed


# ------------------------------------------------------------------------------------- end of life (5)


def test_legacy_model_in_use_names_its_end_of_life_date(aws: dict[str, Any]) -> None:
    u = usage()
    _in_use(u, LEGACY, Counts(invocations=12, input_tokens=1000))
    aws["quotas"].add_response(
        "list_aws_default_service_quotas", {"Quotas": []}, {"ServiceCode": "bedrock", "MaxResults": 100}
    )
    found = _of(_run(aws, u), "end-of-life")
    assert len(found) == 1
    assert found[0].evidence["end_of_life_time"] == "2026-12-20"
    assert found[0].evidence["invocations"] == 12
    assert found[0].severity == "high"  # 19 days after the window end
    assert "before 2026-12-20" in found[0].action


def test_active_model_is_not_near_end_of_life(aws: dict[str, Any]) -> None:
    u = usage()
    _in_use(u, SONNET_PROFILE, Counts(invocations=12, input_tokens=1000))
    assert _of(_run(aws, u), "end-of-life") == []


# --------------------------------------------------------------------------- idle provisioned (6)


def test_provisioned_throughput_without_calls_is_idle(aws: dict[str, Any]) -> None:
    u = usage()
    _in_use(u, SONNET_PROFILE, Counts(invocations=12, input_tokens=1000))
    found = _of(_run(aws, u, provisioned=_provisioned()), "idle-provisioned")
    assert len(found) == 1
    assert found[0].evidence["provisioned_model_arn"] == PT_ARN
    assert found[0].evidence["model_units"] == 1
    assert found[0].monthly_usd is None  # no provisioned rate in the price data: unpriced, not guessed
    assert found[0].evidence["hourly_usd"] is None


def test_provisioned_throughput_in_use_is_not_idle(aws: dict[str, Any]) -> None:
    u = usage()
    _in_use(u, PT_ARN, Counts(invocations=3, input_tokens=1000))
    _in_use(u, SONNET_PROFILE, Counts(invocations=12, input_tokens=1000))
    report = _run(aws, u, provisioned=_provisioned())
    assert _of(report, "idle-provisioned") == []
    # A provisioned ARN has no per-minute on-demand quota: named, and no default-quota pages read for it
    # (the Stubber has none queued, so a call would fail the test).
    assert any(PT_ARN in w for w in report.warnings)
    assert "quota-headroom" not in report.findings_not_computed


def test_a_failing_api_is_named_and_its_finding_omitted(aws: dict[str, Any]) -> None:
    u = usage()
    _in_use(u, SONNET_PROFILE, Counts(invocations=12, input_tokens=1000))
    aws["bedrock"].add_client_error("list_foundation_models", "AccessDeniedException", "not allowed")
    aws["bedrock"].add_response(
        "list_provisioned_model_throughputs", {"provisionedModelSummaries": []}, {"statusEquals": "InService"}
    )
    pricer = Pricer(default_region=REGION)
    report = build_report(u, pricer=pricer, now=u.window.end, regions=[REGION])
    advise(report, u, pricer, client=lambda service, region: aws["clients"][service], regions=[REGION])
    assert "AccessDeniedException" in report.findings_not_computed["end-of-life"]
    assert "quota-headroom" in report.findings_not_computed
    assert _of(report, "end-of-life") == []
