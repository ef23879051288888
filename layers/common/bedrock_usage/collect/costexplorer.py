"""Billed Bedrock cost per day from Cost Explorer, to set beside the estimate for completed days.

Claude and other third-party models are billed through AWS Marketplace under their own service names,
"<Model> (Amazon Bedrock Edition)"; the service "Amazon Bedrock" alone misses most of that spend
(REFERENCE.md §8, §13.3). Cost Explorer filters take only EQUALS on SERVICE, so we group by SERVICE and
pick the names in code.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

FIRST_PARTY_SERVICE = "Amazon Bedrock"
MARKETPLACE_SUFFIX = "(Amazon Bedrock Edition)"


def is_bedrock_service(name: str) -> bool:
    """True for the first-party service and every Marketplace-billed Bedrock model."""
    return name == FIRST_PARTY_SERVICE or name.endswith(MARKETPLACE_SUFFIX)


def billed_by_day(
    ce: Any,
    start: date,
    end: date,
    *,
    today: date | None = None,
) -> dict[date, Decimal]:
    """UnblendedCost (USD) of Bedrock per UTC day in [start, end), completed days only.

    Days from today on are left out: their cost is still accruing. Every completed day Cost Explorer
    returns is present, with 0 when Bedrock had no cost. Raises botocore's ClientError on failure
    (e.g. AccessDeniedException when Cost Explorer is not enabled or not allowed).
    """
    end = min(end, today or datetime.now(UTC).date())
    if start >= end:
        return {}
    billed: dict[date, Decimal] = {}
    kwargs: dict[str, Any] = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},  # End is exclusive
        "Granularity": "DAILY",
        "Metrics": ["UnblendedCost"],
        "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}],
        # Usage only: credits, refunds and taxes would make "billed" differ from the estimate for no
        # reason the estimate could show.
        "Filter": {"Dimensions": {"Key": "RECORD_TYPE", "Values": ["Usage"]}},
    }
    while True:
        page = ce.get_cost_and_usage(**kwargs)
        for period in page.get("ResultsByTime", []):
            day = date.fromisoformat(period["TimePeriod"]["Start"])
            total = billed.setdefault(day, Decimal(0))
            for group in period.get("Groups", []):
                if is_bedrock_service(group["Keys"][0]):
                    total += Decimal(group["Metrics"]["UnblendedCost"]["Amount"])
            billed[day] = total
        token = page.get("NextPageToken")
        if not token:
            break
        kwargs["NextPageToken"] = token
    return {day: amount for day, amount in sorted(billed.items()) if start <= day < end}
