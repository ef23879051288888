"""`bedrock-usage logging-status` on moto: the setting, whether the stack set it, recent deliveries."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import Any

import boto3
import pytest
from bedrock_usage import logging_config as lc
from bedrock_usage import logging_status as ls

from tests.conftest import REGION
from tests.logging_setup.conftest import FOREIGN_CONFIG, LOG_GROUP, REQUIRED_PROPERTIES

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def stack(aws: None) -> str:
    """A deployed stack (moto) whose custom resource has applied the logging configuration; its StackId."""
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
    stack_id = str(
        cloudformation.create_stack(StackName="usage", TemplateBody=json.dumps(template))["StackId"]
    )
    store = lc.StateStore(boto3.client("ssm", region_name=REGION), lc.state_parameter_name(stack_id))
    lc.apply(
        boto3.client("bedrock", region_name=REGION),
        store,
        lc.parse_properties(REQUIRED_PROPERTIES),
        physical_id="BedrockInvocationLogging-us-east-1",
        timing=lc.Timing(deadline=float("inf")),
    )
    return stack_id


def put_delivery(cloudwatch: Any, metric: str, values: list[float], hours_ago: float = 1) -> None:
    cloudwatch.put_metric_data(
        Namespace="AWS/Bedrock",
        MetricData=[
            {
                "MetricName": metric,
                "Timestamp": NOW - dt.timedelta(hours=hours_ago),
                "Value": value,
                "Unit": "Count",
            }
            for value in values
        ],
    )


def clients(service: str, region_name: str | None = None) -> Any:
    return boto3.client(service, region_name=region_name or REGION)


def run(*argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    ls.add_arguments(parser)
    printed: list[str] = []
    code = ls.run(parser.parse_args(list(argv)), client=clients, print_=printed.append)
    return code, "\n".join(printed)


def test_given_logging_off_then_status_says_off_and_exit_code_is_1(aws: None) -> None:
    code, out = run("--region", REGION)

    assert code == 1
    assert out.startswith(f"Bedrock model-invocation logging in {REGION}: OFF")


def test_given_the_stack_set_logging_then_status_says_so_and_counts_deliveries(stack: str) -> None:
    cloudwatch = clients("cloudwatch")
    put_delivery(cloudwatch, "ModelInvocationLogsCloudWatchDeliverySuccess", [5, 7])
    put_delivery(cloudwatch, "ModelInvocationLogsS3DeliverySuccess", [12])
    put_delivery(cloudwatch, "ModelInvocationLogsS3DeliverySuccess", [100], hours_ago=30)  # outside 24 h

    status = ls.logging_status(
        clients("bedrock"),
        cloudwatch,
        region=REGION,
        now=NOW,
        stack_name="usage",
        cloudformation=clients("cloudformation"),
        ssm=clients("ssm"),
    )

    assert status.owned == ls.OWNED
    assert status.healthy
    assert {d.destination: (d.delivered, d.failed) for d in status.delivery} == {
        "CloudWatch Logs": (12, 0),
        "S3": (12, 0),
        "S3 large data": (0, 0),
    }
    text = ls.format_status(status)
    assert f"CloudWatch Logs: {LOG_GROUP}" in text
    assert "Set by stack usage: yes" in text
    assert "Put back on stack delete: off" in text
    assert "CloudWatch Logs: 12 delivered, 0 failed" in text


def test_given_delivery_failures_then_unhealthy(stack: str) -> None:
    cloudwatch = clients("cloudwatch")
    put_delivery(cloudwatch, "ModelInvocationLogsS3DeliveryFailure", [3])

    status = ls.logging_status(clients("bedrock"), cloudwatch, region=REGION, now=NOW)

    assert status.owned is None  # no stack named
    assert not status.healthy
    assert "S3: 0 delivered, 3 failed" in ls.format_status(status)


def test_given_someone_replaced_the_stacks_logging_then_cli_says_not_set_by_stack(stack: str) -> None:
    clients("bedrock").put_model_invocation_logging_configuration(loggingConfig=FOREIGN_CONFIG)

    code, out = run("--region", REGION, "--stack-name", "usage", "--json")

    assert code == 1
    report = json.loads(out)
    assert report["enabled"] is True
    assert report["setByStack"] == ls.NOT_OWNED
    assert report["loggingConfig"]["cloudWatchConfig"]["logGroupName"] == "/team-a/bedrock"


def test_given_only_the_flags_were_changed_then_cli_says_same_destinations(stack: str) -> None:
    bedrock = clients("bedrock")
    config = lc.get_config(bedrock)
    assert config is not None
    bedrock.put_model_invocation_logging_configuration(
        loggingConfig={**config, "imageDataDeliveryEnabled": True}
    )

    code, out = run("--region", REGION, "--stack-name", "usage")

    assert code == 1
    assert f"Set by stack usage: {ls.SAME_DESTINATIONS}" in out


def test_given_an_unknown_stack_then_cli_reports_the_error_with_exit_code_2(aws: None) -> None:
    code, out = run("--region", REGION, "--stack-name", "nope")

    assert code == 2
    assert out.startswith("error: ValidationError on DescribeStacks")


def test_given_a_window_cloudwatch_cannot_serve_then_usage_error(aws: None) -> None:
    code, out = run("--region", REGION, "--hours", "0")

    assert code == 2
    assert "--hours" in out
