"""Check 8: Cost Explorer answers (one GetCostAndUsage request, which AWS bills at $0.01), and the
budget exists with a filter that catches Marketplace-billed Claude."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from bedrock_usage.collect.costexplorer import MARKETPLACE_SUFFIX, is_bedrock_service
from bedrock_usage.doctor.core import FAIL, PASS, SKIP, WARN, Check, Context, describe_error, error_code

CE_REQUEST_USD = Decimal("0.01")  # each GetCostAndUsage request (each page) costs $0.01 (REFERENCE §14.1)
CE_CHECK_NAME = f"Cost Explorer (one request, ${CE_REQUEST_USD})"


def check_cost_explorer(ctx: Context) -> Check:
    """8a. One GetCostAndUsage request for yesterday, grouped by service ($0.01)."""
    name = CE_CHECK_NAME
    today = ctx.now.date()
    try:
        page = ctx.client("ce").get_cost_and_usage(
            TimePeriod={"Start": (today - timedelta(days=1)).isoformat(), "End": today.isoformat()},
            Granularity="DAILY",
            Metrics=["UnblendedCost"],
            GroupBy=[{"Type": "DIMENSION", "Key": "SERVICE"}],
        )
    except ClientError as exc:
        if error_code(exc) == "DataUnavailableException":
            return Check(
                "8a",
                name,
                WARN,
                describe_error(exc),
                "enable Cost Explorer (Billing console); data in 24 h",
            )
        raise
    total = Decimal(0)
    services = []
    for period in page.get("ResultsByTime", []):
        for group in period.get("Groups", []):
            service = group["Keys"][0]
            if is_bedrock_service(service):
                total += Decimal(group["Metrics"]["UnblendedCost"]["Amount"])
                services.append(service)
    seen = f"reachable; yesterday's Bedrock cost ${total:.2f}" + (
        f" over {len(set(services))} service(s)" if services else ""
    )
    if ctx.stack.parameter("ReportCostExplorer") != "true":
        seen += "; the digest does not use it (ReportCostExplorer=false)"
    return Check("8a", name, PASS, seen)


def _filters(expression: Any) -> list[tuple[str, tuple[str, ...]]]:
    """(dimension key, values) pairs anywhere in a Budgets FilterExpression."""
    found: list[tuple[str, tuple[str, ...]]] = []
    if isinstance(expression, dict):
        dims = expression.get("Dimensions")
        if isinstance(dims, dict) and dims.get("Key"):
            found.append((str(dims["Key"]), tuple(str(v) for v in dims.get("Values", []))))
        for key in ("And", "Or"):
            for part in expression.get(key, []) or []:
                found += _filters(part)
        found += _filters(expression.get("Not"))
    return found


def check_budget(ctx: Context) -> Check:
    """8b. The monthly budget exists, and its filter counts Marketplace-billed models too."""
    name = "Budget"
    budget_name = ctx.stack.output("BudgetName")
    if ctx.stack.parameter("BudgetAmount", "100") == "0":
        return Check("8b", name, SKIP, "BudgetAmount is 0: the stack creates no budget")
    if not budget_name:
        return Check("8b", name, SKIP, "the stack has no BudgetName output")
    try:
        budget = ctx.client("budgets").describe_budget(
            AccountId=ctx.account_id(), BudgetName=budget_name, ShowFilterExpression=True
        )["Budget"]
    except ClientError as exc:
        if error_code(exc) == "NotFoundException":
            return Check("8b", name, FAIL, f"budget {budget_name} does not exist", "update the stack")
        raise
    limit = budget.get("BudgetLimit", {})
    spent = budget.get("CalculatedSpend", {}).get("ActualSpend", {})
    seen = f"{budget_name}: limit {limit.get('Amount', '?')} {limit.get('Unit', '')}".rstrip()
    if spent:
        seen += f", spent {spent.get('Amount')} {spent.get('Unit', '')}".rstrip()
    filters = _filters(budget.get("FilterExpression"))
    legacy = budget.get("CostFilters") or {}
    filters += [(str(k), tuple(v)) for k, v in legacy.items()]
    seen += "; filter " + (", ".join(f"{k}={'|'.join(v)}" for k, v in filters) or "none (all costs)")
    marketplace = any(
        key == "BILLING_ENTITY" or any(value.endswith(MARKETPLACE_SUFFIX) for value in values)
        for key, values in filters
    )
    if filters and not marketplace:
        return Check(
            "8b",
            name,
            WARN,
            seen,
            "a filter on 'Amazon Bedrock' alone misses Claude, billed through AWS Marketplace: "
            "update the stack to restore its filter",
        )
    return Check("8b", name, PASS, seen)
