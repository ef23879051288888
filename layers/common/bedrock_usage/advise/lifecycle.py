"""Finding 5: models in use that Bedrock lists as LEGACY or with an end-of-life date.

Bedrock's ListFoundationModels gives each model's `modelLifecycle`: `status` ACTIVE | LEGACY and, where
announced, `legacyTime`, `publicExtendedAccessTime` and `endOfLifeTime` (botocore bedrock service model,
shape FoundationModelLifecycle). After the end-of-life date calls to the model fail, so the traffic seen in
the window is what would break.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bedrock_usage.advise.common import dollars
from bedrock_usage.model import Finding, Report
from bedrock_usage.price import Pricer

KIND = "end-of-life"
SOON = timedelta(days=90)  # an end of life closer than this is high severity


def foundation_models(bedrock: Any) -> dict[str, dict[str, Any]]:
    """Bedrock's model summaries in the client's Region, by model ID (one ListFoundationModels call)."""
    answer = bedrock.list_foundation_models()
    return {m["modelId"]: m for m in answer.get("modelSummaries", [])}


def end_of_life(
    report: Report, catalogues: dict[str, dict[str, dict[str, Any]]], pricer: Pricer, now: datetime
) -> list[Finding]:
    """A finding per model line whose base model is LEGACY or has an end-of-life date, in any Region read."""
    found = []
    for line in report.models:
        base = pricer.resolve(line.model_id).base_model
        if base is None:
            continue
        regions = [r.region for r in line.by_region] or list(catalogues)
        summary = next((catalogues[r][base] for r in regions if base in catalogues.get(r, {})), None)
        if summary is None:
            continue
        life = summary.get("modelLifecycle") or {}
        status, eol = life.get("status"), life.get("endOfLifeTime")
        if status != "LEGACY" and eol is None:
            continue
        when = f" on {eol:%Y-%m-%d}" if eol else ""
        severity = "high" if eol is not None and eol - now <= SOON else "medium"
        found.append(
            Finding(
                kind=KIND,
                severity=severity,
                title=f"{line.model_id} reaches end of life{when}"
                if eol
                else f"{line.model_id} is a legacy model",
                action=(
                    f"Move its {line.counts.invocations:,} calls in this window to a current model, tested,"
                    + (f" before {eol:%Y-%m-%d}: after that date calls to it fail." if eol else ".")
                ),
                monthly_usd=None,
                evidence={
                    "model_id": line.model_id,
                    "base_model": base,
                    "status": status,
                    "legacy_time": _day(life.get("legacyTime")),
                    "public_extended_access_time": _day(life.get("publicExtendedAccessTime")),
                    "end_of_life_time": _day(eol),
                    "invocations": line.counts.invocations,
                    "window_cost_usd": None if line.cost_usd is None else dollars(line.cost_usd),
                    "callers": sorted({c for (c, m) in _callers(report, line.model_id)}),
                },
            )
        )
    return found


def _day(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%d")


def _callers(report: Report, model_id: str) -> list[tuple[str, str]]:
    return [(c.caller, model_id) for c in report.callers if model_id in c.models][:10]
