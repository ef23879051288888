"""Pricing behaviour a report relies on, through the public functions (Pricer, load_overrides, build_report):
application inference profiles, overrides and the discount. Dollar figures are list prices written out
by hand (REFERENCE.md section 8): Claude Sonnet 4.5 $3.30/$16.50 regional, $3.00/$15.00 global;
Nova Lite $0.06/$0.24 per 1M input/output tokens.

GetInferenceProfile is answered by botocore's Stubber (moto 5.2.5 does not implement it) with the real
response shape, which botocore validates; S3 and SSM run on moto.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from bedrock_usage.analyze import build_report
from bedrock_usage.model import Counts, Usage, Window
from bedrock_usage.price import (
    LIBRARY_SOURCE,
    PRICE_OVERRIDES_ENV,
    PriceOverrideError,
    Pricer,
    clear_profile_cache,
    load_overrides,
    overrides_from_env,
    parse_model_id,
)
from botocore.stub import Stubber
from moto import mock_aws

from .helpers import NOVA_LITE, SONNET45

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
WINDOW = Window(datetime(2026, 11, 27, 12, tzinfo=UTC), NOW)
ACCOUNT = "123456789012"
AIP = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:application-inference-profile/"
COHERE = "cohere.command-r-v1:0"  # genai-prices 0.2.3 has no price for it
M = 1_000_000


@pytest.fixture(autouse=True)
def _fresh_profile_cache() -> None:
    clear_profile_cache()


def profile(profile_id: str, regions: list[str], model: str = SONNET45) -> dict[str, Any]:
    """GetInferenceProfile's response for an application profile routing `model` to `regions`."""
    return {
        "inferenceProfileName": f"team-{profile_id}",
        "inferenceProfileArn": f"{AIP}{profile_id}",
        "models": [{"modelArn": f"arn:aws:bedrock:{r}::foundation-model/{model}"} for r in regions],
        "inferenceProfileId": profile_id,
        "status": "ACTIVE",
        "type": "APPLICATION",
        "createdAt": NOW,
        "updatedAt": NOW,
    }


def test_several_application_profiles_in_one_report_are_each_priced_as_their_own_model() -> None:
    bedrock = boto3.client("bedrock", region_name="us-east-1")
    team_a, team_b, team_c = f"{AIP}aaaaaaaaaaa1", "bbbbbbbbbbb2", f"{AIP}ccccccccccc3"
    usage = Usage(window=WINDOW, source="test")
    usage.model(team_a).add(Counts(invocations=1, input_tokens=M, output_tokens=M // 10))
    usage.model(team_b).add(Counts(invocations=1, input_tokens=M, output_tokens=M))
    usage.model(team_c).add(Counts(invocations=1, input_tokens=M))
    with Stubber(bedrock) as stub:
        stub.add_response(
            "get_inference_profile",
            profile("aaaaaaaaaaa1", ["us-east-1", "us-east-2"]),
            {"inferenceProfileIdentifier": team_a},
        )
        stub.add_response(
            "get_inference_profile",
            profile("bbbbbbbbbbb2", ["us-east-1", "us-west-2"], NOVA_LITE),
            {"inferenceProfileIdentifier": team_b},
        )
        # Two geographies (us, eu): a profile copied from a global profile, billed at the global price.
        stub.add_response(
            "get_inference_profile",
            profile("ccccccccccc3", ["us-east-1", "eu-west-1"]),
            {"inferenceProfileIdentifier": team_c},
        )
        report = build_report(usage, pricer=Pricer(bedrock=lambda region: bedrock), now=NOW)
        stub.assert_no_pending_responses()
    cost = {m.model_id: m.cost_usd for m in report.models}
    resolved = {m.model_id: m.price.resolved_model for m in report.models}
    assert cost[team_a] == Decimal("3.30") + Decimal("1.65")  # Sonnet regional: 1M in, 0.1M out
    assert cost[team_b] == Decimal("0.06") + Decimal("0.24")  # Nova Lite: 1M in, 1M out
    assert cost[team_c] == Decimal("3.00")  # Sonnet global: 1M in
    assert resolved == {team_a: SONNET45, team_b: NOVA_LITE, team_c: SONNET45}
    assert report.cost_usd == Decimal("4.95") + Decimal("0.30") + Decimal("3.00")
    assert report.unpriced_invocations == 0


@pytest.mark.parametrize(
    ("regions", "expected"),
    [
        (["us-east-1", "us-west-2"], Decimal("3.30")),  # one geography: regional
        (["eu-west-1", "eu-central-1"], Decimal("3.30")),
        (["us-east-1", "eu-west-1"], Decimal("3.00")),  # two geographies: global
        (["us-east-1", "ap-northeast-1"], Decimal("3.00")),
    ],
)
def test_a_profile_is_priced_global_exactly_when_it_routes_across_geographies(
    regions: list[str], expected: Decimal
) -> None:
    bedrock = boto3.client("bedrock", region_name="us-east-1")
    with Stubber(bedrock) as stub:
        stub.add_response("get_inference_profile", profile("82ey7vcct4m3", regions))
        pricer = Pricer(bedrock=lambda region: bedrock)
        assert pricer.cost("82ey7vcct4m3", Counts(input_tokens=M), NOW) == expected
        assert pricer.info("82ey7vcct4m3", NOW).priced


def test_a_profile_routing_to_two_different_models_is_unpriced_not_guessed() -> None:
    bedrock = boto3.client("bedrock", region_name="us-east-1")
    answer = profile("82ey7vcct4m3", ["us-east-1"])
    answer["models"].append({"modelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{NOVA_LITE}"})
    with Stubber(bedrock) as stub:
        stub.add_response("get_inference_profile", answer)
        pricer = Pricer(bedrock=lambda region: bedrock)
        info = pricer.info("82ey7vcct4m3", NOW)
    assert (info.priced, info.resolved_model) == (False, None)
    assert pricer.cost("82ey7vcct4m3", Counts(input_tokens=M), NOW) is None


@pytest.mark.parametrize(
    "code", ["ThrottlingException", "ServiceUnavailableException", "InternalServerException"]
)
def test_a_transient_get_inference_profile_error_is_retried_by_the_next_report(code: str) -> None:
    """Not cached as unpriced for the container's life: the next report's pricer asks again."""
    bedrock = boto3.client("bedrock", region_name="us-east-1")
    with Stubber(bedrock) as stub:
        stub.add_client_error("get_inference_profile", service_error_code=code, http_status_code=429)
        stub.add_response("get_inference_profile", profile("82ey7vcct4m3", ["us-east-1"]))
        first = Pricer(bedrock=lambda region: bedrock)
        assert first.info("82ey7vcct4m3", NOW).priced is False
        assert first.cost("82ey7vcct4m3", Counts(input_tokens=M), NOW) is None
        second = Pricer(bedrock=lambda region: bedrock)
        assert second.cost("82ey7vcct4m3", Counts(input_tokens=M), NOW) == Decimal("3.30")
        stub.assert_no_pending_responses()


def test_without_a_bedrock_client_an_application_profile_is_unpriced() -> None:
    pricer = Pricer()
    assert pricer.info(f"{AIP}82ey7vcct4m3", NOW).priced is False
    assert pricer.cost(f"{AIP}82ey7vcct4m3", Counts(input_tokens=M), NOW) is None


# ----------------------------------------------------------------------------------------------- overrides


def test_an_overridden_model_is_priced_in_the_report_not_listed_as_unpriced() -> None:
    overrides = load_overrides(json.dumps({"models": {COHERE: {"input": 0.5, "output": 1.5}}}))
    usage = Usage(window=WINDOW, source="test")
    usage.model(COHERE).add(Counts(invocations=4, input_tokens=2 * M, output_tokens=M))
    report = build_report(usage, pricer=Pricer(overrides), now=NOW)
    [line] = report.models
    assert line.price.priced is True
    assert line.cost_usd == Decimal("1.00") + Decimal("1.50")
    assert report.cost_usd == Decimal("2.50")
    assert report.unpriced_invocations == 0
    assert not [w for w in report.warnings if "not in the cost" in w]


def test_overrides_without_discount_percent_take_nothing_off_library_prices() -> None:
    pricer = Pricer(load_overrides(json.dumps({"models": {COHERE: {"input": 1, "output": 1}}})))
    info = pricer.info(f"us.{SONNET45}", NOW)
    assert info.source == LIBRARY_SOURCE
    assert pricer.cost(f"us.{SONNET45}", Counts(input_tokens=M, output_tokens=M), NOW) == Decimal("19.80")


def test_the_discount_applies_to_library_prices_only_never_to_override_entries() -> None:
    document = {"discount_percent": 12.5, "models": {NOVA_LITE: {"input": 1, "output": 2}}}
    pricer = Pricer(load_overrides(json.dumps(document)))
    counts = Counts(input_tokens=M, output_tokens=M)
    assert pricer.cost(NOVA_LITE, counts, NOW) == Decimal(3)  # the override's own prices, as written
    assert pricer.info(NOVA_LITE, NOW).source == "override:inline"
    # Sonnet regional 1M in + 1M out = $19.80, less 12.5% = $17.325
    assert pricer.cost(f"us.{SONNET45}", counts, NOW) == Decimal("17.325")
    assert pricer.info(f"us.{SONNET45}", NOW).source == f"{LIBRARY_SOURCE} -12.5% (override:inline)"


def test_an_override_without_cache_prices_charges_cache_tokens_at_its_input_price() -> None:
    pricer = Pricer(load_overrides(json.dumps({"models": {COHERE: {"input": 2, "output": 5}}})))
    counts = Counts(input_tokens=M, output_tokens=M, cache_read_tokens=3 * M, cache_write_tokens=4 * M)
    assert pricer.cost(COHERE, counts, NOW) == Decimal(2 + 5 + 6 + 8)


@mock_aws
def test_overrides_in_an_ssm_securestring_are_read_decrypted() -> None:
    body = json.dumps({"models": {COHERE: {"input": 4, "output": 8}}})
    ssm = boto3.client("ssm", region_name="us-east-1")
    ssm.put_parameter(Name="/bedrock-usage/prices", Value=body, Type="SecureString")
    overrides = load_overrides("ssm:/bedrock-usage/prices", ssm=ssm)
    assert Pricer(overrides).cost(COHERE, Counts(input_tokens=M, output_tokens=M), NOW) == Decimal(12)


@mock_aws
def test_overrides_from_s3_named_in_the_environment_use_a_client_made_on_demand(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What ReportFunction does: only the variable is set; the S3 client is created by price.py."""
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="cfg")
    body = json.dumps({"models": {COHERE: {"input": 3, "output": 6}}, "discount_percent": 10})
    s3.put_object(Bucket="cfg", Key="prices/bedrock.json", Body=body.encode())
    monkeypatch.setenv(PRICE_OVERRIDES_ENV, " s3://cfg/prices/bedrock.json ")
    overrides = overrides_from_env()
    assert overrides is not None
    assert overrides.where == "s3://cfg/prices/bedrock.json"
    assert overrides.discount_percent == Decimal(10)
    assert Pricer(overrides).cost(COHERE, Counts(input_tokens=M, output_tokens=M), NOW) == Decimal(9)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ('{"model": {}}', "price overrides inline: unknown keys ['model']"),
        ('{"models": []}', "price overrides inline: 'models' must be an object"),
        ('{"models": {"x": {"input": 1}}}', "price overrides inline: 'x' needs 'input' and 'output'"),
        ('{"models": {"x": 3}}', "price overrides inline: 'x' needs 'input' and 'output'"),
        (
            '{"models": {"x": {"input": 1, "output": 1, "cache": 1}}}',
            "price overrides inline: 'x' has unknown keys ['cache']",
        ),
        ('{"models": {"x": {"input": -1, "output": 1}}}', "price overrides inline: 'x': -1 must be >= 0"),
        ('{"models": {"x": {"input": NaN, "output": 1}}}', "price overrides inline: 'x': nan must be >= 0"),
        (
            '{"models": {"x": {"input": "cheap", "output": 1}}}',
            "price overrides inline: 'x': 'cheap' is not a number",
        ),
        (
            '{"models": {"x": {"input": true, "output": 1}}}',
            "price overrides inline: 'x': True is not a number",
        ),
        ('{"discount_percent": 100}', "price overrides inline: discount_percent must be below 100"),
        ("s3://bucket-only", "price overrides: 's3://bucket-only' is not s3://bucket/key"),
    ],
)
def test_a_bad_override_document_is_rejected_saying_what_is_wrong(document: str, message: str) -> None:
    with pytest.raises(PriceOverrideError) as error:
        load_overrides(document)
    assert str(error.value) == message


def test_unreadable_override_sources_say_where_and_why(tmp_path: Path) -> None:
    with pytest.raises(PriceOverrideError) as error:
        load_overrides(str(tmp_path / "nope.json"))
    assert (
        str(error.value)
        == f"price overrides {tmp_path / 'nope.json'}: cannot read (No such file or directory)"
    )
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(PriceOverrideError) as error:
        load_overrides(str(tmp_path / "list.json"))
    assert str(error.value) == f"price overrides {tmp_path / 'list.json'}: expected a JSON object"
    with pytest.raises(PriceOverrideError) as error:
        load_overrides("{not json")
    assert str(error.value).startswith("price overrides {not json: not valid JSON (Expecting property name")


def test_a_discount_just_below_100_and_cache_prices_given_are_kept() -> None:
    document = {
        "discount_percent": 99.5,
        "models": {COHERE: {"input": 1, "output": 2, "cache_read": 0.25, "cache_write": 3, "note": "EDP"}},
    }
    overrides = load_overrides(json.dumps(document))
    assert overrides.discount_percent == Decimal("99.5")
    counts = Counts(input_tokens=M, output_tokens=M, cache_read_tokens=4 * M, cache_write_tokens=M)
    assert Pricer(overrides).cost(COHERE, counts, NOW) == Decimal(1 + 2 + 1 + 3)
    assert Pricer(overrides).info(COHERE, NOW).note == "EDP"
    # 0.5% of Sonnet's regional $3.30 input price
    assert Pricer(overrides).cost(SONNET45, Counts(input_tokens=M), NOW) == Decimal("0.0165")


@pytest.mark.parametrize(
    ("model_id", "kind", "base"),
    [
        ("arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.titan/abc", "custom", None),
        ("arn:aws:bedrock:us-east-1:123456789012:imported-model/abc123", "custom", None),
        ("arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/abc", "custom", None),
        ("arn:aws:bedrock:us-east-1:123456789012:prompt/abc", "unknown", None),
        ("arn:aws-us-gov:bedrock:us-gov-west-1::foundation-model/amazon.nova-lite-v1:0", "base", NOVA_LITE),
        ("  amazon.nova-lite-v1:0 ", "base", NOVA_LITE),
        ("82EY7VCCT4M3", "base", "82EY7VCCT4M3"),  # not an application profile ID: those are lower case
        ("82ey7vcct4m3x", "base", "82ey7vcct4m3x"),  # 13 characters
    ],
)
def test_every_arn_kind_is_classified_and_never_priced_by_accident(
    model_id: str, kind: str, base: str | None
) -> None:
    res = parse_model_id(model_id)
    assert (res.kind, res.base_model) == (kind, base)
    if kind != "base":
        info = Pricer().info(model_id, NOW)
        assert info.priced is False
        assert info.note
        assert Pricer().cost(model_id, Counts(input_tokens=M), NOW) is None


LUNA = "us.openai.gpt-5.6-luna"  # genai-prices dates an 80% price cut on 2026-07-30, with tiers after it


def test_a_price_in_force_on_the_day_asked_for_and_its_long_context_note() -> None:
    july, november = datetime(2026, 7, 20, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
    reads = Counts(cache_read_tokens=M)
    pricer = Pricer()
    # Cache savings: 1M reads x (input - cache read): (1.10 - 0.11) in July, (0.22 - 0.022) after the cut.
    assert pricer.cache_savings(LUNA, reads, july) == Decimal("0.99")
    assert pricer.cache_savings(LUNA, reads, november) == Decimal("0.198")
    assert pricer.info(LUNA, july).note is None  # flat launch prices: nothing left out
    assert (
        pricer.info(LUNA, november).note
        == "long-context rates apply per request: applied to requests seen in log files, not to CloudWatch "
        "metric totals"
    )


def test_an_unmodeled_get_inference_profile_error_is_named_in_the_note_and_remembered() -> None:
    bedrock = boto3.client("bedrock", region_name="us-east-1")
    with Stubber(bedrock) as stub:
        stub.add_client_error("get_inference_profile", service_error_code="UnrecognizedClientException")
        info = Pricer(bedrock=lambda region: bedrock).info("82ey7vcct4m3", NOW)
        assert Pricer(bedrock=lambda region: bedrock).info("82ey7vcct4m3", NOW).priced is False  # no 2nd call
    assert (
        info.note
        == "GetInferenceProfile failed (UnrecognizedClientException); application profile not resolved"
    )


@pytest.mark.parametrize("resolvable", [True, False])
def test_an_override_keyed_by_profile_id_prices_its_arn_resolved_or_not(resolvable: bool) -> None:
    arn = f"{AIP}82ey7vcct4m3"
    overrides = load_overrides(json.dumps({"models": {"82ey7vcct4m3": {"input": 7, "output": 7}}}))
    bedrock = boto3.client("bedrock", region_name="us-east-1")
    with Stubber(bedrock) as stub:
        if resolvable:
            stub.add_response("get_inference_profile", profile("82ey7vcct4m3", ["us-east-1"]))
        else:
            stub.add_client_error("get_inference_profile", service_error_code="AccessDeniedException")
        pricer = Pricer(overrides, bedrock=lambda region: bedrock)
        assert pricer.cost(arn, Counts(input_tokens=M), NOW) == Decimal(7)
    without_client = Pricer(overrides)
    assert without_client.cost(arn, Counts(input_tokens=M), NOW) == Decimal(7)
    assert Pricer().info(arn, NOW).note == "application inference profile: no Bedrock client to resolve it"


def test_a_geography_the_library_lacks_for_a_model_it_lacks_too_is_unpriced() -> None:
    info = Pricer().info("eu.cohere.command-r-v1:0", NOW)
    assert (info.priced, info.model_id, info.resolved_model) == (False, "eu.cohere.command-r-v1:0", COHERE)
    assert Pricer().cost("eu.cohere.command-r-v1:0", Counts(input_tokens=M), NOW) is None


@pytest.mark.parametrize(
    "model_id",
    [
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-lite-v1:0",
        "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.titan/abc",
        "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc",
    ],
)
def test_a_resolution_keeps_the_id_as_given(model_id: str) -> None:
    assert parse_model_id(model_id).model_id == model_id
    assert Pricer().info(model_id, NOW).model_id == model_id


def test_a_bare_profile_id_with_stray_spaces_is_looked_up_trimmed() -> None:
    bedrock = boto3.client("bedrock", region_name="us-east-1")
    with Stubber(bedrock) as stub:
        stub.add_response(
            "get_inference_profile",
            profile("82ey7vcct4m3", ["us-east-1"]),
            {"inferenceProfileIdentifier": "82ey7vcct4m3"},
        )
        pricer = Pricer(bedrock=lambda region: bedrock)
        assert pricer.cost(" 82ey7vcct4m3 ", Counts(input_tokens=M), NOW) == Decimal("3.30")
