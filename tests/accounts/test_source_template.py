"""source-account.yaml: Bedrock logging exactly as the main stack sets it up, and a link to the sink."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from scripts.resolve_template import resolve_template
from tests.template.cfn import policy_statements

SINK = "arn:aws:oam:us-east-1:111111111111:sink/00000000-0000-0000-0000-000000000000"

# The logging part the source template shares with template.yaml, resource for resource.
SHARED = [
    "CommonLayer",
    "BedrockLoggingRole",
    "LogBucket",
    "LogBucketPolicy",
    "InvocationLogGroup",
    "LoggingSetupFunction",
    "LoggingSetupLogGroup",
    "LoggingSetupFunctionLogScope",
    "BedrockInvocationLogging",
]


@pytest.mark.parametrize("name", SHARED)
def test_logging_resources_are_the_main_stacks(
    name: str, source_sam: dict[str, Any], main_sam: dict[str, Any]
) -> None:
    # Given both templates as written
    # Then each logging resource is identical, so a source account gets the same code, grants and guarantees
    # (a change to the main stack's logging that is not copied here fails this test).
    assert source_sam["Resources"][name] == main_sam["Resources"][name]


def test_logging_parameters_match_the_main_stacks(
    source_sam: dict[str, Any], main_sam: dict[str, Any]
) -> None:
    own = {"MonitoringSinkArn", "LinkLabel"}
    for name, spec in source_sam["Parameters"].items():
        if name not in own:
            assert spec == main_sam["Parameters"][name], name


def test_conditions_and_globals_match_the_main_stacks(
    source_sam: dict[str, Any], main_sam: dict[str, Any]
) -> None:
    # The shared resources are only the same if what they lean on is: each Condition they use and the
    # function Globals (runtime, memory, timeout, the layer) as the main stack defines them.
    for name, spec in source_sam["Conditions"].items():
        assert spec == main_sam["Conditions"][name], name
    assert source_sam["Globals"] == main_sam["Globals"]


def test_code_comes_from_the_same_folders(source_sam: dict[str, Any]) -> None:
    resources = source_sam["Resources"]
    assert resources["LoggingSetupFunction"]["Properties"]["CodeUri"] == "functions/logging_setup/"
    assert resources["CommonLayer"]["Properties"]["ContentUri"] == "layers/common/"


def test_link_shares_metrics_and_the_invocation_log_group(source_cfn: dict[str, Any]) -> None:
    links = [r for r in source_cfn["Resources"].values() if r["Type"] == "AWS::Oam::Link"]
    assert len(links) == 1
    props = links[0]["Properties"]
    assert props["SinkIdentifier"] == {"Ref": "MonitoringSinkArn"}
    assert sorted(props["ResourceTypes"]) == ["AWS::CloudWatch::Metric", "AWS::Logs::LogGroup"]
    assert props["LinkConfiguration"]["MetricConfiguration"]["Filter"] == "Namespace IN ('AWS/Bedrock')"
    assert props["LinkConfiguration"]["LogGroupConfiguration"]["Filter"] == {
        "Fn::Sub": "LogGroupName = '${InvocationLogGroup}'"
    }


def test_sink_arn_is_required_and_checked(source_sam: dict[str, Any]) -> None:
    spec = source_sam["Parameters"]["MonitoringSinkArn"]
    assert "Default" not in spec
    pattern = re.compile(spec["AllowedPattern"])
    assert pattern.fullmatch(SINK)
    assert not pattern.fullmatch("arn:aws:oam:us-east-1:111111111111:link/abc")
    assert not pattern.fullmatch("")


def test_nothing_emails(source_cfn: dict[str, Any]) -> None:
    resolved = resolve_template(source_cfn, {"MonitoringSinkArn": SINK, "TakeOverExistingLogging": "true"})
    types = {r["Type"] for r in resolved["Resources"].values()}
    assert not {t for t in types if t.startswith(("AWS::SNS::", "AWS::SES::", "AWS::Budgets::"))}
    actions = json.dumps([s for _, s in policy_statements(resolved["Resources"])])
    assert "ses:" not in actions
    assert "sns:Publish" not in actions
    functions = [r for r in resolved["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert len(functions) == 1  # the logging custom resource only: no report, no alarm router


def test_outputs_give_the_log_group_arn_for_the_monitoring_report(source_cfn: dict[str, Any]) -> None:
    assert source_cfn["Outputs"]["InvocationLogGroupArn"]["Value"] == {
        "Fn::GetAtt": ["InvocationLogGroup", "Arn"]
    }


def test_stackset_template_has_no_transform_and_regional_code(tmp_path: Any) -> None:
    # Given the source template as `sam package` leaves it (code already in S3)
    from samtranslator.yaml_helper import yaml_parse

    from scripts.stackset_template import regional_code
    from scripts.transform_template import transform_file
    from tests.accounts.conftest import SOURCE_TEMPLATE

    packaged = yaml_parse(SOURCE_TEMPLATE.read_text())
    packaged["Resources"]["CommonLayer"]["Properties"]["ContentUri"] = "s3://pkg-bucket/layer.zip"
    packaged["Resources"]["LoggingSetupFunction"]["Properties"]["CodeUri"] = "s3://pkg-bucket/fn.zip"
    path = tmp_path / "packaged.yaml"
    path.write_text(json.dumps(packaged))
    # When it is expanded for the StackSet
    out = regional_code(transform_file(path))
    # Then no transform is left (service-managed StackSets refuse one) and code is read in each Region
    assert "Transform" not in out
    function = next(r for r in out["Resources"].values() if r["Type"] == "AWS::Lambda::Function")
    assert function["Properties"]["Code"] == {
        "S3Bucket": {"Fn::Sub": "${ArtifactBucketPrefix}-${AWS::Region}"},
        "S3Key": "fn.zip",
    }
    layer = next(r for r in out["Resources"].values() if r["Type"] == "AWS::Lambda::LayerVersion")
    assert layer["Properties"]["Content"]["S3Key"] == "layer.zip"
    assert "ArtifactBucketPrefix" in out["Parameters"]
