"""template.yaml in monitoring mode: the sink admits exactly SourceAccounts; empty changes nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest

from scripts.resolve_template import resolve_template

SHARED_TYPES = ["AWS::CloudWatch::Metric", "AWS::Logs::LogGroup"]
ORG = "o-a1b2c3d4e5"
PATHS = "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/,o-a1b2c3d4e5/r-ab12/ou-ab12-22222222/"


def _sink_statement(cfn: dict[str, Any], value: str) -> dict[str, Any]:
    resources = resolve_template(cfn, {"SourceAccounts": value})["Resources"]
    sinks = [r for r in resources.values() if r["Type"] == "AWS::Oam::Sink"]
    assert len(sinks) == 1
    (statement,) = sinks[0]["Properties"]["Policy"]["Statement"]
    assert statement["Action"] == ["oam:CreateLink", "oam:UpdateLink"]
    assert statement["Condition"]["ForAllValues:StringEquals"] == {"oam:ResourceTypes": SHARED_TYPES}
    return statement


def test_account_ids_are_the_principals(main_cfn: dict[str, Any]) -> None:
    statement = _sink_statement(main_cfn, "111111111111,222222222222")
    assert statement["Principal"] == {"AWS": ["111111111111", "222222222222"]}
    assert set(statement["Condition"]) == {"ForAllValues:StringEquals"}


def test_an_organization_admits_only_its_principals(main_cfn: dict[str, Any]) -> None:
    statement = _sink_statement(main_cfn, ORG)
    assert statement["Principal"] == "*"
    assert statement["Condition"]["StringEquals"] == {"aws:PrincipalOrgID": ORG}
    assert "ForAnyValue:StringLike" not in statement["Condition"]


def test_organization_paths_admit_those_subtrees(main_cfn: dict[str, Any]) -> None:
    statement = _sink_statement(main_cfn, PATHS)
    assert statement["Principal"] == "*"
    assert statement["Condition"]["ForAnyValue:StringLike"] == {
        "aws:PrincipalOrgPaths": [
            "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*",
            "o-a1b2c3d4e5/r-ab12/ou-ab12-22222222/*",
        ]
    }
    # A path is not the whole organization.
    assert "StringEquals" not in statement["Condition"]


def test_empty_is_todays_single_account_stack(main_cfn: dict[str, Any]) -> None:
    with_default = resolve_template(main_cfn)
    assert "MonitoringSink" not in with_default["Resources"]
    assert "ReportFunctionLinkedAccounts" not in with_default["Resources"]
    assert "SinkArn" not in with_default["Outputs"]
    on = resolve_template(main_cfn, {"SourceAccounts": ORG})
    # Only the new resources differ, and the functions' SOURCE_ACCOUNTS variable, which carries the value.
    added = set(on["Resources"]) - set(with_default["Resources"])
    assert added == {"MonitoringSink", "ReportFunctionLinkedAccounts", "AccountsDashboard"}
    for name, resource in with_default["Resources"].items():
        if name in ("ReportFunction", "AlarmRouterFunction"):
            variables = on["Resources"][name]["Properties"]["Environment"]["Variables"]
            assert variables.pop("SOURCE_ACCOUNTS") == ORG
            assert resource["Properties"]["Environment"]["Variables"].pop("SOURCE_ACCOUNTS") == ""
        assert on["Resources"][name] == resource, name


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("", True),
        ("111111111111", True),
        ("111111111111,222222222222", True),
        (ORG, True),
        (PATHS, True),
        (
            "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111",
            False,
        ),  # a path must end in "/" (or it would match siblings)
        ("11111111111", False),
        ("111111111111, 222222222222", False),
        ("*", False),
    ],
)
def test_source_accounts_pattern(value: str, ok: bool, main_sam: dict[str, Any]) -> None:
    pattern = main_sam["Parameters"]["SourceAccounts"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) is ok


def test_report_may_query_linked_log_groups_of_any_account(main_cfn: dict[str, Any]) -> None:
    resources = resolve_template(main_cfn, {"SourceAccounts": ORG})["Resources"]
    statements = resources["ReportFunctionLinkedAccounts"]["Properties"]["PolicyDocument"]["Statement"]
    start_query = next(s for s in statements if s["Action"] == "logs:StartQuery")
    assert start_query["Resource"] == {
        "Fn::Sub": [
            "arn:${AWS::Partition}:logs:${Region}:*:log-group:/aws/bedrock/modelinvocations:*",
            {"Region": {"Ref": "AWS::Region"}},
        ]
    }


def test_accounts_dashboard_splits_by_account_only_in_monitoring_mode(main_cfn: dict[str, Any]) -> None:
    import json

    assert "AccountsDashboard" not in resolve_template(main_cfn)["Resources"]
    resources = resolve_template(main_cfn, {"SourceAccounts": ORG})["Resources"]
    body = resources["AccountsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    text = body.replace("${AWS::Region}", "us-east-1")
    widgets = json.loads(text)["widgets"]  # the body is valid JSON once CloudFormation fills in the Region
    queries = [w["properties"]["metrics"][0][0]["expression"] for w in widgets if w["type"] == "metric"]
    assert len(queries) == 4
    for query in queries:
        assert query.startswith("SELECT SUM(")
        assert 'FROM SCHEMA("AWS/Bedrock", ModelId) GROUP BY AWS.AccountId' in query
