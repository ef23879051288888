"""A deterministic, realistic sample Report for `make preview` and `bench/render.py` (no AWS needed).

The numbers follow real list prices (REFERENCE.md section 8) closely enough to look right; they are
display data, not a pricing test.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bedrock_usage.model import (
    CallerLine,
    Counts,
    DayLine,
    Latency,
    ModelLine,
    PriceInfo,
    Report,
    SourceFailure,
    Window,
)

ACCOUNT = "123456789012"
# (model ID as logged, resolved base model, $/1M input, $/1M output, $/1M cache read); None = unpriced
MODELS: list[tuple[str, str | None, float, float, float]] = [
    (
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        3.3,
        16.5,
        0.33,
    ),
    (
        "global.anthropic.claude-haiku-4-5-20251001-v1:0",
        "anthropic.claude-haiku-4-5-20251001-v1:0",
        1.0,
        5.0,
        0.1,
    ),
    (
        f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/us.amazon.nova-pro-v1:0",
        "amazon.nova-pro-v1:0",
        0.8,
        3.2,
        0.2,
    ),
    ("anthropic.claude-3-haiku-20240307-v1:0", "anthropic.claude-3-haiku-20240307-v1:0", 0.25, 1.25, 0.0),
    ("amazon.nova-lite-v1:0", "amazon.nova-lite-v1:0", 0.06, 0.24, 0.015),
    ("acme.private-model-v1:0", None, 0.0, 0.0, 0.0),
]
CALLERS = [
    f"arn:aws:sts::{ACCOUNT}:assumed-role/support-bot-prod/lambda-7f3a",
    f"arn:aws:sts::{ACCOUNT}:assumed-role/rag-indexer/batch-2026-11-27",
    f"arn:aws:iam::{ACCOUNT}:user/alice",
    f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_DataScience_4b1c/bob@example.com",
    f"arn:aws:iam::{ACCOUNT}:user/ci-evals",
    f"arn:aws:sts::{ACCOUNT}:assumed-role/notebook-sagemaker/carol",
]


def _cost(counts: Counts, price: tuple[float, float, float]) -> Decimal:
    p_in, p_out, p_cache = price
    dollars = (
        counts.input_tokens * p_in
        + counts.cache_write_tokens * p_in * 1.25
        + counts.cache_read_tokens * p_cache
        + counts.output_tokens * p_out
    ) / 1_000_000
    return Decimal(str(round(dollars, 6)))


def sample_report(
    *, models: int = 6, callers: int = 6, days: int = 14, seed: int = 7, failures: bool = True
) -> Report:
    """A report with `models` models and `callers` callers (the named ones first, then generated)."""
    rng = random.Random(seed)  # noqa: S311 - sample data, not security
    end = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
    window = Window(end - timedelta(hours=24), end)
    lines: list[ModelLine] = []
    for i in range(models):
        if i < len(MODELS):
            model_id, resolved, p_in, p_out, p_cache = MODELS[i]
        else:
            model_id = f"us.vendor{i}.model-{i}-v1:0"
            resolved, p_in, p_out, p_cache = f"vendor{i}.model-{i}-v1:0", 0.5, 2.0, 0.05
        scale = 1.0 / (1 + i * 0.9)
        calls = max(1, int(rng.uniform(3000, 9000) * scale))
        counts = Counts(
            invocations=calls,
            input_tokens=int(calls * rng.uniform(900, 2500)),
            output_tokens=int(calls * rng.uniform(200, 700)),
            cache_read_tokens=int(calls * rng.uniform(500, 3000)) if p_cache and i % 2 == 0 else 0,
            cache_write_tokens=int(calls * rng.uniform(50, 300)) if p_cache and i % 2 == 0 else 0,
            client_errors=int(calls * rng.uniform(0.0, 0.01)) if i != 2 else int(calls * 0.08),
            server_errors=int(calls * rng.uniform(0.0, 0.003)),
            throttles=12 if i == 1 else 0,
        )
        priced = resolved is not None
        cost = _cost(counts, (p_in, p_out, p_cache)) if priced else None
        prev_cost = cost * Decimal(str(round(rng.uniform(0.7, 1.15), 3))) if cost is not None else None
        savings = (
            Decimal(str(round(counts.cache_read_tokens * (p_in - p_cache) / 1_000_000, 6)))
            if priced and counts.cache_read_tokens
            else None
        )
        lines.append(
            ModelLine(
                model_id=model_id,
                price=PriceInfo(
                    model_id=model_id,
                    resolved_model=resolved,
                    priced=priced,
                    source="genai-prices 0.2.3" if priced else "unpriced",
                    note=None
                    if priced
                    else "no price for 'acme.private-model-v1:0' in genai-prices or overrides",
                ),
                counts=counts,
                cost_usd=cost,
                previous_cost_usd=prev_cost,
                latency=Latency(
                    average_ms=rng.uniform(600, 4000) if i != 1 else 11_800.0,
                    p50_ms=rng.uniform(500, 3000),
                    p90_ms=rng.uniform(3000, 8000),
                    p99_ms=rng.uniform(4000, 9000) if i != 3 else 13_400.0,
                    max_ms=rng.uniform(15000, 30000),
                ),
                cache_savings_usd=savings,
            )
        )
    lines.sort(key=lambda m: (m.cost_usd is None, -(m.cost_usd or 0), -m.counts.total_tokens))
    total_cost = sum((m.cost_usd for m in lines if m.cost_usd is not None), Decimal(0))
    for m in lines:
        m.share = float(m.cost_usd / total_cost) if m.cost_usd is not None and total_cost else None
    totals = Counts()
    for m in lines:
        totals.add(m.counts)

    caller_lines = []
    weights = [rng.paretovariate(1.2) for _ in range(callers)]
    weight_sum = sum(weights)
    for i in range(callers):
        arn = CALLERS[i] if i < len(CALLERS) else f"arn:aws:sts::{ACCOUNT}:assumed-role/team-{i}/session-{i}"
        part = weights[i] / weight_sum
        counts = Counts(
            invocations=max(1, int(totals.invocations * part)),
            input_tokens=int(totals.input_tokens * part),
            output_tokens=int(totals.output_tokens * part),
            cache_read_tokens=int(totals.cache_read_tokens * part),
        )
        caller_lines.append(
            CallerLine(
                caller=arn,
                counts=counts,
                cost_usd=(total_cost * Decimal(str(round(part, 6)))).quantize(Decimal("0.000001")),
                unpriced_invocations=int(counts.invocations * 0.02) if i % 4 == 3 else 0,
                models=[lines[j % len(lines)].model_id for j in range(i % 3 + 1)],
            )
        )
    caller_lines.sort(key=lambda c: -(c.cost_usd or 0))

    daily = []
    for d in range(days):
        day = (end - timedelta(days=days - d)).date()
        weekend = day.weekday() >= 5
        factor = rng.uniform(0.35, 0.5) if weekend else rng.uniform(0.8, 1.2)
        if d == days - 4:
            factor *= 1.9  # a spike worth noticing
        counts = Counts(
            invocations=int(totals.invocations * factor),
            input_tokens=int(totals.input_tokens * factor),
            output_tokens=int(totals.output_tokens * factor),
        )
        cost = (total_cost * Decimal(str(round(factor, 4)))).quantize(Decimal("0.01"))
        billed = (cost * Decimal("1.04")).quantize(Decimal("0.01")) if d < days - 2 else None
        daily.append(DayLine(day=day, counts=counts, cost_usd=cost, billed_usd=billed))

    month_days = end.day - 1 + 6 / 24
    mtd = (total_cost * Decimal(str(round(month_days * 0.93, 3)))).quantize(Decimal("0.01"))
    return Report(
        window=window,
        generated_at=end + timedelta(minutes=2),
        regions=["us-east-1", "eu-west-1"],
        source="cloudwatch-metrics + logs-insights",
        totals=totals,
        cost_usd=total_cost,
        unpriced_invocations=sum(m.counts.invocations for m in lines if m.cost_usd is None),
        models=lines,
        callers=caller_lines,
        daily=daily,
        previous_totals=Counts(
            invocations=int(totals.invocations * 0.91),
            input_tokens=int(totals.input_tokens * 0.88),
            output_tokens=int(totals.output_tokens * 0.9),
        ),
        previous_cost_usd=sum((m.previous_cost_usd or Decimal(0) for m in lines), Decimal(0)),
        month_to_date_usd=mtd,
        projected_month_usd=(mtd / Decimal(str(month_days)) * 30).quantize(Decimal("0.01")),
        budget_usd=Decimal("2500"),
        cache_savings_usd=sum((m.cache_savings_usd or Decimal(0) for m in lines), Decimal(0)),
        errors_by_code={"ValidationException": 41, "ThrottlingException": 37, "ModelTimeoutException": 3},
        skipped_records=0,
        warnings=[
            "Invocation counts from metrics and logs differ by 3.1% (logging was off for part of the window?)"
        ]
        if failures
        else [],
        failures=[
            SourceFailure(
                "logs-insights",
                "eu-west-1: query did not complete within 120 s and was stopped; per-caller numbers for "
                "eu-west-1 are missing",
            )
        ]
        if failures
        else [],
    )
