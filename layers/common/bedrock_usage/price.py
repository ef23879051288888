"""Resolve every Bedrock ModelId form to a base model and price its token usage.

Sources, in order: a user override (pricing/overrides.py); the AWS Price List rate of the calling Region
(pricing/price_list.py, cached daily by pricing/cache.py); the pinned `genai-prices` library (US list
prices). A model that cannot be priced is reported with ``priced=False`` and a cost of None, never $0.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import genai_prices
from botocore.exceptions import BotoCoreError, ClientError
from genai_prices import Usage as GenaiUsage
from genai_prices import calc_price
from genai_prices.data_snapshot import get_snapshot

from bedrock_usage.model import Counts, PriceInfo
from bedrock_usage.pricing.cache import Catalogue
from bedrock_usage.pricing.overrides import (
    PRICE_OVERRIDES_ENV,
    PriceOverrideError,
    PriceOverrides,
    load_overrides,
    overrides_from_env,
)
from bedrock_usage.pricing.price_list import SOURCE as PRICE_LIST_SOURCE
from bedrock_usage.pricing.price_list import model_keys, token_rates
from bedrock_usage.pricing.units import MILLION, UnitPrices

__all__ = [
    "LIBRARY_SOURCE",
    "PRICE_OVERRIDES_ENV",
    "PriceOverrideError",
    "PriceOverrides",
    "Pricer",
    "Quote",
    "Resolution",
    "UnitPrices",
    "load_overrides",
    "overrides_from_env",
    "parse_model_id",
]

LIBRARY_SOURCE = f"genai-prices {genai_prices.__version__}"

# Cross-region profile prefixes; `us-gov` must be tried before `us` (REFERENCE.md 13.6).
GEO_PREFIXES = ("global", "us-gov", "us", "eu", "apac", "jp", "au", "ca", "in")
_PREFIX_RE = re.compile(r"^(global|us-gov|us|eu|apac|jp|au|ca|in)\.(.+)$")
_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:bedrock:(?P<region>[a-z0-9-]*):(?P<account>\d*):(?P<kind>[a-z-]+)/(?P<rest>.+)$"
)
# Application inference profile IDs are 12 lower-case alphanumerics, e.g. 82ey7vcct4m3.
_AIP_ID_RE = re.compile(r"^[a-z0-9]{12}$")


@dataclass(frozen=True)
class Resolution:
    """What a ModelId names: its kind, the base model behind it and the profile's geography."""

    model_id: str
    kind: str  # base | system-profile | application-profile | provisioned | custom | unknown
    base_model: str | None
    geo: str | None = None  # global, us, eu, ...; None for a base ID (in-region)
    profile_id: str | None = None  # the ID with its ARN stripped (system or application profile)
    note: str | None = None


@dataclass(frozen=True)
class Quote:
    """A price decision for one ModelId: the PriceInfo shown in reports and the unit prices used."""

    info: PriceInfo
    unit: UnitPrices | None
    resolution: Resolution


# ---------------------------------------------------------------------------------------------
# ModelId resolution


def parse_model_id(model_id: str) -> Resolution:
    """Classify a ModelId without calling AWS (application profiles need `Pricer.resolve`)."""
    raw = model_id.strip()
    arn = _ARN_RE.match(raw)
    if arn:
        kind, rest = arn["kind"], arn["rest"]
        if kind == "foundation-model":
            return _from_profile_or_base(model_id, rest)
        if kind == "inference-profile":
            return _from_profile_or_base(model_id, rest)
        if kind == "application-inference-profile":
            return Resolution(model_id, "application-profile", None, profile_id=rest)
        if kind == "provisioned-model":
            return Resolution(
                model_id,
                "provisioned",
                None,
                note="provisioned throughput is billed per model-unit hour, not per token",
            )
        if kind in {"custom-model", "custom-model-deployment", "imported-model"}:
            return Resolution(model_id, "custom", None, note=f"{kind} ARNs have no list token price")
        return Resolution(model_id, "unknown", None, note=f"unknown Bedrock ARN resource type '{kind}'")
    if _AIP_ID_RE.match(raw):
        return Resolution(model_id, "application-profile", None, profile_id=raw)
    return _from_profile_or_base(model_id, raw)


def _from_profile_or_base(model_id: str, ident: str) -> Resolution:
    match = _PREFIX_RE.match(ident)
    if match:
        return Resolution(model_id, "system-profile", match[2], geo=match[1], profile_id=ident)
    return Resolution(model_id, "base", ident)


def _geography(region: str) -> str:
    """us-east-1 -> us, eu-west-3 -> eu, ap-south-1 -> ap, us-gov-west-1 -> us."""
    return region.split("-", 1)[0]


# Per process: application inference profiles do not change model, and GetInferenceProfile is rate limited.
_PROFILE_CACHE: dict[str, Resolution] = {}


def clear_profile_cache() -> None:
    _PROFILE_CACHE.clear()


def _region_of(model_id: str) -> str | None:
    arn = _ARN_RE.match(model_id)
    return arn["region"] or None if arn else None


def resolve_application_profile(res: Resolution, bedrock: Any) -> Resolution:
    """Look up an application inference profile's model with GetInferenceProfile (cached per process)."""
    key = res.model_id
    if key in _PROFILE_CACHE:
        return _PROFILE_CACHE[key]
    identifier = res.model_id if res.model_id.startswith("arn:") else (res.profile_id or res.model_id)
    try:
        answer = bedrock.get_inference_profile(inferenceProfileIdentifier=identifier)
    except (ClientError, BotoCoreError) as exc:
        # No credentials or no endpoint (BotoCoreError) is as transient as throttling: not cached.
        code = (
            exc.response.get("Error", {}).get("Code", "error")
            if isinstance(exc, ClientError)
            else type(exc).__name__
        )
        resolved = Resolution(
            res.model_id,
            "application-profile",
            None,
            profile_id=res.profile_id,
            note=f"GetInferenceProfile failed ({code}); application profile not resolved",
        )
        transient = {"ThrottlingException", "ServiceUnavailableException", "InternalServerException"}
        if isinstance(exc, ClientError) and code not in transient:
            _PROFILE_CACHE[key] = resolved  # a transient error is retried on the next report
        return resolved
    arns = [m["modelArn"] for m in answer.get("models", []) if m.get("modelArn")]
    bases = {parse_model_id(a).base_model for a in arns} - {None}
    if len(bases) != 1:
        resolved = Resolution(
            res.model_id,
            "application-profile",
            None,
            profile_id=res.profile_id,
            note=f"application profile routes to {len(bases)} models; cannot choose one price",
        )
    else:
        base = bases.pop()
        regions = {r for r in (_region_of(a) for a in arns) if r}
        # A profile copied from a global profile routes across geographies; AWS bills global at list price.
        geo = "global" if len({_geography(r) for r in regions}) > 1 else None
        inferred = "global, inferred from its routing regions" if geo else "regional"
        resolved = Resolution(
            res.model_id,
            "application-profile",
            base,
            geo=geo,
            profile_id=res.profile_id,
            note=f"application inference profile -> {base} ({inferred})",
        )
    _PROFILE_CACHE[key] = resolved
    return resolved


# ---------------------------------------------------------------------------------------------
# Library prices


_SAMPLE = 1000  # small enough to stay in the base tier of context-tiered prices


def library_unit_prices(model_ref: str, at: datetime) -> tuple[UnitPrices, bool]:
    """USD per 1M tokens from genai-prices for `model_ref`, and whether the model has tiered prices.

    Raises LookupError for a model the library does not know. Aggregated usage is priced at the base
    tier: the long-context tiers apply per request, which aggregates cannot tell.
    """

    def total(**kw: int) -> tuple[Decimal, Any]:
        calc = calc_price(GenaiUsage(**kw), model_ref, provider_id="aws", genai_request_timestamp=at)
        return Decimal(calc.total_price), calc

    scale = MILLION / _SAMPLE
    inp, calc = total(input_tokens=_SAMPLE)
    out, _ = total(output_tokens=_SAMPLE)
    # genai-prices counts cached tokens inside input_tokens (Bedrock's inputTokenCount excludes them).
    cread, _ = total(input_tokens=_SAMPLE, cache_read_tokens=_SAMPLE)
    cwrite, _ = total(input_tokens=_SAMPLE, cache_write_tokens=_SAMPLE)
    tiered = "Tier" in type(getattr(calc.model_price, "input_mtok", None)).__name__
    unit = UnitPrices(inp * scale, out * scale, cread * scale, cwrite * scale)
    return UnitPrices(
        *(p.normalize() for p in (unit.input, unit.output, unit.cache_read, unit.cache_write))
    ), tiered


@cache
def genai_name(base_model: str) -> str | None:
    """genai-prices' display name for a Bedrock base model ('Nova Lite'), to match Price List names."""
    for provider in get_snapshot().providers:
        if provider.id != "aws":
            continue
        for model in provider.models:
            if (model.id == base_model or model.id.endswith("." + base_model)) and model.name:
                return str(model.name)
    return None


# ---------------------------------------------------------------------------------------------
# The pricer


class Pricer:
    """Prices ModelIds: resolution, overrides, then genai-prices. Decisions are cached per (id, day)."""

    def __init__(
        self,
        overrides: PriceOverrides | None = None,
        *,
        bedrock: Callable[[str | None], Any] | None = None,
        catalogue: Catalogue | None = None,
        default_region: str | None = None,
    ) -> None:
        """`bedrock(region)` returns a Bedrock control-plane client (region None: the default one).

        With a `catalogue`, a call's price is the AWS Price List rate of its calling Region (`region`, else
        `default_region`); genai-prices is the fallback for a model the Price List does not list there.
        """
        self.overrides = overrides
        self._bedrock = bedrock
        self.catalogue = catalogue
        self.default_region = default_region
        self._quotes: dict[tuple[str, date, str | None], Quote] = {}

    def resolve(self, model_id: str) -> Resolution:
        res = parse_model_id(model_id)
        if res.kind != "application-profile":
            return res
        if self._bedrock is None:
            return Resolution(
                model_id,
                res.kind,
                None,
                profile_id=res.profile_id,
                note="application inference profile: no Bedrock client to resolve it",
            )
        return resolve_application_profile(res, self._bedrock(_region_of(model_id)))

    def quote(self, model_id: str, at: datetime | None = None, region: str | None = None) -> Quote:
        """The price decision for a call to `model_id` made in `region` (None or "unknown": the default)."""
        moment = (at or datetime.now(UTC)).astimezone(UTC)
        calling = region if region and region != "unknown" else self.default_region
        key = (model_id, moment.date(), calling)
        if key not in self._quotes:
            self._quotes[key] = self._decide(model_id, moment, calling)
        return self._quotes[key]

    def info(self, model_id: str, at: datetime | None = None) -> PriceInfo:
        return self.quote(model_id, at).info

    def cost(self, model_id: str, counts: Counts, at: datetime | None = None) -> Decimal | None:
        unit = self.quote(model_id, at).unit
        return None if unit is None else unit.cost(counts)

    def cache_savings(self, model_id: str, counts: Counts, at: datetime | None = None) -> Decimal | None:
        unit = self.quote(model_id, at).unit
        return None if unit is None else unit.cache_savings(counts)

    def _override(self, res: Resolution) -> tuple[UnitPrices, str | None] | None:
        if self.overrides is None:
            return None
        keys = [res.model_id, res.profile_id, res.base_model]
        for k in keys:
            if k and k in self.overrides.models:
                return self.overrides.models[k]
        return None

    def _decide(self, model_id: str, at: datetime, region: str | None = None) -> Quote:
        res = self.resolve(model_id)
        quote = self._decide_base(res, model_id, at, region)
        if quote.info.region is None and region and quote.unit is not None and quote.info.priced:
            info = quote.info
            quote = Quote(
                PriceInfo(
                    info.model_id, info.resolved_model, True, info.source, info.approximate, info.note, region
                ),
                quote.unit,
                res,
            )
        return quote

    def listed(self, model_id: str, region: str | None) -> dict[str, Decimal] | None:
        """Every Price List rate for the model in the calling Region (slot -> USD per 1M), if listed."""
        calling = region if region and region != "unknown" else self.default_region
        res = self.resolve(model_id)
        if self.catalogue is None or calling is None or res.base_model is None:
            return None
        rates = self.catalogue.region(calling)
        found = rates.lookup(model_keys(res.base_model, genai_name(res.base_model))) if rates else None
        return found[1] if found else None

    def _from_price_list(self, res: Resolution, model_id: str, region: str | None) -> Quote | None:
        if self.catalogue is None or region is None or res.base_model is None:
            return None
        rates = self.catalogue.region(region)
        found = rates.lookup(model_keys(res.base_model, genai_name(res.base_model))) if rates else None
        decided = token_rates(found[1], res.geo) if found else None
        if rates is None or decided is None:
            return None
        per_million, notes = decided
        unit = UnitPrices(
            per_million["input"], per_million["output"], per_million["cache_read"], per_million["cache_write"]
        )
        source = f"{PRICE_LIST_SOURCE} {rates.fetched_at:%Y-%m-%d}"
        if self.overrides is not None and self.overrides.discount_percent:
            unit = unit.scaled((100 - self.overrides.discount_percent) / 100)
            source = f"{source} -{self.overrides.discount_percent}% (override:{self.overrides.where})"
        if res.note:
            notes.insert(0, res.note)
        info = PriceInfo(model_id, res.base_model, True, source, note="; ".join(notes) or None, region=region)
        return Quote(info, unit, res)

    def _decide_base(self, res: Resolution, model_id: str, at: datetime, region: str | None) -> Quote:
        override = self._override(res)
        if override is not None:
            prices, note = override
            assert self.overrides is not None
            info = PriceInfo(
                model_id, res.base_model or model_id, True, f"override:{self.overrides.where}", note=note
            )
            return Quote(info, prices, res)
        if res.base_model is None:
            return Quote(PriceInfo(model_id, None, False, "unpriced", note=res.note), None, res)
        listed = self._from_price_list(res, model_id, region)
        if listed is not None:
            return listed

        notes = [res.note] if res.note else []
        if self.catalogue is not None and region is not None:
            notes.append(f"not in the AWS Price List for {region}; US list price from genai-prices")
        approximate = False
        ref = f"{res.geo}.{res.base_model}" if res.geo else res.base_model
        unit: UnitPrices | None
        tiered = False
        try:
            unit, tiered = library_unit_prices(ref, at)
        except LookupError:
            if res.geo is None or res.geo == "us":
                unit = None
            else:
                # A geography the library does not list: geographic profiles cost the regional price.
                try:
                    unit, tiered = library_unit_prices(f"us.{res.base_model}", at)
                    approximate = True
                    notes.append(f"'{res.geo}.' profile priced at the model's regional (us.) price")
                except LookupError:
                    unit = None
        if unit is None:
            notes.append(f"{LIBRARY_SOURCE} has no price for {res.base_model}; add one in a price override")
            return Quote(
                PriceInfo(model_id, res.base_model, False, "unpriced", note="; ".join(notes)), None, res
            )
        if tiered:
            notes.append(
                "long-context rates apply per request: applied to requests seen in log files, "
                "not to CloudWatch metric totals"
            )
        source = LIBRARY_SOURCE
        if self.overrides is not None and self.overrides.discount_percent:
            unit = unit.scaled((100 - self.overrides.discount_percent) / 100)
            source = f"{LIBRARY_SOURCE} -{self.overrides.discount_percent}% (override:{self.overrides.where})"
        info = PriceInfo(
            model_id, res.base_model, True, source, approximate=approximate, note="; ".join(notes) or None
        )
        return Quote(info, unit, res)
