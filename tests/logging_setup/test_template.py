"""template.yaml wires the custom resource as the function reads it, with only the permissions it uses."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import Any

import pytest
from bedrock_usage import logging_config as lc
from samtranslator.yaml_helper import yaml_parse

from scripts.transform_template import transform_file
from tests.logging_setup.conftest import REQUIRED_PROPERTIES

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
ACCOUNT, REGION, STACK = "123456789012", "us-east-1", "bedrock-usage-monitor"


@pytest.fixture(scope="module")
def sam() -> dict[str, Any]:
    return dict(yaml_parse(TEMPLATE.read_text()))


@pytest.fixture(scope="module")
def role_statements() -> list[dict[str, Any]]:
    """The statements of LoggingSetupFunction's role after the SAM transform; both branches of an Fn::If."""
    role = transform_file(TEMPLATE)["Resources"]["LoggingSetupFunctionRole"]
    statements: list[dict[str, Any]] = []
    for policy in role["Properties"].get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            if isinstance(statement, dict) and "Fn::If" in statement:
                statements += [s for s in statement["Fn::If"][1:] if "Ref" not in s]
            else:
                statements.append(statement)
    return statements


def sub(value: Any) -> str:
    """Fn::Sub with this test's account, Region and stack name."""
    text = value["Fn::Sub"] if isinstance(value, dict) else value
    for name, real in {
        "${AWS::Partition}": "aws",
        "${AWS::Region}": REGION,
        "${AWS::AccountId}": ACCOUNT,
        "${AWS::StackName}": STACK,
    }.items():
        text = text.replace(name, real)
    return str(text)


def actions(statement: dict[str, Any]) -> set[str]:
    value = statement["Action"]
    return {value} if isinstance(value, str) else set(value)


def test_with_the_parameter_defaults_the_properties_cloudformation_sends_parse(sam: dict[str, Any]) -> None:
    parameters = sam["Parameters"]
    stand_ins = {
        "InvocationLogGroup": parameters["LogGroupName"]["Default"],
        "LogBucket": f"{parameters['BucketPrefix']['Default']}-{ACCOUNT}",
        "BedrockLoggingRole.Arn": f"arn:aws:iam::{ACCOUNT}:role/{parameters['IamRoleName']['Default']}",
        "LoggingSetupFunction.Arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fn",
    }

    def resolve(value: Any) -> str:
        if isinstance(value, dict) and "Ref" in value:
            name = value["Ref"]
            return str(parameters[name]["Default"]) if name in parameters else stand_ins[name]
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            return stand_ins[".".join(value["Fn::GetAtt"])]
        return str(value)  # CloudFormation sends every property as a string

    resource = sam["Resources"]["BedrockInvocationLogging"]
    assert resource["Type"] == "Custom::BedrockInvocationLogging"
    props = lc.parse_properties({name: resolve(value) for name, value in resource["Properties"].items()})

    assert props.log_group_name == "/aws/bedrock/modelinvocations"
    assert dict(props.flags)["textDataDeliveryEnabled"] is False  # metadata and token counts only
    assert props.take_over is False
    # Every optional property is set from its stack parameter, so none falls back silently to a default.
    for name in lc.OPTIONAL_PROPERTIES:
        assert resource["Properties"][name] == {"Ref": "LogKeyPrefix" if name == "KeyPrefix" else name}


def test_cloudformation_waits_longer_than_the_function_runs_and_the_retries_stop_before_that(
    sam: dict[str, Any],
) -> None:
    function = sam["Resources"]["LoggingSetupFunction"]["Properties"]
    service_timeout = int(sam["Resources"]["BedrockInvocationLogging"]["Properties"]["ServiceTimeout"])
    reserve = float(function["Environment"]["Variables"]["RESPONSE_RESERVE_SECONDS"])

    assert reserve + 10 < function["Timeout"] < service_timeout <= 600
    assert function["EventInvokeConfig"]["MaximumRetryAttempts"] == 0
    assert function["Handler"] == "app.lambda_handler"


def test_the_role_allows_exactly_the_calls_the_code_makes(role_statements: list[dict[str, Any]]) -> None:
    granted = set().union(*(actions(s) for s in role_statements))

    assert granted == {
        "bedrock:GetModelInvocationLoggingConfiguration",
        "bedrock:PutModelInvocationLoggingConfiguration",
        "bedrock:DeleteModelInvocationLoggingConfiguration",
        "iam:PassRole",
        "ssm:GetParameter",
        "ssm:PutParameter",
        "ssm:DeleteParameter",
    }


def test_roles_are_passed_only_to_bedrock_and_never_any_role_of_the_account(
    role_statements: list[dict[str, Any]],
) -> None:
    pass_role = [s for s in role_statements if "iam:PassRole" in actions(s)]

    for statement in pass_role:
        assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}}
    resources = [s["Resource"] for s in pass_role]
    assert {"Fn::GetAtt": ["BedrockLoggingRole", "Arn"]} in resources
    # Besides the stack's own role, only the one role the user named, to put a taken-over setting back.
    other = [sub(r) for r in resources if r != {"Fn::GetAtt": ["BedrockLoggingRole", "Arn"]}]
    assert other == [f"arn:aws:iam::{ACCOUNT}:role/${{PreviousLoggingRoleName}}"]
    assert not any("*" in sub(r) for r in resources if isinstance(r, (str, dict)) and "Fn::GetAtt" not in r)


def test_the_previous_role_is_passable_only_with_take_over_and_a_named_role(sam: dict[str, Any]) -> None:
    statements = sam["Resources"]["LoggingSetupFunction"]["Properties"]["Policies"][0]["Statement"]
    (conditional,) = [s["Fn::If"] for s in statements if isinstance(s, dict) and "Fn::If" in s]
    condition = sam["Conditions"][conditional[0]]
    parameter = sam["Parameters"]["PreviousLoggingRoleName"]

    assert condition == {
        "Fn::And": [
            {"Condition": "LoggingTakeOver"},
            {"Fn::Not": [{"Fn::Equals": [{"Ref": "PreviousLoggingRoleName"}, ""]}]},
        ]
    }
    assert conditional[2] == {"Ref": "AWS::NoValue"}
    assert parameter["Default"] == ""
    pattern = parameter["AllowedPattern"]

    for good in ["", "TeamABedrockLogging", "service-role/team-a/Logging_Role+1"]:
        assert re.fullmatch(pattern, good), good
    for bad in ["*", "role/*", "arn:aws:iam::123456789012:role/x", "a b"]:
        assert not re.fullmatch(pattern, bad), bad
    for good in ["TeamABedrockLogging", "service-role/team-a/Logging_Role+1"]:  # the code accepts the same
        properties = {**REQUIRED_PROPERTIES, "PreviousLoggingRoleName": good}
        assert lc.parse_properties(properties).previous_role_name == good


def test_the_state_parameter_the_code_uses_is_inside_the_ssm_grant(
    role_statements: list[dict[str, Any]],
) -> None:
    (ssm,) = [s for s in role_statements if "ssm:PutParameter" in actions(s)]
    name = lc.state_parameter_name(
        f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK}/5b6a9f10-cd2e-11ef-9a1b-0e2d8f7c1a23"
    )
    other_stack = lc.state_parameter_name(
        f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/other/5b6a9f10-cd2e-11ef-9a1b-0e2d8f7c1a23"
    )

    pattern = sub(ssm["Resource"])
    assert fnmatch.fnmatchcase(f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{name}", pattern)
    assert not fnmatch.fnmatchcase(f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{other_stack}", pattern)
