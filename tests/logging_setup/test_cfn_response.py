"""The answer to CloudFormation: PUT over HTTPS to a local ResponseURL stand-in that refuses, hangs or drops.

crhelper (used before) counted a 500 or 403 as delivered and looped without a socket timeout on a URL that
never answered; these tests pin the replacement's behaviour."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from bedrock_usage import cfn_response as cfn

from tests.conftest import load_event
from tests.faults.logging_setup_fakes import ScriptedResponseUrl

EVENT = load_event("cfn-create.json")
FAST = cfn.SendPolicy(
    max_attempts=4, attempt_timeout=0.3, initial_backoff=0.05, max_backoff=0.1, end_margin=0.1
)


@pytest.fixture
def url_server(
    tls_certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> Iterator[type[ScriptedResponseUrl]]:
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_certificate[0]))
    started: list[ScriptedResponseUrl] = []

    def make(script: tuple[int | str, ...] = (), then: int | str = 200) -> ScriptedResponseUrl:
        server = ScriptedResponseUrl(*tls_certificate, script=script, then=then)
        started.append(server)
        return server

    yield make  # type: ignore[misc]
    for server in started:
        server.close()


def answer(status: str = cfn.SUCCESS, reason: str = "", data: dict[str, str] | None = None) -> bytes:
    return cfn.response_body(EVENT, status, "phys-1", reason, data)


@pytest.mark.parametrize(
    ("script", "attempts"),
    [((500,), 2), ((403,), 2), ((503, 500, 502), 4), (("drop",), 2), (("hang",), 2)],
    ids=["500", "403", "three-5xx", "connection-dropped", "no-answer"],
)
def test_a_refused_or_lost_answer_is_sent_again_until_accepted(
    url_server: type[ScriptedResponseUrl], script: tuple[int | str, ...], attempts: int
) -> None:
    server = url_server(script)
    started = time.monotonic()

    delivery = cfn.put(server.url_for("r1"), answer(), deadline=time.monotonic() + 10, policy=FAST)

    assert delivery.accepted
    assert delivery.attempts == attempts
    assert len(server.attempts) == attempts
    (accepted,) = server.received
    assert accepted.body["Status"] == "SUCCESS"
    assert accepted.headers.get("content-type") == ""  # the URL is signed without one
    assert time.monotonic() - started < 0.3 * attempts + 1


def test_a_url_that_never_accepts_gets_a_bounded_number_of_attempts(
    url_server: type[ScriptedResponseUrl],
) -> None:
    server = url_server(then="hang")
    started = time.monotonic()

    delivery = cfn.put(server.url_for("r1"), answer(), deadline=time.monotonic() + 10, policy=FAST)

    elapsed = time.monotonic() - started
    assert not delivery.accepted
    assert delivery.attempts == FAST.max_attempts
    assert "timed out" in delivery.error
    assert elapsed < FAST.max_attempts * (FAST.attempt_timeout + FAST.max_backoff) + 0.5


def test_attempts_stop_at_the_deadline_whatever_the_attempt_budget(
    url_server: type[ScriptedResponseUrl],
) -> None:
    server = url_server(then=500)
    policy = cfn.SendPolicy(max_attempts=50, attempt_timeout=1, initial_backoff=0.2, max_backoff=0.2)
    started = time.monotonic()

    delivery = cfn.put(server.url_for("r1"), answer(), deadline=started + 1.0, policy=policy)

    assert not delivery.accepted
    assert delivery.status == 500
    assert 1 < delivery.attempts < 50
    assert time.monotonic() - started < 1.3


def test_a_long_reason_is_cut_to_fit_4096_bytes_keeping_its_beginning() -> None:
    reason = "Bedrock said: " + 'é"\\' * 3000

    raw = answer(cfn.FAILED, reason)

    body = json.loads(raw)
    assert len(raw) <= cfn.MAX_BODY_BYTES
    assert body["Reason"].startswith("Bedrock said: é")
    assert body["Reason"].endswith("...")
    assert body["StackId"] == EVENT["StackId"]
    assert body["RequestId"] == EVENT["RequestId"]
    assert body["LogicalResourceId"] == EVENT["LogicalResourceId"]


def test_attributes_too_large_for_4096_bytes_are_left_out_and_the_answer_says_so() -> None:
    raw = answer(data={"PreviousConfiguration": "x" * 5000})

    body = json.loads(raw)
    assert len(raw) <= cfn.MAX_BODY_BYTES
    assert body["Status"] == "SUCCESS"
    assert body["Data"] == {}
    assert "4096" in body["Reason"]


def test_the_responder_answers_once_and_a_late_send_is_dropped(url_server: type[ScriptedResponseUrl]) -> None:
    server = url_server()
    event = {**EVENT, "ResponseURL": server.url_for("r1")}
    responder = cfn.Responder(event, 1000, policy=FAST)
    responder.start_guard(0.8, "phys-1", "ran out of time")
    time.sleep(0.5)

    late = responder.send(cfn.SUCCESS, "phys-1")

    assert late is None
    (only,) = server.received
    assert only.body["Status"] == "FAILED"
    assert only.body["Reason"] == "ran out of time"
    assert only.body["PhysicalResourceId"] == "phys-1"


def test_a_cancelled_guard_never_answers(url_server: type[ScriptedResponseUrl]) -> None:
    server = url_server()
    event = {**EVENT, "ResponseURL": server.url_for("r1")}
    responder = cfn.Responder(event, 600, policy=FAST)
    responder.start_guard(0.5, "phys-1", "ran out of time")

    delivery = responder.send(cfn.SUCCESS, "phys-1", data={"Applied": "true"})
    responder.stop_guard()
    time.sleep(0.3)

    assert delivery is not None
    assert delivery.accepted
    (only,) = server.received
    assert only.body["Status"] == "SUCCESS"
    assert only.body["Data"] == {"Applied": "true"}
