"""Bedrock's bill from Cost Explorer: per day (final or provisional), per usage type, per principal tag.

Request budget (each GetCostAndUsage request, each page, costs $0.01; REFERENCE.md §14.1): one request for the
daily series, one for the usage types of the last final days, one per cost allocation tag key. With no tag
keys a report makes 2 requests; with two keys, 4 (`DEFAULT_MAX_REQUESTS` caps the total, paging included).

- `ResultsByTime[].Estimated` is true while a day's figures are provisional (commonly 24-48 h); only final
  days are compared with the estimate.
- Cost Explorer takes only EQUALS on SERVICE (REFERENCE.md §13.3), and Claude is billed under Marketplace
  service names ("<Model> (Amazon Bedrock Edition)"): the daily request groups by SERVICE and finds the
  Bedrock names; the later requests filter on exactly those names, so they page through Bedrock rows only.
- Principal tags reach billing as cost allocation tags named `iamPrincipal/<key>` once activated; GroupBy TAG
  returns keys `iamPrincipal/team$<value>`, and `iamPrincipal/team$` for spend by untagged principals (AWS
  "IAM principal-based cost allocation for Amazon Bedrock", REFERENCE.md §14.2; real CLI output in public
  write-ups, find_string "iamPrincipal/team$").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from .costexplorer import is_bedrock_service

PRINCIPAL_TAG_PREFIX = "iamPrincipal/"
DEFAULT_MAX_REQUESTS = 5
GAP_DAYS = 7  # the usage-type breakdown covers at most the last 7 final days
USAGE_ONLY = {"Dimensions": {"Key": "RECORD_TYPE", "Values": ["Usage"]}}


class RequestBudgetExceeded(RuntimeError):
    """The next Cost Explorer page would exceed the report's request budget."""


@dataclass
class CostExplorer:
    """A Cost Explorer client that counts its requests and stops at a budget."""

    client: Any
    max_requests: int = DEFAULT_MAX_REQUESTS
    requests: int = 0

    def pages(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every page of one GetCostAndUsage query, each counted against the budget."""
        while True:
            if self.requests >= self.max_requests:
                raise RequestBudgetExceeded(
                    f"stopped at {self.max_requests} Cost Explorer requests ($0.01 each) for this report"
                )
            self.requests += 1
            page = self.client.get_cost_and_usage(**kwargs)
            yield page
            token = page.get("NextPageToken")
            if not token:
                return
            kwargs = {**kwargs, "NextPageToken": token}


@dataclass
class DailyBill:
    """Bedrock's billed cost per completed UTC day, and which days Cost Explorer still marks Estimated."""

    amounts: dict[date, Decimal] = field(default_factory=dict)
    provisional: set[date] = field(default_factory=set)
    services: set[str] = field(default_factory=set)  # the Bedrock service names that had cost

    @property
    def final_days(self) -> list[date]:
        return sorted(d for d in self.amounts if d not in self.provisional)


def _filter(services: set[str]) -> dict[str, Any]:
    return {"And": [USAGE_ONLY, {"Dimensions": {"Key": "SERVICE", "Values": sorted(services)}}]}


def _amount(group: dict[str, Any]) -> Decimal:
    return Decimal(group["Metrics"]["UnblendedCost"]["Amount"])


def daily_bill(ce: CostExplorer, start: date, end: date) -> DailyBill:
    """UnblendedCost of Bedrock per day in [start, end) (end: today, so completed days only)."""
    bill = DailyBill()
    if start >= end:
        return bill
    for page in ce.pages(
        TimePeriod={"Start": start.isoformat(), "End": end.isoformat()},  # End is exclusive
        Granularity="DAILY",
        Metrics=["UnblendedCost"],
        GroupBy=[{"Type": "DIMENSION", "Key": "SERVICE"}],
        # Usage only: credits, refunds and taxes would make "billed" differ for no reason the logs could show.
        Filter=USAGE_ONLY,
    ):
        for period in page.get("ResultsByTime", []):
            day = date.fromisoformat(period["TimePeriod"]["Start"])
            total = bill.amounts.get(day, Decimal(0))
            for group in period.get("Groups", []):
                service = group["Keys"][0]
                if is_bedrock_service(service):
                    total += _amount(group)
                    bill.services.add(service)
            bill.amounts[day] = total
            if period.get("Estimated"):
                bill.provisional.add(day)
    bill.amounts = {d: v for d, v in sorted(bill.amounts.items()) if start <= d < end}
    bill.provisional &= set(bill.amounts)
    return bill


def usage_types(
    ce: CostExplorer, services: set[str], first: date, last: date
) -> list[tuple[str, str, Decimal]]:
    """(service, usage type, cost) of Bedrock over the days [first, last], zero rows left out."""
    totals: dict[tuple[str, str], Decimal] = {}
    for page in ce.pages(
        TimePeriod={"Start": first.isoformat(), "End": (last + timedelta(days=1)).isoformat()},
        # MONTHLY over a few days: one period (two across a month end), so few groups and no extra pages.
        Granularity="MONTHLY",
        Metrics=["UnblendedCost"],
        GroupBy=[{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
        Filter=_filter(services),
    ):
        for period in page.get("ResultsByTime", []):
            for group in period.get("Groups", []):
                service, usage_type = group["Keys"][0], group["Keys"][1]
                totals[(service, usage_type)] = totals.get((service, usage_type), Decimal(0)) + _amount(group)
    return [(s, u, v) for (s, u), v in sorted(totals.items()) if v]


def billing_tag_key(key: str) -> str:
    """'team' -> 'iamPrincipal/team'; a key already given in the billing form is kept."""
    return key if key.startswith(PRINCIPAL_TAG_PREFIX) else PRINCIPAL_TAG_PREFIX + key


def tag_values(
    ce: CostExplorer, services: set[str], tag_key: str, start: date, end: date
) -> dict[str | None, dict[date, Decimal]]:
    """Bedrock cost per value of the principal tag per day in [start, end); None: untagged principals."""
    billing_key = billing_tag_key(tag_key)
    out: dict[str | None, dict[date, Decimal]] = {}
    for page in ce.pages(
        TimePeriod={"Start": start.isoformat(), "End": end.isoformat()},
        Granularity="DAILY",
        Metrics=["UnblendedCost"],
        GroupBy=[{"Type": "TAG", "Key": billing_key}],
        Filter=_filter(services),
    ):
        for period in page.get("ResultsByTime", []):
            day = date.fromisoformat(period["TimePeriod"]["Start"])
            for group in period.get("Groups", []):
                _, _, value = group["Keys"][0].partition("$")
                per_day = out.setdefault(value or None, {})
                per_day[day] = per_day.get(day, Decimal(0)) + _amount(group)
    return out
