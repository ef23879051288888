"""scripts/purge_data.py against moto: it lists, refuses without the exact bucket name, then deletes all."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from scripts import purge_data
from scripts.purge_data import PurgeRefused, purge

BUCKET = "bedrock-logs-123456789012"  # moto's account id
LOG_GROUP = "/aws/bedrock/modelinvocations"
PREFIX = "AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1/2026/11/28/07/"


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    """A retained bucket (versioned, overwritten and deleted objects) and log group, as after `sam delete`."""
    with mock_aws():
        clients = {name: boto3.client(name, region_name="us-east-1") for name in ("s3", "logs", "bedrock")}
        s3, logs = clients["s3"], clients["logs"]
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        for n in range(3):
            s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}{n}.json.gz", Body=b"x" * 100)
        s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}0.json.gz", Body=b"y" * 50)  # a second version
        s3.delete_object(Bucket=BUCKET, Key=f"{PREFIX}1.json.gz")  # a delete marker
        logs.create_log_group(logGroupName=LOG_GROUP)
        logs.create_log_group(logGroupName=LOG_GROUP + "-other")  # same prefix, must survive
        yield clients


def run(aws: dict[str, Any], answer: str | None = None, confirmation: str | None = None) -> tuple[Any, str]:
    out = io.StringIO()
    asked: list[str] = []

    def ask(prompt: str) -> str:
        asked.append(prompt)
        assert answer is not None, "the script asked although a confirmation was given"
        return answer

    inventory = purge(
        s3=aws["s3"],
        logs=aws["logs"],
        bedrock=aws["bedrock"],
        bucket=BUCKET,
        log_group=LOG_GROUP,
        confirmation=confirmation,
        ask=ask,
        out=out,
    )
    return inventory, out.getvalue()


def bucket_exists(s3: Any) -> bool:
    try:
        s3.head_bucket(Bucket=BUCKET)
    except ClientError:
        return False
    return True


def log_groups(logs: Any) -> set[str]:
    return {g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]}


def test_typing_the_bucket_name_deletes_every_version_the_bucket_and_the_log_group(aws):
    inventory, output = run(aws, answer=BUCKET)

    assert (inventory.object_versions, inventory.delete_markers) == (4, 1)
    assert "4 object versions" in output
    assert "1 delete markers" in output
    assert LOG_GROUP in output
    assert not bucket_exists(aws["s3"])
    assert log_groups(aws["logs"]) == {LOG_GROUP + "-other"}


@pytest.mark.parametrize("answer", ["", "yes", BUCKET + "x"])
def test_anything_but_the_exact_bucket_name_deletes_nothing(aws, answer):
    with pytest.raises(PurgeRefused):
        run(aws, answer=answer)

    assert bucket_exists(aws["s3"])
    versions = aws["s3"].list_object_versions(Bucket=BUCKET)
    assert len(versions["Versions"]) == 4
    assert LOG_GROUP in log_groups(aws["logs"])


def test_a_confirmation_given_up_front_must_also_be_the_exact_bucket_name(aws):
    with pytest.raises(PurgeRefused):
        run(aws, confirmation="yes")
    assert bucket_exists(aws["s3"])

    run(aws, confirmation=BUCKET)
    assert not bucket_exists(aws["s3"])


@pytest.mark.parametrize(
    "logging_config",
    [
        {"s3Config": {"bucketName": BUCKET}},
        {"cloudWatchConfig": {"logGroupName": LOG_GROUP, "roleArn": "arn:aws:iam::123456789012:role/r"}},
        {
            "cloudWatchConfig": {
                "logGroupName": "/elsewhere",
                "roleArn": "arn:aws:iam::123456789012:role/r",
                "largeDataDeliveryS3Config": {"bucketName": BUCKET},
            }
        },
    ],
)
def test_refuses_while_bedrock_still_logs_to_the_bucket_or_log_group(aws, logging_config):
    """A deleted bucket name can be re-created by another account; Bedrock would deliver prompts to it."""
    aws["bedrock"].put_model_invocation_logging_configuration(loggingConfig=logging_config)

    with pytest.raises(PurgeRefused, match="still writes here"):
        run(aws, answer=BUCKET)
    assert bucket_exists(aws["s3"])
    assert LOG_GROUP in log_groups(aws["logs"])


def test_deletes_in_batches_when_there_are_more_than_a_thousand_versions(aws, monkeypatch):
    monkeypatch.setattr(purge_data, "DELETE_BATCH", 2)  # same code path as 1000, without 1000 uploads

    inventory, output = run(aws, answer=BUCKET)

    assert "Deleted 5 object versions and markers" in output
    assert inventory.object_versions + inventory.delete_markers == 5
    assert not bucket_exists(aws["s3"])


def test_a_missing_bucket_still_lets_the_log_group_go(aws):
    s3 = aws["s3"]
    listing = s3.list_object_versions(Bucket=BUCKET)
    for entry in listing.get("Versions", []) + listing.get("DeleteMarkers", []):
        s3.delete_object(Bucket=BUCKET, Key=entry["Key"], VersionId=entry["VersionId"])
    s3.delete_bucket(Bucket=BUCKET)

    _, output = run(aws, answer=BUCKET)

    assert "does not exist" in output
    assert log_groups(aws["logs"]) == {LOG_GROUP + "-other"}


def test_nothing_to_delete_asks_nothing(aws):
    run(aws, answer=BUCKET)

    _, output = run(aws)  # ask() would fail the test if called

    assert "Nothing to delete." in output


def test_command_line_defaults_to_the_stack_names_and_requires_the_exact_name_with_yes(aws, capsys):
    assert purge_data.main(["--region", "us-east-1", "--yes", "bedrock-logs"]) == 1
    assert "did not match" in capsys.readouterr().err
    assert bucket_exists(aws["s3"])

    assert purge_data.main(["--region", "us-east-1", "--yes", BUCKET]) == 0
    assert not bucket_exists(aws["s3"])
    assert LOG_GROUP not in log_groups(aws["logs"])
