"""Billed Bedrock cost per linked account from Cost Explorer (GroupBy LINKED_ACCOUNT).

Only the management (payer) account sees its member accounts' costs in Cost Explorer (REFERENCE.md §14.3;
Cost Explorer GetCostAndUsage: "Management account in an organization in AWS Organizations have access to all
member accounts"). Elsewhere the split would hold this account alone, so it is not asked for, and the report
says what it needs instead. Bedrock spend is the first-party service plus every Marketplace "(Amazon Bedrock
Edition)" service, picked in code as in collect/costexplorer.py.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bedrock_usage.collect.costexplorer import is_bedrock_service

NEEDS_MANAGEMENT = (
    "billed cost per account needs this stack in the organization's management account (or Cost Explorer "
    "read from it): Cost Explorer groups by LINKED_ACCOUNT only there"
)


def is_management_account(organizations: Any, own_account: str) -> bool:
    """True when this account is its organization's management account; False if not, or unknown."""
    try:
        org = organizations.describe_organization().get("Organization", {})
    except (ClientError, BotoCoreError):
        return False
    return bool(org.get("MasterAccountId")) and org.get("MasterAccountId") == own_account


def billed_by_account(ce: Any, start: date, end: date) -> dict[str, Decimal]:
    """UnblendedCost (USD) of Bedrock per linked account over [start, end). Raises ClientError on failure."""
    billed: dict[str, Decimal] = {}
    if start >= end:
        return billed
    kwargs: dict[str, Any] = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},  # End is exclusive
        "Granularity": "MONTHLY",
        "Metrics": ["UnblendedCost"],
        # Up to two GroupBy keys (botocore ce GetCostAndUsage.GroupBy): account first, then service.
        "GroupBy": [{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}, {"Type": "DIMENSION", "Key": "SERVICE"}],
        "Filter": {"Dimensions": {"Key": "RECORD_TYPE", "Values": ["Usage"]}},
    }
    while True:
        page = ce.get_cost_and_usage(**kwargs)
        for period in page.get("ResultsByTime", []):
            for group in period.get("Groups", []):
                account, service = group["Keys"][0], group["Keys"][1]
                if is_bedrock_service(service):
                    amount = Decimal(group["Metrics"]["UnblendedCost"]["Amount"])
                    billed[account] = billed.get(account, Decimal(0)) + amount
        token = page.get("NextPageToken")
        if not token:
            return billed
        kwargs["NextPageToken"] = token
