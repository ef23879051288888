"""The AWS Price List for Bedrock, per Region: every token rate it lists, by model, tier and routing.

Source: the Price List Query API, `pricing:GetProducts` (free of charge), with two service codes
(REFERENCE.md §8): `AmazonBedrock` (first-party and open-weight models, named by the `model` attribute,
rates usually per 1K tokens) and `AmazonBedrockFoundationModels` (Marketplace-billed models such as
Claude, named only by `servicename` "… (Amazon Bedrock Edition)", rates per 1M tokens). Every product
carries `regionCode`, so a Region is fetched with one TERM_MATCH filter.

Each product becomes a rate in a *slot* `kind:tier:routing:context`:
- kind: input | output | cache_read | cache_write | cache_write_1h (from `inferenceType`, or the
  Marketplace usage type's stem: InputTokenCount, CacheReadInputTokenCount, cache_write_tokens, …);
- tier: standard | batch | flex | priority (usage type suffixes `-batch`, `_Batch`, `-flex`, …);
- routing: regional | global (`Cross-region global …`, `_Global`);
- context: base | long (a "long context" inference type or usage type; not seen in public captures).
Provisioned throughput, model customization, custom-model, reserved and `-mantle` (the separate
OpenAI-compatible endpoint, whose calls are not in the invocation logs) products are left out. Units are
normalised from the `unit` field ("1K tokens", "1M tokens", "Tokens") to USD per 1M tokens.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

SERVICE_CODES = ("AmazonBedrock", "AmazonBedrockFoundationModels")
PRICING_REGION = "us-east-1"  # the Price List Query API endpoint
SOURCE = "AWS Price List"
MILLION = Decimal(1_000_000)

_UNITS = {"1k tokens": Decimal(1000), "1m tokens": Decimal(1), "tokens": MILLION, "token": MILLION}
_SKIP = re.compile(r"provisioned|customi[sz]ation|custom-model|reserved|mantle|\btpm\b", re.IGNORECASE)
_EDITION = re.compile(r"\s*\(amazon bedrock edition\)\s*$", re.IGNORECASE)
_REGION_IN_TEXT = re.compile(r"\|([a-z]{2}(?:-gov)?-[a-z]+-\d)\|")
_DATE = re.compile(r"-\d{8}")
_VERSION = re.compile(r"-v(\d+)(?::\d+)?$|:\d+$|-\d+:\d+$")


def name_key(name: str) -> str:
    """'Claude Sonnet 4.5 (Amazon Bedrock Edition)' -> 'claudesonnet45'; 'Command R+' -> 'commandrplus'."""
    text = _EDITION.sub("", name).lower().replace("+", "plus")
    return re.sub(r"[^a-z0-9]", "", text)


def model_keys(base_model: str, display_name: str | None = None) -> list[str]:
    """Catalogue keys to try for a base model ID, most specific first.

    'anthropic.claude-3-5-sonnet-20241022-v2:0' -> ['claude35sonnetv2', 'claude35sonnet'];
    'meta.llama3-3-70b-instruct-v1:0' -> ['llama3370binstruct', 'llama3370b'].
    """
    stem = base_model.split(".", 1)[1] if "." in base_model else base_model
    stem = _DATE.sub("", stem)
    version = _VERSION.search(stem)
    stem = _VERSION.sub("", stem)
    keys = []
    if version and version.group(1) and int(version.group(1)) > 1:
        keys.append(name_key(f"{stem} v{version.group(1)}"))
    keys.append(name_key(stem))
    for suffix in ("-instruct", "-chat", "-text"):
        if stem.endswith(suffix):
            keys.append(name_key(stem[: -len(suffix)]))
    if display_name:
        keys.append(name_key(display_name))
    return [k for k in dict.fromkeys(keys) if k]


@dataclass(frozen=True)
class PriceRow:
    """One priced dimension of one product, in USD per 1M tokens."""

    region: str
    keys: tuple[str, ...]  # catalogue keys of the model the row prices
    name: str  # the model's name in the Price List
    slot: str  # kind:tier:routing:context
    per_million: Decimal
    usagetype: str


def _kind(text: str) -> str | None:
    compact = re.sub(r"[\s_-]", "", text.lower())
    if "token" not in compact:
        return None  # images, video seconds, guardrail text units: not token rates
    if "cacheread" in compact:
        return "cache_read"
    if "cachewrite1h" in compact or ("cachewrite" in compact and "1h" in compact):
        return "cache_write_1h"
    if "cachewrite" in compact:
        return "cache_write"
    if "input" in compact:
        return "input"
    if "output" in compact:
        return "output"
    return None


def _dimension(text: str) -> tuple[str, str, str]:
    t = text.lower()
    tier = "standard"
    for name in ("batch", "flex", "priority"):
        if name in t:
            tier = name
    routing = "global" if "global" in t else "regional"
    context = "long" if re.search(r"long[\s_-]?context|lctx|longctx", t) else "base"
    return tier, routing, context


def _marketplace_stem(usagetype: str) -> str:
    """'USE1-MP:USE1_CacheReadInputTokenCount_Global-Units' -> 'CacheReadInputTokenCount_Global'."""
    stem = usagetype.split(":", 1)[-1]
    stem = re.sub(r"^[A-Z0-9]+_", "", stem)
    return re.sub(r"-Units$", "", stem)


def parse_item(item: str | dict[str, Any]) -> list[PriceRow]:
    """The token rates of one GetProducts PriceList entry (a JSON string); [] for anything else."""
    doc = json.loads(item) if isinstance(item, str) else item
    product = doc.get("product") or {}
    attrs: dict[str, str] = product.get("attributes") or {}
    service = doc.get("serviceCode") or attrs.get("servicecode", "")
    usagetype = attrs.get("usagetype", "")
    if _SKIP.search(" ".join((usagetype, attrs.get("feature", ""), attrs.get("inferenceType", "")))):
        return []
    if service == "AmazonBedrockFoundationModels":
        name = _EDITION.sub("", attrs.get("servicename", ""))
        described = _marketplace_stem(usagetype)
        keys = [name_key(name)]
    else:
        name = attrs.get("model") or attrs.get("titanModel") or ""
        described = " ".join((attrs.get("inferenceType", ""), usagetype, attrs.get("feature", "")))
        keys = [name_key(name)]
        provider = attrs.get("provider", "")
        if provider and not name.lower().startswith(provider.lower()):
            keys.append(name_key(f"{provider} {name}"))
    kind = _kind(attrs.get("inferenceType", "") or described) or _kind(described)
    if not name or kind is None:
        return []
    tier, routing, context = _dimension(described + " " + attrs.get("service_tier", ""))
    rows = []
    for term in ((doc.get("terms") or {}).get("OnDemand") or {}).values():
        for dim in (term.get("priceDimensions") or {}).values():
            per_million = _per_million(dim)
            if per_million is None:
                continue
            region = attrs.get("regionCode") or _region_from(dim.get("description", ""))
            if not region:
                continue
            rows.append(
                PriceRow(
                    region,
                    tuple(dict.fromkeys(keys)),
                    name,
                    f"{kind}:{tier}:{routing}:{context}",
                    per_million,
                    usagetype,
                )
            )
    return rows


def _per_million(dim: dict[str, Any]) -> Decimal | None:
    scale = _UNITS.get(str(dim.get("unit", "")).strip().lower())
    if scale is None:
        return None
    try:
        price = Decimal(str((dim.get("pricePerUnit") or {})["USD"]))
    except (KeyError, InvalidOperation):
        return None
    if not price.is_finite() or price < 0 or dim.get("beginRange", "0") not in ("0", 0):
        return None  # volume bands beyond the first are not per-request token rates
    return (price * scale).normalize()


def _region_from(description: str) -> str | None:
    match = _REGION_IN_TEXT.search(description)
    return match.group(1) if match else None


@dataclass
class RegionRates:
    """One Region's rates: catalogue key -> slot -> USD per 1M tokens, and the Price List's names."""

    region: str
    fetched_at: datetime
    rates: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    def add(self, row: PriceRow) -> None:
        for key in row.keys:
            slots = self.rates.setdefault(key, {})
            # Twin products (a service-tier twin of the on-demand row) carry the same price; where two
            # disagree, keep the higher so that the estimate is never low.
            slots[row.slot] = max(slots.get(row.slot, row.per_million), row.per_million)
            self.names.setdefault(key, row.name)

    def lookup(self, keys: Iterable[str]) -> tuple[str, dict[str, Decimal]] | None:
        for key in keys:
            if key in self.rates:
                return key, self.rates[key]
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "fetched_at": self.fetched_at.astimezone(UTC).isoformat(),
            "rates": {k: {s: str(v) for s, v in slots.items()} for k, slots in self.rates.items()},
            "names": self.names,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RegionRates:
        return cls(
            region=str(data["region"]),
            fetched_at=datetime.fromisoformat(str(data["fetched_at"])),
            rates={
                str(k): {str(s): Decimal(str(v)) for s, v in slots.items()}
                for k, slots in data["rates"].items()
            },
            names={str(k): str(v) for k, v in data.get("names", {}).items()},
        )


def fetch_region(pricing: Any, region: str, now: datetime | None = None) -> RegionRates:
    """Every Bedrock token rate the Price List lists for `region` (both service codes, all pages).

    `pricing` is a Price List client (us-east-1). Raises botocore errors; a Region with no Bedrock
    products gives an empty RegionRates.
    """
    rates = RegionRates(region, (now or datetime.now(UTC)).astimezone(UTC))
    for item in _items(pricing, region):
        for row in parse_item(item):
            if row.region == region:
                rates.add(row)
    return rates


def _items(pricing: Any, region: str) -> Iterator[str]:
    for service in SERVICE_CODES:
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {
                "ServiceCode": service,
                "Filters": [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}],
                "FormatVersion": "aws_v1",
                "MaxResults": 100,
            }
            if token:
                kwargs["NextToken"] = token
            page = pricing.get_products(**kwargs)
            yield from page.get("PriceList", [])
            token = page.get("NextToken")
            if not token:
                break


def token_rates(slots: dict[str, Decimal], geo: str | None) -> tuple[dict[str, Decimal], list[str]] | None:
    """Input/output/cache rates (USD per 1M) for an on-demand call, and notes; None without input/output.

    A `global.` profile call takes the global rates (list price) where the Region lists them; every other
    call (in-Region or a geographic profile) takes the Region's own rates.
    """
    routing = "global" if geo == "global" else "regional"
    notes: list[str] = []

    def rate(kind: str) -> Decimal | None:
        found = slots.get(f"{kind}:standard:{routing}:base")
        if found is None and routing == "global":
            found = slots.get(f"{kind}:standard:regional:base")
            if found is not None and kind == "input":
                notes.append("no global rate listed; the Region's rate is used")
        return found

    inp, out = rate("input"), rate("output")
    if inp is None or out is None:
        return None
    rates = {"input": inp, "output": out}
    for kind in ("cache_read", "cache_write"):
        found = rate(kind)
        if found is None:
            found = inp
            notes.append(f"no {kind.replace('_', '-')} rate listed; priced at the input rate")
        rates[kind] = found
    return rates, notes


def describe(slots: dict[str, Decimal]) -> list[tuple[str, Decimal]]:
    """Every listed slot, sorted, for `bedrock-usage prices`."""
    return sorted(slots.items())
