"""Bedrock model-invocation logging: strict properties, the LoggingConfig, saved state, apply and remove.

The setting is one per account and Region, so every change here is guarded: a configuration this stack
did not set is only replaced when the user allows it, and the one that was there before is put back.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

# CloudFormation truncates nothing, but crhelper cuts a Reason over 256 characters to its *tail*;
# we shorten it ourselves so the beginning (what went wrong) survives.
REASON_MAX = 250

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
OPTIONAL_PROPERTIES = ("KeyPrefix", "TakeOverExistingLogging", *FLAG_PROPERTIES)
# CloudFormation adds these to ResourceProperties itself.
CLOUDFORMATION_PROPERTIES = ("ServiceToken", "ServiceTimeout")

ROLE_ARN = re.compile(r"arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+")  # botocore's pattern for roleArn
LOG_GROUP_NAME = re.compile(r"[.\-_/#A-Za-z0-9]{1,512}")
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
STACK_ID = re.compile(
    r"arn:aws[a-z-]*:cloudformation:[a-z0-9-]+:[0-9]{12}:stack/([A-Za-z][A-Za-z0-9-]*)/([\w-]+)"
)

STATE_PARAMETER_ROOT = "/bedrock-usage-monitor"


class LoggingSetupError(Exception):
    """A failure whose message is the Reason CloudFormation shows (short, says what to do)."""


class PropertyError(LoggingSetupError):
    """A resource property is missing or has a value we do not accept."""


class ConfigRejected(LoggingSetupError):
    """Bedrock kept answering ValidationException to a Put until the deadline."""


def short_reason(text: str, limit: int = REASON_MAX) -> str:
    """One line, at most `limit` characters, keeping the beginning."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def describe_client_error(exc: ClientError) -> str:
    """`AccessDeniedException on GetModelInvocationLoggingConfiguration: <message>`."""
    error = exc.response.get("Error", {})
    code = error.get("Code", "Error")
    message = error.get("Message", "")
    return f"{code} on {exc.operation_name}: {message}".rstrip(": ")


@contextmanager
def aws_errors(doing: str) -> Iterator[None]:
    """Turn SDK errors into LoggingSetupError with a readable reason."""
    try:
        yield
    except ClientError as exc:
        raise LoggingSetupError(short_reason(f"{doing} failed: {describe_client_error(exc)}")) from exc
    except BotoCoreError as exc:
        raise LoggingSetupError(short_reason(f"{doing} failed: {exc}")) from exc


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
    return LoggingProperties(log_group, role_arn, bucket, key_prefix, flags, take_over)


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


def get_config(bedrock: Any) -> dict[str, Any] | None:
    """The account's current LoggingConfig in the client's Region, or None when logging is off."""
    response = bedrock.get_model_invocation_logging_configuration()
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
                raise LoggingSetupError(
                    short_reason(f"Put logging configuration failed: {describe_client_error(exc)}")
                ) from exc
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
# Saved state: the configuration that was there before, in an SSM parameter


def state_parameter_name(stack_id: str) -> str:
    """`/bedrock-usage-monitor/<stack name>/<stack uuid>/previous-logging-config`.

    The stack's unique ID is in the name, so a new stack with an old name never reads a stale state.
    """
    match = STACK_ID.fullmatch(stack_id)
    if not match:
        raise LoggingSetupError(short_reason(f"StackId is not a CloudFormation stack ARN: {stack_id}"))
    return f"{STATE_PARAMETER_ROOT}/{match.group(1)}/{match.group(2)}/previous-logging-config"


@dataclass(frozen=True)
class SavedState:
    """What this stack needs to undo its change: the previous configuration and the one it applied."""

    physical_id: str
    previous: dict[str, Any] | None
    applied: dict[str, Any]

    def to_json(self) -> str:
        body = {
            "version": 1,
            "physicalId": self.physical_id,
            "previous": self.previous,
            "applied": self.applied,
        }
        return json.dumps(body, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SavedState:
        body = json.loads(text)
        return cls(physical_id=body["physicalId"], previous=body.get("previous"), applied=body["applied"])


class StateStore:
    """The saved state in one SSM parameter, created on Create and removed on Delete."""

    def __init__(self, ssm: Any, name: str) -> None:
        self.ssm = ssm
        self.name = name

    def load(self) -> SavedState | None:
        with aws_errors(f"Reading SSM parameter {self.name}"):
            try:
                response = self.ssm.get_parameter(Name=self.name)
            except self.ssm.exceptions.ParameterNotFound:
                return None
        try:
            return SavedState.from_json(response["Parameter"]["Value"])
        except (ValueError, KeyError, TypeError) as exc:
            raise LoggingSetupError(
                short_reason(f"SSM parameter {self.name} does not hold a saved state")
            ) from exc

    def save(self, state: SavedState) -> None:
        with aws_errors(f"Saving the previous logging configuration to SSM parameter {self.name}"):
            self.ssm.put_parameter(
                Name=self.name,
                Value=state.to_json(),
                Type="String",
                Overwrite=True,
                # Standard (free) unless two configurations with long prefixes exceed its 4 KB.
                Tier="Intelligent-Tiering",
                Description="Bedrock invocation logging before this stack changed it; removed on delete",
            )

    def delete(self) -> None:
        with (
            aws_errors(f"Deleting SSM parameter {self.name}"),
            suppress(self.ssm.exceptions.ParameterNotFound),
        ):
            self.ssm.delete_parameter(Name=self.name)


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
        put_config(
            bedrock, previous, deadline=deadline, policy=timing.policy, clock=timing.clock, sleep=timing.sleep
        )


def refusal_reason(live: Mapping[str, Any] | None) -> str:
    """Names the existing destinations and the parameter, whatever their length."""
    head = "Bedrock invocation logging is already on in this Region, sending to "
    tail = ". Set the parameter TakeOverExistingLogging=true to replace it (it is put back on stack delete)."
    where = short_reason(describe(live, roles=False), REASON_MAX - len(head) - len(tail))
    return head + where + tail


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
    if foreign and not props.take_over:
        if old_props is None:
            raise LoggingSetupError(refusal_reason(live))
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
    with aws_errors("Reading the logging configuration"):
        live = get_config(bedrock)
    desired = props.logging_config() if props is not None else None

    if state is None:
        # Nothing saved: this stack never applied its configuration (e.g. Create failed or was refused).
        # Only if the live setting points at this stack's own destinations do we remove it.
        if live is not None and desired is not None and same_destinations(live, desired):
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
        except LoggingSetupError as exc:
            # The previous destinations are gone, or the restore is not allowed (e.g. TakeOverExistingLogging
            # was turned off, which removes the PassRole for the old role): turn logging off rather than block
            # the stack delete, and keep the saved copy so nothing is lost.
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


# ---------------------------------------------------------------------------------------------------------
# Handler settings (environment variables, parsed once)


@dataclass(frozen=True)
class HandlerSettings:
    """LoggingSetupFunction's knobs; the defaults suit a real deploy (function Timeout 300 s)."""

    log_level: str = "INFO"
    reserve_seconds: float = 20.0  # time kept back from the Put retries to restore, clean up and answer
    retry: RetryPolicy = RetryPolicy()
    # crhelper waits this long on Delete so that the function's last logs reach CloudWatch.
    sleep_on_delete: int = 5

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> HandlerSettings:
        """Read POWERTOOLS_LOG_LEVEL, RESPONSE_RESERVE_SECONDS, PUT_RETRY_INITIAL_SECONDS,
        PUT_RETRY_MAX_SECONDS and CRHELPER_SLEEP_ON_DELETE_SECONDS; raise LoggingSetupError on a bad value."""

        def number(name: str, default: float) -> float:
            raw = environ.get(name, "")
            if raw == "":
                return default
            try:
                value = float(raw)
            except ValueError:
                value = -1.0
            if not 0 <= value <= 900:
                raise LoggingSetupError(
                    f"Environment variable {name} must be seconds (0-900), got {raw[:40]!r}"
                )
            return value

        level = environ.get("POWERTOOLS_LOG_LEVEL", "INFO").upper() or "INFO"
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise LoggingSetupError(
                f"Environment variable POWERTOOLS_LOG_LEVEL is not a log level: {level[:40]!r}"
            )
        return cls(
            log_level=level,
            reserve_seconds=number("RESPONSE_RESERVE_SECONDS", cls.reserve_seconds),
            retry=RetryPolicy(
                initial_delay=number("PUT_RETRY_INITIAL_SECONDS", RetryPolicy.initial_delay),
                max_delay=number("PUT_RETRY_MAX_SECONDS", RetryPolicy.max_delay),
            ),
            sleep_on_delete=int(number("CRHELPER_SLEEP_ON_DELETE_SECONDS", cls.sleep_on_delete)),
        )

    def timing(self, remaining_ms: int, clock: Callable[[], float] = time.monotonic) -> Timing:
        """Give up on retries `reserve_seconds` before the function would time out."""
        deadline = clock() + remaining_ms / 1000 - self.reserve_seconds
        return Timing(deadline=deadline, policy=self.retry, clock=clock)
