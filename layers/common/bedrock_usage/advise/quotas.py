"""Finding 4: quota headroom. Peak per-minute use of each model against its RPM and TPM quotas.

Quotas: Service Quotas, service code `bedrock` (ListServiceQuotas: applied values;
ListAWSDefaultServiceQuotas: defaults, read only when a model has no applied value). Names follow
"<scope> model inference <requests|tokens> per minute for <provider> <model name>", where the scope is
"On-demand" (in-Region ID), "Cross-region" (us., eu., ... profiles) or "Global cross-region" (global.);
e.g. L-4A6BFAB1 / L-F4DDD3EB "Cross-region model inference requests / tokens per minute for Anthropic
Claude Sonnet 4.5 V1" (aws-samples/sample-quota-dashboard-for-amazon-bedrock lib/bedrock-registries.ts
@5edbea22; REFERENCE.md 14.4). The model's provider and name come from ListFoundationModels.
Use: GetMetricData at 60 s over the window (1-minute data is kept 15 days): Invocations; tokens as
EstimatedTPMQuotaUsage (AWS's own estimate with output burndown and cache writes, since 2026-03-12,
REFERENCE.md 4) where the model has it, else InputTokenCount + CacheWriteInputTokenCount + OutputTokenCount
(cache reads do not count toward TPM, REFERENCE.md 13.1; burndown, x5 output on recent Claude models, is then
not applied, so real quota use can be higher); and InvocationThrottles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bedrock_usage.model import Finding, Window
from bedrock_usage.price import Pricer

KIND = "quota-headroom"
WARN_AT = 0.8
MINUTE_DATA = timedelta(days=15)
_NAME_RE = re.compile(
    r"^(on demand|cross region|global cross region) model inference (requests|tokens) per minute for (.+)$"
)
_SCOPE = {"on demand": "on-demand", "cross region": "cross-region", "global cross region": "global"}
TOKEN_METRICS = ("InputTokenCount", "CacheWriteInputTokenCount", "OutputTokenCount")
ESTIMATE = "EstimatedTPMQuotaUsage"
QuotaKey = tuple[str, str, str]  # (scope, requests|tokens, normalised model name)


@dataclass(frozen=True)
class Quota:
    code: str
    name: str
    value: float


def _norm(text: str) -> str:
    return " ".join(text.lower().replace("-", " ").split())


def quota_list(service_quotas: Any, *, defaults: bool = False) -> list[Quota]:
    """Bedrock's per-minute model quotas (applied, or AWS defaults), every page."""
    op = "list_aws_default_service_quotas" if defaults else "list_service_quotas"
    pages = service_quotas.get_paginator(op).paginate(
        ServiceCode="bedrock", PaginationConfig={"PageSize": 100}
    )
    return [
        Quota(q["QuotaCode"], q["QuotaName"], float(q["Value"]))
        for page in pages
        for q in page.get("Quotas", [])
        if "Value" in q and _NAME_RE.match(_norm(q["QuotaName"]))
    ]


def quota_index(listed: list[Quota]) -> dict[QuotaKey, Quota]:
    """The quotas by (scope, requests|tokens, normalised model name)."""
    out: dict[QuotaKey, Quota] = {}
    for quota in listed:
        match = _NAME_RE.match(_norm(quota.name))
        if match:
            out[(_SCOPE[match[1]], match[2], match[3])] = quota
    return out


def _scope(geo: str | None) -> str:
    return "on-demand" if geo is None else "global" if geo == "global" else "cross-region"


def _names(summary: dict[str, Any]) -> list[str]:
    """The ways a quota name spells the model: '<provider> <name>', with or without ' V1'."""
    full = _norm(f"{summary.get('providerName', '')} {summary.get('modelName', '')}")
    return [full, f"{full} v1", _norm(summary.get("modelName", ""))]


def peaks(cloudwatch: Any, model_ids: list[str], window: Window) -> dict[str, dict[str, float]]:
    """Per model: peak requests and tokens in one minute, and throttles, from one GetMetricData paginated."""
    start = max(window.start, window.end - MINUTE_DATA)
    queries, names = [], {}
    for i, model_id in enumerate(model_ids):
        for metric in ("Invocations", "InvocationThrottles", ESTIMATE, *TOKEN_METRICS):
            qid = f"m{i}_{metric.lower()}"
            names[qid] = (model_id, metric)
            queries.append(
                {
                    "Id": qid,
                    "MetricStat": {
                        "Metric": {
                            "Namespace": "AWS/Bedrock",
                            "MetricName": metric,
                            "Dimensions": [{"Name": "ModelId", "Value": model_id}],
                        },
                        "Period": 60,
                        "Stat": "Sum",
                    },
                    "ReturnData": True,
                }
            )
    series: dict[tuple[str, str], dict[Any, float]] = {}
    for chunk in range(0, len(queries), 500):
        pages = cloudwatch.get_paginator("get_metric_data").paginate(
            MetricDataQueries=queries[chunk : chunk + 500], StartTime=start, EndTime=window.end
        )
        for page in pages:
            for result in page.get("MetricDataResults", []):
                points = series.setdefault(names[result["Id"]], {})
                for ts, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False):
                    points[ts] = points.get(ts, 0.0) + value
    out = {}
    for model_id in model_ids:
        tokens: dict[Any, float] = {}
        for metric in TOKEN_METRICS:
            for ts, value in series.get((model_id, metric), {}).items():
                tokens[ts] = tokens.get(ts, 0.0) + value
        estimate = series.get((model_id, ESTIMATE), {})
        out[model_id] = {
            "rpm": max(series.get((model_id, "Invocations"), {}).values(), default=0.0),
            "tpm": max((estimate or tokens).values(), default=0.0),
            "estimated": 1.0 if estimate else 0.0,
            "throttles": sum(series.get((model_id, "InvocationThrottles"), {}).values()),
        }
    return out


def headroom(
    region: str,
    model_ids: list[str],
    pricer: Pricer,
    catalogue: dict[str, dict[str, Any]],
    quotas: dict[QuotaKey, Quota],
    use: dict[str, dict[str, float]],
) -> tuple[list[Finding], list[str]]:
    """Findings for models at >= 80% of a per-minute quota or throttled; and the models no quota matched."""
    found, unmatched = [], []
    for model_id in model_ids:
        res = pricer.resolve(model_id)
        summary = catalogue.get(res.base_model or "")
        scope = _scope(res.geo)
        pair = {}
        for kind in ("requests", "tokens"):
            quota = next(
                (quotas[(scope, kind, n)] for n in _names(summary or {}) if (scope, kind, n) in quotas), None
            )
            if quota is not None:
                pair[kind] = quota
        if not pair:
            unmatched.append(model_id)
            continue
        peak = use.get(model_id, {"rpm": 0.0, "tpm": 0.0, "throttles": 0.0})
        checks = [(k, q, peak["rpm" if k == "requests" else "tpm"]) for k, q in pair.items()]
        worst = max(checks, key=lambda c: c[2] / c[1].value if c[1].value else float("inf"))
        kind, quota, value = worst
        share = value / quota.value if quota.value else float("inf")
        throttled = peak["throttles"] > 0
        if share < WARN_AT and not throttled:
            continue
        why = (
            f"peak {value:,.0f} {kind} a minute is {share:.0%} of the quota" if quota.value else "quota is 0"
        )
        action = (
            f"Request an increase of '{quota.name}' ({quota.code}) in {region}: "
            f"https://{region}.console.aws.amazon.com/servicequotas/home/services/bedrock/quotas/{quota.code}"
        )
        if throttled and share < WARN_AT:
            action += (
                ". Throttled below the quota: tokens per minute are reserved at request start as input + "
                "cache + maxTokens, and an unset maxTokens reserves the model's maximum; set maxTokens near "
                "the real output length before asking for more"
            )
        found.append(
            Finding(
                kind=KIND,
                severity="high" if throttled or share >= 1 else "medium",
                title=f"{model_id} in {region}: {why}"
                + (f", {peak['throttles']:,.0f} calls throttled" if throttled else ""),
                action=action + ".",
                monthly_usd=None,
                evidence={
                    "model_id": model_id,
                    "region": region,
                    **{
                        f"{k}_quota": {"name": q.name, "code": q.code, "value": q.value}
                        for k, q in pair.items()
                    },
                    "peak_requests_per_minute": peak["rpm"],
                    "peak_tokens_per_minute": peak["tpm"],
                    "throttles": peak["throttles"],
                    "tokens_measure": ESTIMATE
                    if peak.get("estimated")
                    else "input + cache write + output (no burndown)",
                    "method": "peak 60-s Sum of Invocations and of tokens, against the applied "
                    "(else default) quota",
                },
            )
        )
    return found, unmatched
