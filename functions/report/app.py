"""ReportFunction: build the Bedrock usage report for a window, render the digest, deliver it at most once."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from bedrock_usage.digest_delivery import DELIVERED, POSSIBLY_DELIVERED, UNDELIVERED
from bedrock_usage.report_job import ReportConfig, parse_event, run_job

logger = Logger(service="report")
tracer = Tracer(service="report")
metrics = Metrics(service="report")
# The library logs with the standard logging module; give those records the same JSON and correlation id.
copy_config_to_registered_loggers(source_logger=logger, include={"bedrock_usage"})


class DigestUndelivered(RuntimeError):
    """No person received the digest: the invocation fails, so the errors alarm and the retries take over."""


@cache
def config() -> ReportConfig:
    """Environment settings, parsed once per container; a bad setting fails naming every problem."""
    return ReportConfig.from_env()


# A scheduled run's correlation id is its scheduled time: every retry of one run shares it.
@logger.inject_lambda_context(correlation_id_path="scheduled_time", log_event=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    job = parse_event(event)  # a bad event fails here, before any AWS call
    result = run_job(job, config(), lambda_context=context)
    logger.info("digest done", extra={k: v for k, v in result.items() if k != "text"})
    status = result["status"]
    if status == POSSIBLY_DELIVERED:
        # Not a failure (a retry would not send it either), but a person should check the inbox.
        metrics.add_metric("DigestPossiblyDelivered", MetricUnit.Count, 1)
        logger.warning("digest possibly delivered, not sent again", extra={"reason": result["status_reason"]})
    if result["replayed"]:
        return result  # an earlier run's record answered: nothing was built or sent this time
    metrics.add_metric("DataSourceFailures", MetricUnit.Count, len(result["data_source_failures"]))
    metrics.add_metric("DigestBytes", MetricUnit.Bytes, result["html_bytes"])
    if status == DELIVERED:
        metrics.add_metric("DigestsSent", MetricUnit.Count, 1)
        metrics.add_metric("FallbackUsed", MetricUnit.Count, 1 if result["delivered_via"] == "sns" else 0)
    elif status == UNDELIVERED:
        metrics.add_metric("DigestsUndelivered", MetricUnit.Count, 1)
        logger.error("digest not delivered to anyone", extra={"reason": result["status_reason"]})
        raise DigestUndelivered(f"the digest reached no one: {result['status_reason']}")
    return result
