"""The monthly budget: it must see Marketplace-billed models (Claude), and alert the topic."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest

from tests.template.cfn import as_list


def matches(expression: dict[str, Any], cost_line: dict[str, str]) -> bool:
    """Whether a Budgets FilterExpression selects a cost line, per the Budgets API's Expression semantics."""
    if "Or" in expression:
        return any(matches(e, cost_line) for e in expression["Or"])
    if "And" in expression:
        return all(matches(e, cost_line) for e in expression["And"])
    if "Not" in expression:
        return not matches(expression["Not"], cost_line)
    dims = expression["Dimensions"]
    value = cost_line.get(dims["Key"])
    option = (dims.get("MatchOptions") or ["EQUALS"])[0]
    if option == "ABSENT":
        return value is None
    if value is None:
        return False
    test = {
        "EQUALS": str.__eq__,
        "STARTS_WITH": str.startswith,
        "ENDS_WITH": str.endswith,
        "CONTAINS": str.__contains__,
    }[option]
    return any(test(value, wanted) for wanted in dims["Values"])


@pytest.fixture(scope="module")
def budget(resources: dict[str, Any]) -> dict[str, Any]:
    return resources["BedrockUsageBudget"]


@pytest.mark.parametrize(
    ("service", "billing_entity", "counted"),
    [
        ("Amazon Bedrock", "AWS", True),  # Nova, Titan, Llama, Mistral, ...
        ("Claude Opus 4.6 (Amazon Bedrock Edition)", "AWS Marketplace", True),
        ("Claude Haiku 4.5 (Amazon Bedrock Edition)", "AWS Marketplace", True),
        # A model launched after deploy must be counted without a template change.
        ("Claude Fable 7 (Amazon Bedrock Edition)", "AWS Marketplace", True),
        ("Amazon Elastic Compute Cloud - Compute", "AWS", False),
        ("Amazon Simple Storage Service", "AWS", False),
    ],
)
def test_budget_counts_first_party_and_marketplace_bedrock_spend(budget, service, billing_entity, counted):
    """Claude is billed as '<Model> (Amazon Bedrock Edition)' through AWS Marketplace (REFERENCE.md 13.3);
    a filter on the service 'Amazon Bedrock' alone would miss it."""
    expression = budget["Properties"]["Budget"]["FilterExpression"]
    assert matches(expression, {"SERVICE": service, "BILLING_ENTITY": billing_entity}) is counted


def test_budget_filter_uses_only_keys_and_match_options_the_budgets_api_defines(budget):
    model = botocore.session.get_session().get_service_model("budgets")
    keys = set(model.shape_for("Dimension").enum)
    options = set(model.shape_for("MatchOption").enum)

    def check(expression: dict[str, Any]) -> None:
        for combinator in ("Or", "And"):
            for sub in expression.get(combinator, []):
                check(sub)
        if "Not" in expression:
            check(expression["Not"])
        if "Dimensions" in expression:
            assert expression["Dimensions"]["Key"] in keys
            assert set(expression["Dimensions"].get("MatchOptions", [])) <= options
            assert expression["Dimensions"]["Values"]

    check(budget["Properties"]["Budget"]["FilterExpression"])


def test_budget_is_monthly_in_usd_from_the_parameter_with_metrics_set(budget):
    """Metrics must accompany FilterExpression, or the budget is created malformed (terraform #46866)."""
    spec = budget["Properties"]["Budget"]
    assert spec["BudgetName"] == "BedrockUsageBudget"
    assert spec["BudgetType"] == "COST"
    assert spec["TimeUnit"] == "MONTHLY"
    assert spec["BudgetLimit"] == {"Amount": {"Ref": "BudgetAmount"}, "Unit": "USD"}
    assert spec["Metrics"] == ["UnblendedCost"]
    assert "CostFilters" not in spec  # deprecated; cannot be combined with FilterExpression


def test_budget_alerts_the_topic_at_80_and_100_percent_actual_and_100_percent_forecast(budget):
    notifications = budget["Properties"]["NotificationsWithSubscribers"]
    seen = set()
    for entry in notifications:
        n = entry["Notification"]
        assert n["ComparisonOperator"] == "GREATER_THAN"
        assert n["ThresholdType"] == "PERCENTAGE"
        assert entry["Subscribers"] == [{"SubscriptionType": "SNS", "Address": {"Ref": "AlertTopic"}}]
        seen.add((n["NotificationType"], n["Threshold"]))
    assert seen == {("ACTUAL", 80), ("ACTUAL", 100), ("FORECASTED", 100)}


def test_budget_waits_for_the_topic_policy_and_is_off_when_the_amount_is_zero(cfn, budget):
    """Budgets verifies at creation that it may publish to the topic; BudgetAmount 0 means no budget."""
    assert "AlertTopicPolicy" in as_list(budget["DependsOn"])
    assert budget["Condition"] == "HasBudget"
    assert cfn["Conditions"]["HasBudget"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "BudgetAmount"}, "0"]}]}
    assert cfn["Parameters"]["BudgetAmount"]["MinValue"] == 0
