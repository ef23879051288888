"""The Reason CloudFormation shows, and the status detail, for each path of the logging custom resource.

A stack event is the only place a user learns why a deploy or a delete did what it did, so each failing
step names itself and each Delete outcome says what it did, word for word. Bedrock runs in moto; its
errors are injected with a `before-call` hook on the client (the request is still validated against the
service model), and connection failures are raised from the same hook, as botocore raises them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from bedrock_usage import logging_config as lc
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError

from tests.conftest import ACCOUNT_ID, REGION
from tests.logging_setup.conftest import BUCKET, FOREIGN_CONFIG, LOG_GROUP, REQUIRED_PROPERTIES, ROLE_ARN
from tests.logging_setup.test_logging_config import TEAM_A_ROLE, FakeClock

STATE = "/bedrock-usage-monitor/s/u/previous-logging-config"
TEAM_ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/{TEAM_A_ROLE}"
DENIED = "User is not authorized"
ENDPOINT = f"https://bedrock.{REGION}.amazonaws.com/logging/modelinvocations"
# describe(FOREIGN_CONFIG), written out by hand.
FOREIGN_WHERE = f"log group /team-a/bedrock (role {TEAM_ROLE_ARN}), s3://team-a-bedrock-logs/invocations/"


def fail(client: Any, operation: str, *, code: str = "", times: int | None = None) -> dict[str, int]:
    """Make `operation` on `client` answer with AWS error `code` (or, without a code, fail to connect)."""
    counter = {"calls": 0}

    def hook(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if times is not None and counter["calls"] >= times:
            return None
        counter["calls"] += 1
        if not code:
            raise EndpointConnectionError(endpoint_url=ENDPOINT)
        status = 403 if code == "AccessDeniedException" else 400
        message = DENIED if status == 403 else "invalid"
        error = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
        return AWSResponse(ENDPOINT, status, {}, None), error

    client.meta.events.register(f"before-call.bedrock.{operation}", hook)
    return counter


def denied(operation: str) -> str:
    """The part of a reason that describe_client_error makes of an AccessDeniedException."""
    return f"failed: AccessDeniedException on {operation}: {DENIED}"


@pytest.fixture
def props() -> lc.LoggingProperties:
    return lc.parse_properties(REQUIRED_PROPERTIES)


@pytest.fixture
def store(ssm: Any) -> lc.StateStore:
    return lc.StateStore(ssm, STATE)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def timing(clock: FakeClock) -> lc.Timing:
    return lc.Timing(deadline=clock.now + 100, clock=clock, sleep=clock.sleep, restore_budget=30)


@pytest.fixture
def created(bedrock: Any, store: lc.StateStore, props: lc.LoggingProperties, timing: lc.Timing) -> None:
    """The stack's Create went through with no configuration before it."""
    lc.apply(bedrock, store, props, physical_id="id-1", timing=timing)


@pytest.fixture
def took_over(bedrock: Any, store: lc.StateStore, props: lc.LoggingProperties, timing: lc.Timing) -> None:
    """The stack's Create took over Team A's configuration (to be put back on Delete)."""
    bedrock.put_model_invocation_logging_configuration(loggingConfig=FOREIGN_CONFIG)
    mine = replace(props, take_over=True, previous_role_name=TEAM_A_ROLE)
    lc.apply(bedrock, store, mine, physical_id="id-1", timing=timing)


# --- what each Delete did --------------------------------------------------------------------------------


@pytest.mark.usefixtures("created")
def test_delete_after_a_create_from_nothing_turns_logging_off_and_says_so(
    bedrock: Any, store: lc.StateStore, props: lc.LoggingProperties, timing: lc.Timing
) -> None:
    result = lc.remove(bedrock, store, props, physical_id="id-1", timing=timing)

    assert result == lc.RemoveResult("deleted", "no configuration before this stack; logging turned off")
    assert lc.get_config(bedrock) is None


@pytest.mark.usefixtures("took_over")
def test_delete_after_a_take_over_names_the_configuration_it_put_back(
    bedrock: Any, store: lc.StateStore, props: lc.LoggingProperties, timing: lc.Timing
) -> None:
    result = lc.remove(bedrock, store, props, physical_id="id-1", timing=timing)

    assert result == lc.RemoveResult("restored", f"previous configuration put back: {FOREIGN_WHERE}")


@pytest.mark.usefixtures("created")
def test_delete_when_logging_was_turned_off_meanwhile_changes_nothing(
    bedrock: Any, store: lc.StateStore, props: lc.LoggingProperties, timing: lc.Timing
) -> None:
    bedrock.delete_model_invocation_logging_configuration()

    result = lc.remove(bedrock, store, props, physical_id="id-1", timing=timing)

    assert result == lc.RemoveResult("already-off", "logging was already off; nothing to remove")


@pytest.mark.usefixtures("created")
def test_delete_when_someone_replaced_the_configuration_names_what_it_left(
    bedrock: Any, store: lc.StateStore, props: lc.LoggingProperties, timing: lc.Timing
) -> None:
    bedrock.put_model_invocation_logging_configuration(loggingConfig=FOREIGN_CONFIG)

    result = lc.remove(bedrock, store, props, physical_id="id-1", timing=timing)

    assert result == lc.RemoveResult(
        "left-foreign", f"configuration was replaced since by someone else; left: {FOREIGN_WHERE}"
    )
    assert lc.canonical(lc.get_config(bedrock)) == lc.canonical(FOREIGN_CONFIG)


@pytest.mark.usefixtures("created")
def test_delete_recognises_the_configuration_of_the_current_properties_as_its_own(
    bedrock: Any, store: lc.StateStore, props: lc.LoggingProperties, timing: lc.Timing
) -> None:
    """An Update whose Put failed after the state was saved leaves the new destinations live while the state
    holds the old ones; the Delete that follows must still see them as this stack's."""
    moved = replace(props, bucket_name="bedrock-logs-moved")
    bedrock.put_model_invocation_logging_configuration(loggingConfig=moved.logging_config())

    result = lc.remove(bedrock, store, moved, physical_id="id-1", timing=timing)

    assert result.action == "deleted"
    assert lc.get_config(bedrock) is None


def test_delete_with_lost_state_says_whether_it_removed_a_setting_pointing_at_the_stack(
    bedrock: Any, store: lc.StateStore, props: lc.LoggingProperties, timing: lc.Timing
) -> None:
    bedrock.put_model_invocation_logging_configuration(loggingConfig=props.logging_config())

    removed = lc.remove(bedrock, store, props, physical_id="id-1", timing=timing)
    bedrock.put_model_invocation_logging_configuration(loggingConfig=FOREIGN_CONFIG)
    left = lc.remove(bedrock, store, props, physical_id="id-1", timing=timing)

    assert removed == lc.RemoveResult(
        "deleted", "no saved state; removed the configuration pointing at this stack"
    )
    assert left == lc.RemoveResult(
        "not-set", "this stack had not set the logging configuration; nothing to undo"
    )


def test_delete_with_no_state_and_an_unreadable_setting_succeeds_and_says_why(
    bedrock: Any, store: lc.StateStore, props: lc.LoggingProperties, timing: lc.Timing
) -> None:
    fail(bedrock, "GetModelInvocationLoggingConfiguration", code="AccessDeniedException")

    result = lc.remove(bedrock, store, props, physical_id="id-1", timing=timing)

    reading = f"Reading the logging configuration {denied('GetModelInvocationLoggingConfiguration')}"
    assert result == lc.RemoveResult(
        "not-set", f"no saved state, and the setting cannot be read ({reading}); nothing to undo"
    )


# --- each failing step names itself ---------------------------------------------------------------------


@pytest.mark.usefixtures("created")
def test_a_delete_that_cannot_read_the_setting_says_reading_failed(
    bedrock: Any, store: lc.StateStore, props: lc.LoggingProperties, timing: lc.Timing
) -> None:
    fail(bedrock, "GetModelInvocationLoggingConfiguration", code="AccessDeniedException")

    with pytest.raises(lc.LoggingSetupError) as failure:
        lc.remove(bedrock, store, props, physical_id="id-1", timing=timing)

    assert (
        str(failure.value)
        == f"Reading the logging configuration {denied('GetModelInvocationLoggingConfiguration')}"
    )


@pytest.mark.usefixtures("created")
def test_a_delete_that_may_not_turn_logging_off_says_deleting_failed(
    bedrock: Any, store: lc.StateStore, props: lc.LoggingProperties, timing: lc.Timing
) -> None:
    fail(bedrock, "DeleteModelInvocationLoggingConfiguration", code="AccessDeniedException")

    with pytest.raises(lc.LoggingSetupError) as failure:
        lc.remove(bedrock, store, props, physical_id="id-1", timing=timing)

    assert (
        str(failure.value)
        == f"Deleting the logging configuration {denied('DeleteModelInvocationLoggingConfiguration')}"
    )
    assert store.load() is not None  # nothing lost: the retried Delete still knows what to do


def test_a_lost_state_delete_that_may_not_turn_logging_off_says_deleting_failed(
    bedrock: Any, store: lc.StateStore, props: lc.LoggingProperties, timing: lc.Timing
) -> None:
    bedrock.put_model_invocation_logging_configuration(loggingConfig=props.logging_config())
    fail(bedrock, "DeleteModelInvocationLoggingConfiguration", code="AccessDeniedException")

    with pytest.raises(lc.LoggingSetupError) as failure:
        lc.remove(bedrock, store, props, physical_id="id-1", timing=timing)

    assert (
        str(failure.value)
        == f"Deleting the logging configuration {denied('DeleteModelInvocationLoggingConfiguration')}"
    )


@pytest.mark.usefixtures("took_over")
def test_a_rejected_restore_whose_fallback_delete_is_denied_says_deleting_failed(
    bedrock: Any, store: lc.StateStore, props: lc.LoggingProperties, timing: lc.Timing
) -> None:
    fail(bedrock, "PutModelInvocationLoggingConfiguration", code="AccessDeniedException")
    fail(bedrock, "DeleteModelInvocationLoggingConfiguration", code="AccessDeniedException")

    with pytest.raises(lc.LoggingSetupError) as failure:
        lc.remove(bedrock, store, props, physical_id="id-1", timing=timing)

    assert (
        str(failure.value)
        == f"Deleting the logging configuration {denied('DeleteModelInvocationLoggingConfiguration')}"
    )
    assert store.load() is not None


@pytest.mark.usefixtures("took_over")
def test_a_restore_that_cannot_connect_says_what_failed_and_how_to_retry(
    bedrock: Any, store: lc.StateStore, props: lc.LoggingProperties, timing: lc.Timing
) -> None:
    fail(bedrock, "PutModelInvocationLoggingConfiguration")

    with pytest.raises(lc.TransientError) as failure:
        lc.remove(bedrock, store, props, physical_id="id-1", timing=timing)

    assert str(failure.value) == (
        "Putting the previous logging configuration back failed: "
        f'Could not connect to the endpoint URL: "{ENDPOINT}". '
        "Nothing was changed; delete the stack again to retry"
    )
    assert store.load() is not None


@pytest.mark.usefixtures("took_over")
def test_a_restore_waits_out_iam_propagation_within_its_own_budget(
    bedrock: Any, store: lc.StateStore, props: lc.LoggingProperties, clock: FakeClock, timing: lc.Timing
) -> None:
    """The previous configuration's role may be answered with ValidationException for a while; the restore
    retries on the stack's clock, for at most `restore_budget` seconds from its start."""
    started = clock.now
    calls = fail(bedrock, "PutModelInvocationLoggingConfiguration", code="ValidationException", times=3)

    result = lc.remove(bedrock, store, props, physical_id="id-1", timing=timing)

    assert (result.action, calls["calls"]) == ("restored", 3)
    assert 0 < clock.now - started <= 30


@pytest.mark.usefixtures("took_over")
def test_a_restore_gives_up_at_its_budget_not_at_the_function_deadline(
    bedrock: Any, store: lc.StateStore, props: lc.LoggingProperties, clock: FakeClock, timing: lc.Timing
) -> None:
    started = clock.now
    fail(bedrock, "PutModelInvocationLoggingConfiguration", code="ValidationException")

    result = lc.remove(bedrock, store, props, physical_id="id-1", timing=timing)

    assert result.action == "restore-failed"
    assert 10 < clock.now - started <= 30  # timing's deadline is 100 s away; the budget is 30 s


def test_a_failed_create_whose_undo_is_denied_names_both_failures(
    bedrock: Any, store: lc.StateStore, props: lc.LoggingProperties, clock: FakeClock
) -> None:
    """Bedrock reads back something else after Put; turning logging off again is denied: the Reason says both,
    and the saved state stays for the rollback's Delete."""
    reads = {"n": 0}

    def stale_read(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        reads["n"] += 1
        if reads["n"] == 1:
            return None  # the first read, before Put: logging off (moto's answer)
        body = {"loggingConfig": {"s3Config": {"bucketName": "b1"}}}
        return AWSResponse(ENDPOINT, 200, {}, None), body

    bedrock.meta.events.register("before-call.bedrock.GetModelInvocationLoggingConfiguration", stale_read)
    fail(bedrock, "DeleteModelInvocationLoggingConfiguration", code="AccessDeniedException")

    timing = lc.Timing(deadline=clock.now + 3, clock=clock, sleep=clock.sleep)

    with pytest.raises(lc.LoggingSetupError) as failure:
        lc.apply(bedrock, store, props, physical_id="id-1", timing=timing)

    reason = str(failure.value)
    assert reason.startswith("Bedrock reports a different logging configuration after Put (differs in ")
    assert (
        "; putting the previous configuration back failed too: Deleting the logging configuration failed: "
        "AccessDenied"
    ) in reason
    assert store.load() is not None


def test_a_create_that_cannot_connect_for_its_put_says_putting_failed(
    bedrock: Any, store: lc.StateStore, props: lc.LoggingProperties, timing: lc.Timing
) -> None:
    fail(bedrock, "PutModelInvocationLoggingConfiguration")

    with pytest.raises(lc.TransientError) as failure:
        lc.apply(bedrock, store, props, physical_id="id-1", timing=timing)

    assert (
        str(failure.value)
        == f'Putting the logging configuration failed: Could not connect to the endpoint URL: "{ENDPOINT}"'
    )
    assert store.load() is None  # a failed Create leaves nothing behind


def test_a_create_that_cannot_read_back_says_reading_back_failed(
    bedrock: Any, store: lc.StateStore, props: lc.LoggingProperties, timing: lc.Timing
) -> None:
    reads = {"n": 0}

    def deny_after_put(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        reads["n"] += 1
        return None if reads["n"] == 1 else _denied_response()

    bedrock.meta.events.register("before-call.bedrock.GetModelInvocationLoggingConfiguration", deny_after_put)

    with pytest.raises(lc.LoggingSetupError) as failure:
        lc.apply(bedrock, store, props, physical_id="id-1", timing=timing)

    assert str(failure.value) == (
        f"Reading the logging configuration back {denied('GetModelInvocationLoggingConfiguration')}"
    )


def _denied_response() -> tuple[AWSResponse, dict[str, Any]]:
    error = {
        "Error": {"Code": "AccessDeniedException", "Message": DENIED},
        "ResponseMetadata": {"HTTPStatusCode": 403},
    }
    return AWSResponse(ENDPOINT, 403, {}, None), error


# --- reading back until Bedrock agrees ------------------------------------------------------------------


def test_read_back_polls_each_second_until_the_deadline_then_names_what_differs(
    bedrock: Any, props: lc.LoggingProperties, clock: FakeClock
) -> None:
    """Reads may lag a Put: one read a second, the last one no later than the deadline."""
    bedrock.put_model_invocation_logging_configuration(loggingConfig=FOREIGN_CONFIG)

    with pytest.raises(lc.LoggingSetupError) as failure:
        lc.verify_config(
            bedrock, props.logging_config(), deadline=clock.now + 3, clock=clock, sleep=clock.sleep
        )

    assert clock.sleeps == [1.0, 1.0, 1.0]
    full = (
        "Bedrock reports a different logging configuration after Put (differs in cloudWatchConfig, "
        f"embeddingDataDeliveryEnabled, s3Config, textDataDeliveryEnabled): {FOREIGN_WHERE}"
    )
    assert len(full) > 250  # CloudFormation's Reason keeps the first 247 characters and an ellipsis
    assert str(failure.value) == full[:247] + "..."


def test_read_back_returns_as_soon_as_bedrock_agrees(
    bedrock: Any, props: lc.LoggingProperties, clock: FakeClock
) -> None:
    bedrock.put_model_invocation_logging_configuration(loggingConfig=FOREIGN_CONFIG)
    reads = {"n": 0}

    def lagging(**_: Any) -> None:
        reads["n"] += 1
        if reads["n"] == 3:
            bedrock.meta.events.unregister(
                "before-call.bedrock.GetModelInvocationLoggingConfiguration", lagging
            )
            bedrock.put_model_invocation_logging_configuration(loggingConfig=props.logging_config())

    bedrock.meta.events.register("before-call.bedrock.GetModelInvocationLoggingConfiguration", lagging)

    lc.verify_config(bedrock, props.logging_config(), deadline=clock.now + 30, clock=clock, sleep=clock.sleep)

    assert clock.sleeps == [1.0, 1.0]


# --- describing a configuration -------------------------------------------------------------------------


def test_describe_names_every_destination_and_the_role_unless_asked_not_to() -> None:
    config = {
        "cloudWatchConfig": {
            "logGroupName": LOG_GROUP,
            "roleArn": ROLE_ARN,
            "largeDataDeliveryS3Config": {"bucketName": BUCKET, "keyPrefix": "large/"},
        },
        "s3Config": {"bucketName": BUCKET, "keyPrefix": "bedrock/"},
    }
    where = f"log group {LOG_GROUP}, s3://{BUCKET}/bedrock/, large data s3://{BUCKET}/large/"

    assert lc.describe(config) == where.replace(f"{LOG_GROUP},", f"{LOG_GROUP} (role {ROLE_ARN}),")
    assert lc.describe(config, roles=False) == where
    assert lc.describe({"s3Config": {"bucketName": BUCKET}}) == f"s3://{BUCKET}/"
    assert lc.describe(None) == "off"
    assert lc.describe({"textDataDeliveryEnabled": True}) == "off"


def test_describe_flags_lists_every_kind_of_data_on_or_off() -> None:
    assert lc.describe_flags(FOREIGN_CONFIG) == "text off, image off, embedding on, video off, audio off"
    assert lc.describe_flags(
        {**FOREIGN_CONFIG, "textDataDeliveryEnabled": True, "audioDataDeliveryEnabled": True}
    ) == ("text on, image off, embedding on, video off, audio on")
    assert lc.describe_flags(None) == "text off, image off, embedding off, video off, audio off"


def test_take_over_of_another_accounts_configuration_is_refused_in_words() -> None:
    live = {
        "cloudWatchConfig": {"logGroupName": "/team-a/bedrock", "roleArn": "arn:aws:iam::210987654321:role/X"}
    }
    props = replace(lc.parse_properties(REQUIRED_PROPERTIES), take_over=True)

    assert lc.take_over_problem(live, props) == (
        "The logging configuration to take over uses a role of another account "
        "(arn:aws:iam::210987654321:role/X); "
        "the stack could not put it back on delete, so it does not take it over"
    )
    assert lc.take_over_problem({**live, "cloudWatchConfig": {"roleArn": TEAM_ROLE_ARN}}, props) == (
        f"The logging configuration to take over uses the role {TEAM_A_ROLE}; set the parameter "
        f"PreviousLoggingRoleName={TEAM_A_ROLE} so the stack may put it back on delete"
    )


# --- the saved state in SSM -----------------------------------------------------------------------------


def deny_ssm(ssm: Any, operation: str) -> None:
    """Make `operation` on `ssm` answer AccessDeniedException, as a missing IAM permission would."""

    def hook(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        error = {
            "Error": {"Code": "AccessDeniedException", "Message": DENIED},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return AWSResponse(f"https://ssm.{REGION}.amazonaws.com/", 400, {}, None), error

    ssm.meta.events.register(f"before-call.ssm.{operation}", hook)


def test_a_state_that_cannot_be_saved_or_deleted_names_the_parameter(ssm: Any, store: lc.StateStore) -> None:
    state = lc.SavedState("id-1", FOREIGN_CONFIG, lc.parse_properties(REQUIRED_PROPERTIES).logging_config())
    store.save(state)
    deny_ssm(ssm, "PutParameter")
    deny_ssm(ssm, "DeleteParameter")

    with pytest.raises(lc.LoggingSetupError) as saving:
        store.save(state)
    with pytest.raises(lc.LoggingSetupError) as deleting:
        store.delete()

    assert str(saving.value) == (
        f"Saving the previous logging configuration to SSM parameter {STATE} "
        f"failed: AccessDeniedException on PutParameter: {DENIED}"
    )
    assert (
        str(deleting.value)
        == f"Deleting SSM parameter {STATE} failed: AccessDeniedException on DeleteParameter: {DENIED}"
    )


def test_the_saved_state_says_what_it_is_to_whoever_finds_it_in_ssm(ssm: Any, store: lc.StateStore) -> None:
    store.save(lc.SavedState("id-1", None, lc.parse_properties(REQUIRED_PROPERTIES).logging_config()))

    (parameter,) = ssm.describe_parameters()["Parameters"]

    assert parameter["Name"] == STATE
    assert parameter["Description"] == (
        "Bedrock invocation logging before this stack changed it; removed on delete"
    )


def test_a_state_that_cannot_be_read_or_understood_names_the_parameter(
    ssm: Any, store: lc.StateStore
) -> None:
    ssm.put_parameter(Name=STATE, Value="not a saved state", Type="String")

    with pytest.raises(lc.LoggingSetupError) as garbled:
        store.load()
    deny_ssm(ssm, "GetParameter")
    with pytest.raises(lc.LoggingSetupError) as unreadable:
        store.load()

    assert str(garbled.value) == f"SSM parameter {STATE} does not hold a saved state"
    assert str(unreadable.value) == (
        f"Reading SSM parameter {STATE} failed: AccessDeniedException on GetParameter: {DENIED}"
    )
