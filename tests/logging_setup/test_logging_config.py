"""The library behind the custom resource: strict properties, comparison, bounded retries, saved state."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import boto3
import pytest
from bedrock_usage import logging_config as lc
from bedrock_usage.logging_setup_settings import HandlerSettings
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber

from tests.conftest import REGION, load_event
from tests.logging_setup.conftest import BUCKET, FOREIGN_CONFIG, LOG_GROUP, REQUIRED_PROPERTIES, ROLE_ARN

TEAM_A_ROLE = "TeamABedrockLogging"  # FOREIGN_CONFIG's role
EVENT_PROPERTIES = load_event("cfn-create.json")["ResourceProperties"]
REQUIRED = REQUIRED_PROPERTIES


class FakeClock:
    """time.monotonic and time.sleep for retries, without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


# --- properties ------------------------------------------------------------------------------------------


def test_event_properties_become_the_logging_config_bedrock_expects() -> None:
    props = lc.parse_properties({**EVENT_PROPERTIES, "KeyPrefix": "bedrock/", "VideoDataDelivery": "true"})

    assert props.logging_config() == {
        "cloudWatchConfig": {
            "logGroupName": LOG_GROUP,
            "roleArn": ROLE_ARN,
            "largeDataDeliveryS3Config": {"bucketName": BUCKET, "keyPrefix": "bedrock/"},
        },
        "s3Config": {"bucketName": BUCKET, "keyPrefix": "bedrock/"},
        "textDataDeliveryEnabled": True,
        "imageDataDeliveryEnabled": False,
        "embeddingDataDeliveryEnabled": False,
        "videoDataDeliveryEnabled": True,
    }
    assert props.take_over is False


def test_defaults_are_text_on_everything_else_off_and_no_take_over() -> None:
    config = lc.parse_properties(REQUIRED).logging_config()

    assert lc.canonical(config) is not None
    assert config["textDataDeliveryEnabled"] is True
    assert not any(config.get(key) for key in lc.FLAG_KEYS if key != "textDataDeliveryEnabled")
    # Newer members are left out when off, so an older SDK in the Lambda runtime accepts the request.
    assert "audioDataDeliveryEnabled" not in config
    assert "keyPrefix" not in config["s3Config"]


@pytest.mark.parametrize("value", ["True", "yes", "1", "", " true", True, 1, None])
def test_a_flag_accepts_only_the_strings_true_and_false(value: Any) -> None:
    with pytest.raises(lc.PropertyError, match='Property AudioDataDelivery must be "true" or "false"'):
        lc.parse_properties({**REQUIRED, "AudioDataDelivery": value})


@pytest.mark.parametrize("name", ["LogGroupName", "RoleArn", "BucketName"])
def test_each_destination_is_required(name: str) -> None:
    props = {key: value for key, value in REQUIRED.items() if key != name}

    with pytest.raises(lc.PropertyError, match=f"Property {name} is required"):
        lc.parse_properties(props)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("RoleArn", "BedrockCloudWatchLoggingRole", "not an IAM role ARN"),
        ("RoleArn", "arn:aws:iam::123456789012:user/bob", "not an IAM role ARN"),
        ("BucketName", "Bedrock_Logs", "not a valid S3 bucket name"),
        ("LogGroupName", "logs with spaces", "not a valid log group name"),
        ("KeyPrefix", "x" * 1025, "at most 1024"),
    ],
)
def test_malformed_destinations_are_rejected(name: str, value: str, message: str) -> None:
    with pytest.raises(lc.PropertyError, match=message):
        lc.parse_properties({**REQUIRED, name: value})


def test_a_misspelt_property_is_rejected_rather_than_silently_defaulted() -> None:
    with pytest.raises(lc.PropertyError, match="Unknown property TextDataDelivry"):
        lc.parse_properties({**REQUIRED, "TextDataDelivry": "false"})


# --- comparing and describing ----------------------------------------------------------------------------


def test_canonical_treats_missing_prefixes_and_flags_as_empty_and_off() -> None:
    put = lc.parse_properties(REQUIRED).logging_config()
    read_back = {
        **put,
        "s3Config": {"bucketName": BUCKET, "keyPrefix": ""},
        "audioDataDeliveryEnabled": False,
        "videoDataDeliveryEnabled": False,
    }

    assert lc.canonical(put) == lc.canonical(read_back)
    assert lc.canonical({}) is None
    assert lc.canonical(None) is None


def test_same_destinations_ignores_flags_but_not_buckets() -> None:
    ours = lc.parse_properties(REQUIRED).logging_config()

    assert lc.same_destinations(ours, {**ours, "imageDataDeliveryEnabled": True})
    assert not lc.same_destinations(ours, {**ours, "s3Config": {"bucketName": "other-bucket"}})
    assert not lc.same_destinations(ours, FOREIGN_CONFIG)


def test_refusal_names_destinations_and_parameter_even_when_names_are_long() -> None:
    config = {"cloudWatchConfig": {"logGroupName": "/" + "g" * 500, "roleArn": ROLE_ARN}}

    reason = lc.refusal_reason(config)

    assert len(reason) <= lc.REASON_MAX
    assert "log group /ggg" in reason
    assert reason.endswith("(it is put back on stack delete).")
    assert "TakeOverExistingLogging=true" in reason


def test_short_reason_keeps_the_beginning_on_one_line() -> None:
    text = "first line\n" + "word " * 100

    reason = lc.short_reason(text)

    assert len(reason) == lc.REASON_MAX
    assert reason.startswith("first line word")
    assert "\n" not in reason


# --- retry with backoff (Stubber: botocore validates each request against the service model) ----------


def stubbed_bedrock() -> tuple[Any, Stubber]:
    client = boto3.client("bedrock", region_name=REGION)
    return client, Stubber(client)


def test_validation_errors_are_retried_with_growing_capped_delays_until_put_succeeds() -> None:
    bedrock, stub = stubbed_bedrock()
    config = lc.parse_properties(REQUIRED).logging_config()
    for _ in range(6):
        stub.add_client_error(
            "put_model_invocation_logging_configuration",
            "ValidationException",
            "Failed to validate permissions",
        )
    stub.add_response("put_model_invocation_logging_configuration", {}, {"loggingConfig": config})
    clock = FakeClock()
    policy = lc.RetryPolicy(initial_delay=2, max_delay=10, multiplier=2)

    with stub:
        attempts = lc.put_config(
            bedrock, config, deadline=clock.now + 300, policy=policy, clock=clock, sleep=clock.sleep
        )

    assert attempts == 7
    nominal = [2, 4, 8, 10, 10, 10]
    assert len(clock.sleeps) == len(nominal)
    for slept, delay in zip(clock.sleeps, nominal, strict=True):
        assert delay / 2 <= slept <= delay  # jittered
    stub.assert_no_pending_responses()


def test_validation_errors_stop_at_the_deadline_with_a_clear_reason() -> None:
    bedrock, stub = stubbed_bedrock()
    config = lc.parse_properties(REQUIRED).logging_config()
    for _ in range(100):
        stub.add_client_error(
            "put_model_invocation_logging_configuration",
            "ValidationException",
            "Failed to validate permissions for log group",
        )
    clock = FakeClock()
    deadline = clock.now + 60

    with stub, pytest.raises(lc.ConfigRejected) as failure:
        lc.put_config(
            bedrock, config, deadline=deadline, policy=lc.RetryPolicy(), clock=clock, sleep=clock.sleep
        )

    assert clock.now <= deadline
    reason = str(failure.value)
    assert reason.startswith("Bedrock rejected the logging configuration as invalid for")
    assert f"({len(clock.sleeps) + 1} attempts;" in reason
    assert reason.endswith("Failed to validate permissions for log group")


def test_access_denied_is_not_retried() -> None:
    bedrock, stub = stubbed_bedrock()
    stub.add_client_error(
        "put_model_invocation_logging_configuration",
        "AccessDeniedException",
        "not authorized to perform: bedrock:PutModelInvocationLoggingConfiguration",
        http_status_code=403,
    )
    clock = FakeClock()

    with stub, pytest.raises(lc.LoggingSetupError, match="AccessDeniedException on PutModelInvocation"):
        lc.put_config(
            bedrock,
            lc.parse_properties(REQUIRED).logging_config(),
            deadline=clock.now + 300,
            policy=lc.RetryPolicy(),
            clock=clock,
            sleep=clock.sleep,
        )
    assert clock.sleeps == []


# --- saved state and Delete edge cases (moto) -----------------------------------------------------------


def test_state_parameter_is_per_stack_instance() -> None:
    stack_id = load_event("cfn-create.json")["StackId"]

    assert lc.state_parameter_name(stack_id) == (
        "/bedrock-usage-monitor/bedrock-usage-monitor/5b6a9f10-cd2e-11ef-9a1b-0e2d8f7c1a23/previous-logging-config"
    )
    with pytest.raises(lc.LoggingSetupError, match="not a CloudFormation stack ARN"):
        lc.state_parameter_name("my-stack")


def test_state_round_trips_through_ssm(ssm: Any) -> None:
    store = lc.StateStore(ssm, "/bedrock-usage-monitor/s/u/previous-logging-config")
    state = lc.SavedState("id-1", FOREIGN_CONFIG, lc.parse_properties(REQUIRED).logging_config())

    assert store.load() is None
    store.save(state)
    assert store.load() == state
    store.delete()
    store.delete()  # already gone: fine
    assert store.load() is None


def test_when_the_previous_destinations_are_gone_delete_turns_logging_off_and_keeps_the_copy(
    bedrock: Any, ssm: Any
) -> None:
    """The Put of the previous configuration is made to fail validation with a `before-call` hook on this
    client (moto would accept it); Delete must not block the stack delete, and must lose nothing."""
    props = lc.parse_properties(REQUIRED)
    store = lc.StateStore(ssm, "/bedrock-usage-monitor/s/u/previous-logging-config")
    bedrock.put_model_invocation_logging_configuration(loggingConfig=FOREIGN_CONFIG)
    clock = FakeClock()
    timing = lc.Timing(deadline=clock.now + 200, clock=clock, sleep=clock.sleep, restore_budget=30)
    lc.apply(
        bedrock,
        store,
        replace(props, take_over=True, previous_role_name=TEAM_A_ROLE),
        physical_id="id-1",
        timing=timing,
    )

    def reject_previous(params: dict[str, Any], **_: Any) -> Any:
        if (
            json.loads(params["body"])["loggingConfig"]["cloudWatchConfig"]["logGroupName"]
            != "/team-a/bedrock"
        ):
            return None
        error = {"Error": {"Code": "ValidationException", "Message": "role TeamABedrockLogging not found"}}
        return AWSResponse("https://bedrock", 400, {}, None), error

    bedrock.meta.events.register(
        "before-call.bedrock.PutModelInvocationLoggingConfiguration", reject_previous
    )

    result = lc.remove(bedrock, store, props, physical_id="id-1", timing=timing)

    assert result.action == "restore-failed"
    assert store.name in result.detail
    assert lc.get_config(bedrock) is None
    saved = store.load()
    assert saved is not None
    assert saved.previous == FOREIGN_CONFIG
    assert clock.now - 1000 <= 30 + 1


def test_update_that_finds_a_foreign_configuration_leaves_it_and_succeeds(bedrock: Any, ssm: Any) -> None:
    """Refusing would also refuse CloudFormation's rollback Update and strand the stack in
    UPDATE_ROLLBACK_FAILED; without TakeOverExistingLogging the foreign setting is left as it is."""
    props = lc.parse_properties(REQUIRED)
    store = lc.StateStore(ssm, "/bedrock-usage-monitor/s/u/previous-logging-config")
    clock = FakeClock()
    timing = lc.Timing(deadline=clock.now + 100, clock=clock, sleep=clock.sleep)
    lc.apply(bedrock, store, props, physical_id="id-1", timing=timing)
    bedrock.put_model_invocation_logging_configuration(loggingConfig=FOREIGN_CONFIG)  # someone else, later

    result = lc.apply(bedrock, store, props, physical_id="id-1", timing=timing, old_props=props)

    assert result.applied is False
    assert lc.canonical(lc.get_config(bedrock)) == lc.canonical(FOREIGN_CONFIG)
    with pytest.raises(lc.LoggingSetupError, match="TakeOverExistingLogging"):
        lc.apply(bedrock, store, props, physical_id="id-1", timing=timing)  # a Create is still refused


def test_taking_over_again_on_update_keeps_the_newer_foreign_configuration_to_put_back(
    bedrock: Any, ssm: Any
) -> None:
    props = replace(lc.parse_properties(REQUIRED), take_over=True, previous_role_name=TEAM_A_ROLE)
    store = lc.StateStore(ssm, "/bedrock-usage-monitor/s/u/previous-logging-config")
    clock = FakeClock()
    timing = lc.Timing(deadline=clock.now + 100, clock=clock, sleep=clock.sleep)
    lc.apply(bedrock, store, props, physical_id="id-1", timing=timing)  # nothing before the stack
    bedrock.put_model_invocation_logging_configuration(loggingConfig=FOREIGN_CONFIG)  # then someone else's

    lc.apply(bedrock, store, props, physical_id="id-1", timing=timing, old_props=props)
    result = lc.remove(bedrock, store, props, physical_id="id-1", timing=timing)

    assert result.action == "restored"
    assert lc.canonical(lc.get_config(bedrock)) == lc.canonical(FOREIGN_CONFIG)


def test_delete_whose_restore_is_denied_turns_logging_off_and_keeps_the_copy(bedrock: Any, ssm: Any) -> None:
    """TakeOverExistingLogging turned off before the delete removes the PassRole the restore needs: the
    AccessDeniedException is injected with a `before-call` hook (moto never denies)."""
    props = replace(lc.parse_properties(REQUIRED), take_over=True, previous_role_name=TEAM_A_ROLE)
    store = lc.StateStore(ssm, "/bedrock-usage-monitor/s/u/previous-logging-config")
    bedrock.put_model_invocation_logging_configuration(loggingConfig=FOREIGN_CONFIG)
    clock = FakeClock()
    timing = lc.Timing(deadline=clock.now + 200, clock=clock, sleep=clock.sleep, restore_budget=30)
    lc.apply(bedrock, store, props, physical_id="id-1", timing=timing)

    def deny(**_: Any) -> Any:
        error = {"Error": {"Code": "AccessDeniedException", "Message": "not authorized to iam:PassRole"}}
        return AWSResponse("https://bedrock", 403, {}, None), error

    bedrock.meta.events.register("before-call.bedrock.PutModelInvocationLoggingConfiguration", deny)

    result = lc.remove(bedrock, store, props, physical_id="id-1", timing=timing)

    assert result.action == "restore-failed"
    assert lc.get_config(bedrock) is None
    saved = store.load()
    assert saved is not None
    assert saved.previous == FOREIGN_CONFIG


def test_delete_for_a_resource_id_that_is_not_the_live_one_changes_nothing(bedrock: Any, ssm: Any) -> None:
    props = lc.parse_properties(REQUIRED)
    store = lc.StateStore(ssm, "/bedrock-usage-monitor/s/u/previous-logging-config")
    clock = FakeClock()
    timing = lc.Timing(deadline=clock.now + 100, clock=clock, sleep=clock.sleep)
    lc.apply(bedrock, store, props, physical_id="live-id", timing=timing)

    result = lc.remove(bedrock, store, props, physical_id="old-id", timing=timing)

    assert result.action == "other-resource"
    assert lc.canonical(lc.get_config(bedrock)) == lc.canonical(props.logging_config())
    assert store.load() is not None


# --- settings --------------------------------------------------------------------------------------------


def test_settings_default_for_a_real_deploy_and_reject_nonsense() -> None:
    settings = HandlerSettings.from_env({})
    assert settings.reserve_seconds == 20
    assert settings.log_level == "INFO"

    custom = HandlerSettings.from_env({"PUT_RETRY_INITIAL_SECONDS": "0.5", "POWERTOOLS_LOG_LEVEL": "debug"})
    assert custom.retry.initial_delay == 0.5
    assert custom.log_level == "DEBUG"

    with pytest.raises(lc.LoggingSetupError, match="RESPONSE_RESERVE_SECONDS"):
        HandlerSettings.from_env({"RESPONSE_RESERVE_SECONDS": "soon"})
    with pytest.raises(lc.LoggingSetupError, match="POWERTOOLS_LOG_LEVEL"):
        HandlerSettings.from_env({"POWERTOOLS_LOG_LEVEL": "LOUD"})


def test_timing_keeps_the_reserve_back_from_the_remaining_time() -> None:
    clock = FakeClock()
    timing = HandlerSettings(reserve_seconds=20).timing(300_000, clock=clock)

    assert timing.deadline == clock.now + 280


def test_when_bedrock_reads_back_something_else_create_fails_and_puts_the_previous_back(
    bedrock: Any, ssm: Any
) -> None:
    """Bedrock dropping the S3 destination on read-back is emulated by an `after-call` hook that edits
    the parsed Get response once ours has been Put (moto echoes whatever was Put)."""
    bedrock.put_model_invocation_logging_configuration(loggingConfig=FOREIGN_CONFIG)
    props = replace(lc.parse_properties(REQUIRED), take_over=True, previous_role_name=TEAM_A_ROLE)
    store = lc.StateStore(ssm, "/bedrock-usage-monitor/s/u/previous-logging-config")
    ours_put = {"done": False}

    def after_put(params: dict[str, Any], **_: Any) -> None:
        body = json.loads(params["body"])
        ours_put["done"] = body["loggingConfig"]["cloudWatchConfig"]["logGroupName"] == LOG_GROUP

    def after_get(parsed: dict[str, Any], **_: Any) -> None:
        if ours_put["done"]:
            parsed["loggingConfig"].pop("s3Config", None)

    bedrock.meta.events.register("before-call.bedrock.PutModelInvocationLoggingConfiguration", after_put)
    bedrock.meta.events.register("after-call.bedrock.GetModelInvocationLoggingConfiguration", after_get)
    clock = FakeClock()
    timing = lc.Timing(deadline=clock.now + 5, clock=clock, sleep=clock.sleep)

    with pytest.raises(
        lc.LoggingSetupError, match=r"different logging configuration after Put \(differs in s3Config\)"
    ):
        lc.apply(bedrock, store, props, physical_id="id-1", timing=timing)

    plain = boto3.client("bedrock", region_name=REGION)
    assert lc.canonical(lc.get_config(plain)) == lc.canonical(FOREIGN_CONFIG)
    assert store.load() is None


# --- faults: unreadable answers, transient errors, lost state, take-over scope ---------------------------


class RawBody:
    """The `raw` of a botocore AWSResponse: the body bytes as the HTTP layer would stream them."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


def answer_get_with(bedrock: Any, body: bytes) -> None:
    """Make this client's Get receive `body` with HTTP 200, as if from the wire (registered first, so it
    runs before moto's own `before-send` handler); botocore still parses it with the service model."""

    def send(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(request.url, 200, {"content-type": "application/json"}, RawBody(body))

    bedrock.meta.events.register_first("before-send.bedrock.GetModelInvocationLoggingConfiguration", send)


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>Service Unavailable</body></html>",
        b"[]",
        b'{"loggingConfig": "on"}',
        b'{"loggingConfig": {"cloudWatchConfig": {"logGroupName": "/team-a/bedrock"}}}',
        b'{"loggingConfig": {"s3Config": {"bucketName": 7}}}',
        b'{"loggingConfig": {"s3Config": {"bucketName": "b"}, "textDataDeliveryEnabled": "yes"}}',
    ],
    ids=["html", "array", "string-config", "no-role", "numeric-bucket", "string-flag"],
)
def test_an_unreadable_200_is_refused_not_read_as_logging_off(bedrock: Any, body: bytes) -> None:
    """botocore parses a non-JSON body as an empty response, which is what "logging off" looks like."""
    answer_get_with(bedrock, body)

    with pytest.raises(lc.UnreadableConfig, match="nothing was changed"):
        lc.get_config(bedrock)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", None),
        (b"{}", None),
        (b'{"loggingConfig": null}', None),
        (json.dumps({"loggingConfig": FOREIGN_CONFIG}).encode(), FOREIGN_CONFIG),
    ],
    ids=["empty", "empty-object", "null-config", "foreign"],
)
def test_well_formed_answers_are_read(bedrock: Any, body: bytes, expected: dict[str, Any] | None) -> None:
    answer_get_with(bedrock, body)

    assert lc.canonical(lc.get_config(bedrock)) == lc.canonical(expected)


def test_create_on_an_unreadable_answer_changes_nothing_and_saves_nothing(bedrock: Any, ssm: Any) -> None:
    bedrock.put_model_invocation_logging_configuration(loggingConfig=FOREIGN_CONFIG)
    reader = boto3.client("bedrock", region_name=REGION)
    answer_get_with(bedrock, b"<html>proxy error</html>")
    store = lc.StateStore(ssm, "/bedrock-usage-monitor/s/u/previous-logging-config")
    clock = FakeClock()
    timing = lc.Timing(deadline=clock.now + 100, clock=clock, sleep=clock.sleep)

    with pytest.raises(lc.UnreadableConfig, match="a body that is not JSON"):
        lc.apply(bedrock, store, lc.parse_properties(REQUIRED), physical_id="id-1", timing=timing)

    assert lc.canonical(lc.get_config(reader)) == lc.canonical(FOREIGN_CONFIG)
    assert store.load() is None


@pytest.mark.parametrize(
    ("code", "status"), [("ThrottlingException", 429), ("InternalServerException", 500), ("Unknown", 503)]
)
def test_a_restore_that_may_pass_later_fails_the_delete_and_changes_nothing(
    bedrock: Any, ssm: Any, code: str, status: int
) -> None:
    """The error is injected with a `before-call` hook (moto never throttles); before the fix the delete
    turned logging off and answered SUCCESS, losing the other team's setting until someone restored it."""
    props = replace(lc.parse_properties(REQUIRED), take_over=True, previous_role_name=TEAM_A_ROLE)
    store = lc.StateStore(ssm, "/bedrock-usage-monitor/s/u/previous-logging-config")
    bedrock.put_model_invocation_logging_configuration(loggingConfig=FOREIGN_CONFIG)
    clock = FakeClock()
    timing = lc.Timing(deadline=clock.now + 200, clock=clock, sleep=clock.sleep)
    lc.apply(bedrock, store, props, physical_id="id-1", timing=timing)
    ours = lc.canonical(lc.get_config(bedrock))

    def fail(**_: Any) -> Any:
        return AWSResponse("https://bedrock", status, {}, None), {"Error": {"Code": code, "Message": "later"}}

    bedrock.meta.events.register("before-call.bedrock.PutModelInvocationLoggingConfiguration", fail)

    with pytest.raises(lc.TransientError, match=f"{code}.*delete the stack again"):
        lc.remove(bedrock, store, props, physical_id="id-1", timing=timing)

    assert lc.canonical(lc.get_config(bedrock)) == ours
    saved = store.load()
    assert saved is not None
    assert saved.previous == FOREIGN_CONFIG


def test_lost_state_removes_a_setting_on_any_of_our_destinations_and_leaves_others(
    bedrock: Any, ssm: Any
) -> None:
    props = lc.parse_properties(REQUIRED)
    store = lc.StateStore(ssm, "/bedrock-usage-monitor/s/u/previous-logging-config")  # empty: state lost
    timing = lc.Timing(deadline=FakeClock().now + 100)
    team_role = FOREIGN_CONFIG["cloudWatchConfig"]["roleArn"]
    ours_by = {
        "role": {"cloudWatchConfig": {"logGroupName": "/team-a/bedrock", "roleArn": ROLE_ARN}},
        "log group": {"cloudWatchConfig": {"logGroupName": LOG_GROUP, "roleArn": team_role}},
        "bucket": {"s3Config": {"bucketName": BUCKET, "keyPrefix": "elsewhere/"}},
        "large-data bucket": {
            "cloudWatchConfig": {
                "logGroupName": "/team-a/bedrock",
                "roleArn": team_role,
                "largeDataDeliveryS3Config": {"bucketName": BUCKET},
            }
        },
    }
    for what, config in ours_by.items():
        bedrock.put_model_invocation_logging_configuration(loggingConfig=config)

        result = lc.remove(bedrock, store, props, physical_id="id-1", timing=timing)

        assert (result.action, lc.get_config(bedrock)) == ("deleted", None), what
    bedrock.put_model_invocation_logging_configuration(loggingConfig=FOREIGN_CONFIG)

    result = lc.remove(bedrock, store, props, physical_id="id-1", timing=timing)

    assert result.action == "not-set"
    assert lc.canonical(lc.get_config(bedrock)) == lc.canonical(FOREIGN_CONFIG)


@pytest.mark.parametrize(
    ("role", "named", "problem"),
    [
        (f"arn:aws:iam::123456789012:role/{TEAM_A_ROLE}", TEAM_A_ROLE, ""),
        (f"arn:aws:iam::123456789012:role/{TEAM_A_ROLE}", "", f"PreviousLoggingRoleName={TEAM_A_ROLE}"),
        (
            f"arn:aws:iam::123456789012:role/{TEAM_A_ROLE}",
            "OtherRole",
            f"PreviousLoggingRoleName={TEAM_A_ROLE}",
        ),
        ("arn:aws:iam::123456789012:role/teams/a/Logging", "teams/a/Logging", ""),
        (f"arn:aws:iam::210987654321:role/{TEAM_A_ROLE}", TEAM_A_ROLE, "another account"),
        (ROLE_ARN, "", ""),  # the stack's own role: always passable
        (None, "", ""),  # S3 only: no role to pass
    ],
)
def test_take_over_only_of_a_configuration_whose_role_the_stack_may_pass_back(
    role: str | None, named: str, problem: str
) -> None:
    live: dict[str, Any] = {"s3Config": {"bucketName": "team-a-bedrock-logs"}}
    if role:
        live["cloudWatchConfig"] = {"logGroupName": "/team-a/bedrock", "roleArn": role}
    props = replace(lc.parse_properties(REQUIRED), take_over=True, previous_role_name=named)

    reason = lc.take_over_problem(live, props)

    assert (problem in reason) if problem else reason == ""
    assert len(reason) <= lc.REASON_MAX


def test_previous_role_name_must_be_a_role_name() -> None:
    for bad in ["*", "role/*", f"arn:aws:iam::123456789012:role/{TEAM_A_ROLE}", "a b"]:
        with pytest.raises(lc.PropertyError, match="PreviousLoggingRoleName"):
            lc.parse_properties({**REQUIRED, "PreviousLoggingRoleName": bad})


def test_settings_for_the_answer_and_the_sdk_come_from_the_environment() -> None:
    settings = HandlerSettings.from_env(
        {
            "RESPONSE_GUARD_SECONDS": "12",
            "RESPONSE_ATTEMPT_TIMEOUT_SECONDS": "2",
            "RESPONSE_MAX_ATTEMPTS": "3",
            "SDK_READ_TIMEOUT_SECONDS": "7",
            "SDK_MAX_ATTEMPTS": "2",
            "DELETE_LOG_FLUSH_SECONDS": "1",
        }
    )

    assert (settings.guard_seconds, settings.answer.attempt_timeout, settings.answer.max_attempts) == (
        12,
        2,
        3,
    )
    config = settings.sdk_config()
    assert config.read_timeout == 7
    assert config.retries == {"mode": "standard", "total_max_attempts": 2}
    assert settings.delete_log_flush_seconds == 1


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"RESPONSE_GUARD_SECONDS": "nan"}, "RESPONSE_GUARD_SECONDS"),
        ({"SDK_MAX_ATTEMPTS": "0"}, "SDK_MAX_ATTEMPTS"),
        ({"RESPONSE_GUARD_SECONDS": "1", "RESPONSE_ATTEMPT_TIMEOUT_SECONDS": "5"}, "RESPONSE_GUARD_SECONDS"),
        ({"RESPONSE_RESERVE_SECONDS": "5", "RESPONSE_GUARD_SECONDS": "10"}, "RESPONSE_RESERVE_SECONDS"),
    ],
)
def test_settings_that_would_leave_no_time_to_answer_are_rejected(
    environ: dict[str, str], named: str
) -> None:
    with pytest.raises(lc.LoggingSetupError, match=named):
        HandlerSettings.from_env(environ)


def test_an_update_that_may_not_take_over_leaves_the_foreign_setting_and_succeeds(
    bedrock: Any, ssm: Any
) -> None:
    """Taking over on Update with the role not named: refusing would also refuse the rollback Update
    (same properties) and strand the stack in UPDATE_ROLLBACK_FAILED."""
    props = replace(lc.parse_properties(REQUIRED), take_over=True)
    store = lc.StateStore(ssm, "/bedrock-usage-monitor/s/u/previous-logging-config")
    clock = FakeClock()
    timing = lc.Timing(deadline=clock.now + 100, clock=clock, sleep=clock.sleep)
    lc.apply(bedrock, store, props, physical_id="id-1", timing=timing)
    bedrock.put_model_invocation_logging_configuration(loggingConfig=FOREIGN_CONFIG)  # someone else, later

    result = lc.apply(bedrock, store, props, physical_id="id-1", timing=timing, old_props=props)

    assert result.applied is False
    assert lc.canonical(lc.get_config(bedrock)) == lc.canonical(FOREIGN_CONFIG)


# --- the Reason CloudFormation shows for an SDK error ---------------------------------------------------


def test_a_client_error_reason_names_code_operation_and_message_and_says_if_a_retry_may_pass() -> None:
    from botocore.exceptions import ClientError

    denied = ClientError(
        {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}},
        "DeleteModelInvocationLoggingConfiguration",
    )
    failure = lc.aws_failure("Deleting the logging configuration", denied)
    assert type(failure) is lc.LoggingSetupError  # permanent: a retry would be denied again
    assert str(failure) == (
        "Deleting the logging configuration failed: "
        "AccessDeniedException on DeleteModelInvocationLoggingConfiguration: not authorized"
    )
    # No message: no dangling colon. No Error block at all: still a reason, and retried (nothing says denied).
    bare = ClientError({"Error": {"Code": "ThrottlingException"}}, "GetModelInvocationLoggingConfiguration")
    assert lc.describe_client_error(bare) == "ThrottlingException on GetModelInvocationLoggingConfiguration"
    empty = lc.aws_failure("Reading", ClientError({}, "GetModelInvocationLoggingConfiguration"))
    assert type(empty) is lc.TransientError
    assert str(empty) == "Reading failed: Error on GetModelInvocationLoggingConfiguration"


def test_a_connection_error_is_transient_and_says_what_failed() -> None:
    from botocore.exceptions import EndpointConnectionError

    failure = lc.aws_failure("Saving the state", EndpointConnectionError(endpoint_url="https://ssm.example"))
    assert type(failure) is lc.TransientError
    assert (
        str(failure)
        == 'Saving the state failed: Could not connect to the endpoint URL: "https://ssm.example"'
    )


def test_no_configuration_points_at_nothing() -> None:
    """With logging off there is nothing of ours to remove, whatever the properties."""
    assert lc.points_at(None, lc.parse_properties(REQUIRED)) is False


def test_the_refusal_starts_by_saying_logging_is_already_on() -> None:
    reason = lc.refusal_reason(FOREIGN_CONFIG)
    assert reason.startswith("Bedrock invocation logging is already on in this Region, sending to log group ")
    assert "(role " not in reason  # the role is not the user's business here; the destinations are


def test_the_saved_state_is_a_compact_plain_parameter_that_may_grow_past_4_kb(ssm: Any) -> None:
    """Plain String (nothing secret; a SecureString would need kms:Decrypt), Intelligent-Tiering so two long
    configurations past the Standard tier's 4 KB still save, compact sorted JSON with a version to read by."""
    name = "/bedrock-usage-monitor/s/u/previous-logging-config"
    lc.StateStore(ssm, name).save(lc.SavedState("id-1", None, {"s3Config": {"bucketName": "b"}}))
    parameter = ssm.get_parameter(Name=name)["Parameter"]
    assert parameter["Type"] == "String"
    assert parameter["Value"] == (
        '{"applied":{"s3Config":{"bucketName":"b"}},"physicalId":"id-1","previous":null,"version":1}'
    )
    [described] = ssm.describe_parameters()["Parameters"]
    assert described["Tier"] == "Intelligent-Tiering"  # moto records the tier asked for; SSM the one it chose
