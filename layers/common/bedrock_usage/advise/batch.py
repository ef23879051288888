"""Finding 3: callers whose traffic looks non-interactive, on models with a cheaper batch or flex rate.

Never certain: the invocation logs do not say whether anyone waits for an answer. Signals used, per caller
and model: large requests (on average at least 4,000 input tokens a call) and a caller name that reads like a
job (batch, job, etl, nightly, cron, pipeline, backfill, worker). A caller with both is a candidate. Hour of
day and streaming share are not split by caller in the collected data, so they are not used (said in the
evidence). The saving is the same tokens at the lowest batch or flex rate the AWS Price List gives for the
model and calling Region (cache tokens, and a kind the tier does not list, stay at their standard rate); with
no such rate the saving is unpriced.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

from bedrock_usage.advise.common import dollars, model_unit, per_month, severity_for
from bedrock_usage.model import Finding, Report, Usage
from bedrock_usage.price import Pricer
from bedrock_usage.pricing.units import UnitPrices

KIND = "batch-candidate"
LARGE_AVERAGE_INPUT = 4_000
_JOB_NAME = re.compile(r"batch|job|etl|nightly|cron|pipeline|backfill|worker", re.IGNORECASE)
UNUSED_SIGNALS = ["hour of day per caller", "streaming share per caller"]


def _discounted(
    pricer: Pricer, model_id: str, region: str | None, unit: UnitPrices
) -> tuple[str, UnitPrices] | None:
    """The cheapest batch or flex rates listed for the model; a kind (input or output) the tier does not list
    stays at the standard rate, so the saving is never overstated."""
    slots = pricer.listed(model_id, region) or {}
    routing = "global" if pricer.resolve(model_id).geo == "global" else "regional"
    options = []
    for tier in ("batch", "flex"):
        inp = slots.get(f"input:{tier}:{routing}:base") or slots.get(f"input:{tier}:regional:base")
        out = slots.get(f"output:{tier}:{routing}:base") or slots.get(f"output:{tier}:regional:base")
        if inp is not None or out is not None:
            rates = UnitPrices(inp or unit.input, out or unit.output, unit.cache_read, unit.cache_write)
            options.append((tier, rates))
    return min(options, key=lambda o: o[1].input + o[1].output) if options else None


def batch_candidates(report: Report, usage: Usage, pricer: Pricer, at: datetime) -> list[Finding]:
    """A finding per (caller, model) showing both signals; dollars where a batch/flex rate is listed."""
    found = []
    for (caller, model_id), counts in usage.by_caller.items():
        if not counts.invocations:
            continue
        average = counts.total_input_tokens / counts.invocations
        signals = {
            "large_requests": average >= LARGE_AVERAGE_INPUT,
            "job_like_name": bool(_JOB_NAME.search(caller)),
        }
        if not all(signals.values()):
            continue
        unit = model_unit(pricer, usage, model_id, at)
        if unit is None:
            continue
        regions = sorted(usage.by_region.get(model_id, {}))
        cheaper = _discounted(pricer, model_id, regions[0] if regions else None, unit)
        monthly: Decimal | None = None
        evidence: dict[str, object] = {
            "caller": caller,
            "model_id": model_id,
            "invocations": counts.invocations,
            "average_input_tokens": round(average),
            "signals": [k for k, v in signals.items() if v],
            "signals_not_used": UNUSED_SIGNALS,
            "window_cost_usd": dollars(unit.cost(counts)),
        }
        if cheaper is not None:
            tier, rates = cheaper
            saving = unit.cost(counts) - rates.cost(counts)
            monthly = per_month(saving, report.window.hours) if saving > 0 else None
            evidence |= {"tier": tier, "window_cost_at_tier_usd": dollars(rates.cost(counts))}
        else:
            evidence["unpriced"] = "no batch or flex rate in the price data for this model and Region"
        found.append(
            Finding(
                kind=KIND,
                severity=severity_for(monthly) if monthly is not None else "low",
                title=f"{caller} on {model_id} looks like non-interactive work",
                action=(
                    "If no one waits for these answers, send them as a batch inference job (or the flex "
                    "service tier) at the discounted rate. Signals, not certainty: "
                    + ", ".join(k.replace("_", " ") for k, v in signals.items() if v)
                    + "."
                ),
                monthly_usd=monthly,
                evidence=evidence,
            )
        )
    return found
