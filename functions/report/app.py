"""ReportFunction: build the Bedrock usage report for a window, render the digest, deliver it once."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from bedrock_usage.report_job import ReportConfig, parse_event, run_job

logger = Logger(service="report")
tracer = Tracer(service="report")
metrics = Metrics(service="report")
# The library logs with the standard logging module; give those records the same JSON and correlation id.
copy_config_to_registered_loggers(source_logger=logger, include={"bedrock_usage"})


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
    if result["replayed"]:
        return result  # a retry of a window already delivered: nothing was sent this time
    metrics.add_metric("DataSourceFailures", MetricUnit.Count, len(result["data_source_failures"]))
    metrics.add_metric("DigestBytes", MetricUnit.Bytes, result["html_bytes"])
    if result["delivered_via"] != "none":
        metrics.add_metric("DigestsSent", MetricUnit.Count, 1)
        metrics.add_metric("FallbackUsed", MetricUnit.Count, 1 if result["delivered_via"] == "sns" else 0)
    return result
