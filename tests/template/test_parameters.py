"""Parameters keep the seed's names and defaults; outputs give the console links; deploy can succeed."""

from __future__ import annotations

import tomllib

import pytest

from tests.template.conftest import REPO_ROOT

# The seed's env vars (PRODUCT.md) as CamelCase parameters, with the seed's defaults.
SEED_DEFAULTS = {
    "IamRoleName": "BedrockCloudWatchLoggingRole",
    "BucketPrefix": "bedrock-logs",
    "LifecycleDays": 90,
    "LogGroupName": "/aws/bedrock/modelinvocations",
    "RetentionDays": 30,
    "DashboardName": "BedrockUsageMonitoring",
    "HighTokenThreshold": 100000,
    "ErrorRateThreshold": 10,
    "InvocationThreshold": 1000,
    "HighLatencyThreshold": 10000,
    "SnsTopicName": "bedrock-usage-alerts",
    "AlertEmail": "",
    "BudgetAmount": 100,
    "KmsKeyArn": "",
    "MaskPiiInLogs": "false",
}


@pytest.mark.parametrize(("name", "default"), SEED_DEFAULTS.items())
def test_parameter_keeps_the_seed_default(cfn, name, default):
    parameter = cfn["Parameters"][name]
    assert parameter["Default"] == default
    assert parameter.get("Description")


@pytest.mark.parametrize(
    ("name", "resource", "prop"),
    [
        ("IamRoleName", "BedrockLoggingRole", "RoleName"),
        ("LogGroupName", "InvocationLogGroup", "LogGroupName"),
        ("DashboardName", "UsageDashboard", "DashboardName"),
        ("SnsTopicName", "AlertTopic", "TopicName"),
    ],
)
def test_named_resources_take_their_name_from_the_parameter(resources, name, resource, prop):
    assert resources[resource]["Properties"][prop] == {"Ref": name}


def test_email_subscription_exists_only_when_an_address_is_given(cfn, resources):
    # and only while the alarm router cannot email it (tests/alarm_router/test_template.py)
    subscription = resources["AlertEmailSubscription"]
    assert subscription["Condition"] == "HasAlertEmail"
    assert cfn["Conditions"]["HasAlertEmail"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlertEmail"}, ""]}]}
    assert {k: v for k, v in subscription["Properties"].items() if k != "FilterPolicy"} == {
        "TopicArn": {"Ref": "AlertTopic"},
        "Protocol": "email",
        "Endpoint": {"Ref": "AlertEmail"},
    }


@pytest.mark.parametrize(
    ("output", "fragment"),
    [
        ("DashboardUrl", "#dashboards:name=${UsageDashboard}"),
        ("LogsUrl", "#logsV2:log-groups/log-group/"),
        ("AlarmsUrl", "#alarmsV2:"),
        ("CostExplorerUrl", "cost-explorer"),
    ],
)
def test_outputs_link_to_the_consoles(cfn, output, fragment):
    assert fragment in str(cfn["Outputs"][output]["Value"])


@pytest.mark.parametrize(
    ("output", "value"),
    [
        ("LogBucketName", {"Ref": "LogBucket"}),
        ("InvocationLogGroupName", {"Ref": "InvocationLogGroup"}),
        ("AlertTopicArn", {"Ref": "AlertTopic"}),
        ("LoggingRoleArn", {"Fn::GetAtt": ["BedrockLoggingRole", "Arn"]}),
    ],
)
def test_outputs_name_the_data_stores_the_topic_and_the_role(cfn, output, value):
    assert cfn["Outputs"][output]["Value"] == value


def test_guided_deploy_grants_the_capability_a_named_role_needs(resources):
    """A role with a fixed RoleName needs CAPABILITY_NAMED_IAM; `sam deploy --guided` offers the
    capabilities saved in samconfig.toml, so without it the first deploy fails."""
    roles = {n: r for n, r in resources.items() if r["Type"] == "AWS::IAM::Role"}
    named = [n for n, r in roles.items() if "RoleName" in r["Properties"]]
    assert "BedrockLoggingRole" in named
    config = tomllib.loads((REPO_ROOT / "samconfig.toml").read_text())
    assert "CAPABILITY_NAMED_IAM" in config["default"]["deploy"]["parameters"]["capabilities"].split()
