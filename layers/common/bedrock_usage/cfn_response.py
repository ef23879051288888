"""Answering CloudFormation for a custom resource: exactly once, and within the function's time.

CloudFormation waits (up to the resource's ServiceTimeout) for one JSON document PUT to the pre-signed
ResponseURL in the request. The answer is lost if that PUT is refused (a 5xx or 403 from S3) or hangs, so
it is retried with per-attempt timeouts, and a guard timer answers FAILED shortly before the function
would time out if the work has not finished by then. A lock makes the first answer the only one.

Response fields and the 4096-byte limit: CloudFormation user guide, "Custom resource response objects"
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html). The empty
content-type is what AWS's own cfn-response module sends: the URL is signed without one.
"""

from __future__ import annotations

import http.client
import json
import logging
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

SUCCESS = "SUCCESS"
FAILED = "FAILED"
MAX_BODY_BYTES = 4096

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendPolicy:
    """How hard to try: attempts, per-attempt socket timeout, backoff, and how early to stop."""

    max_attempts: int = 5
    attempt_timeout: float = 5.0  # connect, TLS handshake and each read, per attempt
    initial_backoff: float = 0.5
    max_backoff: float = 4.0
    # Stop this long before the function's end: Lambda freezes the process at its timeout.
    end_margin: float = 0.5


@dataclass(frozen=True)
class Delivery:
    """What happened to one answer."""

    accepted: bool
    attempts: int
    status: int | None  # the last HTTP status, None when no response was read
    error: str  # the last failure, "" when accepted
    seconds: float
    body: dict[str, Any]


def response_body(
    event: Mapping[str, Any],
    status: str,
    physical_id: str,
    reason: str = "",
    data: Mapping[str, Any] | None = None,
) -> bytes:
    """The answer to `event` in at most 4096 bytes: Reason is cut (its beginning kept), then Data dropped."""
    body: dict[str, Any] = {
        "Status": status,
        "Reason": reason,
        "PhysicalResourceId": physical_id,
        "StackId": str(event.get("StackId", "")),
        "RequestId": str(event.get("RequestId", "")),
        "LogicalResourceId": str(event.get("LogicalResourceId", "")),
        "NoEcho": False,
        "Data": dict(data or {}),
    }
    raw = json.dumps(body).encode()
    if len(raw) > MAX_BODY_BYTES and reason:
        # An escaped character takes 1 to 12 bytes: find the longest beginning that fits.
        def size(keep: int) -> int:
            return len(json.dumps({**body, "Reason": reason[:keep] + "..."}).encode())

        low, high = 0, len(reason)
        while low < high:
            middle = (low + high + 1) // 2
            low, high = (middle, high) if size(middle) <= MAX_BODY_BYTES else (low, middle - 1)
        body["Reason"] = reason[:low] + "..."
        raw = json.dumps(body).encode()
    if len(raw) > MAX_BODY_BYTES:
        body["Data"] = {}
        if status == SUCCESS:
            body["Reason"] = "attributes left out: they exceed CloudFormation's 4096-byte limit"
        raw = json.dumps(body).encode()
    return raw


Connect = Callable[[str, float], http.client.HTTPConnection]


def _connect(url: str, timeout: float) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    if parts.scheme == "https":
        # The default context verifies the certificate against the system CAs (or SSL_CERT_FILE).
        return http.client.HTTPSConnection(
            parts.hostname or "", parts.port, timeout=timeout, context=ssl.create_default_context()
        )
    return http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)


def put(
    url: str,
    body: bytes,
    *,
    deadline: float,
    policy: SendPolicy = SendPolicy(),
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    connect: Connect = _connect,
) -> Delivery:
    """PUT `body` to `url` until a 2xx, `policy.max_attempts` or `deadline` (a `clock()` value).

    Every failure is retried: 5xx, 403 (S3 answers it for clock skew as well as for a bad signature),
    connection errors and timeouts. A repeated PUT of the same body to the same URL is harmless.
    """
    started = clock()
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {"content-type": "", "content-length": str(len(body))}
    attempts, status, error = 0, None, "no attempt: no time left"
    delay = policy.initial_backoff
    decoded = json.loads(body)
    while attempts < policy.max_attempts:
        left = deadline - clock()
        if left <= 0.05:
            break
        attempts += 1
        status = None
        connection = connect(url, min(policy.attempt_timeout, left))
        try:
            connection.request("PUT", target, body=body, headers=headers)
            response = connection.getresponse()
            status = response.status
            response.read(2048)
            if 200 <= status < 300:
                return Delivery(True, attempts, status, "", clock() - started, decoded)
            error = f"HTTP {status} {response.reason}"
        except (OSError, http.client.HTTPException) as exc:  # timeouts and TLS errors are OSErrors
            error = f"{type(exc).__name__}: {exc}"
        finally:
            connection.close()
        logger.warning("CloudFormation response attempt %d not accepted: %s", attempts, error)
        wait = min(delay, max(0.0, deadline - clock() - 0.05))
        if attempts < policy.max_attempts and wait > 0:
            sleep(wait)
        delay = min(policy.max_backoff, delay * 2)
    return Delivery(False, attempts, status, error, clock() - started, decoded)


class Responder:
    """Sends the one answer to one custom-resource request: from `send`, or from the guard timer."""

    def __init__(
        self,
        event: Mapping[str, Any],
        remaining_ms: int,
        *,
        policy: SendPolicy = SendPolicy(),
        clock: Callable[[], float] = time.monotonic,
        connect: Connect = _connect,
    ) -> None:
        self.event = event
        self.policy = policy
        self.clock = clock
        self.connect = connect
        self.end = clock() + remaining_ms / 1000  # when Lambda stops the function
        self.delivery: Delivery | None = None
        self._lock = threading.Lock()
        self._answered = False
        self._timer: threading.Timer | None = None

    def start_guard(self, seconds_before_end: float, physical_id: str, reason: str) -> None:
        """Answer FAILED `seconds_before_end` before the function's end unless `send` came first."""
        wait = max(0.0, self.end - seconds_before_end - self.clock())
        self._timer = threading.Timer(wait, self.send, args=(FAILED, physical_id, reason))
        self._timer.daemon = True
        self._timer.start()

    def stop_guard(self) -> None:
        """Cancel the guard (call before the handler returns: Lambda freezes a running timer)."""
        if self._timer is not None:
            self._timer.cancel()

    @property
    def answered(self) -> bool:
        return self._answered

    def send(
        self, status: str, physical_id: str, reason: str = "", data: Mapping[str, Any] | None = None
    ) -> Delivery | None:
        """Send the answer unless one was already sent (then None). Blocks while the other one is sending."""
        with self._lock:
            if self._answered:
                return None
            self._answered = True
            url = str(self.event.get("ResponseURL", ""))
            body = response_body(self.event, status, physical_id, reason, data)
            if not url:
                logger.error("the request has no ResponseURL: nobody to answer")
                self.delivery = Delivery(False, 0, None, "no ResponseURL", 0.0, json.loads(body))
                return self.delivery
            self.delivery = put(
                url,
                body,
                deadline=self.end - self.policy.end_margin,
                policy=self.policy,
                clock=self.clock,
                connect=self.connect,
            )
            log = logger.info if self.delivery.accepted else logger.error
            log(
                "CloudFormation response %s: %s after %d attempt(s) in %.1f s%s",
                status,
                "accepted" if self.delivery.accepted else "NOT accepted",
                self.delivery.attempts,
                self.delivery.seconds,
                f" ({self.delivery.error})" if self.delivery.error else "",
            )
            return self.delivery
