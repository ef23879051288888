"""IAM for the Price List: only the ReportFunction may call pricing:GetProducts, and only that action."""

from __future__ import annotations

from pathlib import Path

from samtranslator.yaml_helper import yaml_parse

from scripts.transform_template import transform_file
from tests.template.cfn import policy_statements

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


def test_only_the_report_function_role_may_read_the_price_list_and_nothing_more_of_it() -> None:
    resources = transform_file(TEMPLATE)["Resources"]
    report_role = resources["ReportFunction"]["Properties"]["Role"]["Fn::GetAtt"][0]
    holders = []
    for role, statement in policy_statements(resources):
        actions = statement.get("Action")
        actions = actions if isinstance(actions, list) else [actions]
        pricing = [a for a in actions if isinstance(a, str) and a.startswith("pricing:")]
        if pricing:
            holders.append((role, pricing, statement.get("Resource")))
    assert holders == [(report_role, ["pricing:GetProducts"], "*")]


def test_the_price_list_statement_says_why() -> None:
    text = TEMPLATE.read_text()
    before = text[: text.index("Action: pricing:GetProducts")]
    assert "# why: regional token prices come from the AWS Price List" in before[-400:]
    assert yaml_parse(text)["Resources"]["ReportFunction"]["Type"] == "AWS::Serverless::Function"
