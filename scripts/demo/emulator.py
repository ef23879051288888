"""The AWS emulator (moto 5, in this process) and where the demo stands in for what it cannot do.

moto is faithful for what the demo mostly needs: S3, IAM, SNS, SQS, SES v2 sending, CloudWatch metrics
(Sum/Average/Minimum/Maximum/SampleCount), alarms and dashboards as stored objects, Logs, Bedrock's
logging configuration, Budgets, the scheduler, and CloudFormation for the basic resource types.
Where it is not, the demo never fakes a number; it says so in one line and takes the path a real
deployment takes when that AWS call fails, or stands in like this:

What moto cannot do, and what the demo does instead:
- CloudFormation for alarms, budgets, schedules, topic/queue policies and subscriptions: the demo creates
  them directly through their APIs from the resolved template (resources.py). Bucket policies are left
  out: moto ignores their conditions, so every Deny would refuse every request.
- Run a custom resource (it would invoke the function in Docker): the demo runs LoggingSetupFunction
  itself with the Create event and a local HTTPS stand-in for the ResponseURL (logging_setup.py).
- Deliver SNS to Lambda, or evaluate alarms: the demo builds the notification CloudWatch would send from
  the emulated alarm and metrics, and invokes AlarmRouterFunction with it (alarm.py).
- Logs Insights aggregation (`stats ... by`) and metric percentiles: the report reads the same records
  from the log files in S3 instead (LOGS_SOURCE, report.py).
- Metrics Insights (SELECT) and SEARCH expressions (moto returns made-up series): such GetMetricData calls
  fail here, so callers take their documented fallback.
- Cross-account observability (OAM sinks and links; Metrics Insights GROUP BY AWS.AccountId; Logs Insights
  over source accounts' log groups), for `--accounts N`: each emulated source account (moto keys its backends
  by account; STS AssumeRole reaches it) writes its traffic to its own `bedrock-logs-<account>` bucket, and
  the report reads every account's log files (LOGS_SOURCE, comma-separated) and splits them by each record's
  accountId (accounts.py). Source accounts write no metrics or log events: nothing here would read them.
- GetMetricWidgetImage: fails here, so the alarm email goes without its graph.
- Keep a Simple-content email's text part and inline images: the SendEmail request is captured as sent
  (mail.py writes the .eml from it).

The hooks below are registered for every botocore session while the emulator runs, as moto's own is.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from typing import Any

from scripts.demo.common import REGION


@contextlib.contextmanager
def emulator() -> Iterator[None]:
    """moto's mock_aws in this process, stopped at the end even on failure; fake credentials only."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "1",
    }.items():
        os.environ[name] = value
    # A profile or a custom endpoint (LocalStack, say) would send requests past moto, to a real service.
    for name in [n for n in os.environ if n == "AWS_PROFILE" or n.startswith("AWS_ENDPOINT_URL")]:
        os.environ.pop(name)
    from botocore import handlers
    from moto import mock_aws

    handlers.BUILTIN_HANDLERS.extend(_HOOKS)
    mock = mock_aws()
    mock.start()
    try:
        yield
    finally:
        mock.stop()
        for hook in _HOOKS:
            handlers.BUILTIN_HANDLERS.remove(hook)


def client(service: str) -> Any:
    """A boto3 client in the demo's region (inside `emulator()`, it talks to moto)."""
    import boto3

    return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]


def account_id() -> str:
    """The emulated account's ID."""
    return str(client("sts").get_caller_identity()["Account"])


_SES_REQUESTS: list[dict[str, Any]] = []


def _capture_send_email(params: dict[str, Any], **_: Any) -> None:
    """Keep every SES v2 SendEmail request as the caller passed it.

    moto keeps only the HTML body of a Simple-content message; the text part and the inline images are
    read from the request itself.
    """
    _SES_REQUESTS.append(json.loads(json.dumps(params, default=lambda b: b.decode("latin-1"))))


def _no_widget_image(**_: Any) -> tuple[Any, dict[str, Any]]:
    """moto has no GetMetricWidgetImage (it would raise NotImplementedError inside the caller); answer with
    an error instead, as a failing real call would, so the caller takes its documented no-graph path."""
    from botocore.awsrequest import AWSResponse

    error = {"Code": "NotImplemented", "Message": "the emulator (moto) cannot render metric widget images"}
    response = AWSResponse(f"https://monitoring.{REGION}.amazonaws.com/", 501, {}, None)  # type: ignore[arg-type]
    return response, {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 501}}


_UNFAITHFUL_EXPRESSION = re.compile(r"^\s*SELECT\b|\bSEARCH\s*\(", re.IGNORECASE)


def _mark_unfaithful_query(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    """moto answers Metrics Insights (SELECT ...) and SEARCH expressions with made-up series; mark them."""
    queries = params.get("MetricDataQueries") or []
    if any(_UNFAITHFUL_EXPRESSION.search(str(q.get("Expression", ""))) for q in queries):
        context["demo_unfaithful"] = True


def _refuse_unfaithful_query(context: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]] | None:
    """Fail such a GetMetricData call, as an unavailable API would, instead of returning wrong numbers."""
    if not context.get("demo_unfaithful"):
        return None
    from botocore.awsrequest import AWSResponse

    error = {"Code": "NotImplemented", "Message": "the emulator (moto) cannot run Metrics Insights or SEARCH"}
    response = AWSResponse(f"https://monitoring.{REGION}.amazonaws.com/", 501, {}, None)  # type: ignore[arg-type]
    return response, {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 501}}


# Registered like moto registers its own hook: for every botocore session, from the emulator's start on.
_HOOKS = (
    ("provide-client-params.sesv2.SendEmail", _capture_send_email),
    ("before-call.cloudwatch.GetMetricWidgetImage", _no_widget_image),
    ("before-parameter-build.cloudwatch.GetMetricData", _mark_unfaithful_query),
    ("before-call.cloudwatch.GetMetricData", _refuse_unfaithful_query),
)


@contextlib.contextmanager
def captured_ses_requests() -> Iterator[list[dict[str, Any]]]:
    """The SES v2 SendEmail requests made while active."""
    start = len(_SES_REQUESTS)
    requests: list[dict[str, Any]] = []
    try:
        yield requests
    finally:
        requests.extend(_SES_REQUESTS[start:])
