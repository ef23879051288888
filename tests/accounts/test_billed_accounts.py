"""Billed Bedrock cost per account: asked of Cost Explorer only in the management account.

Stubber with the real response shapes of GetCostAndUsage (two GroupBy keys: Keys [account, service]) and
Organizations DescribeOrganization.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import boto3
from bedrock_usage.collect.billed_accounts import billed_by_account, is_management_account
from botocore.stub import Stubber

PAYER, MEMBER = "111111111111", "222222222222"


def _group(account: str, service: str, amount: str) -> dict[str, object]:
    return {"Keys": [account, service], "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}}}


def test_bedrock_services_are_summed_per_account_over_pages() -> None:
    ce = boto3.client("ce", region_name="us-east-1")
    request = {
        "TimePeriod": {"Start": "2026-11-01", "End": "2026-11-30"},
        "Granularity": "MONTHLY",
        "Metrics": ["UnblendedCost"],
        "GroupBy": [{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}, {"Type": "DIMENSION", "Key": "SERVICE"}],
        "Filter": {"Dimensions": {"Key": "RECORD_TYPE", "Values": ["Usage"]}},
    }
    period = {"TimePeriod": {"Start": "2026-11-01", "End": "2026-11-30"}, "Total": {}, "Estimated": True}
    with Stubber(ce) as stub:
        stub.add_response(
            "get_cost_and_usage",
            {
                "ResultsByTime": [
                    {
                        **period,
                        "Groups": [
                            _group(MEMBER, "Amazon Bedrock", "1.25"),
                            _group(MEMBER, "Claude Sonnet 4.5 (Amazon Bedrock Edition)", "10.50"),
                            _group(MEMBER, "Amazon Simple Storage Service", "99.00"),  # not Bedrock
                        ],
                    }
                ],
                "NextPageToken": "p2",
            },
            request,
        )
        stub.add_response(
            "get_cost_and_usage",
            {"ResultsByTime": [{**period, "Groups": [_group(PAYER, "Amazon Bedrock", "0.40")]}]},
            {**request, "NextPageToken": "p2"},
        )
        billed = billed_by_account(ce, date(2026, 11, 1), date(2026, 11, 30))
    assert billed == {MEMBER: Decimal("11.75"), PAYER: Decimal("0.40")}


def test_only_the_management_account_asks() -> None:
    org = boto3.client("organizations", region_name="us-east-1")
    described = {"Organization": {"Id": "o-a1b2c3d4e5", "MasterAccountId": PAYER}}
    with Stubber(org) as stub:
        stub.add_response("describe_organization", described)
        stub.add_response("describe_organization", described)
        stub.add_client_error("describe_organization", "AWSOrganizationsNotInUseException")
        assert is_management_account(org, PAYER) is True
        assert is_management_account(org, MEMBER) is False
        assert is_management_account(org, PAYER) is False  # cannot tell: do not claim it


def test_outside_the_management_account_the_report_says_what_it_needs() -> None:
    from datetime import UTC, datetime, timedelta

    from bedrock_usage.collect.accounts import LinkedUsage
    from bedrock_usage.collect.billed_accounts import NEEDS_MANAGEMENT
    from bedrock_usage.linked import add_accounts
    from bedrock_usage.model import Counts, Report, Window
    from bedrock_usage.price import Pricer

    now = datetime(2026, 11, 30, tzinfo=UTC)
    window = Window(now - timedelta(days=1), now)
    linked = LinkedUsage(window=window)
    linked.account(MEMBER).model("amazon.nova-lite-v1:0").add(Counts(invocations=1))
    report = Report(window, now, ["us-east-1"], "cloudwatch", Counts(), Decimal(0), 0, [], [])
    org = boto3.client("organizations", region_name="us-east-1")
    with Stubber(org) as stub:
        stub.add_client_error("list_accounts", "AccessDeniedException")
        stub.add_response("describe_organization", {"Organization": {"MasterAccountId": PAYER}})
        add_accounts(
            report,
            linked,
            None,
            Pricer(),
            client=lambda service, region=None: org,  # Cost Explorer must not be asked
            own_account=MEMBER,
            cost_explorer=True,
            today=now.date(),
        )
    assert [a.account_id for a in report.accounts] == [MEMBER]
    assert report.accounts[0].billed_usd is None
    assert NEEDS_MANAGEMENT in report.accounts_notes
    assert any("AccessDeniedException" in n for n in report.accounts_notes)
