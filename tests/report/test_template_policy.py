"""ReportFunction's IAM policy as CloudFormation will see it (the transformed template, offline)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scripts.transform_template import transform_file
from tests.template.cfn import as_list

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


@pytest.fixture(scope="module")
def statements() -> list[dict[str, Any]]:
    """ReportFunction role's statements; both branches of each Fn::If, AWS::NoValue left out."""
    role = transform_file(TEMPLATE)["Resources"]["ReportFunctionRole"]
    found = []
    for policy in role["Properties"]["Policies"]:
        for item in as_list(policy["PolicyDocument"]["Statement"]):
            found += [s for s in as_list(item) if s != {"Ref": "AWS::NoValue"}]
    return found


def resolve(node: Any, parameters: dict[str, str]) -> Any:
    """Evaluate the few intrinsics a condition value uses (Ref to a parameter, Fn::Split, Fn::Join)."""
    if isinstance(node, dict) and "Ref" in node:
        return parameters[node["Ref"]]
    if isinstance(node, dict) and "Fn::Split" in node:
        separator, value = node["Fn::Split"]
        return resolve(value, parameters).split(separator)
    if isinstance(node, dict) and "Fn::Join" in node:
        separator, values = node["Fn::Join"]
        return separator.join(resolve(values, parameters))
    return node


def with_action(statements: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    return [s for s in statements if action in as_list(s["Action"])]


def test_raw_email_is_granted_beside_send_email_under_the_same_conditions(
    statements: list[dict[str, Any]],
) -> None:
    """AWS does not say which action authorizes SES v2 Simple content with attachments (REFERENCE 14.1)."""
    [send] = with_action(statements, "ses:SendEmail")
    assert with_action(statements, "ses:SendRawEmail") == [send]
    assert send["Condition"]["StringEquals"] == {"ses:FromAddress": {"Ref": "SenderEmail"}}


@pytest.mark.parametrize(
    "configured",
    ["finops@example.com,platform@example.com", "finops@example.com , platform@example.com"],
)
def test_ses_may_only_mail_the_configured_recipients(
    statements: list[dict[str, Any]], configured: str
) -> None:
    """ForAllValues:StringLike on ses:Recipients (SES guide, "Restricting the recipient addresses"): every
    To/CC/BCC address must be one of ReportRecipients, however the parameter spaces its commas."""
    [send] = with_action(statements, "ses:SendEmail")
    condition = send["Condition"]["ForAllValues:StringLike"]["ses:Recipients"]
    assert resolve(condition, {"ReportRecipients": configured}) == [
        "finops@example.com",
        "platform@example.com",
    ]


def test_listing_subscriptions_is_allowed_on_the_alert_topic_only(statements: list[dict[str, Any]]) -> None:
    [listing] = with_action(statements, "sns:ListSubscriptionsByTopic")
    assert listing["Resource"] == {"Ref": "AlertTopic"}
    assert listing["Effect"] == "Allow"
