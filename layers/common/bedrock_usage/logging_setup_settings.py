"""LoggingSetupFunction's settings, from environment variables, parsed once."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from botocore.config import Config

from bedrock_usage.cfn_response import SendPolicy
from bedrock_usage.logging_config import RetryPolicy, Timing
from bedrock_usage.logging_errors import LoggingSetupError


@dataclass(frozen=True)
class HandlerSettings:
    """LoggingSetupFunction's knobs; the defaults suit a real deploy (function Timeout 300 s)."""

    log_level: str = "INFO"
    reserve_seconds: float = 20.0  # time kept back from the Put retries to restore, clean up and answer
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # The guard answers FAILED this long before the function's end if the work has not finished; it must
    # leave room for a few attempts to reach the ResponseURL (SendPolicy).
    guard_seconds: float = 10.0
    answer: SendPolicy = field(default_factory=SendPolicy)
    # A hung AWS call is cut by the read timeout; each call is tried this many times (first + retries).
    sdk_read_timeout: float = 10.0
    sdk_max_attempts: int = 4
    # Wait before answering a Delete so the function's last log lines reach CloudWatch Logs before
    # CloudFormation deletes the function and its log group.
    delete_log_flush_seconds: float = 5.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> HandlerSettings:
        """Read POWERTOOLS_LOG_LEVEL and the *_SECONDS / *_ATTEMPTS variables below; raise
        LoggingSetupError naming the first bad value."""

        def number(name: str, default: float, low: float = 0, high: float = 900) -> float:
            raw = environ.get(name, "")
            if raw == "":
                return default
            try:
                value = float(raw)
            except ValueError:
                value = float("nan")
            if not low <= value <= high:  # NaN fails too
                raise LoggingSetupError(
                    f"Environment variable {name} must be a number from {low:g} to {high:g}, got {raw[:40]!r}"
                )
            return value

        level = environ.get("POWERTOOLS_LOG_LEVEL", "INFO").upper() or "INFO"
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise LoggingSetupError(
                f"Environment variable POWERTOOLS_LOG_LEVEL is not a log level: {level[:40]!r}"
            )
        settings = cls(
            log_level=level,
            reserve_seconds=number("RESPONSE_RESERVE_SECONDS", cls.reserve_seconds),
            retry=RetryPolicy(
                initial_delay=number("PUT_RETRY_INITIAL_SECONDS", RetryPolicy.initial_delay),
                max_delay=number("PUT_RETRY_MAX_SECONDS", RetryPolicy.max_delay),
            ),
            guard_seconds=number("RESPONSE_GUARD_SECONDS", cls.guard_seconds),
            answer=SendPolicy(
                max_attempts=int(number("RESPONSE_MAX_ATTEMPTS", SendPolicy.max_attempts, 1, 20)),
                attempt_timeout=number(
                    "RESPONSE_ATTEMPT_TIMEOUT_SECONDS", SendPolicy.attempt_timeout, 0.05, 60
                ),
                initial_backoff=number("RESPONSE_BACKOFF_SECONDS", SendPolicy.initial_backoff, 0, 60),
            ),
            sdk_read_timeout=number("SDK_READ_TIMEOUT_SECONDS", cls.sdk_read_timeout, 0.05, 120),
            sdk_max_attempts=int(number("SDK_MAX_ATTEMPTS", cls.sdk_max_attempts, 1, 10)),
            delete_log_flush_seconds=number("DELETE_LOG_FLUSH_SECONDS", cls.delete_log_flush_seconds, 0, 60),
        )
        # The guard must leave time for one attempt to reach CloudFormation, and the work must stop first.
        if settings.guard_seconds < settings.answer.end_margin + settings.answer.attempt_timeout:
            raise LoggingSetupError(
                "Environment variable RESPONSE_GUARD_SECONDS must be at least "
                f"RESPONSE_ATTEMPT_TIMEOUT_SECONDS + {settings.answer.end_margin:g}"
            )
        if settings.reserve_seconds < settings.guard_seconds:
            raise LoggingSetupError(
                "Environment variable RESPONSE_RESERVE_SECONDS must be at least RESPONSE_GUARD_SECONDS"
            )
        return settings

    def sdk_config(self) -> Config:
        """botocore settings for the Bedrock and SSM clients: throttling and 5xx retried a few times."""
        return Config(
            retries={"mode": "standard", "total_max_attempts": self.sdk_max_attempts},
            connect_timeout=min(5.0, self.sdk_read_timeout),
            read_timeout=self.sdk_read_timeout,
        )

    def timing(self, remaining_ms: int, clock: Callable[[], float] = time.monotonic) -> Timing:
        """Give up on retries `reserve_seconds` before the function would time out."""
        deadline = clock() + remaining_ms / 1000 - self.reserve_seconds
        return Timing(deadline=deadline, policy=self.retry, clock=clock)
