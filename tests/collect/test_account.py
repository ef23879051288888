"""One region's CloudWatch usage: metrics (moto) plus Logs Insights (Stubber, real response shapes; moto
does not aggregate `stats ... by`). A source that fails becomes a SourceFailure, never an exception."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from bedrock_usage.collect.account import collect_account
from bedrock_usage.model import Window
from botocore.stub import Stubber
from moto import mock_aws

LOG_GROUP = "/aws/bedrock/modelinvocations"
ALICE = "arn:aws:iam::123456789012:user/alice"
SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
NOVA = "amazon.nova-lite-v1:0"


@pytest.fixture
def clients() -> Iterator[tuple[Any, Any]]:
    with mock_aws():
        yield (
            boto3.client("cloudwatch", region_name="us-east-1"),
            boto3.client("logs", region_name="us-east-1"),
        )


def window() -> Window:
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return Window(end - timedelta(hours=3), end)


def put_invocations(cw: Any, model_id: str, calls: int, at: datetime) -> None:
    cw.put_metric_data(
        Namespace="AWS/Bedrock",
        MetricData=[
            {
                "MetricName": "Invocations",
                "Dimensions": [{"Name": "ModelId", "Value": model_id}],
                "Value": calls,
                "Timestamp": at,
            },
            {
                "MetricName": "InputTokenCount",
                "Dimensions": [{"Name": "ModelId", "Value": model_id}],
                "Value": calls * 10,
                "Timestamp": at,
            },
        ],
    )


def insights_rows(*rows: tuple[str, str, str, int]) -> dict[str, Any]:
    return {
        "status": "Complete",
        "results": [
            [
                {"field": "caller", "value": caller},
                {"field": "model", "value": model},
                {"field": "error_code", "value": error},
                {"field": "calls", "value": str(calls)},
                {"field": "input_tokens", "value": str(calls * 10)},
            ]
            for caller, model, error, calls in rows
        ],
    }


def test_given_both_sources_when_collected_then_metrics_give_models_and_insights_give_callers(
    clients: tuple[Any, Any],
) -> None:
    cw, logs = clients
    win = window()
    put_invocations(cw, SONNET, 100, win.end - timedelta(hours=1))
    with Stubber(logs) as stub:
        stub.add_response("start_query", {"queryId": "q"}, None)
        stub.add_response(
            "get_query_results",
            insights_rows((ALICE, SONNET, "-", 98), (ALICE, SONNET, "ValidationException", 2)),
            None,
        )
        usage = collect_account(
            cloudwatch=cw, logs=logs, window=win, log_group=LOG_GROUP, sleep=lambda _: None
        )

    assert usage.source == "cloudwatch-metrics+logs-insights"
    assert usage.failures == []
    assert usage.by_model[SONNET].invocations == 100  # from metrics
    assert usage.by_caller[(ALICE, SONNET)].invocations == 100
    assert usage.errors_by_code == {"ValidationException": 2}
    assert not any("apart" in w for w in usage.warnings)


def test_given_logs_that_miss_half_the_calls_when_collected_then_it_warns_that_logging_may_be_off(
    clients: tuple[Any, Any],
) -> None:
    cw, logs = clients
    win = window()
    put_invocations(cw, SONNET, 100, win.end - timedelta(hours=1))
    with Stubber(logs) as stub:
        stub.add_response("start_query", {"queryId": "q"}, None)
        stub.add_response("get_query_results", insights_rows((ALICE, SONNET, "-", 50)), None)
        usage = collect_account(
            cloudwatch=cw, logs=logs, window=win, log_group=LOG_GROUP, sleep=lambda _: None
        )

    assert any("100 invocations" in w and "50" in w and "logging may be off" in w for w in usage.warnings)


def test_given_insights_fails_when_collected_then_metrics_are_kept_and_the_failure_recorded(
    clients: tuple[Any, Any],
) -> None:
    cw, logs = clients
    win = window()
    put_invocations(cw, NOVA, 7, win.end - timedelta(hours=1))
    with Stubber(logs) as stub:
        stub.add_client_error("start_query", "AccessDeniedException", "not authorized", http_status_code=400)
        usage = collect_account(
            cloudwatch=cw, logs=logs, window=win, log_group=LOG_GROUP, sleep=lambda _: None
        )

    assert usage.by_model[NOVA].invocations == 7
    assert usage.by_caller == {}
    assert [(f.source, f.message) for f in usage.failures] == [
        ("logs-insights", "StartQuery: AccessDeniedException: not authorized")
    ]


def test_given_a_failed_query_when_collected_then_the_failure_says_so(clients: tuple[Any, Any]) -> None:
    cw, logs = clients
    with Stubber(logs) as stub:
        stub.add_response("start_query", {"queryId": "q"}, None)
        stub.add_response("get_query_results", {"status": "Failed", "results": []}, None)
        usage = collect_account(
            cloudwatch=cw, logs=logs, window=window(), log_group=LOG_GROUP, sleep=lambda _: None
        )
    assert [f.source for f in usage.failures] == ["logs-insights"]
    assert "Failed" in usage.failures[0].message


def test_given_metrics_fail_when_collected_then_insights_per_model_numbers_stand_in() -> None:
    cw = boto3.client("cloudwatch", region_name="us-east-1")
    logs = boto3.client("logs", region_name="us-east-1")
    with Stubber(cw) as cw_stub, Stubber(logs) as logs_stub:
        cw_stub.add_client_error(
            "list_metrics", "AccessDenied", "no cloudwatch:ListMetrics", http_status_code=403
        )
        logs_stub.add_response("start_query", {"queryId": "q"}, None)
        logs_stub.add_response("get_query_results", insights_rows((ALICE, NOVA, "-", 9)), None)
        usage = collect_account(
            cloudwatch=cw, logs=logs, window=window(), log_group=LOG_GROUP, sleep=lambda _: None
        )

    assert usage.by_model[NOVA].invocations == 9
    assert usage.by_model[NOVA].input_tokens == 90
    assert [f.source for f in usage.failures] == ["cloudwatch-metrics"]
    assert "AccessDenied" in usage.failures[0].message
    assert any("come from the invocation logs" in w for w in usage.warnings)


def test_given_both_sources_fail_when_collected_then_nothing_is_raised() -> None:
    cw = boto3.client("cloudwatch", region_name="us-east-1")
    logs = boto3.client("logs", region_name="us-east-1")
    with Stubber(cw) as cw_stub, Stubber(logs) as logs_stub:
        cw_stub.add_client_error("list_metrics", "InternalServiceError", "boom", http_status_code=500)
        logs_stub.add_client_error(
            "start_query", "ServiceUnavailableException", "later", http_status_code=503
        )
        usage = collect_account(
            cloudwatch=cw, logs=logs, window=window(), log_group=LOG_GROUP, sleep=lambda _: None
        )

    assert usage.by_model == {}
    assert {f.source for f in usage.failures} == {"cloudwatch-metrics", "logs-insights"}


def test_given_no_log_group_when_collected_then_logs_are_not_queried(clients: tuple[Any, Any]) -> None:
    cw, logs = clients
    win = window()
    put_invocations(cw, NOVA, 4, win.end - timedelta(hours=1))
    with Stubber(logs) as stub:  # any Logs call would fail: nothing is queued
        usage = collect_account(cloudwatch=cw, logs=logs, window=win, log_group=None)
        stub.assert_no_pending_responses()
    assert usage.source == "cloudwatch-metrics"
    assert usage.by_model[NOVA].invocations == 4
    assert usage.failures == []
