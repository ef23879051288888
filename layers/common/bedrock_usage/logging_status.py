"""`bedrock-usage logging-status`: the account's invocation-logging setting, whether this stack set it,
and whether Bedrock has delivered logs recently (its delivery success/failure metrics)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bedrock_usage import logging_config as lc

# Published by Bedrock in AWS/Bedrock without dimensions ("across all model IDs").
DELIVERY_METRICS: tuple[tuple[str, str, str], ...] = (
    # (destination, success metric, failure metric)
    (
        "CloudWatch Logs",
        "ModelInvocationLogsCloudWatchDeliverySuccess",
        "ModelInvocationLogsCloudWatchDeliveryFailure",
    ),
    ("S3", "ModelInvocationLogsS3DeliverySuccess", "ModelInvocationLogsS3DeliveryFailure"),
    (
        "S3 large data",
        "ModelInvocationLargeDataS3DeliverySuccess",
        "ModelInvocationLargeDataS3DeliveryFailure",
    ),
)

OWNED = "yes"
SAME_DESTINATIONS = "same destinations, different delivery flags"
NOT_OWNED = "no"
NOT_SET = "the stack has not set it (no saved state)"


@dataclass(frozen=True)
class Delivery:
    destination: str
    delivered: float
    failed: float


@dataclass(frozen=True)
class LoggingStatus:
    """What `logging-status` reports."""

    region: str
    config: dict[str, Any] | None
    stack_name: str | None
    owned: str | None  # one of OWNED, SAME_DESTINATIONS, NOT_OWNED, NOT_SET; None without a stack
    previous: dict[str, Any] | None
    hours: int
    delivery: tuple[Delivery, ...]

    @property
    def healthy(self) -> bool:
        """On, set by the stack (when one was named), and no delivery failures in the window."""
        return (
            self.config is not None
            and self.owned in (None, OWNED)
            and not any(item.failed for item in self.delivery)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "enabled": self.config is not None,
            "loggingConfig": self.config,
            "stackName": self.stack_name,
            "setByStack": self.owned,
            "previousConfiguration": self.previous,
            "windowHours": self.hours,
            "delivery": [
                {"destination": d.destination, "delivered": d.delivered, "failed": d.failed}
                for d in self.delivery
            ],
            "healthy": self.healthy,
        }


def delivery_counts(cloudwatch: Any, *, now: dt.datetime, hours: int) -> tuple[Delivery, ...]:
    """Sum of each delivery metric over the last `hours` (0 when Bedrock published nothing)."""
    queries: list[dict[str, Any]] = []
    for index, (_, success, failure) in enumerate(DELIVERY_METRICS):
        for kind, metric in (("ok", success), ("fail", failure)):
            queries.append(
                {
                    "Id": f"{kind}{index}",
                    "MetricStat": {
                        "Metric": {"Namespace": "AWS/Bedrock", "MetricName": metric},
                        "Period": hours * 3600,
                        "Stat": "Sum",
                    },
                    "ReturnData": True,
                }
            )
    totals: dict[str, float] = {query["Id"]: 0.0 for query in queries}
    request: dict[str, Any] = {
        "MetricDataQueries": queries,
        "StartTime": now - dt.timedelta(hours=hours),
        "EndTime": now,
    }
    while True:
        response = cloudwatch.get_metric_data(**request)
        for result in response.get("MetricDataResults", []):
            totals[result["Id"]] += sum(result.get("Values", []))
        if not response.get("NextToken"):
            break
        request["NextToken"] = response["NextToken"]
    return tuple(
        Delivery(name, totals[f"ok{index}"], totals[f"fail{index}"])
        for index, (name, _, _) in enumerate(DELIVERY_METRICS)
    )


def ownership(config: Mapping[str, Any] | None, state: lc.SavedState | None) -> str:
    if state is None:
        return NOT_SET
    if config is not None and lc.canonical(config) == lc.canonical(state.applied):
        return OWNED
    if config is not None and lc.same_destinations(config, state.applied):
        return SAME_DESTINATIONS
    return NOT_OWNED


def logging_status(
    bedrock: Any,
    cloudwatch: Any,
    *,
    region: str,
    now: dt.datetime,
    hours: int = 24,
    stack_name: str | None = None,
    cloudformation: Any = None,
    ssm: Any = None,
) -> LoggingStatus:
    """Read the setting, the stack's saved state (when a stack is named) and the delivery metrics."""
    config = lc.get_config(bedrock)
    owned = previous = None
    if stack_name:
        stack_id = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]["StackId"]
        state = lc.StateStore(ssm, lc.state_parameter_name(stack_id)).load()
        owned = ownership(config, state)
        previous = state.previous if state else None
    return LoggingStatus(
        region=region,
        config=config,
        stack_name=stack_name,
        owned=owned,
        previous=previous,
        hours=hours,
        delivery=delivery_counts(cloudwatch, now=now, hours=hours),
    )


def format_status(status: LoggingStatus) -> str:
    """Plain text for a terminal."""
    lines = [f"Bedrock model-invocation logging in {status.region}: {'ON' if status.config else 'OFF'}"]
    if status.config:
        view = lc.canonical(status.config) or {}
        cloudwatch, s3 = view.get("cloudWatchConfig"), view.get("s3Config")
        if cloudwatch:
            lines.append(f"  CloudWatch Logs: {cloudwatch['logGroupName']} (role {cloudwatch['roleArn']})")
            large = cloudwatch.get("largeDataDeliveryS3Config")
            if large:
                lines.append(f"  Large data:      s3://{large['bucketName']}/{large['keyPrefix']}")
        if s3:
            lines.append(f"  S3:              s3://{s3['bucketName']}/{s3['keyPrefix']}")
        lines.append(f"  Data delivery:   {lc.describe_flags(status.config)}")
    if status.stack_name:
        lines.append(f"  Set by stack {status.stack_name}: {status.owned}")
        if status.owned != NOT_SET:
            lines.append(f"  Put back on stack delete: {lc.describe(status.previous)}")
    lines.append(f"Log delivery in the last {status.hours} h:")
    for item in status.delivery:
        if item.delivered or item.failed:
            lines.append(f"  {item.destination}: {item.delivered:g} delivered, {item.failed:g} failed")
        else:
            lines.append(f"  {item.destination}: no deliveries")
    if status.config and not any(item.delivered for item in status.delivery):
        lines.append("  (no invocations in the window, or delivery has not started yet)")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `bedrock-usage logging-status`."""
    parser.add_argument("--region", help="AWS Region (default: your AWS configuration's)")
    parser.add_argument(
        "--stack-name", help="the Bedrock Usage Monitor stack, to check that it set the logging"
    )
    parser.add_argument("--hours", type=int, default=24, help="window for the delivery metrics (default 24)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


ClientFactory = Callable[..., Any]


def run(
    args: argparse.Namespace, client: ClientFactory | None = None, print_: Callable[[str], None] = print
) -> int:
    """Exit code: 0 healthy; 1 logging off, not set by the stack, or delivery failures; 2 an AWS error."""
    if client is None:
        import boto3

        client = boto3.client
    if not 1 <= args.hours <= 24 * 63:
        print_("error: --hours must be between 1 and 1512 (CloudWatch keeps hourly data for 63 days)")
        return 2
    try:
        bedrock = client("bedrock", region_name=args.region)
        status = logging_status(
            bedrock,
            client("cloudwatch", region_name=args.region),
            region=bedrock.meta.region_name,
            now=dt.datetime.now(dt.UTC),
            hours=args.hours,
            stack_name=args.stack_name,
            cloudformation=client("cloudformation", region_name=args.region) if args.stack_name else None,
            ssm=client("ssm", region_name=args.region) if args.stack_name else None,
        )
    except (ClientError, BotoCoreError, lc.LoggingSetupError) as exc:
        detail = lc.describe_client_error(exc) if isinstance(exc, ClientError) else str(exc)
        print_(f"error: {detail}")
        return 2
    print_(json.dumps(status.to_dict(), indent=2) if args.json else format_status(status))
    return 0 if status.healthy else 1
