"""Finding 6: provisioned throughput that is paid for by the hour but served no invocations in the window.

ListProvisionedModelThroughputs (status InService) lists what is running; a provisioned model is invoked by
its ARN (or name), which is the ModelId its calls are logged and measured under. Its hourly rate depends on
the model, the units and the commitment term, and is not in the price data this report uses, so the finding
gives the units and hours and leaves the dollar figure unpriced rather than invent a rate.
"""

from __future__ import annotations

from typing import Any

from bedrock_usage.model import Finding, Report, Usage

KIND = "idle-provisioned"


def in_service(bedrock: Any) -> list[dict[str, Any]]:
    """Provisioned throughputs in service in the client's Region (paginated: one call per 100)."""
    pages = bedrock.get_paginator("list_provisioned_model_throughputs").paginate(statusEquals="InService")
    return [s for page in pages for s in page.get("provisionedModelSummaries", [])]


def idle_provisioned(report: Report, usage: Usage, summaries: list[dict[str, Any]]) -> list[Finding]:
    """A finding per provisioned throughput with no invocations in the window."""
    found = []
    for pt in summaries:
        arn, name = pt["provisionedModelArn"], pt["provisionedModelName"]
        ids = {arn, name, arn.rsplit("/", 1)[-1]}
        calls = sum(c.invocations for model_id, c in usage.by_model.items() if model_id in ids)
        if calls:
            continue
        units = pt.get("modelUnits")
        term = pt.get("commitmentDuration") or "no commitment (hourly)"
        found.append(
            Finding(
                kind=KIND,
                severity="high",
                title=f"Provisioned throughput {name} served no calls in {report.window.hours:g} h",
                action=(
                    "Delete it if nothing will use it"
                    + (
                        " (it has no commitment, so billing stops)"
                        if not pt.get("commitmentDuration")
                        else ""
                    )
                    + ", or point the traffic that should use it at its ARN. Its hourly rate per model "
                    "unit is on the Bedrock pricing page (not in this report's price data)."
                ),
                monthly_usd=None,
                evidence={
                    "provisioned_model_arn": arn,
                    "foundation_model_arn": pt.get("foundationModelArn"),
                    "model_units": units,
                    "commitment": term,
                    "commitment_expires": _iso(pt.get("commitmentExpirationTime")),
                    "created": _iso(pt.get("creationTime")),
                    "window_hours": report.window.hours,
                    "invocations": 0,
                    "hourly_usd": None,
                    "unpriced": "provisioned throughput rates are not in the price data",
                },
            )
        )
    return found


def _iso(value: Any) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")
