"""The email for each kind of notification: content a person acts on, escaped, HTML plus text."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html.parser import HTMLParser

from bedrock_usage.alarms.cloudwatch import ModelValue
from bedrock_usage.alarms.compose import (
    GRAPH_CID,
    HTML_RAW_LIMIT,
    Extras,
    compose,
    console_links,
    duration,
    number,
)
from bedrock_usage.alarms.notification import parse_record

from tests.conftest import load_event


class _Collector(HTMLParser):
    """What a browser would build: element names with attributes, and the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.chunks: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)

    @property
    def tags(self) -> set[str]:
        return {tag for tag, _ in self.elements}

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.chunks).split())


def parse_html(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    return collector


NOW = datetime(2026, 11, 28, 18, 6, tzinfo=UTC)
LINKS = console_links(
    region="us-east-1",
    alarm_name="Bedrock-HighInputTokenUsage",
    dashboard="BedrockUsageMonitoring",
    log_group="/aws/bedrock/modelinvocations",
)
HOSTILE = "<script>alert('x')</script> \"quoted\" & co"


def record(name: str, **message_changes: object) -> dict:
    rec = load_event(name)["Records"][0]
    if message_changes:
        data = json.loads(rec["Sns"]["Message"])
        data.update(message_changes)
        rec["Sns"]["Message"] = json.dumps(data)
    return rec


def test_alarm_email_says_what_fired_how_bad_and_which_models() -> None:
    extras = Extras(
        models=(ModelValue("us.anthropic.claude-sonnet-4-5-20250929-v1:0", 180000), ModelValue("m2", 68312)),
        graph=b"\x89PNG fake",
    )
    email = compose(parse_record(record("sns-alarm-insights.json")), links=LINKS, extras=extras, now=NOW)
    assert email.subject == "ALARM: Bedrock-HighInputTokenUsage - Input tokens 248,312 > 100,000"
    for part in (email.html, email.text):
        assert "248,312" in part
        assert "above the threshold of 100,000" in part
        assert "us.anthropic.claude-sonnet-4-5-20250929-v1:0" in part
        assert "72.5%" in part  # 180,000 of 248,312
        assert "2026-11-28 18:05:41 UTC" in part
    assert f'src="cid:{GRAPH_CID}"' in email.html
    assert [image.content_id for image in email.images] == [GRAPH_CID]
    assert "#alarmsV2:alarm/Bedrock-HighInputTokenUsage" in email.html
    assert "log-group/$252Faws$252Fbedrock$252Fmodelinvocations" in email.text
    assert "<style" not in email.html  # CSS inlined for Gmail/Outlook


def test_alarm_email_without_graph_or_models_says_what_is_missing() -> None:
    extras = Extras(missing=("the graph (CloudWatch GetMetricWidgetImage failed)",))
    email = compose(parse_record(record("sns-alarm-single.json")), links=LINKS, extras=extras, now=NOW)
    assert "cid:" not in email.html
    assert email.images == ()
    assert "Not included: the graph" in email.text
    # the newest quoted datapoint (18:10) is the observed value, not the older one
    assert "14,210.5" not in email.subject
    assert email.subject == "ALARM: Bedrock-HighLatency-ClaudeSonnet - Latency (ms) 14,210 > 10,000"


def test_anomaly_email_shows_the_band() -> None:
    email = compose(parse_record(record("sns-alarm-anomaly.json")), links=LINKS, now=NOW)
    assert "outside the expected band (the expected band 212.7 to 1,180)" in email.text
    assert "band 212.7-1,180" in email.subject


def test_resolved_email_is_short_and_says_how_long_it_lasted() -> None:
    extras = Extras(started=datetime(2026, 11, 28, 18, 5, 41, tzinfo=UTC))
    email = compose(parse_record(record("sns-alarm-ok.json")), links=LINKS, extras=extras, now=NOW)
    assert email.subject == "Resolved: Bedrock-HighInputTokenUsage (lasted 1 h 12 min)"
    assert "RESOLVED" in email.html
    assert "lasted 1 h 12 min" in email.text
    assert "Models in the last hour" not in email.text


def test_resolved_without_history_says_unknown() -> None:
    email = compose(parse_record(record("sns-alarm-ok.json")), links=LINKS, now=NOW)
    assert email.subject == "Resolved: Bedrock-HighInputTokenUsage"
    assert "Lasted:      unknown" in email.text


def test_budget_email_shows_amounts_and_the_original_text() -> None:
    email = compose(parse_record(record("sns-budget.json")), links=LINKS, now=NOW)
    assert email.subject == "Budget alert: BedrockUsageBudget - actual $84.17 (threshold > $80.00 of $100.00)"
    assert "$84.17" in email.html
    assert "&gt; $80.00" in email.html
    assert "Dear AWS Customer" in email.text
    assert "costmanagement/home#/budgets" in email.text


def test_forwarded_email_carries_the_message_and_the_note() -> None:
    email = compose(parse_record(record("sns-other.json")), links=LINKS, now=NOW)
    assert email.subject == "Forwarded notification: Test message from the SNS console"
    assert "neither an alarm nor a budget alert" in email.html
    assert "Checking that the bedrock-usage-alerts subscription works" in email.text


def test_big_forwarded_message_is_whole_in_text_and_cut_in_html() -> None:
    rec = record("sns-other.json")
    rec["Sns"]["Message"] = "y" * 200_000
    email = compose(parse_record(rec), links=LINKS, now=NOW)
    assert "y" * 200_000 in email.text
    assert "y" * (HTML_RAW_LIMIT + 1) not in email.html
    assert "the plain-text part of this email has the whole message" in email.html


def test_hostile_alarm_text_is_escaped_in_html_and_kept_readable_in_text() -> None:
    """Alarm names and descriptions are user-controlled; they must not become markup."""
    rec = record("sns-alarm-insights.json", AlarmName=f"Bedrock-{HOSTILE}", AlarmDescription=HOSTILE)
    email = compose(parse_record(rec), links=LINKS, now=NOW)
    assert "<script>" not in email.html
    parsed = parse_html(email.html)
    assert "script" not in parsed.tags
    assert HOSTILE in parsed.text  # shown to the reader as text, quotes and all
    assert HOSTILE in email.text


def test_hostile_forwarded_text_is_escaped() -> None:
    rec = record("sns-other.json")
    rec["Sns"]["Message"] = f'<img src=x onerror="alert(1)"> {HOSTILE}'
    rec["Sns"]["Subject"] = "<b>subject</b>\r\nBcc: victim@example.com"
    email = compose(parse_record(rec), links=LINKS, now=NOW)
    parsed = parse_html(email.html)
    assert "script" not in parsed.tags
    assert all(dict(attrs).get("onerror") is None for _, attrs in parsed.elements)
    assert 'onerror="alert(1)"' in parsed.text
    assert "\n" not in email.subject
    assert "\r" not in email.subject


def test_number_and_duration_formats() -> None:
    assert [number(v) for v in (125000.0, 37.0, 0.3333, 1180.4, None)] == [
        "125,000",
        "37",
        "0.33",
        "1,180",
        "n/a",
    ]
    assert (
        duration(datetime(2026, 1, 2, 4, 0, tzinfo=UTC) - datetime(2026, 1, 1, 0, 0, tzinfo=UTC)) == "1 d 4 h"
    )
    assert duration(datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC) - datetime(2026, 1, 1, tzinfo=UTC)) == (
        "under a minute"
    )


def test_insufficient_data_email_says_so_without_numbers() -> None:
    rec = record("sns-alarm-insights.json", NewStateValue="INSUFFICIENT_DATA", OldStateValue="OK")
    email = compose(parse_record(rec), links=LINKS, now=NOW)
    assert email.subject == "INSUFFICIENT_DATA: Bedrock-HighInputTokenUsage"
    assert "has not enough data to evaluate the alarm" in email.text
