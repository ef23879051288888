"""CostAllocationTagKeys reaches the report: template parameter, function env, ReportConfig."""

from __future__ import annotations

import re
from typing import Any

import pytest
from bedrock_usage.report_job import ReportConfig
from samtranslator.yaml_helper import yaml_parse

from ..conftest import REPO_ROOT


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return yaml_parse((REPO_ROOT / "template.yaml").read_text())


def test_tag_keys_from_the_environment_are_trimmed_and_deduplicated() -> None:
    config = ReportConfig.from_env(
        {
            "AWS_REGION": "us-east-1",
            "ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:alerts",
            "COST_EXPLORER": "true",
            "COST_ALLOCATION_TAG_KEYS": " team, cost-center,team ,",
        }
    )
    assert config.cost_allocation_tags == ("team", "cost-center")


def test_the_parameter_sits_next_to_report_cost_explorer_and_reaches_the_function(
    template: dict[str, Any],
) -> None:
    names = list(template["Parameters"])
    assert names.index("CostAllocationTagKeys") == names.index("ReportCostExplorer") + 1
    env = template["Resources"]["ReportFunction"]["Properties"]["Environment"]["Variables"]
    assert env["COST_ALLOCATION_TAG_KEYS"] == {"Ref": "CostAllocationTagKeys"}
    assert template["Parameters"]["CostAllocationTagKeys"]["Default"] == ""


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("", True),
        ("team", True),
        ("team,cost-center", True),
        ("iamPrincipal/team", True),
        ("a,b,c,d", False),  # at most 3 keys: with the 2 other requests, 5 Cost Explorer requests a day
        ("team, cost-center", False),
        ("team,", False),
    ],
)
def test_the_parameter_pattern(template: dict[str, Any], value: str, ok: bool) -> None:
    pattern = template["Parameters"]["CostAllocationTagKeys"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) is ok
