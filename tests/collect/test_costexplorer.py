"""Cost Explorer collector, driven with botocore's Stubber (moto's Cost Explorer returns canned data),
with GetCostAndUsage response shapes of the real API (botocore validates requests and responses)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import boto3
import pytest
from bedrock_usage.collect.costexplorer import billed_by_day, is_bedrock_service
from botocore.exceptions import ClientError
from botocore.stub import Stubber

TODAY = date(2026, 11, 28)


def group(service: str, amount: str) -> dict[str, Any]:
    return {"Keys": [service], "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}}}


def day(start: str, end: str, *groups: dict[str, Any]) -> dict[str, Any]:
    return {
        "TimePeriod": {"Start": start, "End": end},
        "Total": {},
        "Groups": list(groups),
        "Estimated": True,
    }


def request(start: str, end: str, token: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {
        "TimePeriod": {"Start": start, "End": end},
        "Granularity": "DAILY",
        "Metrics": ["UnblendedCost"],
        "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}],
        # usage only: credits and refunds are not what the estimate estimates
        "Filter": {"Dimensions": {"Key": "RECORD_TYPE", "Values": ["Usage"]}},
    }
    if token:
        params["NextPageToken"] = token
    return params


@pytest.mark.parametrize(
    ("service", "kept"),
    [
        ("Amazon Bedrock", True),
        ("Claude Sonnet 4.5 (Amazon Bedrock Edition)", True),
        ("Cohere Command R+ (Amazon Bedrock Edition)", True),
        ("Amazon Bedrock AgentCore", False),
        ("Amazon Elastic Compute Cloud - Compute", False),
        ("AWS Marketplace", False),
    ],
)
def test_which_services_count_as_bedrock(service: str, kept: bool) -> None:
    assert is_bedrock_service(service) is kept


def test_given_two_pages_when_billed_then_first_party_and_marketplace_services_are_summed_per_day() -> None:
    ce = boto3.client("ce", region_name="us-east-1")
    with Stubber(ce) as stub:
        stub.add_response(
            "get_cost_and_usage",
            {
                "ResultsByTime": [
                    day(
                        "2026-11-25",
                        "2026-11-26",
                        group("Amazon Bedrock", "1.2500000000"),
                        group("Claude Sonnet 4.5 (Amazon Bedrock Edition)", "10.0100000000"),
                        group("Amazon Simple Storage Service", "99.0"),
                    ),
                    day("2026-11-26", "2026-11-27", group("Amazon Simple Storage Service", "3.0")),
                ],
                "NextPageToken": "page-2",
                "DimensionValueAttributes": [],
            },
            request("2026-11-25", "2026-11-28"),
        )
        stub.add_response(
            "get_cost_and_usage",
            {
                "ResultsByTime": [
                    # a day split across pages keeps adding up
                    day(
                        "2026-11-26", "2026-11-27", group("Claude Haiku 4.5 (Amazon Bedrock Edition)", "0.40")
                    ),
                    day(
                        "2026-11-27",
                        "2026-11-28",
                        group("Claude Opus 4.6 (Amazon Bedrock Edition)", "7.5"),
                        group("AWS Marketplace", "50"),
                    ),
                ],
                "DimensionValueAttributes": [],
            },
            request("2026-11-25", "2026-11-28", "page-2"),
        )
        billed = billed_by_day(ce, date(2026, 11, 25), date(2026, 11, 30), today=TODAY)
        stub.assert_no_pending_responses()

    assert billed == {
        date(2026, 11, 25): Decimal("11.26"),
        date(2026, 11, 26): Decimal("0.40"),
        date(2026, 11, 27): Decimal("7.5"),
    }


def test_given_a_range_ending_today_when_billed_then_today_is_not_asked_for() -> None:
    """Completed days only: today's cost is still accruing, so End (exclusive) is today."""
    ce = boto3.client("ce", region_name="us-east-1")
    with Stubber(ce) as stub:
        stub.add_response(
            "get_cost_and_usage",
            {"ResultsByTime": [day("2026-11-27", "2026-11-28")], "DimensionValueAttributes": []},
            request("2026-11-27", "2026-11-28"),
        )
        billed = billed_by_day(ce, date(2026, 11, 27), date(2026, 11, 29), today=TODAY)
    assert billed == {date(2026, 11, 27): Decimal(0)}  # a day without Bedrock cost is a real 0


def test_given_only_today_when_billed_then_nothing_is_asked() -> None:
    ce = boto3.client("ce", region_name="us-east-1")
    with Stubber(ce) as stub:
        assert billed_by_day(ce, TODAY, date(2026, 11, 29), today=TODAY) == {}
        stub.assert_no_pending_responses()


def test_given_no_access_when_billed_then_the_client_error_propagates() -> None:
    ce = boto3.client("ce", region_name="us-east-1")
    with Stubber(ce) as stub:
        stub.add_client_error(
            "get_cost_and_usage",
            "AccessDeniedException",
            "User is not authorized to perform: ce:GetCostAndUsage",
            http_status_code=400,
        )
        with pytest.raises(ClientError) as caught:
            billed_by_day(ce, date(2026, 11, 1), date(2026, 11, 28), today=TODAY)
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
