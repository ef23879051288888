"""Fault injection: LoggingSetupFunction, imported as Lambda imports it, against a fake Bedrock at the HTTP
layer (tests/faults/logging_setup_fakes.py) and a ResponseURL that refuses, hangs or never accepts.

The world before each case: another team's logging configuration is live and the stack takes it over
(TakeOverExistingLogging=true, PreviousLoggingRoleName naming its role). Every case checks that
CloudFormation gets exactly one accepted answer (or, when the URL never accepts, a bounded number of
attempts) within the function's time, that the other team's configuration is intact or exactly as the
README documents, and that the request CloudFormation sends next (rollback or retried delete) ends with
nothing lost. SSM (the saved state) is moto's; 127.0.0.1 passes through moto to the fakes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from bedrock_usage import logging_config as lc
from moto import mock_aws

from tests.conftest import REGION, load_event, load_handler_module
from tests.faults.logging_setup_fakes import (
    HANG,
    NOT_JSON,
    FakeBedrock,
    Fault,
    ScriptedResponseUrl,
    Tally,
    error,
)
from tests.logging_setup.conftest import FOREIGN_CONFIG, TEST_SETTINGS, CountdownContext

REMAINING_MS = 3000  # the function's time left when a fault case is invoked
# Fault-sized timings: retries stop 2 s before the end (1 s in), the guard answers 0.9 s before it,
# a hung call or PUT is cut after 0.2 s / 0.15 s. The SDK makes one attempt per call (its own retries
# are botocore's); the handler's retries, fallbacks and answer are what is under test.
SUITE_SETTINGS = {
    **TEST_SETTINGS,
    "RESPONSE_RESERVE_SECONDS": "2.0",
    "RESPONSE_GUARD_SECONDS": "0.9",
    "RESPONSE_ATTEMPT_TIMEOUT_SECONDS": "0.15",
    "RESPONSE_MAX_ATTEMPTS": "3",
    "RESPONSE_BACKOFF_SECONDS": "0.02",
    "PUT_RETRY_INITIAL_SECONDS": "0.02",
    "PUT_RETRY_MAX_SECONDS": "0.1",
    "SDK_READ_TIMEOUT_SECONDS": "0.2",
    "SDK_MAX_ATTEMPTS": "1",
}
# Preparing a case and CloudFormation's request after it are not under test: they get time to spare.
CALM_MS = 10_000
TAKE_OVER = {"TakeOverExistingLogging": "true", "PreviousLoggingRoleName": "TeamABedrockLogging"}
STATE_PARAMETER = lc.state_parameter_name(load_event("cfn-create.json")["StackId"])
FOREIGN = lc.canonical(FOREIGN_CONFIG)
CREATED_CONFIG = lc.parse_properties(load_event("cfn-create.json")["ResourceProperties"]).logging_config()
OURS_CREATED = lc.canonical(CREATED_CONFIG)
PHYSICAL_ID = load_event("cfn-delete.json")["PhysicalResourceId"]
OURS_UPDATED = lc.canonical(
    lc.parse_properties(load_event("cfn-update.json")["ResourceProperties"]).logging_config()
)

TALLY = Tally()
URL_NEVER_ACCEPTS: list[str] = []


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Any]:
    """One fake Bedrock, moto for SSM, the handler module; the tally printed at the end."""
    from scripts.response_url import self_signed_certificate

    folder = tmp_path_factory.mktemp("faults-tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    self_signed_certificate(cert_file, key_file)
    bedrock = FakeBedrock()
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        for name, value in SUITE_SETTINGS.items():
            patch.setenv(name, value)
        patch.setenv("AWS_ENDPOINT_URL_BEDROCK", bedrock.url)
        patch.setenv("SSL_CERT_FILE", str(cert_file))
        boto3.setup_default_session(region_name=REGION)
        handler = load_handler_module("logging_setup")
        yield World(handler, bedrock, boto3.client("ssm", region_name=REGION), cert_file, key_file)
        boto3.DEFAULT_SESSION = None
    bedrock.close()
    summary = (
        f"{TALLY.summary()}; ResponseURL never accepting: {len(URL_NEVER_ACCEPTS)} cases, attempts bounded"
    )
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():  # teardown output is captured otherwise
            reporter.write_line("")
            reporter.write_line(summary)
    out = Path(__file__).resolve().parents[2] / "build" / "faults"
    out.mkdir(parents=True, exist_ok=True)
    (out / "logging_setup.txt").write_text(summary + "\n" + "\n".join(TALLY.rows) + "\n")


@dataclass
class World:
    handler: Any
    bedrock: FakeBedrock
    ssm: Any
    cert_file: Path
    key_file: Path

    def reset(self) -> None:
        """Another team's configuration live, no saved state, no faults."""
        self.bedrock.heal()
        self.bedrock._release.clear()
        self.bedrock.config = json.loads(json.dumps(FOREIGN_CONFIG))
        self.bedrock.calls.clear()
        with suppress(self.ssm.exceptions.ParameterNotFound):
            self.ssm.delete_parameter(Name=STATE_PARAMETER)

    def state(self) -> dict[str, Any] | None:
        try:
            return dict(json.loads(self.ssm.get_parameter(Name=STATE_PARAMETER)["Parameter"]["Value"]))
        except self.ssm.exceptions.ParameterNotFound:
            return None

    def live(self) -> dict[str, Any] | None:
        return lc.canonical(self.bedrock.config)

    def invoke(
        self, name: str, url: ScriptedResponseUrl | None = None, remaining_ms: int = REMAINING_MS
    ) -> tuple[ScriptedResponseUrl, float]:
        """Send events/<name> (with the take-over properties) to the handler; returns the URL and seconds."""
        event = load_event(name)
        event["ResourceProperties"] = {**event["ResourceProperties"], **TAKE_OVER}
        if "OldResourceProperties" in event:
            event["OldResourceProperties"] = {**event["OldResourceProperties"], **TAKE_OVER}
        own = url is None
        url = url or ScriptedResponseUrl(self.cert_file, self.key_file)
        event["ResponseURL"] = url.url_for(event["RequestId"])
        started = time.monotonic()
        try:
            self.handler.lambda_handler(event, CountdownContext(remaining_ms))
        finally:
            if own:
                url.close()
        return url, time.monotonic() - started

    def answer(self, name: str) -> dict[str, Any]:
        """Invoke with a healthy URL and time to spare; the one accepted answer."""
        url, _ = self.invoke(name, remaining_ms=CALM_MS)
        (only,) = url.received
        return only.body


@pytest.fixture
def env(world: World) -> World:
    world.reset()
    return world


def prepare(env: World, request_type: str) -> None:
    """Bring the stack to where CloudFormation sends `request_type`: for Update and Delete, the state a
    successful take-over Create leaves (test_response_url_fault runs that Create through the handler)."""
    if request_type in ("Update", "Delete"):
        env.bedrock.config = json.loads(json.dumps(CREATED_CONFIG))
        state = lc.SavedState(PHYSICAL_ID, json.loads(json.dumps(FOREIGN_CONFIG)), CREATED_CONFIG)
        lc.StateStore(env.ssm, STATE_PARAMETER).save(state)


EVENTS = {"Create": "cfn-create.json", "Update": "cfn-update.json", "Delete": "cfn-delete.json"}
# What CloudFormation sends after a FAILED answer: the rollback, or the user retrying the stack delete.
FOLLOW_UP = {"Create": "cfn-delete.json", "Update": "cfn-update-rollback", "Delete": "cfn-delete.json"}
AFTER_FOLLOW_UP = {"Create": FOREIGN, "Update": OURS_CREATED, "Delete": FOREIGN}

BEDROCK_FAULTS: list[Fault] = [
    error("AccessDeniedException"),
    error("ValidationException"),
    error("ThrottlingException"),
    error("InternalServerException"),
    HANG,
    NOT_JSON,
]


def expected_after_fault(request_type: str, target: str, fault: Fault) -> tuple[str, Any, bool]:
    """(Status, live configuration, saved state kept?) as the README documents for each fault."""
    if request_type == "Create":
        return "FAILED", FOREIGN, False  # nothing changed, nothing saved
    if request_type == "Update":
        return "FAILED", OURS_CREATED, True  # CloudFormation rolls back with the old properties
    # Delete: a restore that can never succeed (denied, invalid) turns logging off and keeps the copy;
    # anything that may pass on a retry, and every failed read, changes nothing and answers FAILED.
    if target == "write" and fault.code in ("AccessDeniedException", "ValidationException"):
        return "SUCCESS", None, True
    return "FAILED", OURS_CREATED, True


CASES = [
    (request_type, target, fault)
    for request_type in EVENTS
    for target in ("read", "write")
    for fault in BEDROCK_FAULTS
    if not (target == "write" and fault is NOT_JSON)  # a non-JSON body only matters where it is read
]


@pytest.mark.parametrize(
    ("request_type", "target", "fault"),
    CASES,
    ids=[f"{r}-{t}-{f.label}" for r, t, f in CASES],
)
def test_bedrock_fault(env: World, request_type: str, target: str, fault: Fault) -> None:
    prepare(env, request_type)
    methods = ("GET",) if target == "read" else ("PUT",)
    for method in methods:
        env.bedrock.fail(method, fault)

    url, seconds = env.invoke(EVENTS[request_type])

    name = f"{request_type} with {fault.label} on {target}"
    TALLY.record(name, len(url.received) == 1, seconds)
    status, live, state_kept = expected_after_fault(request_type, target, fault)
    (only,) = url.received
    assert only.body["Status"] == status, only.body["Reason"]
    assert only.body["PhysicalResourceId"]
    assert seconds < REMAINING_MS / 1000
    if status == "FAILED":
        assert only.body["Reason"]
    env.bedrock.heal()  # let hung calls go before reading the fake's state
    assert env.live() == live
    assert (env.state() is not None) == state_kept
    if state_kept:
        assert lc.canonical((env.state() or {}).get("previous")) == FOREIGN

    if status == "FAILED":
        follow_up(env, request_type)


def follow_up(env: World, request_type: str) -> None:
    """CloudFormation's next request once the fault has cleared must succeed and lose nothing."""
    env.bedrock._release.clear()
    if FOLLOW_UP[request_type] == "cfn-update-rollback":
        event = load_event("cfn-update.json")
        event["ResourceProperties"], event["OldResourceProperties"] = (
            event["OldResourceProperties"],
            event["ResourceProperties"],
        )
        url = ScriptedResponseUrl(env.cert_file, env.key_file)
        event["ResourceProperties"] = {**event["ResourceProperties"], **TAKE_OVER}
        event["OldResourceProperties"] = {**event["OldResourceProperties"], **TAKE_OVER}
        event["ResponseURL"] = url.url_for(event["RequestId"])
        env.handler.lambda_handler(event, CountdownContext(CALM_MS))
        url.close()
        (only,) = url.received
        body = only.body
    else:
        body = env.answer(FOLLOW_UP[request_type])
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert env.live() == AFTER_FOLLOW_UP[request_type]


URL_FAULTS: list[tuple[str, tuple[int | str, ...], int | str]] = [
    ("500 once", (500,), 200),
    ("403 once", (403,), 200),
    ("no answer once", ("hang",), 200),
    ("connection dropped once", ("drop",), 200),
    ("500 always", (), 500),
    ("403 always", (), 403),
    ("never answers", (), "hang"),
]
AFTER_SUCCESS = {"Create": OURS_CREATED, "Update": OURS_UPDATED, "Delete": FOREIGN}
URL_CASES = [(r, *fault) for r in EVENTS for fault in URL_FAULTS]


@pytest.mark.parametrize(
    ("request_type", "label", "script", "then"), URL_CASES, ids=[f"{c[0]}-{c[1]}" for c in URL_CASES]
)
def test_response_url_fault(
    env: World, request_type: str, label: str, script: tuple[int | str, ...], then: int | str
) -> None:
    if request_type != "Create":
        assert env.answer("cfn-create.json")["Status"] == "SUCCESS"
        assert env.live() == OURS_CREATED
        assert env.state() == json.loads(
            lc.SavedState(PHYSICAL_ID, FOREIGN_CONFIG, CREATED_CONFIG).to_json()
        )  # what prepare() writes for the Bedrock faults
    url = ScriptedResponseUrl(env.cert_file, env.key_file, script=script, then=then)

    try:
        _, seconds = env.invoke(EVENTS[request_type], url)
    finally:
        url.close()

    assert seconds < REMAINING_MS / 1000
    assert env.live() == AFTER_SUCCESS[request_type]  # the work itself is done either way
    if then == 200:
        TALLY.record(f"{request_type} with ResponseURL {label}", len(url.received) == 1, seconds)
        (only,) = url.received
        assert only.body["Status"] == "SUCCESS"
        assert len(url.attempts) == 2
    else:
        # CloudFormation cannot be told; the stack waits for ServiceTimeout. The attempts stay bounded.
        URL_NEVER_ACCEPTS.append(f"{request_type} {label}")
        assert url.received == []
        assert 1 <= len(url.attempts) <= int(SUITE_SETTINGS.get("RESPONSE_MAX_ATTEMPTS", "5"))
        bodies = {json.loads(a.raw)["Status"] for a in url.attempts}
        assert bodies == {"SUCCESS"}  # every attempt repeats the one answer


def test_bedrock_hangs_and_the_url_answers_late_then_the_guard_still_gets_one_answer_through(
    env: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The work hangs past the guard (a read timeout longer than the time left); the guard's FAILED meets a
    URL that does not answer its first PUT, and gets through on the next."""
    env.bedrock.fail("GET", HANG)
    url = ScriptedResponseUrl(env.cert_file, env.key_file, script=("hang",))
    monkeypatch.setattr(env.handler, "SETTINGS", replace(env.handler.SETTINGS, sdk_read_timeout=2.6))

    try:
        _, seconds = env.invoke("cfn-create.json", url)
    finally:
        url.close()

    TALLY.record(
        "Create with Bedrock hanging past the guard and ResponseURL answering late",
        len(url.received) == 1,
        seconds,
    )
    (only,) = url.received
    assert only.body["Status"] == "FAILED"
    assert only.body["Reason"].startswith("LoggingSetupFunction ran out of time")
    assert len(url.attempts) == 2
    assert seconds < REMAINING_MS / 1000 + 0.5  # the late work returns after Lambda would have stopped it
    env.bedrock.heal()
    assert env.live() == FOREIGN
