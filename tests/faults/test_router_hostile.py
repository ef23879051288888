"""Fault injection: the alarm router against hostile variants of real notifications, and a dead CloudWatch.

Every variant (tests/faults/router_variants.py) runs through the real handler twice:
- SES mode: moto's SES v2 (sender verified; sent mail read back from moto's backend and from the requests
  botocore built), CloudWatch from moto (it lacks Metrics Insights and GetMetricWidgetImage, so enrichment
  fails there, which the email must survive);
- log-only mode (no SenderEmail): one log entry per record, which the Powertools formatter can write.
Each must give exactly one email or logged forward per record, never an uncaught error, with the HTML
escaped and the plain text readable.

The dead-CloudWatch tests point the handler's own CloudWatch client (its real configuration, through
AWS_ENDPOINT_URL_CLOUDWATCH) at a local socket that accepts connections and never answers.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from bedrock_usage.alarms.enrich import ENRICHMENT_CLIENT_CONFIG, SEND_RESERVE_SECONDS
from botocore.config import Config
from moto import mock_aws
from moto.ses.models import ses_backends

from tests.conftest import ACCOUNT_ID, REGION, FakeLambdaContext, load_event, load_handler_module
from tests.faults.router_variants import Variant, variants

SENDER = "bedrock-alerts@example.com"
ROUTING = "Bedrock-*=ml@example.com,budget=finance@example.com,default=ops@example.com"
VARIANTS = variants()
LOGGED = "notification logged, not emailed"


@dataclass
class Router:
    app: Any
    requests: list[dict[str, Any]] = field(default_factory=list)  # SendEmail requests as botocore built them

    def sent(self) -> list[Any]:
        return list(ses_backends[ACCOUNT_ID][REGION].sent_messages)


def _router(monkeypatch: pytest.MonkeyPatch, cloudwatch: Any | None = None) -> Router:
    sesv2 = boto3.client("sesv2", region_name=REGION)
    sesv2.create_email_identity(EmailIdentity=SENDER)
    # One attempt: moto answers at once; the real client config is exercised by the dead-CloudWatch tests.
    cloudwatch = cloudwatch or boto3.client(
        "cloudwatch", region_name=REGION, config=Config(retries={"max_attempts": 1})
    )
    app = load_handler_module("alarm_router")
    monkeypatch.setattr(app, "clients", lambda: (sesv2, cloudwatch, boto3.client("sns", region_name=REGION)))
    router = Router(app)
    sesv2.meta.events.register(
        "provide-client-params.sesv2.SendEmail", lambda params, **_: router.requests.append(params)
    )
    return router


@pytest.fixture
def ses_mode(monkeypatch: pytest.MonkeyPatch) -> Iterator[Router]:
    monkeypatch.setenv("SENDER_EMAIL", SENDER)
    monkeypatch.setenv("ALARM_ROUTING", ROUTING)
    monkeypatch.setenv("DASHBOARD_NAME", "BedrockUsageMonitoring")
    monkeypatch.setenv("LOG_GROUP_NAME", "/aws/bedrock/modelinvocations")
    with mock_aws():
        yield _router(monkeypatch)


@pytest.fixture
def log_mode(monkeypatch: pytest.MonkeyPatch) -> Iterator[Router]:
    monkeypatch.setenv("SENDER_EMAIL", "")
    monkeypatch.setenv("ALARM_ROUTING", ROUTING)
    with mock_aws():
        yield _router(monkeypatch)


class _Tags(HTMLParser):
    """Every element and attribute a mail client would see in the HTML part."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.images: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)
        if tag == "img":
            self.images.extend(value or "" for name, value in attrs if name == "src")
        self.links.extend(value or "" for name, value in attrs if name == "href")


def markup_of(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser


def text_links(text: str) -> list[str]:
    """The links the plain-text part offers (its footer lines), not URLs quoted in a forwarded message."""
    labels = ("Alarm", "Dashboard", "Invocation logs", "Budgets")
    return re.findall(rf"^(?:{'|'.join(labels)}): (\S+)$", text, re.MULTILINE)


def test_there_are_at_least_60_hostile_variants() -> None:
    assert len(VARIANTS) >= 60


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.name for v in VARIANTS])
def test_ses_mode_sends_exactly_one_escaped_email_per_record(
    ses_mode: Router, lambda_context: FakeLambdaContext, variant: Variant
) -> None:
    result = ses_mode.app.handler(variant.event, lambda_context)  # no uncaught error
    json.dumps(result, ensure_ascii=False).encode("utf-8")  # Lambda can return the result
    assert [r["action"] for r in result["results"]] == ["emailed"] * variant.records
    assert len(ses_mode.sent()) == len(ses_mode.requests) == variant.records
    for request in ses_mode.requests:
        content = request["Content"]["Simple"]
        subject, html, text = (
            content["Subject"]["Data"],
            content["Body"]["Html"]["Data"],
            content["Body"]["Text"]["Data"],
        )
        for part in (subject, html, text):
            part.encode("utf-8")  # no lone surrogate reaches SES
        assert "\r" not in subject  # no header injection
        assert "\n" not in subject
        assert len(subject) <= 160
        markup = markup_of(html)
        assert not markup.tags & {"script", "iframe", "object", "embed", "form"}, (
            "injected element in the HTML"
        )
        assert not [a for a in markup.attributes if a.startswith("on")], "injected event handler in the HTML"
        assert all(src.startswith("cid:") for src in markup.images), "an image that is not our inline graph"
        assert text.strip()
        # each variant goes through the normal path; the last-resort forward is for the unforeseen
        assert "could not be processed" not in text
        for url in markup.links + text_links(text):
            host = urlsplit(url).hostname or ""
            assert host.endswith(
                ("console.aws.amazon.com", "console.amazonaws.cn", "console.amazonaws-us-gov.com")
            ), url
    if variant.readable:
        texts = [r["Content"]["Simple"]["Body"]["Text"]["Data"] for r in ses_mode.requests]
        htmls = [r["Content"]["Simple"]["Body"]["Html"]["Data"] for r in ses_mode.requests]
        assert any(variant.readable in t for t in texts)  # the plain text shows it as written
        if "<script>" in variant.readable:
            assert any("&lt;script&gt;" in h for h in htmls)  # the HTML shows it, escaped
    if variant.forged_host:
        for request in ses_mode.requests:
            body = request["Content"]["Simple"]["Body"]
            for url in markup_of(body["Html"]["Data"]).links + text_links(body["Text"]["Data"]):
                assert variant.forged_host not in (urlsplit(url).hostname or ""), url
            assert (
                "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1"
                in body["Text"]["Data"]
            )


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.name for v in VARIANTS])
def test_log_only_mode_logs_exactly_one_writable_entry_per_record(
    log_mode: Router, lambda_context: FakeLambdaContext, variant: Variant, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    result = log_mode.app.handler(variant.event, lambda_context)
    json.dumps(result, ensure_ascii=False).encode("utf-8")
    assert [r["action"] for r in result["results"]] == ["logged"] * variant.records
    assert log_mode.sent() == []
    logged = [r for r in caplog.records if r.getMessage() == LOGGED]
    assert len(logged) == variant.records
    formatter = log_mode.app.logger.registered_formatter
    for entry in logged:
        formatter.format(entry).encode("utf-8")  # what Lambda's log writer gets: no lone surrogate


def test_a_raise_in_record_2_does_not_lose_record_3(
    ses_mode: Router, lambda_context: FakeLambdaContext
) -> None:
    """The old router lost everything after a record whose parsing raised (here: RecursionError)."""
    [variant] = [v for v in VARIANTS if v.name == "three-records-middle-one-hostile"]
    result = ses_mode.app.handler(variant.event, lambda_context)
    assert [(r["kind"], r["action"]) for r in result["results"]] == [
        ("budget", "emailed"),
        ("forwarded", "emailed"),
        ("alarm", "emailed"),
    ]
    assert [m.destinations["ToAddresses"] for m in ses_mode.sent()] == [
        ["finance@example.com"],
        ["ops@example.com"],
        ["ops@example.com"],  # the alarm name is hostile, so no Bedrock-* rule: the default
    ]


def test_a_record_that_breaks_rendering_is_forwarded_raw_with_a_note(
    ses_mode: Router, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever raises while reading or rendering, the record still reaches a person, as received."""
    from bedrock_usage.alarms import router

    def broken(*_: Any, **__: Any) -> Any:
        raise MemoryError("rendering ran out of memory")

    monkeypatch.setattr(router, "compose", broken)
    event = {
        "Records": [load_event("sns-budget.json")["Records"][0], load_event("sns-other.json")["Records"][0]]
    }
    result = ses_mode.app.handler(event, lambda_context)
    assert [r["action"] for r in result["results"]] == ["emailed", "emailed"]
    texts = [r["Content"]["Simple"]["Body"]["Text"]["Data"] for r in ses_mode.requests]
    assert all("could not be processed (MemoryError)" in t for t in texts)
    assert "ACTUAL Amount: $84.17" in texts[0]
    assert "Please ignore." in texts[1]


# --- a CloudWatch that accepts connections and never answers ----------------------------------------


@pytest.fixture
def blackhole() -> Iterator[str]:
    """http://127.0.0.1:<port>: accepts every connection, reads nothing, never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


@pytest.fixture
def dead_cloudwatch(monkeypatch: pytest.MonkeyPatch, blackhole: str) -> Iterator[Router]:
    """The handler's own clients (real configs): SES from moto, CloudWatch at the blackhole."""
    monkeypatch.setenv("SENDER_EMAIL", SENDER)
    monkeypatch.setenv("ALARM_ROUTING", ROUTING)
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", blackhole)
    with mock_aws():
        boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity=SENDER)
        app = load_handler_module("alarm_router")
        router = Router(app)
        sesv2, cloudwatch, _sns = app.clients()
        assert cloudwatch.meta.endpoint_url == blackhole
        assert cloudwatch.meta.config.read_timeout == ENRICHMENT_CLIENT_CONFIG.read_timeout
        sesv2.meta.events.register(
            "provide-client-params.sesv2.SendEmail", lambda params, **_: router.requests.append(params)
        )
        yield router


@pytest.mark.parametrize("name", ["sns-alarm-insights.json", "sns-alarm-composite.json", "sns-alarm-ok.json"])
def test_dead_cloudwatch_still_gives_the_email_within_the_functions_time(
    dead_cloudwatch: Router, name: str
) -> None:
    """The issue's case: one alarm took 134 s against a 60 s timeout, and no email went.

    22 s remain: 7 s for the extras, less than one dead call takes (2 attempts x 4 s read timeout).
    """
    context = FakeLambdaContext(remaining_ms=22_000)
    started = time.monotonic()
    result = dead_cloudwatch.app.handler(load_event(name), context)
    elapsed = time.monotonic() - started
    assert elapsed < 22 - SEND_RESERVE_SECONDS + 3  # the enrichment budget, plus rendering and sending
    assert len(dead_cloudwatch.sent()) == 1
    [outcome] = result["results"]
    assert outcome["action"] == "emailed"
    assert any("did not answer in time" in missing for missing in outcome["enrichmentFailures"])
    text = dead_cloudwatch.requests[0]["Content"]["Simple"]["Body"]["Text"]["Data"]
    assert "Not included:" in text
    assert "did not answer in time" in text


def test_dead_cloudwatch_is_waited_for_once_per_invocation(dead_cloudwatch: Router) -> None:
    """Three alarms in one event: the first waits for CloudWatch, the others skip it and say why."""
    records = [
        load_event(n)["Records"][0]
        for n in ("sns-alarm-single.json", "sns-alarm-math.json", "sns-alarm-ok.json")
    ]
    context = FakeLambdaContext(remaining_ms=50_000)  # 50 - 3 x 15 s reserve: 5 s for the first one's extras
    started = time.monotonic()
    result = dead_cloudwatch.app.handler({"Records": records}, context)
    elapsed = time.monotonic() - started
    assert elapsed < 50 - 3 * SEND_RESERVE_SECONDS + 4
    assert [r["action"] for r in result["results"]] == ["emailed"] * 3
    assert len(dead_cloudwatch.sent()) == 3
    skipped = [r["enrichmentFailures"] for r in result["results"][1:]]
    assert (
        skipped
        == [["the CloudWatch details (skipped: CloudWatch did not answer for an earlier notification)"]] * 2
    )


def test_no_time_left_means_no_cloudwatch_call_and_the_email_goes(dead_cloudwatch: Router) -> None:
    context = FakeLambdaContext(remaining_ms=int(SEND_RESERVE_SECONDS * 1000))
    started = time.monotonic()
    result = dead_cloudwatch.app.handler(load_event("sns-alarm-single.json"), context)
    assert time.monotonic() - started < 3
    assert result["results"][0]["enrichmentFailures"] == [
        "the CloudWatch details (skipped: no time left in this invocation)"
    ]
    assert len(dead_cloudwatch.sent()) == 1
