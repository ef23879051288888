"""LoggingSetupFunction: the Custom::BedrockInvocationLogging resource.

crhelper always answers CloudFormation: on success, on any exception (FAILED with the reason) and
shortly before the function times out."""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from bedrock_usage import logging_config as lc
from botocore.config import Config
from crhelper import CfnResource

logger = Logger(service="logging-setup")

# A bad setting must still produce a FAILED answer, not an import error that leaves the stack waiting.
_settings_error: lc.LoggingSetupError | None = None
try:
    SETTINGS = lc.HandlerSettings.from_env(os.environ)
except lc.LoggingSetupError as exc:
    SETTINGS, _settings_error = lc.HandlerSettings(), exc

helper = CfnResource(
    json_logging=False,
    log_level=SETTINGS.log_level,
    boto_level="CRITICAL",
    sleep_on_delete=SETTINGS.sleep_on_delete,
)
if _settings_error is not None:
    helper.init_failure(_settings_error)

# The SDK retries throttling itself; validation errors are retried by the library, bounded by the timeout.
SDK_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=20)


def _clients() -> tuple[Any, Any]:
    return boto3.client("bedrock", config=SDK_CONFIG), boto3.client("ssm", config=SDK_CONFIG)


def _physical_id() -> str:
    # One logging configuration per account and Region: the ID never changes, so CloudFormation never
    # sends a Delete for an "old" resource after an Update.
    return f"BedrockInvocationLogging-{os.environ.get('AWS_REGION', 'unknown')}"


@helper.create
@helper.update
def create_or_update(event: dict[str, Any], context: Any) -> str:
    timing = SETTINGS.timing(context.get_remaining_time_in_millis())  # first: the clock is already running
    physical_id = event.get("PhysicalResourceId") or _physical_id()
    helper.PhysicalResourceId = physical_id  # kept even if we raise, so a later Delete finds our state
    props = lc.parse_properties(event.get("ResourceProperties"))
    old_props = _lenient(event.get("OldResourceProperties")) if event["RequestType"] == "Update" else None
    bedrock, ssm = _clients()
    store = lc.StateStore(ssm, lc.state_parameter_name(event["StackId"]))
    result = lc.apply(
        bedrock,
        store,
        props,
        physical_id=physical_id,
        timing=timing,
        old_props=old_props,
    )
    helper.Data.update(
        {
            "StateParameterName": store.name,
            "TookOverExistingLogging": "true" if result.took_over else "false",
            "Applied": "true" if result.applied else "false",
            "PreviousConfiguration": lc.short_reason(lc.describe(result.previous), 400),
        }
    )
    if not result.applied:
        logger.warning(
            "logging configuration NOT applied: someone else's configuration is live and "
            "TakeOverExistingLogging is false; it was left as it is",
            extra={"request": event["RequestType"]},
        )
    else:
        logger.info(
            "logging configuration applied",
            extra={
                "request": event["RequestType"],
                "attempts": result.attempts,
                "took_over": result.took_over,
            },
        )
    return physical_id


@helper.delete
def delete(event: dict[str, Any], context: Any) -> str:
    timing = SETTINGS.timing(context.get_remaining_time_in_millis())
    physical_id = str(event["PhysicalResourceId"])
    bedrock, ssm = _clients()
    store = lc.StateStore(ssm, lc.state_parameter_name(event["StackId"]))
    result = lc.remove(
        bedrock,
        store,
        # Properties that failed validation on Create must not make the Delete fail too.
        _lenient(event.get("ResourceProperties")),
        physical_id=physical_id,
        timing=timing,
    )
    # Someone else's configuration left in place, or a previous one that could not be put back: say so loudly.
    log = logger.warning if result.action in ("left-foreign", "restore-failed") else logger.info
    log("logging configuration removed", extra={"action": result.action, "detail": result.detail})
    return physical_id


def _lenient(properties: dict[str, Any] | None) -> lc.LoggingProperties | None:
    try:
        return lc.parse_properties(properties)
    except lc.PropertyError:
        return None


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: Any) -> None:
    helper(event, context)
