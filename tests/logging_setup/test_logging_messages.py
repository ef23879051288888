"""What the logging custom resource tells a user: property errors, unreadable answers, and the results of
Create and Update that end up in the stack's events and the resource's attributes, word for word.

Bedrock runs in moto; errors and lagging reads are injected with `before-call` hooks on the client (the
request is still validated against the service model).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import boto3
import pytest
from bedrock_usage import logging_config as lc
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from tests.conftest import REGION
from tests.logging_setup.conftest import FOREIGN_CONFIG, REQUIRED_PROPERTIES
from tests.logging_setup.test_logging_config import TEAM_A_ROLE, FakeClock, answer_get_with
from tests.logging_setup.test_logging_reasons import DENIED, ENDPOINT, STATE, fail

ALLOWED = (
    "LogGroupName, RoleArn, BucketName, KeyPrefix, TakeOverExistingLogging, PreviousLoggingRoleName, "
    "TextDataDelivery, ImageDataDelivery, EmbeddingDataDelivery, VideoDataDelivery, AudioDataDelivery"
)


def refused(properties: dict[str, Any]) -> str:
    with pytest.raises(lc.PropertyError) as failure:
        lc.parse_properties(properties)
    return str(failure.value)


# --- properties ------------------------------------------------------------------------------------------


def test_unknown_properties_are_listed_with_every_allowed_name() -> None:
    assert refused({**REQUIRED_PROPERTIES, "Bogus": "1", "TextDataDelivry": "true"}) == (
        f"Unknown property Bogus, TextDataDelivry; allowed: {ALLOWED}"
    )
    assert (
        refused({**REQUIRED_PROPERTIES, "Z" * 100: "1"}) == f"Unknown property {'Z' * 80}; allowed: {ALLOWED}"
    )


def test_a_required_property_that_is_not_a_string_is_refused_by_name() -> None:
    assert refused({**REQUIRED_PROPERTIES, "LogGroupName": 7}) == (
        "Property LogGroupName is required (a non-empty string)"
    )


@pytest.mark.parametrize(
    ("name", "shown", "message"),
    [
        ("LogGroupName", 80, "Property LogGroupName is not a valid log group name: "),
        ("RoleArn", 100, "Property RoleArn is not an IAM role ARN: "),
        ("BucketName", 70, "Property BucketName is not a valid S3 bucket name: "),
        ("PreviousLoggingRoleName", 80, "Property PreviousLoggingRoleName is not an IAM role name: "),
    ],
)
def test_a_bad_value_is_quoted_up_to_a_bound(name: str, shown: int, message: str) -> None:
    """The value is quoted so the user can find it, cut so the Reason stays readable."""
    bad = "a b" * 100  # spaces: valid in none of them

    assert refused({**REQUIRED_PROPERTIES, name: bad}) == message + bad[:shown]


def test_key_prefix_may_be_1024_characters_and_no_more() -> None:
    assert lc.parse_properties({**REQUIRED_PROPERTIES, "KeyPrefix": "k" * 1024}).key_prefix == "k" * 1024
    assert refused({**REQUIRED_PROPERTIES, "KeyPrefix": "k" * 1025}) == (
        "Property KeyPrefix must be a string of at most 1024 characters"
    )


def test_a_flag_that_is_not_true_or_false_is_quoted_as_json_up_to_60_characters() -> None:
    assert refused({**REQUIRED_PROPERTIES, "TakeOverExistingLogging": "yes"}) == (
        'Property TakeOverExistingLogging must be "true" or "false", got "yes"'
    )
    assert refused({**REQUIRED_PROPERTIES, "TextDataDelivery": "x" * 100}) == (
        'Property TextDataDelivery must be "true" or "false", got "' + "x" * 59
    )


def test_without_previous_role_name_the_stack_may_pass_no_other_role() -> None:
    assert lc.parse_properties(REQUIRED_PROPERTIES).previous_role_name == ""


def test_video_and_audio_are_sent_only_when_on() -> None:
    """Newer API members: an older SDK in the Lambda runtime refuses them, so they are left out when off."""
    off = lc.parse_properties(REQUIRED_PROPERTIES).logging_config()
    on = lc.parse_properties({**REQUIRED_PROPERTIES, "VideoDataDelivery": "true"}).logging_config()

    assert "videoDataDeliveryEnabled" not in off
    assert "audioDataDeliveryEnabled" not in off
    assert on["videoDataDeliveryEnabled"] is True
    assert "imageDataDeliveryEnabled" in off  # the older flags are always sent


# --- unreadable answers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"<html>" + b"x" * 100, "a body that is not JSON: b'<html>" + "x" * 54 + "'"),
        (b"[]", "JSON that is not an object"),
        (b'{"loggingConfig": "on"}', "a loggingConfig that is not an object"),
        (
            b'{"loggingConfig": {"cloudWatchConfig": {"logGroupName": "/g"}}}',
            "a cloudWatchConfig without logGroupName and roleArn",
        ),
        (b'{"loggingConfig": {"s3Config": {"bucketName": 7}}}', "a s3Config without bucketName"),
        (
            json.dumps(
                {
                    "loggingConfig": {
                        "cloudWatchConfig": {
                            "logGroupName": "/g",
                            "roleArn": "arn:aws:iam::123456789012:role/r",
                            "largeDataDeliveryS3Config": {"bucketName": ""},
                        }
                    }
                }
            ).encode(),
            "a largeDataDeliveryS3Config without bucketName",
        ),
        (
            b'{"loggingConfig": {"s3Config": {"bucketName": "b"}, "videoDataDeliveryEnabled": 1}}',
            "a delivery flag that is not true or false",
        ),
        (json.dumps({"loggingConfig": FOREIGN_CONFIG}).encode(), ""),
    ],
    ids=[
        "html",
        "array",
        "string",
        "no-role",
        "numeric-bucket",
        "empty-large-bucket",
        "numeric-flag",
        "good",
    ],
)
def test_each_unreadable_answer_is_named(body: bytes, problem: str) -> None:
    assert lc.body_problem(body) == problem


def test_an_unreadable_answer_says_what_came_back_and_that_nothing_changed(bedrock: Any) -> None:
    answer_get_with(bedrock, b"<html>proxy error</html>")

    with pytest.raises(lc.UnreadableConfig) as failure:
        lc.get_config(bedrock)

    assert str(failure.value) == (
        "Bedrock answered GetModelInvocationLoggingConfiguration with a body that is not JSON: "
        "b'<html>proxy error</html>'; nothing was changed, since the current setting cannot be known "
        "(try again later)"
    )


# --- Put -------------------------------------------------------------------------------------------------


def test_a_denied_put_says_so_and_is_tried_once(bedrock: Any, ssm: Any) -> None:
    """A take-over whose Put is denied leaves the other team's setting alone: nothing to put back."""
    bedrock.put_model_invocation_logging_configuration(loggingConfig=FOREIGN_CONFIG)
    puts = fail(bedrock, "PutModelInvocationLoggingConfiguration", code="AccessDeniedException")
    props = replace(lc.parse_properties(REQUIRED_PROPERTIES), take_over=True, previous_role_name=TEAM_A_ROLE)
    clock = FakeClock()
    timing = lc.Timing(deadline=clock.now + 100, clock=clock, sleep=clock.sleep)

    with pytest.raises(lc.LoggingSetupError) as failure:
        lc.apply(bedrock, lc.StateStore(ssm, STATE), props, physical_id="id-1", timing=timing)

    assert str(failure.value) == (
        "Put logging configuration failed: AccessDeniedException on PutModelInvocationLoggingConfiguration: "
        + DENIED
    )
    assert puts["calls"] == 1


def test_a_put_rejected_until_the_deadline_says_for_how_long(ssm: Any) -> None:
    bedrock = boto3.client("bedrock", region_name=REGION)
    stub = Stubber(bedrock)
    for _ in range(50):
        stub.add_client_error("put_model_invocation_logging_configuration", "ValidationException", "no role")
    clock = FakeClock()
    config = lc.parse_properties(REQUIRED_PROPERTIES).logging_config()

    with stub, pytest.raises(lc.ConfigRejected) as failure:
        lc.put_config(
            bedrock, config, deadline=clock.now + 40, policy=lc.RetryPolicy(), clock=clock, sleep=clock.sleep
        )

    waited = clock.now - 1000
    assert str(failure.value) == (
        f"Bedrock rejected the logging configuration as invalid for {waited:.0f} s ({len(clock.sleeps) + 1} "
        "attempts; retried in case IAM had not propagated): no role"
    )


# --- Create and Update results (the resource's attributes) ---------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def timing(clock: FakeClock) -> lc.Timing:
    return lc.Timing(deadline=clock.now + 100, clock=clock, sleep=clock.sleep)


def test_create_retries_while_iam_propagates_on_the_stacks_clock(
    bedrock: Any, ssm: Any, clock: FakeClock, timing: lc.Timing
) -> None:
    fail(bedrock, "PutModelInvocationLoggingConfiguration", code="ValidationException", times=2)

    result = lc.apply(
        bedrock,
        lc.StateStore(ssm, STATE),
        lc.parse_properties(REQUIRED_PROPERTIES),
        physical_id="id-1",
        timing=timing,
    )

    assert result == lc.ApplyResult(previous=None, took_over=False, attempts=3)
    assert len(clock.sleeps) == 2  # the backoff ran on the given clock, not on real time


def test_create_waits_for_a_read_back_that_lags_the_put(
    bedrock: Any, ssm: Any, clock: FakeClock, timing: lc.Timing
) -> None:
    reads = {"n": 0}

    def lagging(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        reads["n"] += 1
        if reads["n"] == 2:  # the first read after Put still shows logging off
            return AWSResponse(ENDPOINT, 200, {}, None), {}
        return None

    bedrock.meta.events.register("before-call.bedrock.GetModelInvocationLoggingConfiguration", lagging)

    result = lc.apply(
        bedrock,
        lc.StateStore(ssm, STATE),
        lc.parse_properties(REQUIRED_PROPERTIES),
        physical_id="id-1",
        timing=timing,
    )

    assert result.attempts == 1
    assert clock.sleeps == [1.0]


def test_an_update_to_new_destinations_replaces_what_the_stack_calls_its_own(
    bedrock: Any, ssm: Any, timing: lc.Timing
) -> None:
    store = lc.StateStore(ssm, STATE)
    before = lc.parse_properties(REQUIRED_PROPERTIES)
    after = replace(before, bucket_name="bedrock-logs-moved")
    lc.apply(bedrock, store, before, physical_id="id-1", timing=timing)

    result = lc.apply(bedrock, store, after, physical_id="id-1", timing=timing, old_props=before)

    assert result == lc.ApplyResult(previous=None, took_over=False, attempts=1)
    saved = store.load()
    assert saved is not None
    assert saved.applied == after.logging_config()
    assert lc.canonical(lc.get_config(bedrock)) == lc.canonical(after.logging_config())


def test_an_update_with_lost_state_still_knows_the_old_properties_configuration(
    bedrock: Any, ssm: Any, timing: lc.Timing
) -> None:
    store = lc.StateStore(ssm, STATE)
    before = lc.parse_properties(REQUIRED_PROPERTIES)
    after = replace(before, bucket_name="bedrock-logs-moved")
    lc.apply(bedrock, store, before, physical_id="id-1", timing=timing)
    store.delete()  # lost

    result = lc.apply(bedrock, store, after, physical_id="id-1", timing=timing, old_props=before)

    assert result.applied is True
    assert result.took_over is False


@pytest.mark.parametrize("saved", [True, False], ids=["state-saved", "state-lost"])
def test_an_update_that_leaves_a_foreign_setting_reports_exactly_that(
    bedrock: Any, ssm: Any, timing: lc.Timing, saved: bool
) -> None:
    """The resource's attributes (Applied, TookOverExistingLogging, PreviousConfiguration) come from this."""
    store = lc.StateStore(ssm, STATE)
    props = lc.parse_properties(REQUIRED_PROPERTIES)
    bedrock.put_model_invocation_logging_configuration(loggingConfig=FOREIGN_CONFIG)
    taker = replace(props, take_over=True, previous_role_name=TEAM_A_ROLE)
    lc.apply(bedrock, store, taker, physical_id="id-1", timing=timing)
    if not saved:
        store.delete()
    bedrock.put_model_invocation_logging_configuration(loggingConfig={"s3Config": {"bucketName": "team-b"}})

    result = lc.apply(bedrock, store, props, physical_id="id-1", timing=timing, old_props=props)

    previous = FOREIGN_CONFIG if saved else None
    assert result == lc.ApplyResult(previous=previous, took_over=False, attempts=0, applied=False)


def test_delete_for_another_resource_id_names_both(bedrock: Any, ssm: Any, timing: lc.Timing) -> None:
    store = lc.StateStore(ssm, STATE)
    props = lc.parse_properties(REQUIRED_PROPERTIES)
    lc.apply(bedrock, store, props, physical_id="live-id", timing=timing)

    result = lc.remove(bedrock, store, props, physical_id="old-id", timing=timing)

    assert result == lc.RemoveResult("other-resource", "resource old-id is not the live one (live-id)")


def test_a_create_that_cannot_read_the_setting_says_reading_failed(
    bedrock: Any, ssm: Any, timing: lc.Timing
) -> None:
    fail(bedrock, "GetModelInvocationLoggingConfiguration", code="AccessDeniedException")

    with pytest.raises(lc.LoggingSetupError) as failure:
        lc.apply(
            bedrock,
            lc.StateStore(ssm, STATE),
            lc.parse_properties(REQUIRED_PROPERTIES),
            physical_id="id-1",
            timing=timing,
        )

    assert str(failure.value) == (
        "Reading the logging configuration failed: AccessDeniedException on "
        f"GetModelInvocationLoggingConfiguration: {DENIED}"
    )


def test_a_read_back_that_finds_logging_off_names_every_setting_as_different(
    bedrock: Any, clock: FakeClock
) -> None:
    wanted = lc.parse_properties(REQUIRED_PROPERTIES).logging_config()

    with pytest.raises(lc.LoggingSetupError) as failure:
        lc.verify_config(bedrock, wanted, deadline=clock.now, clock=clock, sleep=clock.sleep)

    assert str(failure.value) == (
        "Bedrock reports a different logging configuration after Put (differs in audioDataDeliveryEnabled, "
        "cloudWatchConfig, embeddingDataDeliveryEnabled, imageDataDeliveryEnabled, s3Config, "
        "textDataDeliveryEnabled, videoDataDeliveryEnabled): off"
    )


# --- reasons at their limits -----------------------------------------------------------------------------


def test_a_reason_of_exactly_250_characters_is_kept_whole() -> None:
    exact = "r" * 250

    assert lc.short_reason(exact) == exact
    assert lc.short_reason(exact + "s") == "r" * 247 + "..."


def test_a_client_error_message_ending_in_x_keeps_its_last_letters() -> None:
    """Only an empty message's trailing ': ' is trimmed, never the message's own last characters."""
    error = ClientError(
        {"Error": {"Code": "ValidationException", "Message": "size over MAX"}}, "PutParameter"
    )
    bare = ClientError({"Error": {"Code": "ThrottlingException", "Message": ""}}, "PutParameter")

    assert lc.describe_client_error(error) == "ValidationException on PutParameter: size over MAX"
    assert lc.describe_client_error(bare) == "ThrottlingException on PutParameter"
