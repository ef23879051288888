"""Checks 1-3: the logging setting, delivery to both destinations, and the report's query on a record.

moto is faithful for Bedrock's logging configuration, S3, CloudWatch Logs and metric sums. It does not run
Logs Insights queries (parse/coalesce), so check 3 is fed through botocore's Stubber with the response
shape of the real GetQueryResults (botocore validates every request we make against the service model).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bedrock_usage.collect import insights
from bedrock_usage.doctor import logging_checks as checks
from bedrock_usage.doctor.core import FAIL, PASS, SKIP, WARN
from botocore.stub import ANY

from tests.conftest import ACCOUNT_ID, REGION
from tests.doctor.conftest import (
    BUCKET,
    LOG_GROUP,
    NOW,
    ROLE_ARN,
    World,
    only,
    put_log_event,
    put_metric,
    put_record,
    record_key,
)

# --------------------------------------------------------------------------------------------- 1


def test_config_set_by_the_stack_passes(world: World) -> None:
    row = only(world.run(checks.check_config))
    assert row.status == PASS
    assert LOG_GROUP in row.seen
    assert f"s3://{BUCKET}/" in row.seen


def test_logging_off_fails(world: World) -> None:
    world.client("bedrock").delete_model_invocation_logging_configuration()
    row = only(world.run(checks.check_config))
    assert row.status == FAIL
    assert "OFF" in row.seen
    assert row.fix


def test_other_destinations_fail(world: World) -> None:
    world.client("bedrock").put_model_invocation_logging_configuration(
        loggingConfig={"s3Config": {"bucketName": "team-a-logs"}, "textDataDeliveryEnabled": True}
    )
    row = only(world.run(checks.check_config))
    assert row.status == FAIL
    assert "team-a-logs" in row.seen
    assert "TakeOverExistingLogging" in row.fix


def test_flags_changed_by_hand_warn(world: World) -> None:
    world.parameters["TextDataDelivery"] = "false"  # the stack asks text off; the account has it on
    row = only(world.run(checks.check_config))
    assert row.status == WARN
    assert "text on" in row.seen
    assert "text off" in row.seen


def test_config_without_outputs_is_skipped(world: World) -> None:
    del world.outputs["LoggingRoleArn"]
    assert only(world.run(checks.check_config)).status == SKIP


# --------------------------------------------------------------------------------------------- 2a


def _delivery(world: World, metric: str, value: float, at: datetime = NOW - timedelta(hours=2)) -> None:
    put_metric(world, "AWS/Bedrock", metric, value, at)


def test_deliveries_without_failures_pass(world: World) -> None:
    _delivery(world, "ModelInvocationLogsCloudWatchDeliverySuccess", 40)
    _delivery(world, "ModelInvocationLogsS3DeliverySuccess", 3)
    row = only(world.run(checks.check_delivery_metrics))
    assert row.status == PASS
    assert "CloudWatch Logs 40 delivered, 0 failed" in row.seen
    assert "S3 3 delivered" in row.seen


def test_a_delivery_failure_fails(world: World) -> None:
    _delivery(world, "ModelInvocationLogsCloudWatchDeliverySuccess", 40)
    _delivery(world, "ModelInvocationLogsS3DeliveryFailure", 2)
    row = only(world.run(checks.check_delivery_metrics))
    assert row.status == FAIL
    assert "2 failed" in row.seen
    assert "bucket" in row.fix


def test_no_deliveries_warn(world: World) -> None:
    _delivery(world, "ModelInvocationLogsCloudWatchDeliverySuccess", 5, at=NOW - timedelta(hours=30))
    assert only(world.run(checks.check_delivery_metrics)).status == WARN


# --------------------------------------------------------------------------------------------- 2b
# moto stamps LastModified with the real clock, so these checks run at the real time.


def test_fresh_object_under_the_expected_layout_passes(world: World) -> None:
    now = datetime.now(UTC)
    key = put_record(world, now - timedelta(hours=1))
    row = only(world.run(checks.check_s3_objects, now))
    assert row.status == PASS
    assert key in row.seen
    assert key.startswith(f"AWSLogs/{ACCOUNT_ID}/BedrockModelInvocationLogs/{REGION}/")


def test_a_record_on_the_second_page_is_found(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # moto ends a ListObjectsV2 page at MaxKeys (S3's default 1000, here 2): page 1 holds only large
    # bodies (keys sort by name, and 00/ sorts first), the record is on page 2.
    monkeypatch.setenv("MOTO_S3_DEFAULT_MAX_KEYS", "2")
    now = datetime.now(UTC)
    day = f"AWSLogs/{ACCOUNT_ID}/BedrockModelInvocationLogs/{REGION}/{now:%Y/%m/%d}"
    for n in (1, 2):
        world.client("s3").put_object(Bucket=BUCKET, Key=f"{day}/00/data/req-{n}_input.json.gz", Body=b"x")
    key = put_record(world, now, key=record_key(now.replace(hour=23)))
    first = world.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=f"{day}/")
    assert first["IsTruncated"]
    assert key not in [item["Key"] for item in first["Contents"]]
    row = only(world.run(checks.check_s3_objects, now))
    assert row.status == PASS
    assert key in row.seen


def test_key_prefix_parameter_moves_the_layout(world: World) -> None:
    now = datetime.now(UTC)
    world.parameters["LogKeyPrefix"] = "team/bedrock"
    put_record(world, now, key=None)  # at the bucket root: not where the stack's prefix says
    row = only(world.run(checks.check_s3_objects, now))
    assert row.status == WARN
    assert "team/bedrock/AWSLogs/" in row.seen


def test_large_bodies_are_not_records(world: World) -> None:
    now = datetime.now(UTC)
    day = f"AWSLogs/{ACCOUNT_ID}/BedrockModelInvocationLogs/{REGION}/{now:%Y/%m/%d/%H}"
    world.client("s3").put_object(Bucket=BUCKET, Key=f"{day}/data/req-1_input.json.gz", Body=b"x")
    assert "nothing in the last 2 days" in only(world.run(checks.check_s3_objects, now)).seen


def test_unexpected_key_layout_warns(world: World) -> None:
    now = datetime.now(UTC)
    day = f"AWSLogs/{ACCOUNT_ID}/BedrockModelInvocationLogs/{REGION}/{now:%Y/%m/%d}"
    put_record(world, now, key=f"{day}/records.json")
    row = only(world.run(checks.check_s3_objects, now))
    assert row.status == WARN
    assert "unexpected key layout" in row.seen


def test_only_old_objects_warn(world: World) -> None:
    now = datetime.now(UTC)
    put_record(world, now - timedelta(days=3))
    row = only(world.run(checks.check_s3_objects, now))
    assert row.status == WARN
    assert "nothing in the last 2 days" in row.seen


def test_missing_bucket_fails(world: World) -> None:
    world.outputs["LogBucketName"] = "bedrock-logs-deleted"
    assert only(world.run(checks.check_s3_objects)).status == FAIL


# --------------------------------------------------------------------------------------------- 2c


def test_recent_log_event_passes(world: World) -> None:
    put_log_event(world, NOW - timedelta(minutes=30))
    row = only(world.run(checks.check_log_events))
    assert row.status == PASS
    assert "30 min ago" in row.seen


def test_stale_log_event_warns(world: World) -> None:
    put_log_event(world, NOW - timedelta(days=3))
    row = only(world.run(checks.check_log_events))
    assert row.status == WARN
    assert "3 days ago" in row.seen


def test_empty_log_group_warns(world: World) -> None:
    assert only(world.run(checks.check_log_events)).status == WARN


def test_missing_log_group_fails(world: World) -> None:
    world.client("logs").delete_log_group(logGroupName=LOG_GROUP)
    row = only(world.run(checks.check_log_events))
    assert row.status == FAIL
    assert "does not exist" in row.seen


# --------------------------------------------------------------------------------------------- 3


def _cells(**values: str) -> list[dict[str, str]]:
    # GetQueryResults: results is a list of rows, each a list of {field, value}; @ptr is always there.
    return [{"field": key, "value": value} for key, value in values.items()] + [
        {"field": "@ptr", "value": "CmAKJwojMTIzNDU2Nzg5MDEyOi9hd3MvYmVkcm9jay9tb2RlbGludm9jYXRpb25z"}
    ]


def _stub_query(world: World, rows: list[list[dict[str, str]]]) -> dict[str, Any]:
    stub = world.stub("logs")
    sent: dict[str, Any] = {}
    stub.client.meta.events.register(
        "provide-client-params.logs.StartQuery", lambda params, **_: sent.update(params)
    )
    stub.add_response(
        "start_query",
        {"queryId": "12ab3456-12ab-123a-789e-1234567890ab"},
        {"logGroupName": LOG_GROUP, "startTime": ANY, "endTime": ANY, "queryString": ANY, "limit": 1},
    )
    stub.add_response("get_query_results", {"status": "Running", "results": []})
    stub.add_response(
        "get_query_results",
        {
            "status": "Complete",
            "results": rows,
            "statistics": {"recordsMatched": 1.0, "recordsScanned": 812.0, "bytesScanned": 1.2e6},
        },
    )
    stub.activate()
    return sent


def test_record_read_through_the_report_query_passes(world: World) -> None:
    caller = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/AppRole/session-1"
    sent = _stub_query(
        world,
        [
            _cells(
                caller=caller,
                model="us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                error_code="-",
                in_tokens="1200",
                out_tokens="350",
                cache_read="4000",
                cache_write="0",
            )
        ],
    )
    row = only(world.run(checks.check_insights_record))
    assert row.status == PASS
    assert caller in row.seen
    assert "input 1200, output 350" in row.seen
    # The report's own query text, up to its aggregation, then the newest record only.
    report_lines = insights.QUERY.splitlines()
    head = report_lines[: next(i for i, line in enumerate(report_lines) if line.startswith("| stats"))]
    assert sent["queryString"].splitlines()[: len(head)] == head
    assert "stats" not in sent["queryString"]
    assert sent["queryString"].endswith("| limit 1")
    assert sent["endTime"] - sent["startTime"] == 24 * 3600


def test_unknown_caller_fails(world: World) -> None:
    _stub_query(
        world, [_cells(caller="unknown", model="amazon.nova-lite-v1:0", in_tokens="10", out_tokens="5")]
    )
    row = only(world.run(checks.check_insights_record))
    assert row.status == FAIL
    assert "unknown" in row.fix


def test_tokens_lost_to_the_field_limit_warn(world: World) -> None:
    _stub_query(
        world,
        [
            _cells(
                caller=ROLE_ARN, model="amazon.nova-lite-v1:0", error_code="-", in_tokens="0", out_tokens="0"
            )
        ],
    )
    row = only(world.run(checks.check_insights_record))
    assert row.status == WARN
    assert "TextDataDelivery" in row.fix


def test_a_failed_call_with_no_tokens_passes(world: World) -> None:
    _stub_query(
        world,
        [
            _cells(
                caller=ROLE_ARN,
                model="amazon.nova-lite-v1:0",
                error_code="ValidationException",
                in_tokens="0",
                out_tokens="0",
            )
        ],
    )
    row = only(world.run(checks.check_insights_record))
    assert row.status == PASS
    assert "errorCode ValidationException" in row.seen


def test_no_recent_record_warns(world: World) -> None:
    _stub_query(world, [])
    assert only(world.run(checks.check_insights_record)).status == WARN
