"""`bedrock-usage prices`: what a call to a model costs in a Region, and where each rate comes from."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NoReturn

from bedrock_usage.price import Pricer, genai_name
from bedrock_usage.pricing.cache import Catalogue, store_from
from bedrock_usage.pricing.price_list import PRICING_REGION, model_keys


def show_prices(
    args: argparse.Namespace,
    region: str,
    cache_location: str,
    *,
    load_overrides: Callable[[str | None, Any], Any],
    fail: Callable[[str], NoReturn],
) -> int:
    """`bedrock-usage prices MODEL... --region R`: the rates for a call made in R, and their source."""
    import boto3

    from bedrock_usage.pipeline import PRICING_CONFIG

    session = boto3.session.Session(region_name=region)
    overrides = load_overrides(args.prices, session)
    try:
        store = store_from(cache_location, lambda service: session.client(service))  # type: ignore[call-overload]
    except ValueError as exc:
        fail(str(exc))
    catalogue = (
        Catalogue(
            store,
            pricing=lambda: session.client("pricing", region_name=PRICING_REGION, config=PRICING_CONFIG),
        )
        if store is not None
        else None
    )
    pricer = Pricer(
        overrides,
        bedrock=lambda r: session.client("bedrock", region_name=r or region),
        catalogue=catalogue,
        default_region=region,
    )
    now = datetime.now(UTC)
    results = [_price_entry(pricer, model_id, region, now) for model_id in args.model_ids]
    if catalogue is not None:
        catalogue.save()
    warnings = list(dict.fromkeys(catalogue.warnings)) if catalogue is not None else []
    if args.format == "json":
        print(json.dumps(results, indent=2))
    else:
        _print_prices(results)
    for warning in warnings:
        print(f"bedrock-usage: warning: {warning}", file=sys.stderr)
    return 0


def _price_entry(pricer: Any, model_id: str, region: str, now: datetime) -> dict[str, Any]:
    quote = pricer.quote(model_id, now, region)
    unit = quote.unit
    return {
        "model_id": model_id,
        "region": region,
        "kind": quote.resolution.kind,
        "geo": quote.resolution.geo,
        "resolved_model": quote.info.resolved_model,
        "priced": quote.info.priced,
        "source": quote.info.source,
        "approximate": quote.info.approximate,
        "note": quote.info.note,
        "per_million_tokens_usd": None
        if unit is None
        else {
            "input": float(unit.input),
            "output": float(unit.output),
            "cache_read": float(unit.cache_read),
            "cache_write": float(unit.cache_write),
        },
        "listed": _listed(pricer, quote, region),
    }


def _listed(pricer: Any, quote: Any, region: str) -> dict[str, float] | None:
    """Every Price List rate for the model in the Region (batch, flex, global, long context, ...)."""
    base = quote.resolution.base_model
    rates = pricer.catalogue.region(region) if pricer.catalogue is not None and base else None
    found = rates.lookup(model_keys(base, genai_name(base))) if rates is not None else None
    return None if found is None else {slot: float(v) for slot, v in sorted(found[1].items())}


def _print_prices(results: list[dict[str, Any]]) -> None:
    for r in results:
        print(r["model_id"])
        geo = f", {r['geo']} profile" if r["geo"] else ""
        print(f"  kind      {r['kind']}{geo}")
        print(f"  resolves  {r['resolved_model'] or '(unresolved)'}")
        print(f"  called in {r['region']}")
        p = r["per_million_tokens_usd"]
        if p is None:
            print("  price     unpriced")
        else:
            print(
                f"  per 1M    input ${p['input']:g}, output ${p['output']:g}, "
                f"cache read ${p['cache_read']:g}, cache write ${p['cache_write']:g}"
            )
        print(f"  source    {r['source']}" + (" (approximate)" if r["approximate"] else ""))
        if r["note"]:
            print(f"  note      {r['note']}")
        if r["listed"]:
            listed = ", ".join(f"{slot} ${v:g}" for slot, v in r["listed"].items())
            print(f"  listed    {listed} (per 1M tokens: kind:tier:routing:context)")
