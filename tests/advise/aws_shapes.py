"""Bedrock's ListFoundationModels and Service Quotas' ListServiceQuotas in the real APIs' shapes (neither is
in moto 5.2.5: botocore's Stubber answers with these). Quota names and codes are real: L-4A6BFAB1 / L-F4DDD3EB
"Cross-region model inference requests / tokens per minute for Anthropic Claude Sonnet 4.5 V1"
(aws-samples/sample-quota-dashboard-for-amazon-bedrock, lib/bedrock-registries.ts @5edbea22).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .conftest import SONNET45

REGION = "us-east-1"
SONNET_PROFILE = f"us.{SONNET45}"
LEGACY = "anthropic.claude-3-5-sonnet-20240620-v1:0"


def summary(model_id: str, name: str, lifecycle: dict[str, Any]) -> dict[str, Any]:
    return {
        "modelArn": f"arn:aws:bedrock:{REGION}::foundation-model/{model_id}",
        "modelId": model_id,
        "modelName": name,
        "providerName": "Anthropic",
        "inputModalities": ["TEXT", "IMAGE"],
        "outputModalities": ["TEXT"],
        "responseStreamingSupported": True,
        "customizationsSupported": [],
        "inferenceTypesSupported": ["INFERENCE_PROFILE"],
        "modelLifecycle": lifecycle,
    }


EOL = datetime(2026, 12, 20, tzinfo=UTC)
MODELS = {
    "modelSummaries": [
        summary(SONNET45, "Claude Sonnet 4.5", {"status": "ACTIVE"}),
        summary(
            LEGACY,
            "Claude 3.5 Sonnet",
            {"status": "LEGACY", "legacyTime": datetime(2025, 8, 25, tzinfo=UTC), "endOfLifeTime": EOL},
        ),
    ]
}


def quota(code: str, name: str, value: float) -> dict[str, Any]:
    return {
        "ServiceCode": "bedrock",
        "ServiceName": "Amazon Bedrock",
        "QuotaArn": f"arn:aws:servicequotas:{REGION}:123456789012:bedrock/{code}",
        "QuotaCode": code,
        "QuotaName": name,
        "Value": value,
        "Unit": "None",
        "Adjustable": True,
        "GlobalQuota": False,
        "QuotaAppliedAtLevel": "ACCOUNT",
    }


QUOTAS = {
    "Quotas": [
        quota(
            "L-4A6BFAB1",
            "Cross-region model inference requests per minute for Anthropic Claude Sonnet 4.5 V1",
            200,
        ),
        quota(
            "L-F4DDD3EB",
            "Cross-region model inference tokens per minute for Anthropic Claude Sonnet 4.5 V1",
            200_000,
        ),
        quota(
            "L-381AD9EE",
            "Model invocation max tokens per day for Anthropic Claude Sonnet 4.5 V1 "
            "(doubled for cross-region calls)",
            144_000_000,
        ),
    ]
}
