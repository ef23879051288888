"""Finding 1: prompt-cache writes that reads did not pay back (caching made the window dearer, not cheaper).

A cache write costs more than plain input (1.25x for Claude's 5-minute TTL) and a read costs less (0.1x).
Net effect = reads x (input - read rate) - writes x (write rate - input); below zero, caching lost money and
stopping it would save exactly that. Per caller and model where the invocation logs name callers, else per
model.
"""

from __future__ import annotations

from datetime import datetime

from bedrock_usage.advise.common import dollars, model_unit, per_month, severity_for
from bedrock_usage.model import Counts, Finding, Report, Usage
from bedrock_usage.price import Pricer

KIND = "cache-unread"


def unread_cache(report: Report, usage: Usage, pricer: Pricer, at: datetime) -> list[Finding]:
    """A finding per (caller, model), or per model without caller data, whose caching had a net cost."""
    if usage.by_caller:
        groups: list[tuple[str | None, str, Counts]] = [
            (caller, model_id, counts) for (caller, model_id), counts in usage.by_caller.items()
        ]
    else:
        groups = [(None, model_id, counts) for model_id, counts in usage.by_model.items()]
    found = []
    for caller, model_id, counts in groups:
        if not counts.cache_write_tokens:
            continue
        unit = model_unit(pricer, usage, model_id, at)
        if unit is None:
            continue
        net = unit.cache_savings(counts)
        if net >= 0:
            continue
        monthly = per_month(-net, report.window.hours)
        who = f"{caller} on {model_id}" if caller else model_id
        ratio = counts.cache_read_tokens / counts.cache_write_tokens
        found.append(
            Finding(
                kind=KIND,
                severity=severity_for(monthly),
                title=f"Prompt-cache writes are rarely read back: {who}",
                action=(
                    "Put the stable part of the prompt (system prompt, tools, documents) first and the cache "
                    "point right after it, so later calls within the cache TTL read it; if calls share no "
                    "prefix, stop setting a cache point."
                ),
                monthly_usd=monthly,
                evidence={
                    "caller": caller,
                    "model_id": model_id,
                    "cache_write_tokens": counts.cache_write_tokens,
                    "cache_read_tokens": counts.cache_read_tokens,
                    "reads_per_write": round(ratio, 3),
                    "window_net_usd": dollars(net),
                    "method": "reads x (input - cache read) - writes x (cache write - input); "
                    "x 730 / window hours",
                },
            )
        )
    return found
