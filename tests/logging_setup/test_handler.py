"""LoggingSetupFunction run as Lambda runs it (crhelper, real-shaped events), answering over HTTPS to
a local stand-in for CloudFormation's pre-signed ResponseURL; the account's logging setting is moto's."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
from bedrock_usage import logging_config as lc

from tests.conftest import ACCOUNT_ID, FakeLambdaContext, load_event, load_handler_module
from tests.logging_setup.conftest import BUCKET, FOREIGN_CONFIG, LOG_GROUP, ROLE_ARN, ErrorInjector, Invoker

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
    take_over = {"TakeOverExistingLogging": "true"}

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
    1.5 s back (RESPONSE_RESERVE_SECONDS), so the retries stop at about 2.5 s, well before crhelper's
    own timeout answer at 3.5 s."""
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


def test_given_a_hanging_aws_call_when_time_runs_out_then_crhelper_still_answers(
    handler: Any, cfn_endpoint: Any, aws: None
) -> None:
    """crhelper's timer answers FAILED 0.5 s before the Lambda timeout even if our code has not returned.

    The hang is a botocore `before-call` hook that sleeps (moto answers at once). In Lambda the process
    is frozen at the timeout; here the code carries on afterwards, so only the first answer counts."""

    def slow(**_: Any) -> None:
        time.sleep(1.2)

    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register("before-call.bedrock.GetModelInvocationLoggingConfiguration", slow)
    event = load_event("cfn-create.json")
    event["ResponseURL"] = cfn_endpoint.url_for(event["RequestId"])

    handler.lambda_handler(event, FakeLambdaContext(remaining_ms=1000))

    first = cfn_endpoint.received[0].body
    assert first["Status"] == "FAILED"
    assert first["Reason"] == "Execution timed out"


def test_given_a_bad_flag_failed_the_create_when_rolled_back_then_delete_still_succeeds(
    invoke: Invoker, bedrock: Any
) -> None:
    bad = {"TextDataDelivery": "TRUE"}
    failed = invoke("cfn-create.json", properties=bad)

    rollback = invoke("cfn-delete.json", PhysicalResourceId=failed.body["PhysicalResourceId"], properties=bad)

    assert_answer(rollback, "SUCCESS")
    assert live(bedrock) is None


def test_given_a_broken_function_setting_then_cloudformation_still_gets_failed_with_the_reason(
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
