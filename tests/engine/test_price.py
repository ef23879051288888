"""ModelId resolution and pricing for every ID form, with costs computed by hand from REFERENCE.md section 8.

Expected dollars are written out as arithmetic on the list prices (USD per 1M tokens), not computed with
genai-prices, so a wrong mapping in our layer or in the library shows up as a failing test.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import boto3
import pytest
from bedrock_usage import price as price_module
from bedrock_usage.model import Counts
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

from .helpers import SONNET45

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
AIP_ARN_PREFIX = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/"
M = Decimal(1_000_000)

# 1M uncached input, 0.2M output, 3M cache read, 0.5M cache write: every price component counts.
USAGE = Counts(
    invocations=10,
    input_tokens=1_000_000,
    output_tokens=200_000,
    cache_read_tokens=3_000_000,
    cache_write_tokens=500_000,
)


def by_hand(inp: str, out: str, cread: str, cwrite: str) -> Decimal:
    """USAGE priced at the given USD per 1M tokens."""
    return (
        USAGE.input_tokens * Decimal(inp)
        + USAGE.output_tokens * Decimal(out)
        + USAGE.cache_read_tokens * Decimal(cread)
        + USAGE.cache_write_tokens * Decimal(cwrite)
    ) / M


SONNET45_REGIONAL = by_hand("3.30", "16.50", "0.33", "4.125")  # = 9.6525
SONNET45_GLOBAL = by_hand("3.00", "15.00", "0.30", "3.75")  # = 8.775


@pytest.fixture(autouse=True)
def _fresh_profile_cache() -> None:
    clear_profile_cache()


@pytest.mark.parametrize(
    ("model_id", "expected", "kind"),
    [
        (SONNET45, SONNET45_REGIONAL, "base"),
        (f"us.{SONNET45}", SONNET45_REGIONAL, "system-profile"),
        (f"eu.{SONNET45}", SONNET45_REGIONAL, "system-profile"),
        (f"apac.{SONNET45}", SONNET45_REGIONAL, "system-profile"),
        (f"jp.{SONNET45}", SONNET45_REGIONAL, "system-profile"),
        (f"au.{SONNET45}", SONNET45_REGIONAL, "system-profile"),
        (f"us-gov.{SONNET45}", SONNET45_REGIONAL, "system-profile"),
        (f"global.{SONNET45}", SONNET45_GLOBAL, "system-profile"),
        (f"arn:aws:bedrock:us-east-1::foundation-model/{SONNET45}", SONNET45_REGIONAL, "base"),
        (
            "arn:aws:bedrock:us-east-1:022346938362:inference-profile/global.anthropic.claude-opus-4-6-v1",
            by_hand("5.00", "25.00", "0.50", "6.25"),
            "system-profile",
        ),
        ("us.anthropic.claude-opus-4-6-v1", by_hand("5.50", "27.50", "0.55", "6.875"), "system-profile"),
        (
            "in.anthropic.claude-haiku-4-5-20251001-v1:0",
            by_hand("1.10", "5.50", "0.11", "1.375"),
            "system-profile",
        ),
        (
            "global.anthropic.claude-haiku-4-5-20251001-v1:0",
            by_hand("1.00", "5.00", "0.10", "1.25"),
            "system-profile",
        ),
    ],
)
def test_given_each_model_id_form_when_priced_then_cost_matches_the_list_price(
    model_id: str, expected: Decimal, kind: str
) -> None:
    pricer = Pricer()
    info = pricer.info(model_id, NOW)
    assert info.priced
    assert info.source == LIBRARY_SOURCE
    assert info.approximate is False
    assert pricer.resolve(model_id).kind == kind
    assert pricer.cost(model_id, USAGE, NOW) == expected


def test_sonnet_45_costs_the_reference_table_figures() -> None:
    """REFERENCE.md section 8, written out: regional $9.6525 and global $8.775 for USAGE."""
    pricer = Pricer()
    assert pricer.cost(f"us.{SONNET45}", USAGE, NOW) == Decimal("9.6525")
    assert pricer.cost(f"global.{SONNET45}", USAGE, NOW) == Decimal("8.775")


def test_resolved_model_strips_arn_and_prefix() -> None:
    arn = "arn:aws:bedrock:us-east-1:022346938362:inference-profile/global.anthropic.claude-opus-4-6-v1"
    res = parse_model_id(arn)
    assert (res.base_model, res.geo, res.profile_id) == (
        "anthropic.claude-opus-4-6-v1",
        "global",
        "global.anthropic.claude-opus-4-6-v1",
    )
    # us-gov must not be read as the `us.` prefix followed by "gov.…"
    assert parse_model_id(f"us-gov.{SONNET45}").geo == "us-gov"
    assert parse_model_id(f"us-gov.{SONNET45}").base_model == SONNET45


def test_given_a_geo_prefix_the_library_does_not_know_then_regional_price_marked_approximate() -> None:
    pricer = Pricer()
    info = pricer.info(f"ca.{SONNET45}", NOW)
    assert info.priced
    assert info.approximate
    assert info.resolved_model == SONNET45
    assert "ca." in (info.note or "")
    assert pricer.cost(f"ca.{SONNET45}", USAGE, NOW) == SONNET45_REGIONAL


def test_records_without_cache_fields_are_priced_on_input_and_output_only() -> None:
    # Claude 3 Haiku: $0.25 in, $1.25 out; a foundation-model ARN.
    counts = Counts(invocations=3, input_tokens=2_000_000, output_tokens=1_000_000)
    cost = Pricer().cost(
        "arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0", counts, NOW
    )
    assert cost == Decimal("0.50") + Decimal("1.25")


def test_nova_cache_reads_use_the_cache_read_price() -> None:
    counts = Counts(invocations=1, input_tokens=1_000_000, output_tokens=200_000, cache_read_tokens=3_000_000)
    # $0.06 in, $0.015 cache read, $0.24 out
    assert Pricer().cost("us.amazon.nova-lite-v1:0", counts, NOW) == Decimal("0.06") + Decimal(
        "0.045"
    ) + Decimal("0.048")


def test_cache_savings_are_reads_below_input_price_minus_the_write_premium() -> None:
    savings = Pricer().cache_savings(f"us.{SONNET45}", USAGE, NOW)
    # 3M reads x (3.30 - 0.33) = 8.91 saved; 0.5M writes x (4.125 - 3.30) = 0.4125 extra.
    assert savings == Decimal("8.91") - Decimal("0.4125")


def test_given_a_provisioned_model_arn_then_unpriced_with_a_reason_and_no_cost() -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/a1b2c3d4e5f6"
    pricer = Pricer()
    info = pricer.info(arn, NOW)
    assert info.priced is False
    assert info.source == "unpriced"
    assert "model-unit hour" in (info.note or "")
    assert pricer.cost(arn, USAGE, NOW) is None  # never $0


def test_given_a_model_the_library_does_not_know_then_unpriced_not_zero() -> None:
    pricer = Pricer()
    info = pricer.info("cohere.command-r-v1:0", NOW)
    assert (info.priced, info.resolved_model) == (False, "cohere.command-r-v1:0")
    assert pricer.cost("cohere.command-r-v1:0", USAGE, NOW) is None
    assert pricer.cache_savings("cohere.command-r-v1:0", USAGE, NOW) is None


# --------------------------------------------------------------------------- application inference profiles


def _profile_response(profile_id: str, regions: list[str], model: str = SONNET45) -> dict[str, object]:
    """GetInferenceProfile's real response shape (botocore bedrock 2023-04-20 validates it)."""
    return {
        "inferenceProfileName": "team-a-claude",
        "inferenceProfileArn": f"{AIP_ARN_PREFIX}{profile_id}",
        "models": [{"modelArn": f"arn:aws:bedrock:{r}::foundation-model/{model}"} for r in regions],
        "inferenceProfileId": profile_id,
        "status": "ACTIVE",
        "type": "APPLICATION",
        "createdAt": NOW,
        "updatedAt": NOW,
    }


def test_given_a_bare_application_profile_id_then_resolved_once_with_get_inference_profile() -> None:
    """Stubber: moto does not implement GetInferenceProfile."""
    bedrock = boto3.client("bedrock", region_name="us-east-1")
    with Stubber(bedrock) as stub:
        stub.add_response(
            "get_inference_profile",
            _profile_response("82ey7vcct4m3", ["us-east-1", "us-east-2", "us-west-2"]),
            {"inferenceProfileIdentifier": "82ey7vcct4m3"},
        )
        pricer = Pricer(bedrock=lambda region: bedrock)
        info = pricer.info("82ey7vcct4m3", NOW)
        assert (info.priced, info.resolved_model) == (True, SONNET45)
        # One geography: the regional price.
        assert pricer.cost("82ey7vcct4m3", USAGE, NOW) == SONNET45_REGIONAL
        # Cached per process: a second pricer asks no more (the stub would fail on an extra call).
        assert Pricer(bedrock=lambda region: bedrock).cost("82ey7vcct4m3", USAGE, NOW) == SONNET45_REGIONAL
        stub.assert_no_pending_responses()


def test_given_an_application_profile_arn_copied_from_a_global_profile_then_global_price() -> None:
    """Stubber (real response shape). Routing across geographies means a global profile."""
    arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/grjihoh0los8"
    bedrock = boto3.client("bedrock", region_name="us-east-1")
    seen_regions = []
    with Stubber(bedrock) as stub:
        stub.add_response(
            "get_inference_profile",
            _profile_response("grjihoh0los8", ["us-east-1", "eu-west-1", "ap-northeast-1"]),
            {"inferenceProfileIdentifier": arn},
        )

        def factory(region: str | None) -> object:
            seen_regions.append(region)
            return bedrock

        pricer = Pricer(bedrock=factory)
        assert pricer.cost(arn, USAGE, NOW) == SONNET45_GLOBAL
        assert "global" in (pricer.info(arn, NOW).note or "")
    assert seen_regions == ["us-east-1"]  # the ARN's own region


def test_given_get_inference_profile_denied_then_unpriced_and_not_asked_again() -> None:
    """Stubber: a denial will not change within the container's life, so it is remembered."""
    bedrock = boto3.client("bedrock", region_name="us-east-1")
    with Stubber(bedrock) as stub:
        stub.add_client_error(
            "get_inference_profile", service_error_code="AccessDeniedException", http_status_code=403
        )
        pricer = Pricer(bedrock=lambda region: bedrock)
        info = pricer.info("82ey7vcct4m3", NOW)
        # The next report's pricer does not call again (the stub has no second answer and would fail).
        again = Pricer(bedrock=lambda region: bedrock).info("82ey7vcct4m3", NOW)
        stub.assert_no_pending_responses()
    assert (info.priced, info.source, info.resolved_model) == (False, "unpriced", None)
    assert again.priced is False
    assert pricer.cost("82ey7vcct4m3", USAGE, NOW) is None
    assert pricer.cache_savings("82ey7vcct4m3", USAGE, NOW) is None


# --------------------------------------------------------------------------- overrides


def test_override_file_wins_over_the_library_for_every_form_of_the_model(tmp_path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(
        json.dumps(
            {
                "models": {
                    SONNET45: {"input": 2, "output": 10, "cache_read": 0.2, "cache_write": 2.5, "note": "EDP"}
                }
            }
        )
    )
    pricer = Pricer(load_overrides(str(path)))
    expected = by_hand("2", "10", "0.2", "2.5")
    for model_id in (SONNET45, f"us.{SONNET45}", f"global.{SONNET45}", f"ca.{SONNET45}"):
        info = pricer.info(model_id, NOW)
        assert info.source == f"override:{path}"
        assert info.note == "EDP"
        assert pricer.cost(model_id, USAGE, NOW) == expected


def test_override_for_an_exact_profile_id_beats_the_base_model_entry(tmp_path) -> None:
    overrides = load_overrides(
        json.dumps(
            {
                "models": {
                    SONNET45: {"input": 2, "output": 10},
                    f"global.{SONNET45}": {"input": 1, "output": 5},
                }
            }
        )
    )
    pricer = Pricer(overrides)
    counts = Counts(invocations=1, input_tokens=1_000_000, output_tokens=1_000_000)
    assert pricer.cost(f"global.{SONNET45}", counts, NOW) == Decimal(6)
    assert pricer.cost(f"us.{SONNET45}", counts, NOW) == Decimal(12)


def test_override_prices_a_provisioned_model_the_library_cannot() -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/a1b2c3d4e5f6"
    pricer = Pricer(load_overrides(json.dumps({"models": {arn: {"input": 1, "output": 1}}})))
    assert pricer.cost(arn, Counts(input_tokens=1_000_000), NOW) == Decimal(1)


def test_discount_applies_to_library_prices_and_says_so() -> None:
    pricer = Pricer(load_overrides(json.dumps({"discount_percent": 10})))
    assert pricer.cost(f"us.{SONNET45}", USAGE, NOW) == SONNET45_REGIONAL * Decimal("0.9")
    assert "-10%" in pricer.info(f"us.{SONNET45}", NOW).source


@pytest.mark.parametrize(
    "document",
    [
        "[]",
        '{"models": {"x": {"input": 1}}}',
        '{"models": {"x": {"input": -1, "output": 1}}}',
        '{"models": {"x": {"input": "cheap", "output": 1}}}',
        '{"models": {"x": {"input": 1, "output": 1, "cache": 1}}}',
        '{"discount_percent": 100}',
        '{"model": {}}',
        "{not json",
    ],
)
def test_bad_override_documents_are_rejected_with_a_clear_error(document: str) -> None:
    with pytest.raises(PriceOverrideError, match="price overrides"):
        load_overrides(document)


def test_missing_override_file_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(PriceOverrideError, match="cannot read"):
        load_overrides(str(tmp_path / "nope.json"))


@mock_aws
def test_overrides_load_from_s3_and_ssm() -> None:
    body = json.dumps({"models": {SONNET45: {"input": 2, "output": 10}}})
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="cfg")
    s3.put_object(Bucket="cfg", Key="prices/bedrock.json", Body=body.encode())
    ssm = boto3.client("ssm", region_name="us-east-1")
    ssm.put_parameter(Name="/bedrock-usage/prices", Value=body, Type="String")

    from_s3 = load_overrides("s3://cfg/prices/bedrock.json", s3=s3)
    from_ssm = load_overrides("ssm:/bedrock-usage/prices", ssm=ssm)
    assert from_s3.where == "s3://cfg/prices/bedrock.json"
    assert from_ssm.where == "ssm:/bedrock-usage/prices"
    for overrides in (from_s3, from_ssm):
        assert Pricer(overrides).cost(SONNET45, Counts(input_tokens=1_000_000), NOW) == Decimal(2)
    with pytest.raises(PriceOverrideError, match="ParameterNotFound"):
        load_overrides("ssm:/missing", ssm=ssm)


@mock_aws
def test_overrides_from_the_lambda_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    ssm = boto3.client("ssm", region_name="us-east-1")
    ssm.put_parameter(
        Name="/bedrock-usage/prices",
        Value=json.dumps({"models": {"x.y": {"input": 1, "output": 2}}}),
        Type="String",
    )
    monkeypatch.setenv(PRICE_OVERRIDES_ENV, "ssm:/bedrock-usage/prices")
    overrides = overrides_from_env()
    assert overrides is not None
    assert "x.y" in overrides.models
    monkeypatch.delenv(PRICE_OVERRIDES_ENV)
    assert overrides_from_env() is None


def test_given_bedrock_unreachable_then_unpriced_and_asked_again_next_time() -> None:
    """A refused local connection (no network involved) raises a BotoCoreError, not a ClientError."""
    from botocore.config import Config

    bedrock = boto3.client(
        "bedrock",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=1),
    )
    info = Pricer(bedrock=lambda region: bedrock).info("82ey7vcct4m3", NOW)
    assert info.priced is False
    assert "EndpointConnectionError" in (info.note or "")
    assert "82ey7vcct4m3" not in price_module._PROFILE_CACHE
