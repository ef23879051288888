"""LoggingSetupFunction run as Lambda runs it (real-shaped events), answering over HTTPS to a local
stand-in for CloudFormation's pre-signed ResponseURL; the account's logging setting is moto's."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
from bedrock_usage import logging_config as lc

from tests.conftest import ACCOUNT_ID, FakeLambdaContext, load_event, load_handler_module
from tests.logging_setup.conftest import (
    BUCKET,
    FOREIGN_CONFIG,
    LOG_GROUP,
    ROLE_ARN,
    CountdownContext,
    ErrorInjector,
    Invoker,
)

PHYSICAL_ID = "BedrockInvocationLogging-us-east-1"
STACK_ID = load_event("cfn-create.json")["StackId"]
STATE_PARAMETER = lc.state_parameter_name(STACK_ID)


def live(bedrock: Any) -> dict[str, Any] | None:
    return lc.canonical(bedrock.get_model_invocation_logging_configuration().get("loggingConfig"))


def saved_state(ssm: Any) -> dict[str, Any] | None:
    try:
        value = ssm.get_parameter(Name=STATE_PARAMETER)["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        return None
    return dict(json.loads(value))


def assert_answer(received: Any, status: str) -> dict[str, Any]:
    """The response CloudFormation accepts: PUT with an empty content-type, the request's IDs, < 4096 B."""
    body = received.body
    request = load_event("cfn-create.json")
    assert body["Status"] == status, body.get("Reason")
    assert received.headers.get("content-type", None) == ""
    assert len(received.raw) < 4096
    assert body["StackId"] == request["StackId"]
    assert body["LogicalResourceId"] == "BedrockInvocationLogging"
    assert body["RequestId"] in received.path
    assert body["PhysicalResourceId"]
    if status == "FAILED":
        assert 0 < len(body["Reason"]) <= 256
    return dict(body)


# --- the normal life cycle ---------------------------------------------------------------------------


def test_given_no_logging_when_created_then_ours_is_live_and_verified(
    invoke: Invoker, bedrock: Any, ssm: Any
) -> None:
    body = assert_answer(invoke("cfn-create.json"), "SUCCESS")

    assert body["PhysicalResourceId"] == PHYSICAL_ID
    assert live(bedrock) == {
        "cloudWatchConfig": {
            "logGroupName": LOG_GROUP,
            "roleArn": ROLE_ARN,
            "largeDataDeliveryS3Config": {"bucketName": BUCKET, "keyPrefix": ""},
        },
        "s3Config": {"bucketName": BUCKET, "keyPrefix": ""},
        "textDataDeliveryEnabled": True,
        "imageDataDeliveryEnabled": False,
        "embeddingDataDeliveryEnabled": False,
        "videoDataDeliveryEnabled": False,
        "audioDataDeliveryEnabled": False,
    }
    assert body["Data"]["TookOverExistingLogging"] == "false"
    assert body["Data"]["StateParameterName"] == STATE_PARAMETER
    state = saved_state(ssm)
    assert state is not None
    assert state["previous"] is None


def test_given_created_when_updated_then_changes_apply_under_the_same_physical_id(
    invoke: Invoker, bedrock: Any
) -> None:
    invoke("cfn-create.json")

    body = assert_answer(invoke("cfn-update.json"), "SUCCESS")

    # Same ID: CloudFormation sends no Delete for an "old" resource, so the setting stays on.
    assert body["PhysicalResourceId"] == PHYSICAL_ID
    config = live(bedrock)
    assert config is not None
    assert config["imageDataDeliveryEnabled"] is True
    assert config["s3Config"] == {"bucketName": BUCKET, "keyPrefix": "bedrock"}


def test_given_no_logging_before_when_deleted_then_logging_is_off_and_state_removed(
    invoke: Invoker, bedrock: Any, ssm: Any
) -> None:
    invoke("cfn-create.json")
    invoke("cfn-update.json")

    assert_answer(invoke("cfn-delete.json"), "SUCCESS")

    assert live(bedrock) is None
    assert saved_state(ssm) is None


def test_given_logging_already_off_when_deleted_then_success(invoke: Invoker, bedrock: Any, ssm: Any) -> None:
    invoke("cfn-create.json")
    bedrock.delete_model_invocation_logging_configuration()  # someone turned it off by hand

    assert_answer(invoke("cfn-delete.json"), "SUCCESS")

    assert live(bedrock) is None
    assert saved_state(ssm) is None


def test_given_someone_replaced_ours_when_deleted_then_theirs_is_left_alone(
    invoke: Invoker, bedrock: Any
) -> None:
    invoke("cfn-create.json")
    bedrock.put_model_invocation_logging_configuration(loggingConfig=FOREIGN_CONFIG)

    assert_answer(invoke("cfn-delete.json"), "SUCCESS")

    assert live(bedrock) == lc.canonical(FOREIGN_CONFIG)


# --- an existing configuration that is not ours ----------------------------------------------------------


def test_given_foreign_logging_when_created_without_take_over_then_refused_and_untouched(
    invoke: Invoker, bedrock: Any, ssm: Any
) -> None:
    bedrock.put_model_invocation_logging_configuration(loggingConfig=FOREIGN_CONFIG)

    body = assert_answer(invoke("cfn-create.json"), "FAILED")

    assert "TakeOverExistingLogging" in body["Reason"]
    assert "/team-a/bedrock" in body["Reason"]
    assert "team-a-bedrock-logs" in body["Reason"]
    assert live(bedrock) == lc.canonical(FOREIGN_CONFIG)
    assert saved_state(ssm) is None


def test_given_refused_create_when_stack_rolls_back_then_delete_succeeds_and_foreign_survives(
    invoke: Invoker, bedrock: Any
) -> None:
    bedrock.put_model_invocation_logging_configuration(loggingConfig=FOREIGN_CONFIG)
    failed = invoke("cfn-create.json")
    # Even a failed Create answers with the stable ID, so the rollback's Delete addresses the same resource.
    assert failed.body["PhysicalResourceId"] == PHYSICAL_ID

    body = assert_answer(
        invoke("cfn-delete.json", PhysicalResourceId=failed.body["PhysicalResourceId"]), "SUCCESS"
    )

    assert body["PhysicalResourceId"] == failed.body["PhysicalResourceId"]
    assert live(bedrock) == lc.canonical(FOREIGN_CONFIG)


def test_given_foreign_logging_and_take_over_when_created_then_replaced_and_restored_on_delete(
    invoke: Invoker, bedrock: Any, ssm: Any
) -> None:
    bedrock.put_model_invocation_logging_configuration(loggingConfig=FOREIGN_CONFIG)
    take_over = {"TakeOverExistingLogging": "true", "PreviousLoggingRoleName": "TeamABedrockLogging"}

    created = assert_answer(invoke("cfn-create.json", properties=take_over), "SUCCESS")
    assert created["Data"]["TookOverExistingLogging"] == "true"
    assert "/team-a/bedrock" in created["Data"]["PreviousConfiguration"]
    config = live(bedrock)
    assert config is not None
    assert config["cloudWatchConfig"]["logGroupName"] == LOG_GROUP

    # An update keeps the configuration from before the stack, not the stack's own.
    assert_answer(invoke("cfn-update.json", properties=take_over), "SUCCESS")
    state = saved_state(ssm)
    assert state is not None
    assert lc.canonical(state["previous"]) == lc.canonical(FOREIGN_CONFIG)

    assert_answer(invoke("cfn-delete.json", properties=take_over), "SUCCESS")
    assert live(bedrock) == lc.canonical(FOREIGN_CONFIG)
    assert saved_state(ssm) is None


# --- bad input and AWS errors: FAILED, with a clear reason, quickly -------------------------------------


def test_given_a_flag_that_is_not_true_or_false_when_created_then_failed_naming_it(
    invoke: Invoker, bedrock: Any
) -> None:
    body = assert_answer(invoke("cfn-create.json", properties={"ImageDataDelivery": "yes"}), "FAILED")

    assert body["Reason"] == 'Property ImageDataDelivery must be "true" or "false", got "yes"'
    assert live(bedrock) is None


def test_given_a_missing_log_group_when_created_then_failed_naming_it(invoke: Invoker, bedrock: Any) -> None:
    body = assert_answer(invoke("cfn-create.json", properties={"LogGroupName": None}), "FAILED")

    assert "LogGroupName is required" in body["Reason"]
    assert live(bedrock) is None


def test_given_access_denied_when_created_then_failed_with_the_denied_action(
    invoke: Invoker, bedrock_error: ErrorInjector, bedrock: Any
) -> None:
    bedrock_error(
        "GetModelInvocationLoggingConfiguration",
        "AccessDeniedException",
        f"User: arn:aws:sts::{ACCOUNT_ID}:assumed-role/fn/x is not authorized to perform: "
        "bedrock:GetModelInvocationLoggingConfiguration",
    )
    started = time.monotonic()

    body = assert_answer(invoke("cfn-create.json"), "FAILED")

    assert time.monotonic() - started < 5
    assert "AccessDeniedException" in body["Reason"]
    assert "GetModelInvocationLoggingConfiguration" in body["Reason"]


def test_given_role_not_yet_propagated_when_created_then_put_is_retried_and_succeeds(
    invoke: Invoker, bedrock_error: ErrorInjector, bedrock: Any
) -> None:
    counter = bedrock_error(
        "PutModelInvocationLoggingConfiguration",
        "ValidationException",
        "Failed to validate permissions for log group: /aws/bedrock/modelinvocations, with role: "
        f"{ROLE_ARN}. Verify the IAM role permissions are correct.",
        times=3,
    )

    assert_answer(invoke("cfn-create.json"), "SUCCESS")

    assert counter["failures"] == 3
    assert live(bedrock) is not None


def test_given_put_keeps_failing_validation_when_created_then_failed_before_the_timeout(
    invoke: Invoker, bedrock_error: ErrorInjector, bedrock: Any, ssm: Any
) -> None:
    """Validation failures are injected (moto accepts any Put); the function has 4 s left and keeps
    1.5 s back (RESPONSE_RESERVE_SECONDS), so the retries stop at about 2.5 s, before the guard's own
    timeout answer at 3 s (RESPONSE_GUARD_SECONDS 1.0)."""
    counter = bedrock_error(
        "PutModelInvocationLoggingConfiguration",
        "ValidationException",
        "Failed to validate permissions for log group: /aws/bedrock/modelinvocations",
    )
    started = time.monotonic()

    body = assert_answer(invoke("cfn-create.json", remaining_ms=4000), "FAILED")

    elapsed = time.monotonic() - started
    assert 2.0 < elapsed < 3.4
    assert counter["failures"] >= 2
    assert body["Reason"].startswith("Bedrock rejected the logging configuration as invalid")
    assert "Failed to validate permissions for log group" in body["Reason"]
    # The failed Create leaves the account as it found it.
    assert live(bedrock) is None
    assert saved_state(ssm) is None

    # ... and the rollback's Delete succeeds.
    assert_answer(invoke("cfn-delete.json", PhysicalResourceId=body["PhysicalResourceId"]), "SUCCESS")


def test_given_a_hanging_aws_call_when_time_runs_out_then_the_guard_answers_failed_once(
    handler: Any, cfn_endpoint: Any, aws: None
) -> None:
    """The guard answers FAILED RESPONSE_GUARD_SECONDS (1 s here) before the Lambda timeout if the work has
    not returned. The hang is a botocore `before-call` hook that sleeps (moto answers at once). In Lambda the
    process is frozen at the timeout; here the work finishes afterwards and must not answer a second time."""

    def slow(**_: Any) -> None:
        time.sleep(2.5)

    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register("before-call.bedrock.GetModelInvocationLoggingConfiguration", slow)
    event = load_event("cfn-create.json")
    event["ResponseURL"] = cfn_endpoint.url_for(event["RequestId"])
    started = time.monotonic()

    result = handler.lambda_handler(event, CountdownContext(2000))

    (only,) = cfn_endpoint.received
    assert only.body["Status"] == "FAILED"
    assert only.body["Reason"].startswith("LoggingSetupFunction ran out of time")
    assert only.body["PhysicalResourceId"] == PHYSICAL_ID
    assert result["AnsweredBy"] == "timeout guard"
    assert time.monotonic() - started >= 2.5  # the late work finished, and sent nothing


def test_given_a_bad_flag_failed_the_create_when_rolled_back_then_delete_still_succeeds(
    invoke: Invoker, bedrock: Any
) -> None:
    bad = {"TextDataDelivery": "TRUE"}
    failed = invoke("cfn-create.json", properties=bad)

    rollback = invoke("cfn-delete.json", PhysicalResourceId=failed.body["PhysicalResourceId"], properties=bad)

    assert_answer(rollback, "SUCCESS")
    assert live(bedrock) is None


def test_given_a_broken_function_setting_then_create_fails_with_the_reason_and_a_stable_id(
    aws: None, cfn_endpoint: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("RESPONSE_RESERVE_SECONDS", "soon")
    module = load_handler_module("logging_setup")
    event = load_event("cfn-create.json")
    event["ResponseURL"] = cfn_endpoint.url_for(event["RequestId"])

    module.lambda_handler(event, FakeLambdaContext())

    (received,) = cfn_endpoint.received
    assert received.body["Status"] == "FAILED"
    assert "RESPONSE_RESERVE_SECONDS" in received.body["Reason"]
    # An empty ID would make CloudFormation's rollback Delete fail too (crhelper sent "").
    assert received.body["PhysicalResourceId"] == PHYSICAL_ID


def test_given_a_setting_broken_after_create_when_deleted_then_the_delete_still_undoes_and_succeeds(
    handler: Any, invoke: Invoker, bedrock: Any, ssm: Any, cfn_endpoint: Any, monkeypatch: Any
) -> None:
    """A stack update broke an environment variable; the stack delete must not be blocked by it, and must
    still put back what was there before."""
    bedrock.put_model_invocation_logging_configuration(loggingConfig=FOREIGN_CONFIG)
    take_over = {"TakeOverExistingLogging": "true", "PreviousLoggingRoleName": "TeamABedrockLogging"}
    assert_answer(invoke("cfn-create.json", properties=take_over), "SUCCESS")
    monkeypatch.setenv("PUT_RETRY_MAX_SECONDS", "-1")
    broken = Invoker(load_handler_module("logging_setup"), cfn_endpoint)

    body = assert_answer(broken("cfn-delete.json", properties=take_over), "SUCCESS")

    assert body["PhysicalResourceId"] == PHYSICAL_ID
    assert live(bedrock) == lc.canonical(FOREIGN_CONFIG)
    assert saved_state(ssm) is None


def test_given_take_over_without_the_previous_role_named_when_created_then_refused_naming_it(
    invoke: Invoker, bedrock: Any, ssm: Any
) -> None:
    """The function may pass only the role PreviousLoggingRoleName names: taking over a configuration it
    could not put back would lose it on stack delete."""
    bedrock.put_model_invocation_logging_configuration(loggingConfig=FOREIGN_CONFIG)

    body = assert_answer(invoke("cfn-create.json", properties={"TakeOverExistingLogging": "true"}), "FAILED")

    assert "PreviousLoggingRoleName=TeamABedrockLogging" in body["Reason"]
    assert live(bedrock) == lc.canonical(FOREIGN_CONFIG)
    assert saved_state(ssm) is None


def test_given_throttling_while_putting_back_when_deleted_then_failed_and_nothing_lost_until_a_retry(
    invoke: Invoker, bedrock: Any, ssm: Any, bedrock_error: ErrorInjector
) -> None:
    """ThrottlingException is injected (moto never throttles). Before the fix the delete turned logging off
    and answered SUCCESS; now it answers FAILED, changes nothing, and the retried delete puts it back."""
    bedrock.put_model_invocation_logging_configuration(loggingConfig=FOREIGN_CONFIG)
    take_over = {"TakeOverExistingLogging": "true", "PreviousLoggingRoleName": "TeamABedrockLogging"}
    assert_answer(invoke("cfn-create.json", properties=take_over), "SUCCESS")
    ours = live(bedrock)
    bedrock_error("PutModelInvocationLoggingConfiguration", "ThrottlingException", "Rate exceeded", times=1)

    failed = assert_answer(invoke("cfn-delete.json", properties=take_over), "FAILED")

    assert "ThrottlingException" in failed["Reason"]
    assert "delete the stack again" in failed["Reason"]
    assert live(bedrock) == ours
    assert saved_state(ssm) is not None

    assert_answer(invoke("cfn-delete.json", properties=take_over), "SUCCESS")
    assert live(bedrock) == lc.canonical(FOREIGN_CONFIG)
    assert saved_state(ssm) is None


def test_given_the_saved_state_was_lost_when_deleted_then_our_configuration_is_removed(
    invoke: Invoker, bedrock: Any, ssm: Any
) -> None:
    """The delete event carries other properties than the ones applied (KeyPrefix "bedrock" vs ""): the
    setting still uses this stack's role, log group and bucket, and would break once they are deleted."""
    assert_answer(invoke("cfn-create.json"), "SUCCESS")
    ssm.delete_parameter(Name=STATE_PARAMETER)

    assert_answer(invoke("cfn-delete.json"), "SUCCESS")

    assert live(bedrock) is None


def test_given_the_saved_state_was_lost_when_deleted_then_a_foreign_configuration_is_left(
    invoke: Invoker, bedrock: Any, ssm: Any
) -> None:
    assert_answer(invoke("cfn-create.json"), "SUCCESS")
    ssm.delete_parameter(Name=STATE_PARAMETER)
    bedrock.put_model_invocation_logging_configuration(loggingConfig=FOREIGN_CONFIG)

    assert_answer(invoke("cfn-delete.json"), "SUCCESS")

    assert live(bedrock) == lc.canonical(FOREIGN_CONFIG)


def test_given_get_is_denied_and_nothing_was_saved_when_rolled_back_then_delete_succeeds(
    invoke: Invoker, bedrock_error: ErrorInjector
) -> None:
    """A Create refused by AccessDenied on Get changed nothing: its rollback must not strand the stack."""
    bedrock_error("GetModelInvocationLoggingConfiguration", "AccessDeniedException", "denied by an SCP")
    failed = invoke("cfn-create.json")

    assert_answer(invoke("cfn-delete.json", PhysicalResourceId=failed.body["PhysicalResourceId"]), "SUCCESS")
