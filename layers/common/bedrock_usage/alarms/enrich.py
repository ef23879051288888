"""Optional CloudWatch extras for an alarm email, fetched within a deadline so the email always goes.

The extras (the models that drove the alarm, a graph, how long it lasted, a composite alarm's child) make an
email more useful but are never worth losing it for. They run in a worker thread that the caller waits for
only until its deadline; whatever is not back by then is named in the email as missing. The CloudWatch
client should use `ENRICHMENT_CLIENT_CONFIG`, so that an abandoned call also ends soon.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.config import Config

from bedrock_usage.alarms.cloudwatch import (
    ModelValue,
    alarm_started,
    child_alarms,
    top_models,
    top_models_query,
    widget_image,
)
from bedrock_usage.alarms.compose import Extras
from bedrock_usage.alarms.notification import AlarmNotification

# Few attempts and short socket timeouts: a blackholed endpoint costs ~2 x (2 + 4) s per call, not the
# default 3 x 60 s. Each call is cheap and small when CloudWatch is healthy. (botocore's `max_attempts`
# counts retries only; `total_max_attempts` counts the first call too.)
ENRICHMENT_CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=2, read_timeout=4
)
# Sending matters more: one more attempt, still bounded well inside the function's timeout.
SEND_CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=3, read_timeout=6
)
SEND_RESERVE_SECONDS = 15.0  # kept back, per notification still to send, when enrichment is given time
ENRICH_MAX_SECONDS = 20.0  # never wait longer than this for one notification's extras

MODELS = "the per-model breakdown"
GRAPH = "the graph"
HISTORY = "how long the alarm lasted"
CHILD = "the triggering child alarm's metric"


class Deadline:
    """A point on the monotonic clock by which the whole invocation must be done."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.at = clock() + seconds

    @classmethod
    def from_context(cls, context: Any, default_seconds: float = 60.0) -> Deadline:
        """From Lambda's `context.get_remaining_time_in_millis()`; `default_seconds` without a context."""
        getter = getattr(context, "get_remaining_time_in_millis", None)
        try:
            seconds = float(getter()) / 1000 if callable(getter) else default_seconds
        except (TypeError, ValueError):
            seconds = default_seconds
        return cls(seconds)

    def remaining(self) -> float:
        """Seconds left (may be negative)."""
        return self.at - self._clock()

    def enrichment_budget(self, still_to_send: int) -> float:
        """Seconds one notification may spend on extras, leaving SEND_RESERVE_SECONDS per email to send."""
        spare = self.remaining() - SEND_RESERVE_SECONDS * max(still_to_send, 1)
        return max(0.0, min(ENRICH_MAX_SECONDS, spare))


@dataclass
class _Progress:
    """What the worker has fetched so far; the lock keeps the caller's snapshot and the worker apart."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    values: dict[str, Any] = field(default_factory=dict)
    pending: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    abandoned: bool = False

    def plan(self, *parts: str) -> None:
        with self.lock:
            self.pending.extend(part for part in parts if part not in self.pending)

    def finish(
        self, part: str, key: str | None = None, value: Any = None, failure: str | None = None
    ) -> None:
        with self.lock:
            if self.abandoned:
                return
            if part in self.pending:
                self.pending.remove(part)
            if key is not None:
                self.values[key] = value
            if failure:
                self.missing.append(f"{part} ({failure})")


def _fetch(
    cloudwatch: Any,
    alarm: AlarmNotification,
    progress: _Progress,
    *,
    now: datetime,
    logger: Any,
    by_account: bool = False,
) -> None:
    """The CloudWatch calls, in order. Any failure (even an unexpected one) only names what is missing."""

    def attempt(part: str, key: str, call: Callable[[], Any], failure: str) -> Any:
        if progress.abandoned:
            raise _Abandoned
        try:
            value = call()
        except Exception as error:  # noqa: BLE001 - optional extras: any failure is reported, never fatal
            logger.warning(
                f"{part} failed", extra={"alarm": alarm.name, "error": f"{type(error).__name__}: {error}"}
            )
            progress.finish(part, failure=failure)
            return None
        progress.finish(part, key, value)
        return value

    try:
        if alarm.new_state == "ALARM":
            measured = alarm
            if alarm.trigger.kind == "composite":
                progress.plan(CHILD)
                children = attempt(
                    CHILD,
                    "child",
                    lambda: child_alarms(cloudwatch, alarm),
                    "CloudWatch DescribeAlarms failed",
                )
                child = next(iter(children or ()), None)
                progress.finish(CHILD, "child", child)
                if child is None:
                    return
                measured = child  # a composite alarm is shown through its triggering child
            if measured.trigger.kind == "insights" and top_models_query(measured) is None:
                progress.plan(GRAPH)
                progress.finish(GRAPH, failure="a Metrics Insights query outside AWS/Bedrock cannot be drawn")
                return
            needs_models = top_models_query(measured) is not None
            progress.plan(*((MODELS,) if needs_models else ()), GRAPH)
            models: tuple[ModelValue, ...] | None = None
            if needs_models:
                models = attempt(
                    MODELS,
                    "models",
                    lambda: top_models(cloudwatch, measured, now=now, by_account=by_account),
                    "CloudWatch query failed",
                )
            attempt(
                GRAPH,
                "graph",
                lambda: widget_image(cloudwatch, measured, models),
                "CloudWatch GetMetricWidgetImage failed"
                if measured.trigger.kind != "insights" or models
                else "no per-model series to draw",
            )
        elif alarm.new_state == "OK" and alarm.old_state == "ALARM":
            progress.plan(HISTORY)
            attempt(
                HISTORY,
                "started",
                lambda: alarm_started(cloudwatch, alarm.name, before=alarm.state_change_time or now),
                "alarm history unavailable",
            )
    except _Abandoned:
        return


class _Abandoned(Exception):
    """The caller stopped waiting: make no further calls."""


def needs_cloudwatch(alarm: AlarmNotification) -> bool:
    """Whether this notification has any extras to fetch (ALARM, or a return from ALARM to OK)."""
    return alarm.new_state == "ALARM" or (alarm.new_state == "OK" and alarm.old_state == "ALARM")


def enrich(
    cloudwatch: Any,
    alarm: AlarmNotification,
    *,
    now: datetime,
    logger: Any,
    budget_seconds: float,
    skip_reason: str | None = None,
    by_account: bool = False,
) -> tuple[Extras, bool]:
    """Fetch the extras for `alarm` within `budget_seconds`; returns (extras, timed_out).

    `by_account` (monitoring mode) ranks (account, model) series, so the email names each model's account.

    With `skip_reason` (or no budget) nothing is fetched and the email says why the extras are missing.
    """
    if not needs_cloudwatch(alarm):
        return Extras(), False
    if skip_reason or budget_seconds <= 0:
        why = skip_reason or "no time left in this invocation"
        return Extras(missing=(f"the CloudWatch details (skipped: {why})",)), False
    progress = _Progress()
    worker = threading.Thread(
        target=_fetch,
        args=(cloudwatch, alarm, progress),
        kwargs={"now": now, "logger": logger, "by_account": by_account},
        daemon=True,
    )
    worker.start()
    # A daemon thread: if CloudWatch never answers, the email goes without waiting for it to give up.
    worker.join(budget_seconds)
    with progress.lock:
        progress.abandoned = True
        timed_out = worker.is_alive()
        missing = list(progress.missing)
        missing += [f"{part} (CloudWatch did not answer in time)" for part in progress.pending]
        values = dict(progress.values)
    if timed_out:
        logger.warning(
            "CloudWatch details abandoned at the deadline",
            extra={"alarm": alarm.name, "waited_seconds": round(budget_seconds, 1), "missing": missing},
        )
    return (
        Extras(
            models=values.get("models"),
            graph=values.get("graph"),
            started=values.get("started"),
            child=values.get("child"),
            missing=tuple(missing),
        ),
        timed_out,
    )
