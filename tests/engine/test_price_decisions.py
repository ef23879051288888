"""Every field of a price decision (Pricer.quote / info / listed / resolve) that a report, the JSON or
`bedrock-usage prices` shows: the source and note in words, the Region, the kind, the discount on Price List
rates, and which ModelId form an override is keyed by. Figures are written out by hand.

Price List rates come from a catalogue held in memory (cache only, never fetched), built from GetProducts
entries in the real API's shape (tests/price/price_list_items.py); GetInferenceProfile is answered by
botocore's Stubber (moto 5.2.5 does not implement it) with the real response shape, which botocore validates.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import boto3
import pytest
from bedrock_usage.model import Counts, PriceInfo
from bedrock_usage.price import LIBRARY_SOURCE, Pricer, clear_profile_cache, load_overrides, parse_model_id
from bedrock_usage.pricing.cache import Catalogue
from bedrock_usage.pricing.price_list import RegionRates, parse_item
from botocore.stub import Stubber

from tests.price.price_list_items import bedrock, tokyo_first_party

from .helpers import NOVA_LITE, SONNET45
from .test_price_profiles import AIP, profile

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
TOKYO = "ap-northeast-1"
NOVA_MICRO = "amazon.nova-micro-v1:0"
DEEPSEEK = "deepseek.r1-v1:0"  # its Price List name, "DeepSeek-R1", matches only genai-prices' display name
LUNA = "openai.gpt-5.6-luna"  # genai-prices: $1.10 in / $6.60 out until 2026-07-29, $0.22 / $1.32 from 07-30
PRICE_LIST_NOTES = (
    "no cache-read rate listed; priced at the input rate; "
    "no cache-write rate listed; priced at the input rate"
)
M = 1_000_000


@pytest.fixture(autouse=True)
def _fresh_profile_cache() -> None:
    clear_profile_cache()


class MemoryStore:
    """A catalogue store holding one JSON body, as the S3 object or the CLI's file would."""

    def __init__(self, body: bytes | None) -> None:
        self.body = body

    def read(self) -> bytes | None:
        return self.body

    def write(self, body: bytes) -> None:
        self.body = body


def tokyo_catalogue() -> Catalogue:
    """Tokyo's rates fetched an hour ago (fresh: no call), plus DeepSeek-R1 at $0.00135 / $0.0054 per 1K."""
    rates = RegionRates(TOKYO, NOW - timedelta(hours=1))
    deepseek = [
        bedrock(TOKYO, "DeepSeek-R1", "Input tokens", "APN1-DeepSeekR1-input-tokens", "0.00135"),
        bedrock(TOKYO, "DeepSeek-R1", "Output tokens", "APN1-DeepSeekR1-output-tokens", "0.0054"),
    ]
    for entry in [*tokyo_first_party(), *deepseek]:
        for row in parse_item(entry):
            rates.add(row)
    body = json.dumps({"schema": 1, "regions": {TOKYO: rates.to_json()}}).encode()
    return Catalogue(MemoryStore(body), pricing=None, now=NOW)


def stubbed_bedrock() -> tuple[object, Stubber]:
    client = boto3.client("bedrock", region_name="us-east-1")
    return client, Stubber(client)


# --- ModelId forms --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "model_id",
    [
        f"arn:aws:bedrock:us-east-1::foundation-model/{NOVA_LITE}",
        "arn:aws:bedrock:us-east-1:123456789012:prompt/abc",
        f" {NOVA_LITE} ",
    ],
)
def test_every_form_of_model_id_is_kept_as_given_in_its_resolution(model_id: str) -> None:
    assert parse_model_id(model_id).model_id == model_id


@pytest.mark.parametrize(
    "model_id",
    [
        f"arn:aws:bedrock:us-east-1::foundation-model/{NOVA_LITE}",
        "arn:aws:bedrock:us-east-1:123456789012:prompt/abc",
        f"{AIP}82ey7vcct4m3",
    ],
)
def test_an_override_keyed_by_the_full_arn_prices_that_arn(model_id: str) -> None:
    """Without a Bedrock client too: the override is the user's word for exactly that ID."""
    pricer = Pricer(load_overrides(json.dumps({"models": {model_id: {"input": 7, "output": 9}}})))
    assert pricer.cost(model_id, Counts(input_tokens=M, output_tokens=M), NOW) == Decimal(16)
    assert pricer.info(model_id, NOW).source == "override:inline"


def test_a_provisioned_model_is_named_as_such_and_says_why_it_has_no_token_price() -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123"
    assert parse_model_id(arn).kind == "provisioned"
    assert Pricer().quote(arn, NOW).resolution.kind == "provisioned"  # `bedrock-usage prices` shows it
    assert Pricer().info(arn, NOW) == PriceInfo(
        arn,
        None,
        False,
        "unpriced",
        note="provisioned throughput is billed per model-unit hour, not per token",
    )


def test_without_a_bedrock_client_an_application_profile_is_still_named_an_application_profile() -> None:
    res = Pricer().resolve(f"{AIP}82ey7vcct4m3")
    assert (res.kind, res.base_model, res.profile_id) == ("application-profile", None, "82ey7vcct4m3")


# --- application inference profiles ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("regions", "geo", "note", "input_price"),
    [
        (["us-east-1", "us-west-2"], None, f"application inference profile -> {SONNET45} (regional)", "3.3"),
        (
            ["us-east-1", "eu-west-1"],
            "global",
            f"application inference profile -> {SONNET45} (global, inferred from its routing regions)",
            "3",
        ),
    ],
)
def test_a_resolved_application_profile_says_what_it_resolved_to_and_how_it_is_priced(
    regions: list[str], geo: str | None, note: str, input_price: str
) -> None:
    arn = f"{AIP}82ey7vcct4m3"
    client, stub = stubbed_bedrock()
    with stub:
        stub.add_response("get_inference_profile", profile("82ey7vcct4m3", regions))
        quote = Pricer(bedrock=lambda region: client).quote(arn, NOW)
    assert (quote.resolution.kind, quote.resolution.geo) == ("application-profile", geo)
    assert quote.info == PriceInfo(arn, SONNET45, True, LIBRARY_SOURCE, note=note)
    assert quote.unit is not None
    assert quote.unit.input == Decimal(input_price)


def test_an_application_profile_routing_to_two_models_says_so_and_its_override_by_id_still_applies() -> None:
    arn = f"{AIP}82ey7vcct4m3"
    answer = profile("82ey7vcct4m3", ["us-east-1"])
    answer["models"].append({"modelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{NOVA_LITE}"})
    client, stub = stubbed_bedrock()
    with stub:
        stub.add_response("get_inference_profile", answer)
        res = Pricer(bedrock=lambda region: client).resolve(arn)
    assert (res.kind, res.base_model, res.profile_id) == ("application-profile", None, "82ey7vcct4m3")
    assert res.note == "application profile routes to 2 models; cannot choose one price"
    # resolved once per process: the override keyed by the profile ID or the full ARN prices it
    for key in ("82ey7vcct4m3", arn):
        overrides = load_overrides(json.dumps({"models": {key: {"input": 4, "output": 4}}}))
        pricer = Pricer(overrides, bedrock=lambda region: client)
        assert pricer.cost(arn, Counts(input_tokens=M), NOW) == Decimal(4)


def test_a_failed_lookup_still_names_an_application_profile_and_an_arn_override_prices_it() -> None:
    arn = f"{AIP}82ey7vcct4m3"
    client, stub = stubbed_bedrock()
    with stub:
        stub.add_client_error("get_inference_profile", service_error_code="AccessDeniedException")
        stub.add_client_error("get_inference_profile", service_error_code="ThrottlingException")
        assert Pricer(bedrock=lambda region: client).resolve(arn).kind == "application-profile"
        clear_profile_cache()
        overrides = load_overrides(json.dumps({"models": {arn: {"input": 5, "output": 5}}}))
        pricer = Pricer(overrides, bedrock=lambda region: client)
        assert pricer.cost(arn, Counts(input_tokens=M), NOW) == Decimal(5)
        assert pricer.quote(arn, NOW).resolution.kind == "application-profile"


def test_a_resolved_profile_keyed_by_its_full_arn_takes_the_override_not_the_list_price() -> None:
    arn = f"{AIP}82ey7vcct4m3"
    client, stub = stubbed_bedrock()
    overrides = load_overrides(json.dumps({"models": {arn: {"input": 1, "output": 1}}}))
    with stub:
        stub.add_response("get_inference_profile", profile("82ey7vcct4m3", ["us-east-1"]))
        pricer = Pricer(overrides, bedrock=lambda region: client)
        assert pricer.cost(arn, Counts(input_tokens=M), NOW) == Decimal(1)  # not Sonnet's $3.30


# --- library prices -------------------------------------------------------------------------------------


def test_a_library_price_for_a_call_in_a_region_names_the_region_and_says_nothing_of_the_price_list() -> None:
    quote = Pricer().quote(f"jp.{LUNA}", datetime(2026, 7, 20, tzinfo=UTC), "eu-west-1")
    assert quote.info == PriceInfo(
        f"jp.{LUNA}",
        LUNA,
        True,
        LIBRARY_SOURCE,
        approximate=True,
        note="'jp.' profile priced at the model's regional (us.) price",
        region="eu-west-1",
    )
    assert (quote.resolution.kind, quote.resolution.geo) == ("system-profile", "jp")


@pytest.mark.parametrize(("day", "input_price"), [(datetime(2026, 7, 20, tzinfo=UTC), "1.1"), (NOW, "0.22")])
def test_a_geography_the_library_lacks_takes_the_us_price_in_force_on_the_day(
    day: datetime, input_price: str
) -> None:
    unit = Pricer().quote(f"jp.{LUNA}", day).unit
    assert unit is not None
    assert unit.input == Decimal(input_price)


def test_an_unknown_model_is_unpriced_with_every_reason_in_its_note() -> None:
    model = "acme.mystery-model-v1:0"
    quote = Pricer(catalogue=tokyo_catalogue()).quote(model, NOW, TOKYO)
    assert quote.info == PriceInfo(
        model,
        model,
        False,
        "unpriced",
        note=f"not in the AWS Price List for {TOKYO}; US list price from genai-prices; "
        f"{LIBRARY_SOURCE} has no price for {model}; add one in a price override",
    )
    assert quote.resolution.kind == "base"


def test_a_model_missing_from_the_regions_price_list_joins_its_notes() -> None:
    quote = Pricer(catalogue=tokyo_catalogue()).quote(f"jp.{LUNA}", datetime(2026, 7, 20, tzinfo=UTC), TOKYO)
    assert quote.info.note == (
        f"not in the AWS Price List for {TOKYO}; US list price from genai-prices; "
        "'jp.' profile priced at the model's regional (us.) price"
    )


def test_an_override_on_a_profile_names_the_base_model_it_resolves_to() -> None:
    overrides = load_overrides(json.dumps({"models": {NOVA_LITE: {"input": 2, "output": 3}}}))
    quote = Pricer(overrides).quote(f"us.{NOVA_LITE}", NOW)
    assert quote.info == PriceInfo(f"us.{NOVA_LITE}", NOVA_LITE, True, "override:inline")
    assert (quote.resolution.kind, quote.resolution.geo) == ("system-profile", "us")


@pytest.mark.usefixtures("tokyo_local_time")
def test_a_call_is_priced_by_its_utc_day_wherever_the_report_runs() -> None:
    # 16:00 UTC on 29 July and 02:00 UTC on 30 July are both 30 July in Tokyo; the price cut applies from
    # 30 July, so the first call pays $1.10 per 1M input tokens and the second $0.22
    pricer = Pricer()
    before, after = datetime(2026, 7, 29, 16, tzinfo=UTC), datetime(2026, 7, 30, 2, tzinfo=UTC)
    assert pricer.cost(LUNA, Counts(input_tokens=M), before) == Decimal("1.1")
    assert pricer.cost(LUNA, Counts(input_tokens=M), after) == Decimal("0.22")


# --- Price List rates -----------------------------------------------------------------------------------


def test_a_price_list_rate_carries_every_field_the_report_shows() -> None:
    quote = Pricer(catalogue=tokyo_catalogue()).quote(f"apac.{NOVA_MICRO}", NOW, TOKYO)
    assert quote.info == PriceInfo(
        f"apac.{NOVA_MICRO}",
        NOVA_MICRO,
        True,
        "AWS Price List 2026-12-01",
        note=PRICE_LIST_NOTES,
        region=TOKYO,
    )
    assert (quote.resolution.kind, quote.resolution.geo) == ("system-profile", "apac")


def test_the_discount_applies_to_price_list_rates_and_is_named_in_the_source() -> None:
    overrides = load_overrides(json.dumps({"discount_percent": 12.5}))
    quote = Pricer(overrides, catalogue=tokyo_catalogue()).quote(NOVA_MICRO, NOW, TOKYO)
    # Tokyo Nova Micro $0.042 / $0.168 per 1M, less 12.5%: $0.03675 / $0.147
    assert quote.unit is not None
    assert (quote.unit.input, quote.unit.output) == (Decimal("0.03675"), Decimal("0.147"))
    assert quote.info.source == "AWS Price List 2026-12-01 -12.5% (override:inline)"


def test_a_calls_region_defaults_to_the_pricers_region_when_unknown() -> None:
    pricer = Pricer(catalogue=tokyo_catalogue(), default_region=TOKYO)
    for region in (None, "unknown"):
        quote = pricer.quote(NOVA_MICRO, NOW, region)
        assert quote.unit is not None
        assert (quote.unit.input, quote.info.region) == (Decimal("0.042"), TOKYO)
        assert pricer.listed(NOVA_MICRO, region) == {
            "input:standard:regional:base": Decimal("0.042"),
            "output:standard:regional:base": Decimal("0.168"),
        }


def test_a_model_listed_under_its_display_name_only_is_found_in_the_price_list() -> None:
    pricer = Pricer(catalogue=tokyo_catalogue())
    # DeepSeek-R1 in Tokyo: $1.35 / $5.40 per 1M (genai-prices' US price is the same: the source tells)
    assert pricer.quote(DEEPSEEK, NOW, TOKYO).info.source == "AWS Price List 2026-12-01"
    assert pricer.listed(DEEPSEEK, TOKYO) == {
        "input:standard:regional:base": Decimal("1.35"),
        "output:standard:regional:base": Decimal("5.4"),
    }


def test_an_application_profile_priced_from_the_price_list_keeps_its_note_first() -> None:
    arn = f"arn:aws:bedrock:{TOKYO}:123456789012:application-inference-profile/82ey7vcct4m3"
    client, stub = stubbed_bedrock()
    with stub:
        stub.add_response("get_inference_profile", profile("82ey7vcct4m3", [TOKYO], NOVA_MICRO))
        info = Pricer(bedrock=lambda region: client, catalogue=tokyo_catalogue()).quote(arn, NOW, TOKYO).info
    assert info.note == f"application inference profile -> {NOVA_MICRO} (regional); {PRICE_LIST_NOTES}"
    assert info.region == TOKYO


def test_without_a_region_nothing_is_asked_of_the_price_list_and_nothing_is_listed() -> None:
    catalogue = tokyo_catalogue()
    pricer = Pricer(catalogue=catalogue)
    assert pricer.quote(NOVA_MICRO, NOW).info.source == LIBRARY_SOURCE
    assert pricer.listed(NOVA_MICRO, None) is None
    assert catalogue.warnings == []  # no "None priced from genai-prices" warning
    assert Pricer(default_region=TOKYO).listed(NOVA_MICRO, None) is None  # no catalogue at all


def test_listed_is_none_for_what_the_price_list_cannot_price() -> None:
    pricer = Pricer(catalogue=tokyo_catalogue())
    assert pricer.listed("arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123", TOKYO) is None
    assert pricer.listed("acme.mystery-model-v1:0", TOKYO) is None
    # a Region with no rates at all (never fetched, cache only)
    assert pricer.listed(NOVA_MICRO, "eu-west-3") is None
