"""Stand-ins at the HTTP layer for the logging custom resource's fault tests.

- `FakeBedrock`: Bedrock's model-invocation-logging API on plain HTTP at 127.0.0.1, holding one
  LoggingConfig, answering as the real service does (REST-JSON, botocore's `bedrock` service model and the
  API reference: 403 AccessDeniedException, 400 ValidationException, 429 ThrottlingException, 500
  InternalServerException; error code in the `x-amzn-ErrorType` header), with scripted faults per call.
  The function reaches it through `AWS_ENDPOINT_URL_BEDROCK`, so the handler's own botocore client, retry
  mode and timeouts run unchanged; moto (which passes 127.0.0.1 through) still serves SSM.
- `ScriptedResponseUrl`: the repo's HTTPS ResponseURL stand-in (scripts/response_url.py) whose answers
  follow a script: 200, an HTTP error status, "hang" (reads the PUT, never answers) or "drop".
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from scripts.response_url import Received, ResponseUrlServer

LOGGING_PATH = "/logging/modelinvocations"
ERROR_STATUS = {
    "AccessDeniedException": 403,
    "ValidationException": 400,
    "ThrottlingException": 429,
    "InternalServerException": 500,
}


@dataclass(frozen=True)
class Fault:
    """One scripted answer: an AWS error, a hang (no answer until released), or a raw 200 body."""

    kind: str  # "error" | "hang" | "raw"
    code: str = ""
    body: bytes = b""

    @property
    def label(self) -> str:
        return self.code or self.kind


def error(code: str) -> Fault:
    return Fault("error", code=code)


HANG = Fault("hang")
NOT_JSON = Fault("raw", code="non-JSON 200", body=b"<html><body>Service Unavailable</body></html>")


@dataclass
class FakeBedrock:
    """Holds the account's LoggingConfig; `fail(method, fault, times)` scripts the next answers."""

    config: dict[str, Any] | None = None
    calls: list[str] = field(default_factory=list)
    _faults: dict[str, list[tuple[Fault, int | None]]] = field(default_factory=dict)
    _release: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self, method: str) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
                if self.path.split("?")[0] != LOGGING_PATH:
                    return self._send(404, {"message": "not found"})
                fault = fake._next_fault(method)
                fake.calls.append(f"{method}:{fault.label if fault else 'ok'}")
                if fault is not None and fault.kind == "hang":
                    fake._release.wait(10)
                    self.close_connection = True
                    return None
                if fault is not None and fault.kind == "error":
                    return self._send(
                        ERROR_STATUS[fault.code],
                        {"message": f"injected {fault.code}"},
                        {"x-amzn-ErrorType": f"{fault.code}:http://internal.amazon.com/coral/"},
                    )
                if fault is not None and fault.kind == "raw":
                    return self._send_raw(200, fault.body, "text/html")
                if method == "GET":
                    return self._send(200, {"loggingConfig": fake.config} if fake.config else {})
                if method == "PUT":
                    fake.config = json.loads(raw)["loggingConfig"]
                else:
                    fake.config = None
                return self._send(200, {})

            def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                self._send_raw(status, json.dumps(body).encode(), "application/json", headers)

            def _send_raw(
                self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self._answer("GET")

            def do_PUT(self) -> None:
                self._answer("PUT")

            def do_DELETE(self) -> None:
                self._answer("DELETE")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def fail(self, method: str, fault: Fault, times: int | None = None) -> None:
        """Answer the next `times` calls of `method` (GET, PUT, DELETE) with `fault`; None: every call."""
        with self._lock:
            self._faults.setdefault(method, []).append((fault, times))

    def heal(self) -> None:
        """Drop every scripted fault and release hung calls."""
        with self._lock:
            self._faults.clear()
        self._release.set()

    def _next_fault(self, method: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(method, [])
            if not queue:
                return None
            fault, times = queue[0]
            if times is not None:
                if times <= 1:
                    queue.pop(0)
                else:
                    queue[0] = (fault, times - 1)
            return fault

    def close(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()


class ScriptedResponseUrl(ResponseUrlServer):
    """The HTTPS ResponseURL stand-in; each PUT gets the next scripted answer, then `then`.

    `received` holds only the accepted (200) answers, `attempts` every PUT that arrived.
    """

    def __init__(
        self, cert_file: Path, key_file: Path, script: Sequence[int | str] = (), then: int | str = 200
    ) -> None:
        super().__init__(cert_file, key_file)
        self.attempts: list[Received] = []
        self._script = list(script)
        self._then = then
        self._lock = threading.Lock()
        self._release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                got = Received(self.path, dict(self.headers.items()), raw)
                with outer._lock:
                    behaviour = outer._script.pop(0) if outer._script else outer._then
                    outer.attempts.append(got)
                if behaviour == "hang":
                    outer._release.wait(10)
                    self.close_connection = True
                    return
                if behaviour == "drop":
                    self.close_connection = True
                    return
                assert isinstance(behaviour, int)
                if behaviour == 200:
                    outer.received.append(got)
                self.send_response(behaviour)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        # The server reads its handler class per request: nothing has connected yet.
        self.server.RequestHandlerClass = Handler

    def url_for(self, request_id: str) -> str:
        return self.url(f"/cfn-response/{request_id}?X-Amz-Signature=test")

    def close(self) -> None:
        self._release.set()
        super().close()


@dataclass
class Tally:
    """What the fault suite reports: cases tried, cases answered as expected, slowest case."""

    tried: int = 0
    answered: int = 0
    max_seconds: float = 0.0
    rows: list[str] = field(default_factory=list)

    def record(self, name: str, answered: bool, seconds: float) -> None:
        self.tried += 1
        self.answered += int(answered)
        self.max_seconds = max(self.max_seconds, seconds)
        self.rows.append(f"{name}: {'answered' if answered else 'NOT answered'} in {seconds:.2f} s")

    def summary(self) -> str:
        return (
            f"logging-setup faults tried: {self.tried}, answered: {self.answered}, "
            f"max seconds: {self.max_seconds:.2f}"
        )
