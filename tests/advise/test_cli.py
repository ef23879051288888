"""`bedrock-usage advise` over log files: the pipeline's real output, text and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bedrock_usage.cli import main

from ..engine.helpers import ALICE, SONNET45, record, write_gz
from .conftest import SONNET_GEO, SONNET_GLOBAL

SINCE = ["--since", "2026-11-27T00:00:00Z", "--until", "2026-11-28T00:00:00Z"]


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    root = tmp_path / "logs"
    write_gz(
        root / "AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1/2026/11/27/10/x.json.gz",
        [
            # us. profile, 1M input + 1M cache writes never read back
            record(
                "2026-11-27T10:00:00Z",
                f"us.{SONNET45}",
                input_tokens=1_000_000,
                output_tokens=0,
                cache_write=1_000_000,
                cache_read=0,
                caller=ALICE,
            ),
        ],
    )
    return root


def test_advise_json_ranks_the_findings_by_dollars(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["advise", *SINCE, "--logs", str(logs), "--format", "json", "--price-cache", "off"]) == 0
    data = json.loads(capsys.readouterr().out)
    month = 730 / 24
    # Global: 1M input and 1M cache writes at 10% less
    geo = (
        float(
            SONNET_GEO["input"]
            - SONNET_GLOBAL["input"]
            + SONNET_GEO["cache_write"]
            - SONNET_GLOBAL["cache_write"]
        )
        * month
    )
    # Caching: 1M writes at (4.125 - 3.30) premium, nothing read back
    cache = float(SONNET_GEO["cache_write"] - SONNET_GEO["input"]) * month
    kinds = [(f["kind"], f["monthly_usd"]) for f in data["findings"]]
    assert kinds == [("cache-unread", pytest.approx(cache)), ("geo-vs-global", pytest.approx(geo))]
    not_computed = {n["kind"] for n in data["findings_not_computed"]}
    assert {"quota-headroom", "end-of-life", "idle-provisioned"} <= not_computed


def test_advise_text_says_what_it_could_not_compute(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["advise", *SINCE, "--logs", str(logs), "--price-cache", "off"]) == 0
    out = capsys.readouterr().out
    assert "Prompt-cache writes are rarely read back" in out
    assert "not computed: Quota headroom: needs the AWS APIs" in out
