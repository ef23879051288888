"""Finding 2: traffic on a geographic (`us.`, `eu.`, ...) profile or in-Region ID whose global one is cheaper.

Since Claude Sonnet 4.5, AWS bills `global.` profiles at list price and geographic / in-Region calls 10% more
(REFERENCE.md section 8). The saving is the same tokens priced at the global profile's rate, Region by Region,
through the report's own price resolution; a model with no cheaper global price yields nothing.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from bedrock_usage.advise.common import dollars, per_month, severity_for
from bedrock_usage.model import Counts, Finding, Report
from bedrock_usage.price import Pricer

KIND = "geo-vs-global"


def geo_vs_global(report: Report, pricer: Pricer, at: datetime) -> list[Finding]:
    """One finding per model line whose global profile would have cost less for the same tokens."""
    found = []
    for line in report.models:
        res = pricer.resolve(line.model_id)
        if line.cost_usd is None or res.base_model is None or res.kind not in ("base", "system-profile"):
            continue
        if res.geo == "global":
            continue
        global_id = f"global.{res.base_model}"
        parts: list[tuple[str | None, Counts]] = [(r.region, r.counts) for r in line.by_region] or [
            (line.price.region, line.counts)
        ]
        now_cost = global_cost = Decimal(0)
        for region, counts in parts:
            here, there = pricer.quote(line.model_id, at, region), pricer.quote(global_id, at, region)
            if here.unit is None or there.unit is None:
                break
            now_cost += here.unit.cost(counts)
            global_cost += there.unit.cost(counts)
        else:
            saving = now_cost - global_cost
            if saving <= 0:
                continue
            monthly = per_month(saving, report.window.hours)
            found.append(
                Finding(
                    kind=KIND,
                    severity=severity_for(monthly),
                    title=f"{line.model_id} costs {saving / now_cost:.0%} less on its global profile",
                    action=(
                        f"Call {global_id} instead of {line.model_id}. Caveat: a global profile may run "
                        "the request in any commercial Region, outside your geography; keep the geographic "
                        "profile where data residency requires it."
                    ),
                    monthly_usd=monthly,
                    evidence={
                        "model_id": line.model_id,
                        "global_profile": global_id,
                        "invocations": line.counts.invocations,
                        "window_cost_usd": dollars(now_cost),
                        "window_cost_on_global_usd": dollars(global_cost),
                        "window_hours": report.window.hours,
                        "method": "same tokens at the global profile's rate per calling Region; "
                        "x 730 / window hours",
                    },
                )
            )
    return found
