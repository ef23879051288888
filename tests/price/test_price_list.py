"""Regional prices from the AWS Price List: parsing, fetching, the daily cache and the fallbacks.

moto 5.2.5 has no Price List (`get_products` answers 404 "Not yet implemented"), so the API is driven with
botocore's Stubber, which validates every request against the pricing service model; the responses are
GetProducts PriceList entries in the real API's shape (see price_list_items.py for the sources).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from bedrock_usage.analyze import build_report
from bedrock_usage.cli import main
from bedrock_usage.collect.logfiles import collect_logfiles
from bedrock_usage.digest import render_digest
from bedrock_usage.price import LIBRARY_SOURCE, PriceOverrides, Pricer
from bedrock_usage.pricing.cache import Catalogue, FileStore
from bedrock_usage.pricing.price_list import fetch_region, model_keys, parse_item
from botocore.stub import Stubber

from tests.engine.helpers import record, window, write_gz

from .price_list_items import HAIKU45, haiku45, stub_region, tokyo_first_party

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
WINDOW = window("2026-11-30T00:00:00", "2026-12-01T00:00:00")
NOVA_MICRO = "amazon.nova-micro-v1:0"
HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"


@pytest.fixture
def pricing() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("pricing", region_name="us-east-1")
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def catalogue(tmp_path: Path, client: Any, now: datetime = NOW) -> Catalogue:
    return Catalogue(FileStore(tmp_path / "cache" / "price-list.json"), pricing=lambda: client, now=now)


# --- parsing ------------------------------------------------------------------------------------------


def test_first_party_rows_become_per_million_slots_and_non_on_demand_twins_stay_out() -> None:
    rows = [row for entry in tokyo_first_party() for row in parse_item(entry)]
    nova_pro = {r.slot: r.per_million for r in rows if r.name == "Nova Pro"}
    assert nova_pro == {
        "input:standard:regional:base": Decimal("0.96"),
        "output:standard:regional:base": Decimal("3.84"),
        "input:batch:regional:base": Decimal("0.48"),
        "cache_read:standard:regional:base": Decimal("0.24"),
    }
    glm = {r.slot: r.per_million for r in rows if r.name == "GLM 5"}
    # the -mantle twins (standard 1.2, flex 0.6) belong to the other endpoint: only the logged one counts
    assert glm == {
        "input:standard:regional:base": Decimal("1.2"),
        "output:standard:regional:base": Decimal("3.84"),
    }


def test_marketplace_rows_are_named_by_servicename_and_priced_per_million() -> None:
    rows = [row for entry in haiku45("us-east-1", "USE1") for row in parse_item(entry)]
    assert {r.name for r in rows} == {"Claude Haiku 4.5"}
    assert {r.slot: r.per_million for r in rows} == {
        "input:standard:regional:base": Decimal("1.1"),
        "input:standard:global:base": Decimal("1"),
        "output:standard:regional:base": Decimal("5.5"),
        "output:standard:global:base": Decimal("5"),
        "input:batch:regional:base": Decimal("0.55"),
        "cache_read:standard:regional:base": Decimal("0.11"),
        "cache_write:standard:regional:base": Decimal("1.375"),
        "cache_read:standard:global:base": Decimal("0.1"),
        "cache_write:standard:global:base": Decimal("1.25"),
    }


@pytest.mark.parametrize(
    ("model_id", "name"),
    [
        (HAIKU, HAIKU45),
        (NOVA_MICRO, "Nova Micro"),
        ("meta.llama3-3-70b-instruct-v1:0", "Llama 3.3 70B"),
        ("zai.glm-5", "GLM 5"),
        ("cohere.command-r-plus-v1:0", "Command R+"),
        ("anthropic.claude-3-haiku-20240307-v1:0", "Claude 3 Haiku"),
    ],
)
def test_model_ids_meet_their_price_list_names(model_id: str, name: str) -> None:
    from bedrock_usage.pricing.price_list import name_key

    assert name_key(name) in model_keys(model_id)


# --- fetching and regional costs ------------------------------------------------------------------------


def test_fetch_region_reads_both_service_codes_and_every_page(pricing: tuple[Any, Stubber]) -> None:
    client, stub = pricing
    stub_region(stub, "ap-northeast-1")
    rates = fetch_region(client, "ap-northeast-1", NOW)
    found = rates.lookup(model_keys(NOVA_MICRO))
    assert found is not None
    assert found[1]["input:standard:regional:base"] == Decimal("0.042")
    assert rates.fetched_at == NOW


def _records(tmp_path: Path) -> Path:
    calls = [
        # Nova Micro in Tokyo and in Virginia, the same tokens: 1,000,000 in + 250,000 out each
        ("ap-northeast-1", f"apac.{NOVA_MICRO}", 1_000_000, 250_000, None),
        ("us-east-1", NOVA_MICRO, 1_000_000, 250_000, None),
        # Claude Haiku 4.5 through the global profile, called in us-west-2: 200,000 in, 40,000 out,
        # 500,000 cache read
        ("us-west-2", f"global.{HAIKU}", 200_000, 40_000, 500_000),
        # a model in neither the Price List nor genai-prices
        ("us-east-1", "acme.mystery-model-v1:0", 5_000, 5_000, None),
    ]
    records = []
    for n, (region, model_id, inp, out, cache_read) in enumerate(calls):
        rec = record(
            f"2026-11-30T10:00:0{n}Z", model_id, input_tokens=inp, output_tokens=out, cache_read=cache_read
        )
        rec["region"] = region
        records.append(rec)
    return write_gz(tmp_path / "logs" / "r.json.gz", records)


def test_each_call_is_priced_at_its_calling_regions_price_list_rate(
    tmp_path: Path, pricing: tuple[Any, Stubber]
) -> None:
    client, stub = pricing
    for region in ("ap-northeast-1", "us-east-1", "us-west-2"):  # Regions in the order they are priced
        stub_region(stub, region)
    usage = collect_logfiles(str(_records(tmp_path)), WINDOW)
    report = build_report(
        usage, pricer=Pricer(catalogue=catalogue(tmp_path, client), default_region="us-east-1"), now=NOW
    )
    lines = {m.model_id: m for m in report.models}

    # By hand: Tokyo 1.0 x $0.042 + 0.25 x $0.168 = $0.084; Virginia 1.0 x $0.035 + 0.25 x $0.14 = $0.070
    tokyo, virginia = lines[f"apac.{NOVA_MICRO}"], lines[NOVA_MICRO]
    assert tokyo.cost_usd == Decimal("0.084")
    assert virginia.cost_usd == Decimal("0.070")
    assert (tokyo.price.region, tokyo.price.source) == ("ap-northeast-1", "AWS Price List 2026-12-01")
    # Global profile, list price: 0.2 x $1 + 0.04 x $5 + 0.5 x $0.10 = $0.45 (regional: $0.495)
    haiku = lines[f"global.{HAIKU}"]
    assert haiku.cost_usd == Decimal("0.45")
    assert haiku.price.region == "us-west-2"
    # Found in neither source: unpriced, never $0
    mystery = lines["acme.mystery-model-v1:0"]
    assert (mystery.cost_usd, mystery.price.priced) == (None, False)
    assert report.cost_usd == Decimal("0.084") + Decimal("0.070") + Decimal("0.45")
    # the JSON names the source and the Region of every priced row
    model_json = {m["model_id"]: m for m in json.loads(json.dumps(report.to_dict()))["models"]}
    assert model_json[f"apac.{NOVA_MICRO}"]["by_region"] == [
        {
            "region": "ap-northeast-1",
            "invocations": 1,
            "cost_usd": 0.084,
            "price_source": "AWS Price List 2026-12-01",
        }
    ]
    assert model_json[NOVA_MICRO]["price_region"] == "us-east-1"
    # the caller's cost is the sum of what their calls cost in their Regions
    assert report.callers[0].cost_usd == report.cost_usd


def test_one_model_called_in_two_regions_costs_the_sum_and_callers_split_it(
    tmp_path: Path, pricing: tuple[Any, Stubber]
) -> None:
    client, stub = pricing
    stub_region(stub, "ap-northeast-1")
    stub_region(stub, "us-east-1")
    records = []
    for n, (region, caller) in enumerate(
        [
            ("ap-northeast-1", "arn:aws:iam::123456789012:user/tokyo"),
            ("us-east-1", "arn:aws:iam::123456789012:user/va"),
        ]
    ):
        rec = record(
            f"2026-11-30T11:00:0{n}Z",
            NOVA_MICRO,
            caller=caller,
            input_tokens=1_000_000,
            output_tokens=250_000,
        )
        rec["region"] = region
        records.append(rec)
    write_gz(tmp_path / "two.json.gz", records)
    usage = collect_logfiles(str(tmp_path / "two.json.gz"), WINDOW)
    report = build_report(
        usage, pricer=Pricer(catalogue=catalogue(tmp_path, client), default_region="us-east-1"), now=NOW
    )
    (line,) = report.models
    assert line.cost_usd == Decimal("0.154")  # 0.084 Tokyo + 0.070 Virginia
    assert [(r.region, r.cost_usd) for r in line.by_region] == [
        ("ap-northeast-1", Decimal("0.084")),
        ("us-east-1", Decimal("0.070")),
    ]
    # same tokens each, so the blended rate gives each caller half of the total
    assert sorted(c.cost_usd for c in report.callers) == [Decimal("0.077"), Decimal("0.077")]


def test_an_override_still_wins_over_the_price_list(tmp_path: Path, pricing: tuple[Any, Stubber]) -> None:
    client, _ = pricing  # no call expected: the override decides first
    overrides = PriceOverrides.parse({"models": {NOVA_MICRO: {"input": 0.01, "output": 0.02}}}, "test")
    pricer = Pricer(overrides, catalogue=catalogue(tmp_path, client), default_region="ap-northeast-1")
    quote = pricer.quote(f"apac.{NOVA_MICRO}", NOW, "ap-northeast-1")
    assert quote.info.source == "override:test"
    assert quote.unit is not None
    assert quote.unit.input == Decimal("0.01")


# --- the cache ------------------------------------------------------------------------------------------


def _fill_cache(tmp_path: Path, fetched: datetime) -> None:
    client = boto3.client("pricing", region_name="us-east-1")
    with Stubber(client) as stub:
        stub_region(stub, "ap-northeast-1")
        cat = catalogue(tmp_path, client, now=fetched)
        assert cat.region("ap-northeast-1") is not None
        cat.save()


def test_a_fresh_cache_is_used_without_calling_the_price_list(
    tmp_path: Path, pricing: tuple[Any, Stubber]
) -> None:
    _fill_cache(tmp_path, NOW - timedelta(hours=20))
    client, _ = pricing  # the Stubber raises on any call
    cat = catalogue(tmp_path, client)
    quote = Pricer(catalogue=cat).quote(NOVA_MICRO, NOW, "ap-northeast-1")
    assert quote.unit is not None
    assert quote.unit.output == Decimal("0.168")
    assert quote.info.source == "AWS Price List 2026-11-30"
    assert cat.warnings == []


def test_a_stale_cache_is_fetched_again_and_saved(tmp_path: Path, pricing: tuple[Any, Stubber]) -> None:
    _fill_cache(tmp_path, NOW - timedelta(days=2))
    client, stub = pricing
    stub_region(stub, "ap-northeast-1")
    cat = catalogue(tmp_path, client)
    assert (
        Pricer(catalogue=cat).quote(NOVA_MICRO, NOW, "ap-northeast-1").info.source
        == "AWS Price List 2026-12-01"
    )
    cat.save()
    saved = json.loads((tmp_path / "cache" / "price-list.json").read_text())
    assert saved["regions"]["ap-northeast-1"]["fetched_at"].startswith("2026-12-01T06:00")


def test_an_unreachable_price_list_with_a_stale_cache_uses_it_and_says_so(
    tmp_path: Path, pricing: tuple[Any, Stubber]
) -> None:
    _fill_cache(tmp_path, NOW - timedelta(days=3))
    client, stub = pricing
    stub.add_client_error("get_products", service_error_code="ThrottlingException", http_status_code=400)
    cat = catalogue(tmp_path, client)
    quote = Pricer(catalogue=cat).quote(NOVA_MICRO, NOW, "ap-northeast-1")
    assert quote.unit is not None
    assert quote.unit.input == Decimal("0.042")
    assert cat.warnings == [
        "AWS Price List unreachable (ThrottlingException); ap-northeast-1 priced from the catalogue "
        "fetched 2026-11-28 06:00 UTC"
    ]


def test_an_unreachable_price_list_without_a_cache_falls_back_to_genai_prices_and_the_digest_goes_out(
    tmp_path: Path, pricing: tuple[Any, Stubber]
) -> None:
    client, stub = pricing
    stub.add_client_error("get_products", service_error_code="AccessDeniedException", http_status_code=403)
    cat = catalogue(tmp_path, client)
    write_gz(
        tmp_path / "t.json.gz",
        [
            record("2026-11-30T10:00:00Z", NOVA_MICRO, input_tokens=1_000_000, output_tokens=250_000)
            | {"region": "ap-northeast-1"}
        ],
    )
    usage = collect_logfiles(str(tmp_path / "t.json.gz"), WINDOW)
    report = build_report(usage, pricer=Pricer(catalogue=cat), now=NOW)
    (line,) = report.models
    # genai-prices' US list price: 1.0 x $0.035 + 0.25 x $0.14 = $0.070, named as such
    assert line.cost_usd == Decimal("0.070")
    assert line.price.source == LIBRARY_SOURCE
    assert "not in the AWS Price List for ap-northeast-1" in (line.price.note or "")
    assert cat.warnings == [
        "AWS Price List unreachable (AccessDeniedException); ap-northeast-1 priced from genai-prices "
        "(US list prices, not that Region's)"
    ]
    report.warnings.extend(cat.warnings)
    assert "AWS Price List unreachable" in render_digest(report).text


def test_an_unreadable_cache_file_is_only_a_cache(tmp_path: Path, pricing: tuple[Any, Stubber]) -> None:
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "price-list.json").write_text("{not json")
    client, stub = pricing
    stub_region(stub, "us-east-1")
    quote = Pricer(catalogue=catalogue(tmp_path, client)).quote(NOVA_MICRO, NOW, "us-east-1")
    assert quote.unit is not None
    assert quote.unit.input == Decimal("0.035")


# --- bedrock-usage prices MODEL --region R ---------------------------------------------------------------


def test_prices_command_shows_the_rates_of_a_call_made_in_the_region_with_their_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill_cache(tmp_path, datetime.now(UTC) - timedelta(hours=1))  # fresh: the command makes no call
    cache = str(tmp_path / "cache" / "price-list.json")
    args = ["prices", f"apac.{NOVA_MICRO}", "--region", "ap-northeast-1", "--price-cache", cache]
    assert main([*args, "--format", "json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["region"] == "ap-northeast-1"
    assert entry["source"].startswith("AWS Price List ")
    assert entry["per_million_tokens_usd"]["input"] == pytest.approx(0.042)
    assert entry["per_million_tokens_usd"]["output"] == pytest.approx(0.168)
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "called in ap-northeast-1" in text
    assert "input $0.042, output $0.168" in text


# --- long context, per request ------------------------------------------------------------------------


def test_a_request_above_the_long_context_threshold_is_charged_at_the_long_rates_for_all_its_tokens(
    tmp_path: Path,
) -> None:
    # genai-prices 0.2.3, global.anthropic.claude-haiku-5-5: $0.10 input per 1M up to 100,000 input
    # tokens, $0.50 above; a request above the threshold pays the tier rates for all its tokens. The tier
    # rates come from the library; the arithmetic is done here by hand.
    from bedrock_usage.pricing.long_context import library_tiers

    model = "global.anthropic.claude-haiku-5-5"
    tiers = library_tiers(model, WINDOW.start.date())
    assert tiers is not None
    assert tiers.threshold == 100_000
    alice, bob = "arn:aws:iam::123456789012:user/alice", "arn:aws:iam::123456789012:user/bob"
    write_gz(
        tmp_path / "lc.json.gz",
        [
            # 150,000 input tokens (above the threshold) and 1,000 out
            record("2026-11-30T10:00:00Z", model, caller=alice, input_tokens=150_000, output_tokens=1_000),
            # exactly at the threshold: base rates
            record("2026-11-30T10:00:01Z", model, caller=bob, input_tokens=100_000, output_tokens=1_000),
        ],
    )
    usage = collect_logfiles(str(tmp_path / "lc.json.gz"), WINDOW)
    report = build_report(usage, pricer=Pricer(), now=NOW)
    (line,) = report.models
    long_call = (150_000 * tiers.long.input + 1_000 * tiers.long.output) / 1_000_000
    base_call = (100_000 * tiers.base.input + 1_000 * tiers.base.output) / 1_000_000
    assert tiers.long.input == Decimal("0.5")  # the library's own figure, five times the base rate
    assert line.cost_usd == long_call + base_call
    assert "long-context rates applied to 1 request(s) above 100,000 input tokens" in (line.price.note or "")
    costs = {c.caller: c.cost_usd for c in report.callers}
    assert costs == {alice: long_call, bob: base_call}
    assert sum(d.cost_usd or 0 for d in report.daily) == long_call + base_call


# --- service tiers, per request -----------------------------------------------------------------------


def test_a_converse_call_on_the_flex_tier_is_charged_at_the_listed_flex_rate(
    tmp_path: Path, pricing: tuple[Any, Stubber]
) -> None:
    from .price_list_items import bedrock

    client, stub = pricing
    # The flex row's shape is the real one ("Input tokens flex", usage type suffix "-flex", as in the
    # 2026-08-26 capture); its figures here are illustrative (half the standard rate), not AWS's.
    flex = [
        bedrock(
            "ap-northeast-1", "Nova Pro", "Input tokens flex", "APN1-NovaPro-input-tokens-flex", "0.00048"
        ),
        bedrock(
            "ap-northeast-1", "Nova Pro", "Output tokens flex", "APN1-NovaPro-output-tokens-flex", "0.00192"
        ),
    ]
    first = tokyo_first_party()
    stub.add_response(
        "get_products",
        {"FormatVersion": "aws_v1", "PriceList": first + flex},
        {
            "ServiceCode": "AmazonBedrock",
            "Filters": [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": "ap-northeast-1"}],
            "FormatVersion": "aws_v1",
            "MaxResults": 100,
        },
    )
    stub.add_response(
        "get_products",
        {"FormatVersion": "aws_v1", "PriceList": []},
        {
            "ServiceCode": "AmazonBedrockFoundationModels",
            "Filters": [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": "ap-northeast-1"}],
            "FormatVersion": "aws_v1",
            "MaxResults": 100,
        },
    )
    nova_pro = "amazon.nova-pro-v1:0"
    records = []
    for n, tier in enumerate(["flex", "priority", None]):
        rec = record(f"2026-11-30T10:00:0{n}Z", nova_pro, input_tokens=1_000_000, output_tokens=100_000)
        rec["region"] = "ap-northeast-1"
        rec["input"]["inputBodyJson"] = {"messages": [], **({"serviceTier": {"type": tier}} if tier else {})}
        records.append(rec)
    write_gz(tmp_path / "tiers.json.gz", records)
    usage = collect_logfiles(str(tmp_path / "tiers.json.gz"), WINDOW)
    report = build_report(usage, pricer=Pricer(catalogue=catalogue(tmp_path, client)), now=NOW)
    (line,) = report.models
    standard = Decimal("0.96") + Decimal("0.1") * Decimal("3.84")  # 1M in + 0.1M out at $0.96 / $3.84
    flex_call = Decimal("0.48") + Decimal("0.1") * Decimal("1.92")
    # flex at its rate; priority has no listed rate here, so it stays at the standard rate, and says so
    assert line.cost_usd == flex_call + 2 * standard
    assert "flex/priority service-tier rates applied to 1 request(s)" in (line.price.note or "")
    assert "no tier rate listed" in (line.price.note or "")


def test_first_party_products_without_a_model_name_are_not_priced_as_a_model() -> None:
    from .price_list_items import item

    # An AmazonBedrock product that names no model (its servicename is the service's own) prices nothing.
    nameless = item(
        "AmazonBedrock",
        "us-east-1",
        {"servicename": "Amazon Bedrock", "usagetype": "USE1-input-tokens", "inferenceType": "Input tokens"},
        "1K tokens",
        "0.15",
        "$0.15 per 1K input tokens",
    )
    assert parse_item(nameless) == []
