"""Monitoring mode is switched on by the stack's SourceAccounts, through the functions' environment."""

from __future__ import annotations

from bedrock_usage.report_job import ReportConfig

BASE = {
    "AWS_REGION": "us-east-1",
    "ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:111111111111:bedrock-usage-alerts",
}


def test_source_accounts_turn_on_linked_accounts() -> None:
    assert ReportConfig.from_env({**BASE, "SOURCE_ACCOUNTS": "o-a1b2c3d4e5"}).linked_accounts is True
    assert ReportConfig.from_env({**BASE, "SOURCE_ACCOUNTS": ""}).linked_accounts is False
    assert ReportConfig.from_env(BASE).linked_accounts is False


def test_cli_flag() -> None:
    from bedrock_usage.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["report", "--linked-accounts"]).linked_accounts is True
    assert parser.parse_args(["report"]).linked_accounts is False
