"""AlarmRouterFunction: alert-topic notifications -> readable, routed emails (or a logged forward)."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from bedrock_usage.alarms import RouterConfig, route_event
from bedrock_usage.alarms.enrich import ENRICHMENT_CLIENT_CONFIG, SEND_CLIENT_CONFIG, Deadline

logger = Logger(service="alarm-router")
tracer = Tracer(service="alarm-router")
metrics = Metrics(service="alarm-router")


@cache
def config() -> RouterConfig:
    """Environment settings, parsed once per container; a bad AlarmRouting fails loudly here."""
    return RouterConfig.from_env()


@cache
def clients() -> tuple[Any, Any, Any]:
    """(sesv2, cloudwatch, sns), created on first use, not at import time.

    CloudWatch only adds optional details, so its client gives up fast (few attempts, short timeouts);
    SES gets a little more patience, still well inside the function's timeout; SNS (the republish of what
    SES refused, for AlertEmail's subscription) the same.
    """
    return (
        boto3.client("sesv2", config=SEND_CLIENT_CONFIG),
        boto3.client("cloudwatch", config=ENRICHMENT_CLIENT_CONFIG),
        boto3.client("sns", config=SEND_CLIENT_CONFIG),
    )


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    sesv2, cloudwatch, sns = clients()
    records = event.get("Records") if isinstance(event, dict) else None
    metrics.add_metric(
        "NotificationsReceived", MetricUnit.Count, len(records) if isinstance(records, list) else 1
    )
    outcomes = route_event(
        event,
        config(),
        sesv2=sesv2,
        cloudwatch=cloudwatch,
        sns=sns,
        logger=logger,
        deadline=Deadline.from_context(context),
    )
    for outcome in outcomes:
        metric = {"emailed": "EmailsSent", "republished": "ForwardedAfterSesFailure"}.get(
            outcome.action, "ForwardsLogged"
        )
        metrics.add_metric(metric, MetricUnit.Count, 1)
        if outcome.kind == "forwarded":
            metrics.add_metric("UnreadableNotifications", MetricUnit.Count, 1)
        if outcome.enrichment_failures:
            metrics.add_metric("EnrichmentFailures", MetricUnit.Count, len(outcome.enrichment_failures))
    return {"results": [outcome.to_dict() for outcome in outcomes]}
