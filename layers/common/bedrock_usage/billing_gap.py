"""Why the bill differs from the estimate: each Bedrock usage type classified as seen by the logs, or not.

The estimate prices on-demand tokens from invocation logs and metrics; the bill also holds what those never
show (batch jobs, provisioned throughput, custom-model storage, guardrails, ...). Each usage type Cost
Explorer bills is put in one category; a usage type matching no rule is its own row under its own name, never
dropped.

Usage-type shapes, from public sources (real strings):
- Marketplace models ("<Model> (Amazon Bedrock Edition)"), CamelCase and snake_case families:
  `USE1-MP:USE1_InputTokenCount-Units`, `USW2-MP:USW2_InputTokenCount-Units`,
  `USE1-MP:USE1_CacheReadInputTokenCount-Units`, `USE1-MP:USE1_CacheWrite1hInputTokenCount_Global-Units`,
  `USE1-MP:USE1_input_tokens_global_standard-Units`, `USW2-MP:USW2_output_tokens_standard-Units`,
  batch `APN1-MP:APN1_MillionBatchInputTokens-Units`, reserved throughput
  `APS7-MP:APS7_Reserved_1Month_InputTPM_Geo-Units` (awssteph/reinvent25-cop401 `BedrockCostAllocation.sql`;
  an AWS sample Price List parser, MIT-0, find_string "MillionBatchInputTokens"; REFERENCE.md §8, §13.1).
- First-party (service "Amazon Bedrock"), dash family: `USE1-Claude3Haiku-input-tokens`,
  `USE1-NovaPro-input-tokens-latency-optimized`, `USE1-Llama3-1-405B-output-tokens-batch`,
  `USE1-Gemma-3-4B-IT-input-tokens-flex`, `USE1-GPT-OSS-Safeguard-20B-input-tokens-priority`,
  `USE1-Nova2.0Lite-input-tokens-cross-region-global`,
  `USE1-Claude4Sonnet-output-tokens-long-context-cross-region-global`,
  Mantle endpoint `USE1-openai.gpt-oss-120b-mantle-input-tokens-standard` (same sources; find_string
  "input-tokens-flex", "input-tokens-batch").
- Provisioned throughput, custom-model, guardrail and knowledge-base usage types: no real string was found in
  public sources; they are matched by the words AWS uses for those features (ProvisionedThroughput/ModelUnit,
  Customization/Training/Storage/Import, Guardrail, KnowledgeBase/Agent/Flow) and anything else lands in its
  own row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from .billing_model import Gap, UsageTypeCost

ON_DEMAND = "on-demand tokens"
BATCH = "batch inference"
PROVISIONED = "provisioned or reserved throughput"
CUSTOM = "custom models (training, storage, import)"
GUARDRAILS = "guardrails"
AGENTS = "knowledge bases, agents, flows"
TIERS = "flex, priority or latency-optimized tier"
MANTLE = "Mantle endpoint (not logged)"

# Order matters: the first rule that matches wins (a batch usage type also says "input-tokens").
_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (MANTLE, re.compile(r"-mantle-", re.I)),
    (PROVISIONED, re.compile(r"reserved|provisioned|modelunit|model-unit|_TPM|TPM_", re.I)),
    (BATCH, re.compile(r"batch", re.I)),
    (CUSTOM, re.compile(r"customi[sz]ation|training|storage|custom-model|import", re.I)),
    (GUARDRAILS, re.compile(r"guardrail", re.I)),
    (AGENTS, re.compile(r"knowledge|agent|flow|rerank", re.I)),
    (TIERS, re.compile(r"flex|priority|latency[-_]?optimi[sz]ed", re.I)),
)
# On-demand token usage: the three families of token names, with no tier word (a bare name is standard).
_TOKENS = re.compile(
    r"(?:Input|Output)TokenCount|Cache(?:Read|Write)\w*InputTokenCount"  # MP CamelCase
    r"|(?:input|output|cache_read|cache_write)_tokens"  # MP snake_case
    r"|-(?:input|output|cache-read|cache-write)(?:-input)?-token(?:s|-count)",  # first-party dash
    re.I,
)


def classify(usage_type: str) -> tuple[str, bool]:
    """(category, seen by the logs) for one usage type; an unmatched one is its own category."""
    for category, pattern in _RULES:
        if pattern.search(usage_type):
            return category, False
    if _TOKENS.search(usage_type):
        return ON_DEMAND, True
    return f"other: {usage_type}", False


def build_gap(
    rows: Iterable[UsageTypeCost], estimated_by_day: dict[date, Decimal | None], first: date, last: date
) -> Gap:
    """The gap over final days [first, last]: rows classified, the estimate summed over the same days."""
    classified = []
    for row in rows:
        row.category, row.in_logs = classify(row.usage_type)
        classified.append(row)
    estimated = sum((v or Decimal(0) for d, v in estimated_by_day.items() if first <= d <= last), Decimal(0))
    billed = sum((r.cost_usd for r in classified), Decimal(0))
    return Gap(first=first, last=last, billed_usd=billed, estimated_usd=estimated, rows=classified)
