"""The CloudWatch extras' deadline: derived from the Lambda context, shared fairly, and never waited past.

CloudWatch is a real client wrapped in botocore's Stubber (response shapes from the API reference; moto
lacks Metrics Insights and GetMetricWidgetImage); a before-call hook makes one call slow.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from bedrock_usage.alarms.enrich import (
    ENRICH_MAX_SECONDS,
    ENRICHMENT_CLIENT_CONFIG,
    SEND_RESERVE_SECONDS,
    Deadline,
    enrich,
)
from bedrock_usage.alarms.notification import AlarmNotification, parse_record
from botocore.stub import ANY, Stubber

from tests.conftest import FakeLambdaContext, load_event

NOW = datetime(2026, 11, 28, 18, 6, 30, tzinfo=UTC)
LOG = logging.getLogger("test")


def alarm(name: str) -> AlarmNotification:
    parsed = parse_record(load_event(name)["Records"][0])
    assert isinstance(parsed, AlarmNotification)
    return parsed


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("remaining_s", "still_to_send", "budget"),
    [
        (60, 1, ENRICH_MAX_SECONDS),  # plenty: capped
        (30, 1, 30 - SEND_RESERVE_SECONDS),
        (50, 3, 50 - 3 * SEND_RESERVE_SECONDS),  # time kept back for each email still to send
        (40, 3, 0.0),
        (10, 1, 0.0),
    ],
)
def test_enrichment_budget_leaves_time_to_send_every_email(
    remaining_s: float, still_to_send: int, budget: float
) -> None:
    clock = Clock()
    deadline = Deadline(remaining_s, clock=clock)
    assert deadline.enrichment_budget(still_to_send) == pytest.approx(budget)
    clock.now += 5
    assert deadline.remaining() == pytest.approx(remaining_s - 5)


def test_deadline_comes_from_the_lambda_context() -> None:
    deadline = Deadline.from_context(FakeLambdaContext(remaining_ms=42_000))
    assert 41 < deadline.remaining() <= 42
    assert 59 < Deadline.from_context(None).remaining() <= 60


def test_enrichment_client_gives_up_fast() -> None:
    """Issue 16: 5 attempts x 20 s per call made one alarm take 134 s against a 60 s timeout."""
    client = boto3.client("cloudwatch", region_name="us-east-1", config=ENRICHMENT_CLIENT_CONFIG)
    config = client.meta.config
    assert config.retries["total_max_attempts"] == 2  # the first call and one retry
    assert (config.connect_timeout, config.read_timeout) == (2, 4)


def test_a_slow_graph_is_left_out_and_what_came_back_in_time_is_kept() -> None:
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    cloudwatch.meta.events.register(
        "before-parameter-build.cloudwatch.GetMetricWidgetImage", lambda **_: time.sleep(1.5)
    )
    with Stubber(cloudwatch) as stub:
        stub.add_response(
            "get_metric_data",
            {
                "MetricDataResults": [
                    {
                        "Id": "models",
                        "Label": "amazon.nova-lite-v1:0",
                        "Values": [250000.0],
                        "Timestamps": [NOW],
                    }
                ]
            },
            {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY, "ScanBy": "TimestampDescending"},
        )
        stub.add_response(
            "get_metric_widget_image",
            {"MetricWidgetImage": b"\x89PNG"},
            {"MetricWidget": ANY, "OutputFormat": "png"},
        )
        started = time.monotonic()
        extras, timed_out = enrich(
            cloudwatch, alarm("sns-alarm-insights.json"), now=NOW, logger=LOG, budget_seconds=0.5
        )
        assert time.monotonic() - started < 1.2  # not the 1.5 s the graph takes
        time.sleep(1.3)  # let the abandoned call finish before the Stubber closes
    assert timed_out
    assert [m.model_id for m in extras.models or ()] == ["amazon.nova-lite-v1:0"]
    assert extras.graph is None
    assert extras.missing == ("the graph (CloudWatch did not answer in time)",)


def test_an_unexpected_error_in_enrichment_only_names_what_is_missing() -> None:
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")

    def explode(**_: Any) -> None:
        raise NotImplementedError("not in this emulator")

    cloudwatch.meta.events.register("before-call.cloudwatch.DescribeAlarmHistory", explode)
    extras, timed_out = enrich(cloudwatch, alarm("sns-alarm-ok.json"), now=NOW, logger=LOG, budget_seconds=5)
    assert not timed_out
    assert extras.missing == ("how long the alarm lasted (alarm history unavailable)",)


def test_no_budget_means_no_call() -> None:
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    with Stubber(cloudwatch):  # nothing queued: any call would fail the test
        extras, _ = enrich(cloudwatch, alarm("sns-alarm-single.json"), now=NOW, logger=LOG, budget_seconds=0)
    assert extras.missing == ("the CloudWatch details (skipped: no time left in this invocation)",)
