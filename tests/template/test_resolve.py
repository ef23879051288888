"""scripts/resolve_template.py: the template as CloudFormation deploys it for given values, for checkov."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from scripts.resolve_template import ResolveError, resolve_template
from tests.template.cfn import policy_statements
from tests.template.conftest import REPO_ROOT

SMALL = {
    "Parameters": {
        "Sender": {"Type": "String", "Default": ""},
        "Days": {"Type": "Number", "Default": 30},
    },
    "Conditions": {
        "HasSender": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Sender"}, ""]}]},
        "Short": {"Fn::And": [{"Condition": "HasSender"}, {"Fn::Equals": [{"Ref": "Days"}, "7"]}]},
    },
    "Rules": {
        "NeedsSender": {
            "Assertions": [{"Assert": {"Condition": "HasSender"}, "AssertDescription": "set Sender"}]
        }
    },
    "Resources": {
        "Group": {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {
                "RetentionInDays": {"Ref": "Days"},
                "KmsKeyId": {"Fn::If": ["Short", "key", {"Ref": "AWS::NoValue"}]},
            },
        },
        "Only": {"Type": "AWS::SNS::Topic", "Condition": "HasSender", "Properties": {}},
        "Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Policies": [
                    {
                        "PolicyDocument": {
                            "Statement": [
                                {"Effect": "Allow", "Action": "a:B", "Resource": "*"},
                                {
                                    "Fn::If": [
                                        "HasSender",
                                        {
                                            "Effect": "Allow",
                                            "Action": "ses:SendEmail",
                                            "Resource": {"Fn::Sub": "arn:${AWS::Partition}:ses:x:${Sender}"},
                                        },
                                        {"Ref": "AWS::NoValue"},
                                    ]
                                },
                            ]
                        }
                    }
                ]
            },
        },
    },
    "Outputs": {"TopicArn": {"Condition": "HasSender", "Value": {"Ref": "Only"}}},
}


def test_defaults_drop_conditional_resources_statements_and_properties():
    resolved = resolve_template(SMALL)
    assert set(resolved["Resources"]) == {"Group", "Role"}
    assert resolved["Resources"]["Group"]["Properties"] == {"RetentionInDays": 30}
    (policy,) = resolved["Resources"]["Role"]["Properties"]["Policies"]
    assert policy["PolicyDocument"]["Statement"] == [{"Effect": "Allow", "Action": "a:B", "Resource": "*"}]
    assert resolved["Outputs"] == {}
    assert "Conditions" not in resolved
    assert "Rules" not in resolved


def test_values_choose_the_other_branch_and_fill_parameter_refs_and_subs():
    resolved = resolve_template(SMALL, {"Sender": "me@example.com", "Days": "7"})
    assert set(resolved["Resources"]) == {"Group", "Role", "Only"}
    assert resolved["Resources"]["Group"]["Properties"] == {"RetentionInDays": "7", "KmsKeyId": "key"}
    (_, ses) = resolved["Resources"]["Role"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert ses["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:ses:x:me@example.com"}
    assert "Condition" not in resolved["Outputs"]["TopicArn"]


def test_unknown_parameters_and_conditions_are_refused():
    with pytest.raises(ResolveError, match="Nope"):
        resolve_template(SMALL, {"Nope": "x"})
    broken = json.loads(json.dumps(SMALL))
    broken["Resources"]["Only"]["Condition"] = "Missing"
    with pytest.raises(ResolveError, match="Missing"):
        resolve_template(broken)


def test_the_stack_template_resolves_without_an_fn_if_left_for_checkov(cfn):
    """What `make template-check` scans: no Fn::If or Condition remains, and the optional SES grant is
    there exactly when SenderEmail is set."""

    def conditional(node: Any) -> bool:
        if isinstance(node, dict):
            return "Fn::If" in node or any(conditional(v) for v in node.values())
        if isinstance(node, list):
            return any(conditional(v) for v in node)
        return False

    def sends_email(resources: dict[str, Any]) -> bool:
        return any("ses:SendEmail" in str(s.get("Action")) for _, s in policy_statements(resources))

    defaults = resolve_template(cfn)
    assert not conditional(defaults["Resources"])
    assert not conditional(defaults["Outputs"])
    assert not sends_email(defaults["Resources"])
    with_sender = resolve_template(cfn, {"SenderEmail": "d@example.com", "AlertEmail": "o@example.com"})
    assert sends_email(with_sender["Resources"])


def test_the_command_line_writes_the_resolved_template(tmp_path, cfn):
    source, out = tmp_path / "in.json", tmp_path / "out.json"
    source.write_text(json.dumps(cfn))
    done = subprocess.run(
        [sys.executable, "scripts/resolve_template.py", str(source), str(out), "TextDataDelivery=true"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    custom = json.loads(out.read_text())["Resources"]["BedrockInvocationLogging"]["Properties"]
    assert custom["TextDataDelivery"] == "true"
    bad = subprocess.run(
        [sys.executable, "scripts/resolve_template.py", str(source), str(out), "NoSuchParameter=1"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1
    assert "NoSuchParameter" in bad.stderr


def test_template_check_scans_the_resolved_templates_with_checkov():
    makefile = (REPO_ROOT / "Makefile").read_text()
    recipe = makefile.split("\ntemplate-check:", 1)[1].split("\n\n", 1)[0]
    assert "scripts/resolve_template.py build/transformed.json build/resolved.json" in recipe
    assert "-f build/resolved.json" in recipe
    assert "-f build/resolved-options.json" in recipe
