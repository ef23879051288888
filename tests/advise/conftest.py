"""Builders for the findings tests: a Usage filled by hand, priced and analysed by the real code."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from bedrock_usage.advise import advise
from bedrock_usage.analyze import build_report
from bedrock_usage.model import Counts, Report, Usage, Window
from bedrock_usage.price import Pricer

from ..engine.helpers import at

# A 24-hour window ending at 06:00 UTC, as the daily schedule runs it.
WINDOW = Window(at("2026-11-30T06:00:00"), at("2026-12-01T06:00:00"))
SONNET45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"
NOVA_LITE = "amazon.nova-lite-v1:0"
ALICE = "arn:aws:iam::123456789012:user/alice"
BOB = "arn:aws:sts::123456789012:assumed-role/BatchRole/job-42"

# List prices, USD per 1M tokens (REFERENCE.md section 8; Anthropic's Claude Sonnet 4.5 list price):
# global profile = list price; geographic (us., eu., ...) and in-Region = list + 10%.
SONNET_GLOBAL = {
    "input": Decimal(3),
    "output": Decimal(15),
    "cache_read": Decimal("0.3"),
    "cache_write": Decimal("3.75"),
}
SONNET_GEO = {k: v * Decimal("1.1") for k, v in SONNET_GLOBAL.items()}


def usage(window: Window = WINDOW) -> Usage:
    return Usage(window=window, source="log-files")


def add(u: Usage, model_id: str, counts: Counts, caller: str | None = ALICE, day: date | None = None) -> None:
    """Record `counts` as the collectors do: per model, per caller and (with `day`) per UTC day."""
    u.model(model_id).add(counts)
    if caller:
        u.caller(caller, model_id).add(counts)
    if day is not None:
        u.day(day, model_id).add(counts)


def analysed(u: Usage, pricer: Pricer | None = None) -> Report:
    """The report the pipeline would build from `u`, with its findings."""
    pricer = pricer or Pricer(default_region="us-east-1")
    report = build_report(u, pricer=pricer, now=u.window.end, regions=["us-east-1"])
    advise(report, u, pricer)
    return report


def days_before(end: date, n: int) -> list[date]:
    return [end - timedelta(days=i) for i in range(n, 0, -1)]
