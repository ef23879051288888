"""AlarmRouterFunction: alert-topic notifications -> readable, routed emails (or a logged forward)."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from bedrock_usage.alarms import RouterConfig, route_event
from botocore.config import Config

logger = Logger(service="alarm-router")
tracer = Tracer(service="alarm-router")
metrics = Metrics(service="alarm-router")

_BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=20)


@cache
def config() -> RouterConfig:
    """Environment settings, parsed once per container; a bad AlarmRouting fails loudly here."""
    return RouterConfig.from_env()


@cache
def clients() -> tuple[Any, Any]:
    """(sesv2, cloudwatch), created on first use, not at import time."""
    return boto3.client("sesv2", config=_BOTO_CONFIG), boto3.client("cloudwatch", config=_BOTO_CONFIG)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    sesv2, cloudwatch = clients()
    records = event.get("Records") if isinstance(event, dict) else None
    metrics.add_metric(
        "NotificationsReceived", MetricUnit.Count, len(records) if isinstance(records, list) else 1
    )
    outcomes = route_event(event, config(), sesv2=sesv2, cloudwatch=cloudwatch, logger=logger)
    for outcome in outcomes:
        metrics.add_metric(
            "EmailsSent" if outcome.action == "emailed" else "ForwardsLogged", MetricUnit.Count, 1
        )
        if outcome.kind == "forwarded":
            metrics.add_metric("UnreadableNotifications", MetricUnit.Count, 1)
        if outcome.enrichment_failures:
            metrics.add_metric("EnrichmentFailures", MetricUnit.Count, len(outcome.enrichment_failures))
    return {"results": [outcome.to_dict() for outcome in outcomes]}
