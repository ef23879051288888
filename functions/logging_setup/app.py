"""LoggingSetupFunction: the Custom::BedrockInvocationLogging resource.

It answers CloudFormation exactly once (bedrock_usage.cfn_response): with the outcome of the work, or,
if the work has not finished shortly before the function's timeout, with FAILED from a guard timer.
"""

from __future__ import annotations

import os
import time
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from bedrock_usage import cfn_response as cfn
from bedrock_usage import logging_config as lc
from bedrock_usage.logging_setup_settings import HandlerSettings

logger = Logger(service="logging-setup")

# A bad setting must not become an import error (no answer at all) nor block a Delete: Create and Update
# answer FAILED naming it, a Delete runs with the defaults so the stack can always be removed.
SETTINGS_ERROR: lc.LoggingSetupError | None = None
try:
    SETTINGS = HandlerSettings.from_env(os.environ)
except lc.LoggingSetupError as exc:
    SETTINGS, SETTINGS_ERROR = HandlerSettings(), exc


def _clients() -> tuple[Any, Any]:
    config = SETTINGS.sdk_config()
    return boto3.client("bedrock", config=config), boto3.client("ssm", config=config)


def stable_physical_id() -> str:
    """One logging configuration per account and Region: the ID never changes, so CloudFormation never
    sends a Delete for an "old" resource after an Update."""
    return f"BedrockInvocationLogging-{os.environ.get('AWS_REGION', 'unknown')}"


def create_or_update(event: dict[str, Any], context: Any, physical_id: str) -> dict[str, str]:
    """Apply the configuration; returns the resource's attributes (Fn::GetAtt)."""
    timing = SETTINGS.timing(context.get_remaining_time_in_millis())  # first: the clock is already running
    props = lc.parse_properties(event.get("ResourceProperties"))
    old_props = _lenient(event.get("OldResourceProperties")) if event["RequestType"] == "Update" else None
    bedrock, ssm = _clients()
    store = lc.StateStore(ssm, lc.state_parameter_name(str(event.get("StackId"))))
    result = lc.apply(bedrock, store, props, physical_id=physical_id, timing=timing, old_props=old_props)
    if not result.applied:
        logger.warning(
            "logging configuration NOT applied: someone else's configuration is live and may not be "
            "taken over (TakeOverExistingLogging, PreviousLoggingRoleName); it was left as it is",
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
    return {
        "StateParameterName": store.name,
        "TookOverExistingLogging": "true" if result.took_over else "false",
        "Applied": "true" if result.applied else "false",
        "PreviousConfiguration": lc.short_reason(lc.describe(result.previous), 400),
    }


def delete(event: dict[str, Any], context: Any, physical_id: str) -> dict[str, str]:
    """Put back what was there before, or remove ours; never touch a configuration this stack did not set."""
    timing = SETTINGS.timing(context.get_remaining_time_in_millis())
    bedrock, ssm = _clients()
    store = lc.StateStore(ssm, lc.state_parameter_name(str(event.get("StackId"))))
    # Properties that failed validation on Create must not make the Delete fail too.
    props = _lenient(event.get("ResourceProperties"))
    result = lc.remove(bedrock, store, props, physical_id=physical_id, timing=timing)
    # Someone else's configuration left in place, or a previous one that could not be put back: say so loudly.
    log = logger.warning if result.action in ("left-foreign", "restore-failed") else logger.info
    log("logging configuration removed", extra={"action": result.action, "detail": result.detail})
    return {}


def _lenient(properties: dict[str, Any] | None) -> lc.LoggingProperties | None:
    try:
        return lc.parse_properties(properties)
    except lc.PropertyError:
        return None


def _work(event: dict[str, Any], context: Any, physical_id: str) -> tuple[str, str, dict[str, str]]:
    """(status, reason, data) for the request; every failure becomes FAILED with a readable reason."""
    request = event.get("RequestType")
    try:
        if request == "Delete":
            if SETTINGS_ERROR is not None:
                logger.warning(
                    "bad function setting; deleting with the defaults", extra={"error": str(SETTINGS_ERROR)}
                )
            return cfn.SUCCESS, "", delete(event, context, physical_id)
        if request not in ("Create", "Update"):
            return cfn.FAILED, lc.short_reason(f"Unknown RequestType {request!r}"), {}
        if SETTINGS_ERROR is not None:
            raise SETTINGS_ERROR
        return cfn.SUCCESS, "", create_or_update(event, context, physical_id)
    except lc.LoggingSetupError as exc:
        logger.error("request failed", extra={"request": request, "reason": str(exc)})
        return cfn.FAILED, lc.short_reason(str(exc)), {}
    except Exception as exc:  # answer FAILED on anything: an unanswered request holds the stack for hours
        logger.exception("request failed unexpectedly", extra={"request": request})
        return cfn.FAILED, lc.short_reason(f"Unexpected error: {type(exc).__name__}: {exc}"), {}


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Do the request's work and answer CloudFormation once; returns what was answered (for the log)."""
    responder = cfn.Responder(event, context.get_remaining_time_in_millis(), policy=SETTINGS.answer)
    # A Delete answers with the ID it was given (CloudFormation requires it); a Create whose work fails
    # still gets the stable, non-empty ID, so the rollback's Delete addresses the same resource.
    physical_id = str(event.get("PhysicalResourceId") or stable_physical_id())
    responder.start_guard(
        SETTINGS.guard_seconds,
        physical_id,
        f"LoggingSetupFunction ran out of time ({SETTINGS.guard_seconds:g} s before its timeout) "
        "before finishing; see its log",
    )
    try:
        status, reason, data = _work(event, context, physical_id)
        if event.get("RequestType") == "Delete" and not responder.answered:
            time_left = responder.end - time.monotonic() - SETTINGS.guard_seconds
            time.sleep(max(0.0, min(SETTINGS.delete_log_flush_seconds, time_left)))
        delivery = responder.send(status, physical_id, reason, data)
    finally:
        responder.stop_guard()
    final = responder.delivery
    return {
        "Status": final.body["Status"] if final else status,
        "Accepted": bool(final and final.accepted),
        "Attempts": final.attempts if final else 0,
        "AnsweredBy": "handler" if delivery is not None else "timeout guard",
    }
