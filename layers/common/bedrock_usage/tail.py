"""`bedrock-usage tail`: follow new invocations as they are logged, one priced line each, and a total.

CloudWatch Logs `StartLiveTail` streams new events (a LiveTailSessionStart, then a LiveTailSessionUpdate
every second with up to 500 events; it ends after three hours; botocore 1.43 `logs` model, response member
`responseStream` is an event stream). Where Live Tail is refused (permissions, a Region or emulator without
it) or its stream ends, `tail` polls `FilterLogEvents` from the last event it saw.

A line shows the caller, model, tokens and estimated cost (bedrock_usage.top.price_request, the project's
prices); the prompt and the response are never printed. A record that does not parse is counted and named
by its reason, not its text.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from bedrock_usage.collect.logfiles import Seen, read_record
from bedrock_usage.model import iso
from bedrock_usage.price import Pricer
from bedrock_usage.render import count, usd
from bedrock_usage.top import price_request

POLL_SECONDS = 5.0


def short_caller(arn: str) -> str:
    """`user/alice`, `assumed-role/BatchRole/job-42`: an ARN's resource part (the account is the same)."""
    return arn.split(":", 5)[-1] if arn.startswith("arn:") else arn


@dataclass
class Totals:
    """What the session has seen so far."""

    requests: int = 0
    tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    unpriced: int = 0
    unreadable: int = 0
    by_model: dict[str, Decimal] = field(default_factory=dict)

    def line(self) -> str:
        text = f"{count(self.requests)} requests, {count(self.tokens)} tokens, {usd(self.cost_usd)}"
        if self.unpriced:
            text += f" (+{count(self.unpriced)} unpriced)"
        return text

    def summary(self) -> str:
        out = [f"tail totals: {self.line()}"]
        if self.unreadable:
            out.append(f"  {count(self.unreadable)} record(s) could not be read")
        for model_id, cost in sorted(self.by_model.items(), key=lambda kv: kv[1], reverse=True):
            out.append(f"  {model_id}: {usd(cost)}")
        return "\n".join(out)


class Follower:
    """Turns log events into printed lines and keeps the running totals."""

    def __init__(self, pricer: Pricer, write: Callable[[str], None]) -> None:
        self.pricer, self.write = pricer, write
        self.totals = Totals()
        self.last_ms = 0  # the newest event's timestamp: where polling resumes

    def event(self, message: str, where: str = "event") -> None:
        got = read_record(message, where)
        if isinstance(got, str):
            self.totals.unreadable += 1
            self.write(f"skipped: {got}")
            return
        self._request(got)

    def _request(self, seen: Seen) -> None:
        priced = price_request(self.pricer, seen)
        t = self.totals
        t.requests += 1
        t.tokens += seen.counts.total_tokens
        if priced.cost_usd is None:
            t.unpriced += 1
            cost = "unpriced"
        else:
            t.cost_usd += priced.cost_usd
            t.by_model[seen.model_id] = t.by_model.get(seen.model_id, Decimal(0)) + priced.cost_usd
            cost = usd(priced.cost_usd)
        c = seen.counts
        self.write(
            f"{iso(seen.moment)}  {short_caller(seen.caller)}  {seen.model_id}  "
            f"in {count(c.input_tokens)} out {count(c.output_tokens)} "
            f"cache {count(c.cache_read_tokens)}/{count(c.cache_write_tokens)}  {cost}  | total {t.line()}"
        )


def log_group_arn(logs: Any, name: str) -> str | None:
    """The group's ARN (Live Tail takes ARNs), or None when no group has that name."""
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name):
        for group in page.get("logGroups", []):
            if group.get("logGroupName") == name:
                arn = group.get("logGroupArn") or group.get("arn", "").removesuffix(":*")
                return str(arn)
    return None


def live_tail(logs: Any, arn: str, follower: Follower) -> None:
    """Follow with StartLiveTail until the stream ends (three hours at most) or fails mid-way."""
    response = logs.start_live_tail(logGroupIdentifiers=[arn])
    stream: Iterable[dict[str, Any]] = response["responseStream"]
    for item in stream:
        for event in item.get("sessionUpdate", {}).get("sessionResults", []):
            follower.event(event.get("message", ""), event.get("logStreamName", "event"))
            follower.last_ms = max(follower.last_ms, int(event.get("timestamp", 0)))


def poll(
    logs: Any,
    log_group: str,
    follower: Follower,
    *,
    since_ms: int,
    sleep: Callable[[float], None] = time.sleep,
    interval: float = POLL_SECONDS,
) -> None:
    """Poll FilterLogEvents for events after `since_ms`, forever (until Ctrl-C), each event once."""
    seen_ids: set[str] = set()
    while True:
        kwargs: dict[str, Any] = {"logGroupName": log_group, "startTime": since_ms}
        newest = since_ms
        ids_at_newest: set[str] = set()
        while True:
            page = logs.filter_log_events(**kwargs)
            for event in page.get("events", []):
                event_id = event.get("eventId", "")
                if event_id in seen_ids:
                    continue  # the next poll starts at the newest timestamp again: events there repeat
                follower.event(event.get("message", ""), event.get("logStreamName", "event"))
                stamp = int(event.get("timestamp", 0))
                if stamp > newest:
                    newest, ids_at_newest = stamp, set()
                if stamp == newest:
                    ids_at_newest.add(event_id)
            token = page.get("nextToken")
            if not token:
                break
            kwargs["nextToken"] = token
        if newest > since_ms:
            since_ms, seen_ids = newest, ids_at_newest
        else:
            seen_ids |= ids_at_newest
        sleep(interval)


def follow(
    logs: Any,
    log_group: str,
    pricer: Pricer,
    *,
    write: Callable[[str], None] = print,
    warn: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
    now_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    live: bool = True,
) -> Totals:
    """Follow `log_group` until Ctrl-C (KeyboardInterrupt); returns the session's totals.

    Raises LookupError when the log group does not exist.
    """
    follower = Follower(pricer, write)
    started = now_ms()
    try:
        arn = log_group_arn(logs, log_group)
        if arn is None:
            raise LookupError(f"no log group {log_group} in this Region (is invocation logging on here?)")
        if live:
            try:
                live_tail(logs, arn, follower)
                warn("Live Tail session ended; polling FilterLogEvents")
            except (ClientError, BotoCoreError, ResponseParserError) as exc:
                warn(f"Live Tail not available ({_reason(exc)}); polling FilterLogEvents")
        # Live Tail delivered everything up to its last event: resume just after it, not at it, so that
        # nothing is printed twice (FilterLogEvents' startTime is inclusive).
        resume = follower.last_ms + 1 if follower.last_ms else started
        poll(logs, log_group, follower, since_ms=max(resume, started), sleep=sleep)
    except KeyboardInterrupt:
        pass
    return follower.totals


def _reason(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "error"))
    return type(exc).__name__
