"""Check 8. Cost Explorer's figures are not real in moto, and moto's budgets keep no FilterExpression, so
both use botocore's Stubber with the real response shapes (GetCostAndUsage grouped by SERVICE;
DescribeBudget with ShowFilterExpression)."""

from __future__ import annotations

from typing import Any

from bedrock_usage.doctor import cost_checks as checks
from bedrock_usage.doctor.core import FAIL, PASS, SKIP, WARN, guarded

from tests.conftest import ACCOUNT_ID
from tests.doctor.conftest import World, only


def _group(service: str, amount: str) -> dict[str, Any]:
    return {"Keys": [service], "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}}}


def test_cost_explorer_reachable_passes_with_marketplace_spend(world: World) -> None:
    stub = world.stub("ce")
    stub.add_response(
        "get_cost_and_usage",
        {
            "GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"}],
            "ResultsByTime": [
                {
                    "TimePeriod": {"Start": "2026-11-29", "End": "2026-11-30"},
                    "Total": {},
                    "Groups": [
                        _group("Amazon Bedrock", "0.25"),
                        _group("Claude Sonnet 4.5 (Amazon Bedrock Edition)", "1.5"),
                        _group("Amazon Elastic Compute Cloud - Compute", "9.00"),
                    ],
                    "Estimated": True,
                }
            ],
            "DimensionValueAttributes": [],
        },
        {
            "TimePeriod": {"Start": "2026-11-29", "End": "2026-11-30"},
            "Granularity": "DAILY",
            "Metrics": ["UnblendedCost"],
            "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}],
        },
    )
    with stub:
        row = only(world.run(checks.check_cost_explorer))
    assert row.status == PASS
    assert "$1.75" in row.seen  # 0.25 + 1.50; EC2 left out
    assert "$0.01" in row.name  # the user is told what the call costs


def test_cost_explorer_not_enabled_warns(world: World) -> None:
    stub = world.stub("ce")
    stub.add_client_error(
        "get_cost_and_usage", "DataUnavailableException", "Data is not available. Please try again later."
    )
    with stub:
        row = only(world.run(checks.check_cost_explorer))
    assert row.status == WARN
    assert "enable Cost Explorer" in row.fix


def test_cost_explorer_denied_is_skipped(world: World) -> None:
    stub = world.stub("ce")
    stub.add_client_error(
        "get_cost_and_usage",
        "AccessDeniedException",
        "User: arn:aws:iam::123456789012:user/x is not authorized to perform: ce:GetCostAndUsage",
    )
    with stub:
        row = only(guarded("8a", "Cost Explorer", checks.check_cost_explorer, world.context()))
    assert row.status == SKIP
    assert "AccessDeniedException" in row.seen


def _budget(filter_expression: dict[str, Any]) -> dict[str, Any]:
    return {
        "Budget": {
            "BudgetName": "BedrockUsageBudget",
            "BudgetLimit": {"Amount": "100.0", "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
            "CalculatedSpend": {"ActualSpend": {"Amount": "12.34", "Unit": "USD"}},
            "FilterExpression": filter_expression,
            "Metrics": ["UnblendedCost"],
        }
    }


EXPECTED = {"AccountId": ACCOUNT_ID, "BudgetName": "BedrockUsageBudget", "ShowFilterExpression": True}


def test_budget_with_marketplace_filter_passes(world: World) -> None:
    stub = world.stub("budgets")
    stub.add_response(
        "describe_budget",
        _budget(
            {
                "Or": [
                    {"Dimensions": {"Key": "SERVICE", "Values": ["Amazon Bedrock"]}},
                    {"Dimensions": {"Key": "BILLING_ENTITY", "Values": ["AWS Marketplace"]}},
                ]
            }
        ),
        EXPECTED,
    )
    with stub:
        row = only(world.run(checks.check_budget))
    assert row.status == PASS
    assert "limit 100.0 USD, spent 12.34 USD" in row.seen
    assert "BILLING_ENTITY=AWS Marketplace" in row.seen


def test_budget_on_amazon_bedrock_alone_warns(world: World) -> None:
    stub = world.stub("budgets")
    stub.add_response(
        "describe_budget", _budget({"Dimensions": {"Key": "SERVICE", "Values": ["Amazon Bedrock"]}}), EXPECTED
    )
    with stub:
        row = only(world.run(checks.check_budget))
    assert row.status == WARN
    assert "Marketplace" in row.fix


def test_missing_budget_fails(world: World) -> None:
    stub = world.stub("budgets")
    stub.add_client_error(
        "describe_budget", "NotFoundException", "Unable to get budget", expected_params=EXPECTED
    )
    with stub:
        assert only(world.run(checks.check_budget)).status == FAIL


def test_no_budget_configured_is_skipped(world: World) -> None:
    world.parameters["BudgetAmount"] = "0"
    assert only(world.run(checks.check_budget)).status == SKIP
