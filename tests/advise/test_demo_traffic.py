"""The demo's traffic makes at least four findings appear, through the real pipeline (log files, no AWS)."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

from bedrock_usage.model import Window
from bedrock_usage.pipeline import ReportSettings, run_report

from scripts import traffic as gen

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
ACCOUNT, REGION = "123456789012", "us-east-1"


def test_demo_traffic_shows_four_kinds_of_findings(tmp_path: Path) -> None:
    traffic = gen.generate(now=NOW, account_id=ACCOUNT, region=REGION)
    with gzip.open(tmp_path / "records.jsonl.gz", "wt") as out:
        for inv in gen.logged(traffic):
            out.write(
                json.dumps(gen.log_record(inv, account_id=ACCOUNT, region=REGION, text_delivery=False)) + "\n"
            )
    report = run_report(
        Window.last_hours(24, NOW), ReportSettings(regions=(REGION,), logs_source=str(tmp_path)), now=NOW
    )
    kinds = {f.kind for f in report.findings}
    assert {"anomaly", "geo-vs-global", "cache-unread", "batch-candidate"} <= kinds
    anomaly = next(f for f in report.findings if f.kind == "anomaly")
    assert "eval-harness-role" in anomaly.evidence["top_caller"]
    cache = next(f for f in report.findings if f.kind == "cache-unread")
    assert "carol" in cache.evidence["caller"]
