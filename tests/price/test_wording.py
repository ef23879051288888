"""How costs read: prompt caching that cost more than it saved, priced but tiny amounts, and the Regions
the data came from. Reports are built from real collector output (log files) priced with an override,
so the figures here are computed by hand."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from bedrock_usage.analyze import build_report
from bedrock_usage.cli import format_text
from bedrock_usage.collect.logfiles import collect_logfiles
from bedrock_usage.digest import render_digest
from bedrock_usage.model import Counts, Usage
from bedrock_usage.price import PriceOverrides, Pricer
from bedrock_usage.render import cache_effect, usd

from tests.engine.helpers import NOVA_LITE, SONNET45, at, record, window, write_gz

WINDOW = window("2026-11-27T00:00:00", "2026-11-28T00:00:00")
CLAUDE = f"us.{SONNET45}"
# $/1M: input 3, output 15, cache read 0.30, cache write 3.75
OVERRIDES = PriceOverrides.parse(
    {"models": {SONNET45: {"input": 3, "output": 15, "cache_read": 0.3, "cache_write": 3.75}}}, "test"
)


def test_amounts_below_a_ten_thousandth_of_a_dollar_read_as_below_it_not_as_zero() -> None:
    assert usd(Decimal("0.00003")) == "< $0.0001"
    assert usd(Decimal("0.0001")) == "$0.0001"
    assert usd(Decimal("0.0042")) == "$0.0042"
    assert usd(Decimal(0)) == "$0.00"
    assert usd(None) == "unpriced"


def test_negative_amounts_put_the_sign_before_the_dollar() -> None:
    assert usd(Decimal("-0.04")) == "-$0.04"
    assert usd(Decimal("-1234.5")) == "-$1,234.50"
    assert "$-" not in usd(Decimal("-0.004"))


def test_cache_effect_in_words() -> None:
    assert cache_effect(Decimal("1.2")) == "saved $1.20"
    assert cache_effect(Decimal("-0.04")) == "cost $0.04 more than it saved"
    assert cache_effect(None) is None


def _writes_only(tmp_path: Path) -> Usage:
    # 20,000 cache-write tokens and no reads: the write premium is (3.75 - 3) x 0.02 = $0.015
    write_gz(
        tmp_path / "w.json.gz",
        [record("2026-11-27T10:00:00Z", input_tokens=10, output_tokens=10, cache_read=0, cache_write=20_000)],
    )
    return collect_logfiles(str(tmp_path), WINDOW)


def test_given_cache_writes_without_reads_when_reported_then_it_says_caching_cost_more(
    tmp_path: Path,
) -> None:
    report = build_report(_writes_only(tmp_path), pricer=Pricer(OVERRIDES), now=at("2026-11-28T00:00:00"))
    assert report.cache_savings_usd == Decimal("-0.015")
    text = format_text(report)
    assert "prompt caching       cost $0.02 more than it saved" in text
    assert "saved $-" not in text
    digest = render_digest(report)
    assert "cost $0.02 more than it saved" in digest.text
    assert "more paid for cache writes than cache reads saved" in digest.html
    assert "$-" not in digest.html + digest.text


def test_given_a_priced_call_worth_less_than_a_ten_thousandth_when_reported_then_it_is_not_zero(
    tmp_path: Path,
) -> None:
    # 10 input + 2 output tokens of Nova Lite at $0.06 / $0.24 per 1M = $0.00000108
    write_gz(
        tmp_path / "t.json.gz", [record("2026-11-27T10:00:00Z", NOVA_LITE, input_tokens=10, output_tokens=2)]
    )
    tiny = PriceOverrides.parse({"models": {NOVA_LITE: {"input": 0.06, "output": 0.24}}}, "test")
    report = build_report(
        collect_logfiles(str(tmp_path), WINDOW), pricer=Pricer(tiny), now=at("2026-11-28T00:00:00")
    )
    assert report.cost_usd == Decimal("0.00000108")
    text = format_text(report)
    assert "estimated cost       < $0.0001" in text
    assert "$0.0000" not in text
    assert "$0.0000" not in render_digest(report).text


def test_given_an_archive_spanning_regions_when_reported_then_json_regions_lists_them(tmp_path: Path) -> None:
    records = []
    for n, region in enumerate(["eu-west-1", "ap-northeast-1", "us-east-1", "us-west-2"]):
        rec = record(f"2026-11-27T10:00:0{n}Z", NOVA_LITE)
        rec["region"] = region
        records.append(rec)
    write_gz(tmp_path / "r.json.gz", records)
    usage = collect_logfiles(str(tmp_path), WINDOW)
    report = build_report(usage, pricer=Pricer(OVERRIDES), regions=["us-east-1"], now=at("2026-11-28"))
    # the Region asked for first, then the others the archive holds
    assert json.loads(json.dumps(report.to_dict()))["regions"] == [
        "us-east-1",
        "ap-northeast-1",
        "eu-west-1",
        "us-west-2",
    ]


def test_given_no_usage_when_reported_then_regions_are_the_ones_read() -> None:
    report = build_report(
        Usage(window=WINDOW, source="cloudwatch"),
        pricer=Pricer(),
        regions=["eu-central-1"],
        now=at("2026-11-28"),
    )
    assert report.regions == ["eu-central-1"]


def test_metrics_of_one_region_are_filed_under_that_region() -> None:
    from bedrock_usage.pipeline import by_calling_region

    usage = Usage(window=WINDOW, source="cloudwatch")
    usage.model(NOVA_LITE).add(Counts(invocations=3, input_tokens=30))
    tagged = by_calling_region(usage, "ap-northeast-1")
    assert tagged.regions() == ["ap-northeast-1"]
    assert tagged.by_region[NOVA_LITE]["ap-northeast-1"].input_tokens == 30
