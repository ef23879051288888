"""Errors of the logging custom resource: each message is the Reason CloudFormation shows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

# CloudFormation shows the Reason in the stack events; keep it short and keep its beginning (what went wrong).
REASON_MAX = 250


class LoggingSetupError(Exception):
    """A failure whose message is the Reason CloudFormation shows (short, says what to do)."""


class PropertyError(LoggingSetupError):
    """A resource property is missing or has a value we do not accept."""


class ConfigRejected(LoggingSetupError):
    """Bedrock kept answering ValidationException to a Put until the deadline."""


class TransientError(LoggingSetupError):
    """Throttling, a 5xx, a timeout or a lost connection: the same request may succeed later."""


class UnreadableConfig(TransientError):
    """Bedrock answered 200 with something that is not a LoggingConfig: nothing can be decided from it."""


# Errors that retrying will not cure. Everything else (throttling, 5xx, timeouts, unknown codes) may pass
# on a later try, so a stack delete answers FAILED rather than give up the previous configuration.
PERMANENT_CODES = frozenset(
    {"AccessDeniedException", "AccessDenied", "ValidationException", "ResourceNotFoundException"}
)


def aws_failure(doing: str, exc: ClientError | BotoCoreError) -> LoggingSetupError:
    """LoggingSetupError (permanent) or TransientError, with a readable reason."""
    if isinstance(exc, ClientError):
        reason = short_reason(f"{doing} failed: {describe_client_error(exc)}")
        permanent = exc.response.get("Error", {}).get("Code") in PERMANENT_CODES
        return LoggingSetupError(reason) if permanent else TransientError(reason)
    return TransientError(short_reason(f"{doing} failed: {exc}"))


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
    except (ClientError, BotoCoreError) as exc:
        raise aws_failure(doing, exc) from exc
