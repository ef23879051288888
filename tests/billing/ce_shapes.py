"""GetCostAndUsage response builders in the real API's shape (botocore's Stubber validates both the
request and the response against the service model, so a wrong key fails the test, as the real API would
refuse it)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

BEDROCK = "Amazon Bedrock"
CLAUDE = "Claude Sonnet 4.5 (Amazon Bedrock Edition)"
S3 = "Amazon Simple Storage Service"
USAGE_ONLY = {"Dimensions": {"Key": "RECORD_TYPE", "Values": ["Usage"]}}


def group(keys: list[str], amount: str) -> dict[str, Any]:
    return {"Keys": keys, "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}}}


def period(start: date, groups: list[dict[str, Any]], *, estimated: bool, days: int = 1) -> dict[str, Any]:
    return {
        "TimePeriod": {"Start": start.isoformat(), "End": (start + timedelta(days=days)).isoformat()},
        "Total": {},
        "Groups": groups,
        "Estimated": estimated,
    }


def response(periods: list[dict[str, Any]], token: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"ResultsByTime": periods, "DimensionValueAttributes": []}
    if token:
        out["NextPageToken"] = token
    return out


def bedrock_filter(*services: str) -> dict[str, Any]:
    return {"And": [USAGE_ONLY, {"Dimensions": {"Key": "SERVICE", "Values": sorted(services)}}]}


def daily_request(start: date, end: date, token: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Granularity": "DAILY",
        "Metrics": ["UnblendedCost"],
        "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}],
        "Filter": USAGE_ONLY,
    }
    if token:
        params["NextPageToken"] = token
    return params


def usage_type_request(first: date, last: date, *services: str) -> dict[str, Any]:
    return {
        "TimePeriod": {"Start": first.isoformat(), "End": (last + timedelta(days=1)).isoformat()},
        "Granularity": "MONTHLY",
        "Metrics": ["UnblendedCost"],
        "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
        "Filter": bedrock_filter(*services),
    }


def tag_request(key: str, start: date, end: date, *services: str, token: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Granularity": "DAILY",
        "Metrics": ["UnblendedCost"],
        "GroupBy": [{"Type": "TAG", "Key": key}],
        "Filter": bedrock_filter(*services),
    }
    if token:
        params["NextPageToken"] = token
    return params
