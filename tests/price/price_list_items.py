"""GetProducts PriceList entries for Bedrock, in the shape the Price List Query API returns.

Shape: `aws pricing get-products --format-version aws_v1` (AWS CLI reference example, kept in botocore's
awscli examples `pricing/get-products.rst`): each entry is a JSON *string* holding product{productFamily,
attributes, sku}, serviceCode, terms.OnDemand{<sku>.<offerTermCode>: {priceDimensions{<rateCode>: {unit,
endRange, description, appliesTo, rateCode, beginRange, pricePerUnit{USD}}}, sku, effectiveDate,
offerTermCode, termAttributes}}, version, publicationDate.

Figures and attributes, from public captures of the real API:
- Nova Pro, ap-northeast-1 (`APN1-NovaPro-input-tokens` $0.00096/1K, output $0.00384/1K, `-batch` $0.00048,
  "Prompt cache read input tokens" `APN1-NovaPro-cache-read-input-token-count` $0.00024) and GLM 5's
  `-mantle-…-standard` / `-flex` twins: a Go test fixture "fetched from the AWS Price List Query API on
  2026-08-26 with ServiceCode=AmazonBedrock" (find_string '"feature":"On-demand Inference"').
- Nova Micro: ap-northeast-1 $0.042/$0.168 per 1M (issue 17, "AWS's Price List gives"); us-east-1
  $0.035/$0.14 per 1M (REFERENCE.md §8; usage types `USE1-NovaMicro-input-tokens` in public Cost Explorer
  output).
- Claude Haiku 4.5 (Marketplace, AmazonBedrockFoundationModels): servicename "Claude Haiku 4.5 (Amazon
  Bedrock Edition)", unit "1M tokens", usage types `USE1-MP:USE1_InputTokenCount-Units` 1.1,
  `…_InputTokenCount_Global-Units` 1, `…_OutputTokenCount-Units` 5.5, `…_OutputTokenCount_Global-Units` 5,
  `…_InputTokenCount_Batch-Units` 0.55, description "AWS Marketplace software usage|us-east-1|Token usage"
  (a measured October 2026 snapshot's regression test); the cache stems `CacheReadInputTokenCount`,
  `CacheWriteInputTokenCount` (REFERENCE.md §13.1; rates = REFERENCE.md §8: 0.11 / 1.375); us-west-2
  uses `USW2-MP:USW2_…` (REFERENCE.md §8).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

LOCATIONS = {
    "us-east-1": "US East (N. Virginia)",
    "us-west-2": "US West (Oregon)",
    "ap-northeast-1": "Asia Pacific (Tokyo)",
}


def _sku(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16].upper()


def item(service: str, region: str, attributes: dict[str, str], unit: str, usd: str, description: str) -> str:
    """One PriceList entry (a JSON string, as GetProducts returns it)."""
    sku = _sku(service + region + attributes["usagetype"])
    offer = f"{sku}.JRTCKXETXF"
    rate = f"{offer}.6YS6EN2CT7"
    doc: dict[str, Any] = {
        "product": {
            "productFamily": "Amazon Bedrock" if service == "AmazonBedrock" else "",
            "attributes": {
                "regionCode": region,
                "servicecode": service,
                "locationType": "AWS Region",
                "location": LOCATIONS[region],
                "operation": "Usage",
                **attributes,
            },
            "sku": sku,
        },
        "serviceCode": service,
        "terms": {
            "OnDemand": {
                offer: {
                    "priceDimensions": {
                        rate: {
                            "unit": unit,
                            "endRange": "Inf",
                            "description": description,
                            "appliesTo": [],
                            "rateCode": rate,
                            "beginRange": "0",
                            "pricePerUnit": {"USD": usd},
                        }
                    },
                    "sku": sku,
                    "effectiveDate": "2026-11-01T00:00:00Z",
                    "offerTermCode": "JRTCKXETXF",
                    "termAttributes": {},
                }
            }
        },
        "version": "20261120183549",
        "publicationDate": "2026-11-20T18:35:49Z",
    }
    return json.dumps(doc)


def bedrock(region: str, model: str, inference_type: str, usagetype: str, per_1k: str, **extra: str) -> str:
    attrs = {
        "servicename": "Amazon Bedrock",
        "model": model,
        "inferenceType": inference_type,
        "feature": extra.pop("feature", "On-demand Inference"),
        "usagetype": usagetype,
        **extra,
    }
    return item("AmazonBedrock", region, attrs, "1K tokens", per_1k, f"${per_1k} per 1K {inference_type}")


def marketplace(region: str, prefix: str, servicename: str, stem: str, per_1m: str) -> str:
    attrs = {"servicename": servicename, "usagetype": f"{prefix}-MP:{prefix}_{stem}-Units"}
    return item(
        "AmazonBedrockFoundationModels",
        region,
        attrs,
        "1M tokens",
        per_1m,
        f"AWS Marketplace software usage|{region}|Token usage",
    )


HAIKU45 = "Claude Haiku 4.5 (Amazon Bedrock Edition)"


def tokyo_first_party() -> list[str]:
    r = "ap-northeast-1"
    return [
        bedrock(
            r, "Nova Micro", "Input tokens", "APN1-NovaMicro-input-tokens", "0.0000420000", provider="Amazon"
        ),
        bedrock(
            r,
            "Nova Micro",
            "Output tokens",
            "APN1-NovaMicro-output-tokens",
            "0.0001680000",
            provider="Amazon",
        ),
        bedrock(
            r, "Nova Pro", "Input tokens", "APN1-NovaPro-input-tokens", "0.0009600000", provider="Amazon"
        ),
        bedrock(
            r, "Nova Pro", "Output tokens", "APN1-NovaPro-output-tokens", "0.0038400000", provider="Amazon"
        ),
        bedrock(
            r,
            "Nova Pro",
            "Input tokens",
            "APN1-NovaPro-input-tokens-batch",
            "0.0004800000",
            feature="Batch Inference",
            provider="Amazon",
        ),
        bedrock(
            r,
            "Nova Pro",
            "Prompt cache read input tokens",
            "APN1-NovaPro-cache-read-input-token-count",
            "0.0002400000",
            provider="Amazon",
        ),
        # the OpenAI-compatible endpoint's twin (not in invocation logs) and a flex tier: not on-demand rates
        bedrock(
            r,
            "GLM 5",
            "Input tokens",
            "APN1-zai.glm5-mantle-input-tokens-standard",
            "0.0012000000",
            service_tier="standard",
        ),
        bedrock(r, "GLM 5", "Input tokens flex", "APN1-zai.glm5-mantle-input-tokens-flex", "0.0006000000"),
        bedrock(r, "GLM 5", "Input tokens", "APN1-zai.glm5-input-tokens", "0.0012000000"),
        bedrock(r, "GLM 5", "Output tokens", "APN1-zai.glm5-output-tokens", "0.0038400000"),
    ]


def virginia_first_party() -> list[str]:
    r = "us-east-1"
    return [
        bedrock(
            r, "Nova Micro", "Input tokens", "USE1-NovaMicro-input-tokens", "0.0000350000", provider="Amazon"
        ),
        bedrock(
            r,
            "Nova Micro",
            "Output tokens",
            "USE1-NovaMicro-output-tokens",
            "0.0001400000",
            provider="Amazon",
        ),
        # a customization row for the same model must not become its on-demand price
        bedrock(
            r,
            "Nova Micro",
            "Input tokens",
            "USE1-NovaMicro-Model-Customization-input-tokens",
            "0.0010000000",
            feature="Model Customization",
            provider="Amazon",
        ),
    ]


def haiku45(region: str, prefix: str) -> list[str]:
    return [
        marketplace(region, prefix, HAIKU45, "InputTokenCount", "1.1"),
        marketplace(region, prefix, HAIKU45, "InputTokenCount_Global", "1"),
        marketplace(region, prefix, HAIKU45, "OutputTokenCount", "5.5"),
        marketplace(region, prefix, HAIKU45, "OutputTokenCount_Global", "5"),
        marketplace(region, prefix, HAIKU45, "InputTokenCount_Batch", "0.55"),
        marketplace(region, prefix, HAIKU45, "CacheReadInputTokenCount", "0.11"),
        marketplace(region, prefix, HAIKU45, "CacheWriteInputTokenCount", "1.375"),
        marketplace(region, prefix, HAIKU45, "CacheReadInputTokenCount_Global", "0.1"),
        marketplace(region, prefix, HAIKU45, "CacheWriteInputTokenCount_Global", "1.25"),
    ]


def pages(region: str) -> dict[str, list[list[str]]]:
    """The GetProducts pages per service code for a Region (first-party split over two pages)."""
    first = {"ap-northeast-1": tokyo_first_party(), "us-east-1": virginia_first_party()}.get(region, [])
    fm = {"us-east-1": haiku45("us-east-1", "USE1"), "us-west-2": haiku45("us-west-2", "USW2")}.get(
        region, []
    )
    half = len(first) // 2
    return {"AmazonBedrock": [first[:half], first[half:]], "AmazonBedrockFoundationModels": [fm]}


def stub_region(stub: Any, region: str) -> None:
    """Queue the GetProducts calls `fetch_region` makes for `region`, with botocore validating each."""
    for service, service_pages in pages(region).items():
        for n, page in enumerate(service_pages):
            expected: dict[str, Any] = {
                "ServiceCode": service,
                "Filters": [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}],
                "FormatVersion": "aws_v1",
                "MaxResults": 100,
            }
            if n:
                expected["NextToken"] = f"{service}-page-{n}"
            response: dict[str, Any] = {"FormatVersion": "aws_v1", "PriceList": page}
            if n + 1 < len(service_pages):
                response["NextToken"] = f"{service}-page-{n + 1}"
            stub.add_response("get_products", response, expected)
