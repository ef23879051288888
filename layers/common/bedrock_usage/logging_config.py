"""Bedrock model-invocation logging: strict properties, the LoggingConfig, apply and remove.

The setting is one per account and Region, so every change here is guarded: a configuration this stack
did not set is only replaced when the user allows it, and the one that was there before is put back.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import ClientError

from bedrock_usage.logging_errors import REASON_MAX as REASON_MAX
from bedrock_usage.logging_errors import ConfigRejected as ConfigRejected
from bedrock_usage.logging_errors import LoggingSetupError as LoggingSetupError
from bedrock_usage.logging_errors import PropertyError as PropertyError
from bedrock_usage.logging_errors import TransientError as TransientError
from bedrock_usage.logging_errors import UnreadableConfig as UnreadableConfig
from bedrock_usage.logging_errors import aws_errors as aws_errors
from bedrock_usage.logging_errors import aws_failure as aws_failure
from bedrock_usage.logging_errors import describe_client_error as describe_client_error
from bedrock_usage.logging_errors import short_reason as short_reason
from bedrock_usage.logging_state import SavedState as SavedState
from bedrock_usage.logging_state import StateStore as StateStore
from bedrock_usage.logging_state import state_parameter_name as state_parameter_name

FLAG_PROPERTIES: dict[str, tuple[str, bool]] = {
    # property -> (LoggingConfig key, default)
    "TextDataDelivery": ("textDataDeliveryEnabled", True),
    "ImageDataDelivery": ("imageDataDeliveryEnabled", False),
    "EmbeddingDataDelivery": ("embeddingDataDeliveryEnabled", False),
    "VideoDataDelivery": ("videoDataDeliveryEnabled", False),
    "AudioDataDelivery": ("audioDataDeliveryEnabled", False),
}
FLAG_KEYS = tuple(key for key, _ in FLAG_PROPERTIES.values())
REQUIRED_PROPERTIES = ("LogGroupName", "RoleArn", "BucketName")
OPTIONAL_PROPERTIES = ("KeyPrefix", "TakeOverExistingLogging", "PreviousLoggingRoleName", *FLAG_PROPERTIES)
# CloudFormation adds these to ResourceProperties itself.
CLOUDFORMATION_PROPERTIES = ("ServiceToken", "ServiceTimeout")

ROLE_ARN = re.compile(r"arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+")  # botocore's pattern for roleArn
LOG_GROUP_NAME = re.compile(r"[.\-_/#A-Za-z0-9]{1,512}")
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
ROLE_NAME = re.compile(r"([\w+=,.@-]+/)*[\w+=,.@-]{1,64}")  # with its IAM path, if any


# ---------------------------------------------------------------------------------------------------------
# Properties


def parse_bool(name: str, value: Any) -> bool:
    """CloudFormation passes every property as a string: accept exactly "true" or "false"."""
    if value == "true":
        return True
    if value == "false":
        return False
    raise PropertyError(f'Property {name} must be "true" or "false", got {json.dumps(value)[:60]}')


@dataclass(frozen=True)
class LoggingProperties:
    """The custom resource's properties, validated."""

    log_group_name: str
    role_arn: str
    bucket_name: str
    key_prefix: str = ""
    flags: tuple[tuple[str, bool], ...] = tuple((key, default) for key, default in FLAG_PROPERTIES.values())
    take_over: bool = False
    previous_role_name: str = ""  # the one other role this stack may pass, to put a taken-over setting back

    def logging_config(self) -> dict[str, Any]:
        """The LoggingConfig for PutModelInvocationLoggingConfiguration."""
        s3: dict[str, Any] = {"bucketName": self.bucket_name}
        if self.key_prefix:
            s3["keyPrefix"] = self.key_prefix
        config: dict[str, Any] = {
            # Bodies over 100 KB go to the same bucket and prefix (covered by the same bucket policy).
            "cloudWatchConfig": {
                "logGroupName": self.log_group_name,
                "roleArn": self.role_arn,
                "largeDataDeliveryS3Config": dict(s3),
            },
            "s3Config": s3,
        }
        for key, enabled in self.flags:
            # Video and audio are newer API members: send them only when on, so an older SDK in the
            # Lambda runtime still accepts the request.
            if enabled or key not in ("videoDataDeliveryEnabled", "audioDataDeliveryEnabled"):
                config[key] = enabled
        return config


def parse_properties(properties: Mapping[str, Any] | None) -> LoggingProperties:
    """Validate ResourceProperties strictly; raise PropertyError naming the property."""
    props = dict(properties or {})
    unknown = sorted(
        set(props) - set(REQUIRED_PROPERTIES) - set(OPTIONAL_PROPERTIES) - set(CLOUDFORMATION_PROPERTIES)
    )
    if unknown:
        raise PropertyError(
            f"Unknown property {', '.join(unknown)[:80]}; allowed: "
            f"{', '.join(REQUIRED_PROPERTIES + OPTIONAL_PROPERTIES)}"
        )
    for name in REQUIRED_PROPERTIES:
        value = props.get(name)
        if not isinstance(value, str) or not value:
            raise PropertyError(f"Property {name} is required (a non-empty string)")
    log_group, role_arn, bucket = props["LogGroupName"], props["RoleArn"], props["BucketName"]
    if not LOG_GROUP_NAME.fullmatch(log_group):
        raise PropertyError(f"Property LogGroupName is not a valid log group name: {log_group[:80]}")
    if not ROLE_ARN.fullmatch(role_arn):
        raise PropertyError(f"Property RoleArn is not an IAM role ARN: {role_arn[:100]}")
    if not BUCKET_NAME.fullmatch(bucket):
        raise PropertyError(f"Property BucketName is not a valid S3 bucket name: {bucket[:70]}")
    key_prefix = props.get("KeyPrefix", "")
    if not isinstance(key_prefix, str) or len(key_prefix) > 1024:
        raise PropertyError("Property KeyPrefix must be a string of at most 1024 characters")
    flags = tuple(
        (key, parse_bool(name, props[name]) if name in props else default)
        for name, (key, default) in FLAG_PROPERTIES.items()
    )
    take_over = parse_bool("TakeOverExistingLogging", props.get("TakeOverExistingLogging", "false"))
    previous_role = props.get("PreviousLoggingRoleName", "")
    if not isinstance(previous_role, str) or (previous_role and not ROLE_NAME.fullmatch(previous_role)):
        raise PropertyError(
            f"Property PreviousLoggingRoleName is not an IAM role name: {str(previous_role)[:80]}"
        )
    return LoggingProperties(log_group, role_arn, bucket, key_prefix, flags, take_over, previous_role)


# ---------------------------------------------------------------------------------------------------------
# Comparing and describing configurations


def canonical(config: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A comparable form: None when logging is off; empty prefixes dropped; every flag explicit."""
    if not config or not (config.get("cloudWatchConfig") or config.get("s3Config")):
        return None

    def s3(part: Mapping[str, Any] | None) -> dict[str, str] | None:
        if not part or not part.get("bucketName"):
            return None
        return {"bucketName": part["bucketName"], "keyPrefix": part.get("keyPrefix") or ""}

    out: dict[str, Any] = {"cloudWatchConfig": None, "s3Config": s3(config.get("s3Config"))}
    cloudwatch = config.get("cloudWatchConfig")
    if cloudwatch:
        out["cloudWatchConfig"] = {
            "logGroupName": cloudwatch.get("logGroupName"),
            "roleArn": cloudwatch.get("roleArn"),
            "largeDataDeliveryS3Config": s3(cloudwatch.get("largeDataDeliveryS3Config")),
        }
    for key in FLAG_KEYS:
        out[key] = bool(config.get(key, False))
    return out


def destinations(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """Where the logs go (the flags left out): the part that says who owns the configuration."""
    view = canonical(config)
    if view is None:
        return {}
    return {key: view[key] for key in ("cloudWatchConfig", "s3Config")}


def same_destinations(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    return destinations(a) == destinations(b)


def points_at(config: Mapping[str, Any] | None, props: LoggingProperties) -> bool:
    """Whether `config` uses this stack's role, log group or bucket (for the log or for large data)."""
    view = canonical(config)
    if view is None:
        return False
    cloudwatch = view["cloudWatchConfig"] or {}
    buckets = {
        part["bucketName"] for part in (view["s3Config"], cloudwatch.get("largeDataDeliveryS3Config")) if part
    }
    return (
        cloudwatch.get("roleArn") == props.role_arn
        or cloudwatch.get("logGroupName") == props.log_group_name
        or props.bucket_name in buckets
    )


def describe(config: Mapping[str, Any] | None, *, roles: bool = True) -> str:
    """`log group /aws/x (role arn:...), s3://bucket/prefix, large data s3://...` or `off`."""
    view = canonical(config)
    if view is None:
        return "off"
    parts = []
    cloudwatch = view["cloudWatchConfig"]
    if cloudwatch:
        role = f" (role {cloudwatch['roleArn']})" if roles else ""
        parts.append(f"log group {cloudwatch['logGroupName']}{role}")
    if view["s3Config"]:
        parts.append(f"s3://{view['s3Config']['bucketName']}/{view['s3Config']['keyPrefix']}")
    if cloudwatch and cloudwatch["largeDataDeliveryS3Config"]:
        large = cloudwatch["largeDataDeliveryS3Config"]
        parts.append(f"large data s3://{large['bucketName']}/{large['keyPrefix']}")
    return ", ".join(parts)


def describe_flags(config: Mapping[str, Any] | None) -> str:
    """`text on, image off, ...`."""
    view = canonical(config) or {}
    names = {key: key.removesuffix("DataDeliveryEnabled") for key in FLAG_KEYS}
    return ", ".join(f"{names[key]} {'on' if view.get(key) else 'off'}" for key in FLAG_KEYS)


_UNREADABLE = "x-bedrock-usage-unreadable"  # set in the parsed response by the hook below


def body_problem(raw: bytes) -> str:
    """What is wrong with a 200 body of GetModelInvocationLoggingConfiguration, or "" if it is usable.

    botocore reads a body that is not JSON as an empty response, and an empty response means "logging
    off"; acting on that would overwrite another team's configuration. Shape: Bedrock API reference,
    GetModelInvocationLoggingConfiguration and LoggingConfig (REFERENCE.md section 2).
    """
    if not raw.strip():
        return ""
    try:
        document = json.loads(raw)
    except ValueError:
        return f"a body that is not JSON: {raw[:60]!r}"
    if not isinstance(document, dict):
        return "JSON that is not an object"
    config = document.get("loggingConfig")
    if config is None:
        return ""
    if not isinstance(config, dict):
        return "a loggingConfig that is not an object"
    cloudwatch = config.get("cloudWatchConfig")
    parts = [
        ("cloudWatchConfig", cloudwatch, ("logGroupName", "roleArn")),
        ("s3Config", config.get("s3Config"), ("bucketName",)),
    ]
    if isinstance(cloudwatch, dict):
        parts.append(
            ("largeDataDeliveryS3Config", cloudwatch.get("largeDataDeliveryS3Config"), ("bucketName",))
        )
    for name, part, required in parts:
        if part is None:
            continue
        if not isinstance(part, dict) or not all(isinstance(part.get(f), str) and part[f] for f in required):
            return f"a {name} without {' and '.join(required)}"
    if any(not isinstance(config.get(key, False), bool) for key in FLAG_KEYS):
        return "a delivery flag that is not true or false"
    return ""


def _check_body(response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any) -> None:
    if not 200 <= int(response_dict.get("status_code", 0)) < 300:
        return
    problem = body_problem(response_dict.get("body") or b"")
    if problem:
        customized_response_dict[_UNREADABLE] = problem
        response_dict["body"] = b"{}"  # botocore's parser would raise AttributeError on some shapes


def get_config(bedrock: Any) -> dict[str, Any] | None:
    """The account's current LoggingConfig in the client's Region, or None when logging is off.

    Raises UnreadableConfig when Bedrock's 200 answer is not a LoggingConfig (see `body_problem`).
    """
    bedrock.meta.events.register(
        "before-parse.bedrock.GetModelInvocationLoggingConfiguration",
        _check_body,
        unique_id="bedrock-usage-check-logging-config-body",
    )
    response = bedrock.get_model_invocation_logging_configuration()
    if response.get(_UNREADABLE):
        raise UnreadableConfig(
            short_reason(
                f"Bedrock answered GetModelInvocationLoggingConfiguration with {response[_UNREADABLE]}; "
                "nothing was changed, since the current setting cannot be known (try again later)"
            )
        )
    config = response.get("loggingConfig")
    return dict(config) if canonical(config) is not None else None


# ---------------------------------------------------------------------------------------------------------
# Retry with backoff


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff for Put while IAM propagates the new role (Bedrock answers ValidationException)."""

    initial_delay: float = 2.0
    max_delay: float = 20.0
    multiplier: float = 2.0


def put_config(
    bedrock: Any,
    config: Mapping[str, Any],
    *,
    deadline: float,
    policy: RetryPolicy,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Put `config`, retrying validation errors with backoff until `deadline`; returns attempts made.

    Bedrock validates that its role can write to the log group; a role created seconds ago has not
    propagated yet, so the first Puts fail validation. Every other error is raised at once.
    """
    started = clock()
    delay = policy.initial_delay
    attempts = 0
    while True:
        attempts += 1
        try:
            bedrock.put_model_invocation_logging_configuration(loggingConfig=dict(config))
            return attempts
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ValidationException":
                raise aws_failure("Put logging configuration", exc) from exc
            # Full jitter keeps concurrent stacks from retrying in lockstep.
            wait = delay * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not security
            if clock() + wait > deadline:
                message = exc.response.get("Error", {}).get("Message", "")
                raise ConfigRejected(
                    short_reason(
                        f"Bedrock rejected the logging configuration as invalid for "
                        f"{clock() - started:.0f} s ({attempts} attempts; retried in case IAM had not "
                        f"propagated): {message}"
                    )
                ) from exc
            sleep(wait)
            delay = min(policy.max_delay, delay * policy.multiplier)


def verify_config(
    bedrock: Any,
    expected: Mapping[str, Any],
    *,
    deadline: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    interval: float = 1.0,
) -> None:
    """Read the configuration back until it equals `expected` (reads may lag a Put) or `deadline`."""
    want = canonical(expected)
    while True:
        with aws_errors("Reading the logging configuration back"):
            read = get_config(bedrock)
        got = canonical(read)
        if got == want:
            return
        if clock() + interval > deadline:
            differing = sorted(
                key
                for key in set(want or {}) | set(got or {})
                if (want or {}).get(key) != (got or {}).get(key)
            )
            raise LoggingSetupError(
                short_reason(
                    "Bedrock reports a different logging configuration after Put "
                    f"(differs in {', '.join(differing) or 'everything'}): {describe(read)}"
                )
            )
        sleep(interval)


# ---------------------------------------------------------------------------------------------------------
# Create / Update / Delete


@dataclass(frozen=True)
class Timing:
    """When to give up (a `clock()` value), how to back off, and the clock and sleep to use."""

    deadline: float
    policy: RetryPolicy = RetryPolicy()
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    restore_budget: float = 60.0  # a previous configuration's role is old: no propagation to wait for


@dataclass(frozen=True)
class ApplyResult:
    previous: dict[str, Any] | None
    took_over: bool
    attempts: int
    applied: bool = True  # False: an Update found someone else's configuration and left it alone


def _restore(bedrock: Any, previous: Mapping[str, Any] | None, timing: Timing) -> None:
    if previous is None:
        with aws_errors("Deleting the logging configuration"):
            bedrock.delete_model_invocation_logging_configuration()
    else:
        deadline = min(timing.deadline, timing.clock() + timing.restore_budget)
        with aws_errors("Putting the previous logging configuration back"):
            put_config(
                bedrock,
                previous,
                deadline=deadline,
                policy=timing.policy,
                clock=timing.clock,
                sleep=timing.sleep,
            )


def refusal_reason(live: Mapping[str, Any] | None) -> str:
    """Names the existing destinations and the parameter, whatever their length."""
    head = "Bedrock invocation logging is already on in this Region, sending to "
    tail = ". Set the parameter TakeOverExistingLogging=true to replace it (it is put back on stack delete)."
    where = short_reason(describe(live, roles=False), REASON_MAX - len(head) - len(tail))
    return head + where + tail


def take_over_problem(live: Mapping[str, Any] | None, props: LoggingProperties) -> str:
    """Why a configuration could not be put back after taking it over ("" if it can).

    Putting it back passes its role to Bedrock, and the function may pass only this stack's role and the
    one named by PreviousLoggingRoleName (template.yaml, LoggingSetupFunction's policy).
    """
    role = str(((live or {}).get("cloudWatchConfig") or {}).get("roleArn") or "")
    account_prefix = props.role_arn.split(":role/", 1)[0]
    if not role or role == props.role_arn:
        return ""
    if props.previous_role_name and role == f"{account_prefix}:role/{props.previous_role_name}":
        return ""
    if not role.startswith(account_prefix + ":role/"):
        return short_reason(
            f"The logging configuration to take over uses a role of another account ({role}); the stack "
            "could not put it back on delete, so it does not take it over"
        )
    name = role.split(":role/", 1)[1]
    return short_reason(
        f"The logging configuration to take over uses the role {name}; set the parameter "
        f"PreviousLoggingRoleName={name} so the stack may put it back on delete"
    )


def apply(
    bedrock: Any,
    store: StateStore,
    props: LoggingProperties,
    *,
    physical_id: str,
    timing: Timing,
    old_props: LoggingProperties | None = None,
) -> ApplyResult:
    """Create or Update: refuse a foreign configuration unless allowed, save the previous one, Put, verify."""
    desired = props.logging_config()
    with aws_errors("Reading the logging configuration"):
        live = get_config(bedrock)
    state = store.load()
    ours = [desired]
    if state is not None:
        ours.append(state.applied)
    if old_props is not None:
        ours.append(old_props.logging_config())
    foreign = live is not None and not any(same_destinations(live, mine) for mine in ours)
    # Taking over is allowed, and only of a configuration the stack could put back on delete.
    refusal = (
        "" if not foreign else take_over_problem(live, props) if props.take_over else refusal_reason(live)
    )
    if refusal:
        if old_props is None:
            raise LoggingSetupError(refusal)
        # An Update (or the rollback CloudFormation sends after a failed one) that finds someone else's
        # configuration leaves it alone and succeeds: refusing here would also refuse the rollback and
        # leave the stack in UPDATE_ROLLBACK_FAILED. Delete then leaves that configuration alone too.
        return ApplyResult(
            previous=state.previous if state else None, took_over=False, attempts=0, applied=False
        )

    fresh = state is None
    # Save before Put: if the function dies right after Put, the previous configuration is not lost.
    # An existing state (Update, or a re-delivered Create) keeps the configuration from before this stack,
    # unless someone replaced ours since and we take over again: then theirs is the one to put back.
    if state is None or foreign:
        new_state = SavedState(physical_id, live, desired)
    else:
        new_state = replace(state, applied=desired)
    store.save(new_state)
    put_done = False
    try:
        with aws_errors("Putting the logging configuration"):
            attempts = put_config(
                bedrock,
                desired,
                deadline=timing.deadline,
                policy=timing.policy,
                clock=timing.clock,
                sleep=timing.sleep,
            )
        put_done = True
        verify_config(bedrock, desired, deadline=timing.deadline, clock=timing.clock, sleep=timing.sleep)
    except LoggingSetupError as failure:
        if fresh:
            # A failed Create leaves the account as it found it (an Update is rolled back by CloudFormation).
            try:
                if put_done:
                    _restore(bedrock, live, timing)
            except LoggingSetupError as undo:
                # Keep the saved state: the rollback's Delete tries again.
                message = f"{failure}; putting the previous configuration back failed too: {undo}"
                raise LoggingSetupError(short_reason(message)) from failure
            store.delete()
        raise
    return ApplyResult(previous=new_state.previous, took_over=foreign, attempts=attempts)


@dataclass(frozen=True)
class RemoveResult:
    action: str  # restored | deleted | already-off | left-foreign | not-set | other-resource | restore-failed
    detail: str


def remove(
    bedrock: Any,
    store: StateStore,
    props: LoggingProperties | None,
    *,
    physical_id: str,
    timing: Timing,
) -> RemoveResult:
    """Delete: put back the previous configuration, or delete ours; never touch one this stack did not set."""
    state = store.load()
    try:
        with aws_errors("Reading the logging configuration"):
            live = get_config(bedrock)
    except TransientError:
        raise
    except LoggingSetupError as exc:
        if state is not None:
            raise
        # Denied: with no saved state this stack changed nothing (its Create failed), so the rollback's
        # Delete must not fail on it and strand the stack in ROLLBACK_FAILED.
        return RemoveResult(
            "not-set", f"no saved state, and the setting cannot be read ({exc}); nothing to undo"
        )
    desired = props.logging_config() if props is not None else None

    if state is None:
        # Nothing saved: this stack never applied its configuration (Create failed or was refused), or its
        # saved state was lost. A setting that still uses this stack's role, log group or bucket would
        # break once they are gone: remove it. Any other is someone else's: leave it.
        if live is not None and props is not None and points_at(live, props):
            with aws_errors("Deleting the logging configuration"):
                bedrock.delete_model_invocation_logging_configuration()
            return RemoveResult("deleted", "no saved state; removed the configuration pointing at this stack")
        return RemoveResult("not-set", "this stack had not set the logging configuration; nothing to undo")
    if state.physical_id != physical_id:
        return RemoveResult(
            "other-resource", f"resource {physical_id} is not the live one ({state.physical_id})"
        )

    mine = [state.applied] + ([desired] if desired is not None else [])
    if live is None:
        result = RemoveResult("already-off", "logging was already off; nothing to remove")
    elif not any(same_destinations(live, config) for config in mine):
        result = RemoveResult(
            "left-foreign", f"configuration was replaced since by someone else; left: {describe(live)}"
        )
    elif state.previous is None:
        with aws_errors("Deleting the logging configuration"):
            bedrock.delete_model_invocation_logging_configuration()
        result = RemoveResult("deleted", "no configuration before this stack; logging turned off")
    else:
        try:
            _restore(bedrock, state.previous, timing)
        except TransientError as exc:
            # Throttling or a 5xx: the previous configuration may well go back on a retry. Answer FAILED
            # (the stack delete can be retried) and change nothing, saved copy included.
            raise TransientError(
                short_reason(f"{exc}. Nothing was changed; delete the stack again to retry")
            ) from exc
        except LoggingSetupError as exc:
            # Denied, rejected as invalid, or its destinations are gone: a retry would fail the same way.
            # Turn logging off rather than block the stack delete; keep the saved copy so nothing is lost.
            with aws_errors("Deleting the logging configuration"):
                bedrock.delete_model_invocation_logging_configuration()
            return RemoveResult(
                "restore-failed",
                f"logging turned off; the previous configuration was rejected ({exc}); "
                f"its saved copy stays in SSM parameter {store.name}",
            )
        result = RemoveResult("restored", f"previous configuration put back: {describe(state.previous)}")
    store.delete()
    return result
