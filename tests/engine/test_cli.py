"""The `bedrock-usage` CLI: outputs and exit codes, called as main([...])."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from bedrock_usage.cli import main
from moto import mock_aws

from .helpers import ALICE, NOVA_LITE, SONNET45, record, write_gz

SINCE = ["--since", "2026-11-27T00:00:00Z", "--until", "2026-11-28T00:00:00Z"]


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    root = tmp_path / "logs"
    bad = record("2026-11-27T10:00:03Z")
    bad["output"]["outputTokenCount"] = -5
    write_gz(
        root / "AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1/2026/11/27/10/x.json.gz",
        [
            record(
                "2026-11-27T10:00:00Z", f"global.{SONNET45}", input_tokens=1_000_000, output_tokens=100_000
            ),
            record("2026-11-27T10:00:01Z", NOVA_LITE, input_tokens=1_000_000, output_tokens=0),
            record("2026-11-27T10:00:02Z", "cohere.command-r-v1:0"),
            bad,
        ],
    )
    return root


def test_report_json_is_the_documented_contract(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", *SINCE, "--logs", str(logs), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["window"] == {"start": "2026-11-27T00:00:00Z", "end": "2026-11-28T00:00:00Z"}
    totals = data["totals"]
    for key in (
        "invocations",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "cost_usd",
        "unpriced_invocations",
    ):
        assert key in totals
    assert totals["invocations"] == 3
    # global Sonnet 4.5: 1M x $3 + 0.1M x $15 = 4.50; Nova Lite 1M x $0.06 = 0.06
    assert totals["cost_usd"] == 4.56
    assert totals["unpriced_invocations"] == 1
    models = {m["model_id"]: m for m in data["models"]}
    assert models[f"global.{SONNET45}"]["resolved_model"] == SONNET45
    assert models["cohere.command-r-v1:0"]["cost_usd"] is None
    assert models["cohere.command-r-v1:0"]["priced"] is False
    for key in ("model_id", "resolved_model", "invocations", "cost_usd", "priced", "cache_read_tokens"):
        assert key in models[NOVA_LITE]
    assert data["callers"][0]["caller"] == ALICE
    assert set(data["callers"][0]) >= {"caller", "invocations", "input_tokens", "output_tokens", "cost_usd"}
    assert data["skipped_records"] == 1
    assert any("malformed" in w for w in data["warnings"])


def test_report_text_shows_totals_models_callers_and_warnings(
    logs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", *SINCE, "--logs", str(logs)]) == 0
    text = capsys.readouterr().out
    assert "estimated cost       $4.56" in text
    assert f"global.{SONNET45}" in text
    assert "unpriced" in text
    assert ALICE in text
    assert "Skipped records: 1" in text
    assert "Warnings" in text


def test_report_out_file(logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.json"
    assert main(["report", *SINCE, "--logs", str(logs), "--format", "json", "--out", str(out)]) == 0
    assert capsys.readouterr().out == ""
    assert json.loads(out.read_text())["totals"]["invocations"] == 3


def test_report_html_uses_the_digest(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", *SINCE, "--logs", str(logs), "--format", "html"]) == 0
    html = capsys.readouterr().out
    assert "<html" in html.lower()
    assert "$4.56" in html


def test_report_html_without_the_digest_module_exits_2(
    logs: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "bedrock_usage.digest", None)  # makes the import fail
    with pytest.raises(SystemExit) as exit_:
        main(["report", *SINCE, "--logs", str(logs), "--format", "html"])
    assert exit_.value.code == 2
    assert "html is not available" in capsys.readouterr().err


def test_a_failed_source_still_writes_the_report_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    # An S3 log source whose bucket does not exist (moto).
    with mock_aws():
        code = main(["report", *SINCE, "--logs", "s3://no-such-bucket/x", "--format", "json"])
    captured = capsys.readouterr()
    assert code == 1
    assert json.loads(captured.out)["failures"][0]["source"] == "log-files"
    assert "log-files failed" in captured.err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["report", "0"], "HOURS must be a positive number"),
        (["report", "-3"], "HOURS must be a positive number"),
        (["report", "abc"], "HOURS must be a positive number"),
        (["report", "nan"], "HOURS must be a positive number"),
        (["report", "1e7"], "HOURS must be at most 87600"),
        (["report", "--since", "0001-01-02T00:00:00Z", "--until", "0002-01-01T00:00:00Z"], "too early"),
        (
            ["report", "--since", "2026-11-28T00:00:00Z", "--until", "2026-11-27T00:00:00Z"],
            "is not before --until",
        ),
        (["report", "--since", "2026-11-28T00:00:00Z", "--until", "2026-11-28T00:00:00Z"], "is not before"),
        (["report", "12", "--since", "2026-11-27T00:00:00Z"], "not both"),
        (["report", "--since", "yesterday"], "not an ISO-8601 time"),
        (["report", "--logs", "/no/such/folder"], "no such file or folder"),
        (["report", "--prices", "/no/such/prices.json"], "no such file or folder"),
        (["report", "--out", "/no/such/dir/report.json"], "cannot write"),
        (["report", "--region", "mars"], "not an AWS region"),
        (["report", "--format", "pdf"], "invalid choice"),
        (["report", "--budget", "lots"], "not an amount in USD"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2_with_one_clear_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert message in err


def test_a_malformed_price_file_is_a_bad_argument(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text('{"models": {"x": {"input": 1}}}')
    with pytest.raises(SystemExit) as exit_:
        main(["report", "--logs", str(tmp_path), "--prices", str(prices)])
    assert exit_.value.code == 2
    assert "needs 'input' and 'output'" in capsys.readouterr().err


def test_prices_shows_resolution_price_and_source(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "prices",
                f"us.{SONNET45}",
                f"ca.{SONNET45}",
                "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/a1b2c3d4e5f6",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert f"resolves  {SONNET45}" in text
    assert "input $3.3, output $16.5, cache read $0.33, cache write $4.125" in text
    assert "genai-prices 0.2.3" in text
    assert "(approximate)" in text
    assert "price     unpriced" in text
    assert "model-unit hour" in text


def test_prices_json_with_an_override(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prices = tmp_path / "p.json"
    prices.write_text(json.dumps({"models": {NOVA_LITE: {"input": 0.05, "output": 0.2}}}))
    assert main(["prices", f"us.{NOVA_LITE}", "--prices", str(prices), "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["source"] == f"override:{prices}"
    assert row["per_million_tokens_usd"] == {
        "input": 0.05,
        "output": 0.2,
        "cache_read": 0.05,
        "cache_write": 0.05,
    }


def test_logging_status_without_its_module_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "bedrock_usage.logging_status", None)
    with pytest.raises(SystemExit) as exit_:
        main(["logging-status"])
    assert exit_.value.code == 2
    assert "not available" in capsys.readouterr().err


def test_logging_status_options_come_from_its_module(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["logging-status", "--help"])
    assert exit_.value.code == 0
    assert "--stack-name" in capsys.readouterr().out
