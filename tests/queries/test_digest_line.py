"""The digest names the window's most expensive request: one line in the text and HTML, `top_request` in JSON.

The whole pipeline runs over real-shaped log files (no AWS call: no Price List cache, genai-prices rates).
The figure is worked out by hand from the long-context rates tests/queries/test_top.py documents.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from bedrock_usage.digest import render_digest
from bedrock_usage.model import Report
from bedrock_usage.pipeline import ReportSettings, run_report

from tests.engine.helpers import BOB, NOVA_LITE, record, window, write_gz

DAY = window("2026-11-27T00:00:00", "2026-11-28T00:00:00")
HAIKU = "global.anthropic.claude-haiku-5-5"
DEAREST = (150_000 * Decimal("0.50") + 1_000 * Decimal("2.50")) / 1_000_000  # 0.0775: long-context rates


def report_over(tmp_path: Path, records: list[dict[str, Any]]) -> Report:
    write_gz(tmp_path / "logs" / "a.json.gz", records)
    settings = ReportSettings(regions=("us-east-1",), logs_source=str(tmp_path / "logs"), price_cache=None)
    session = boto3.session.Session(region_name="us-east-1")
    return run_report(DAY, settings, session=session, now=datetime(2026, 11, 28, tzinfo=UTC))


def test_given_a_day_of_requests_when_reported_then_the_digest_names_the_dearest_one(tmp_path: Path) -> None:
    dear = record("2026-11-27T13:00:00Z", HAIKU, caller=BOB, input_tokens=150_000, output_tokens=1_000)
    dear["requestId"] = "req-dear"
    # More tokens in total, but Nova Lite's rates make it cheaper ($0.0121)
    big = record("2026-11-27T14:00:00Z", NOVA_LITE, input_tokens=200_000, output_tokens=400)
    report = report_over(tmp_path, [dear, big, record("2026-11-27T15:00:00Z")])
    top = report.to_dict()["top_request"]
    assert (top["request_id"], top["caller"], top["model_id"]) == ("req-dear", BOB, HAIKU)
    assert top["cost_usd"] == pytest.approx(float(DEAREST))
    digest = render_digest(report)
    line = (
        f"Most expensive request: $0.0775, assumed-role/BatchRole/job-42 on {HAIKU}, 151,000 tokens at "
        "2026-11-27T13:00:00Z (request req-dear)"
    )
    assert line in digest.text.splitlines()
    assert line in digest.html


def test_given_no_priced_request_when_reported_then_the_digest_has_no_such_line(tmp_path: Path) -> None:
    provisioned = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/a1b2c3d4e5f6"
    report = report_over(tmp_path, [record("2026-11-27T13:00:00Z", provisioned)])
    assert report.to_dict()["top_request"] is None
    digest = render_digest(report)
    assert "Most expensive request" not in digest.text
    assert "Most expensive request" not in digest.html
