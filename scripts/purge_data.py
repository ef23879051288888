"""DESTRUCTIVE: delete the invocation-log data the stack retains (S3 bucket with every version, log group).

`sam delete` keeps both on purpose. This script lists what it will delete, refuses while Bedrock is
still configured to log there, and deletes only after you type the bucket name (or pass it as --yes).

Usage: python scripts/purge_data.py [--bucket NAME | --bucket-prefix PREFIX] [--log-group NAME]
                                    [--region REGION] [--yes BUCKET_NAME]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from botocore.exceptions import ClientError

DEFAULT_BUCKET_PREFIX = "bedrock-logs"
DEFAULT_LOG_GROUP = "/aws/bedrock/modelinvocations"
DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys per call


class PurgeRefused(Exception):
    """The purge did not start: nothing was deleted."""


@dataclass(frozen=True)
class Inventory:
    """What a purge would delete."""

    bucket: str
    bucket_exists: bool
    object_versions: int
    delete_markers: int
    bytes_in_bucket: int
    log_group: str
    log_group_exists: bool
    bytes_in_log_group: int

    def describe(self) -> str:
        lines = ["This PERMANENTLY deletes (no undo, no backup):"]
        if self.bucket_exists:
            lines.append(
                f"  - S3 bucket s3://{self.bucket}: {self.object_versions} object versions "
                f"({_size(self.bytes_in_bucket)}), {self.delete_markers} delete markers, "
                "then the bucket itself"
            )
        else:
            lines.append(f"  - (S3 bucket {self.bucket} does not exist: nothing to delete)")
        if self.log_group_exists:
            lines.append(
                f"  - CloudWatch Logs log group {self.log_group} ({_size(self.bytes_in_log_group)} stored)"
            )
        else:
            lines.append(f"  - (log group {self.log_group} does not exist: nothing to delete)")
        return "\n".join(lines)


def _size(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 100_000 else f"{n} bytes"


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _versions(s3: Any, bucket: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object version and delete marker, as ("version"|"marker", entry)."""
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for entry in page.get("Versions", []):
            yield "version", entry
        for entry in page.get("DeleteMarkers", []):
            yield "marker", entry


def take_inventory(s3: Any, logs: Any, bucket: str, log_group: str) -> Inventory:
    """Count what would be deleted, without deleting anything."""
    versions = markers = size = 0
    bucket_exists = True
    try:
        for kind, entry in _versions(s3, bucket):
            if kind == "version":
                versions += 1
                size += int(entry.get("Size", 0))
            else:
                markers += 1
    except ClientError as error:
        if _error_code(error) != "NoSuchBucket":
            raise
        bucket_exists = False
    group = _find_log_group(logs, log_group)
    return Inventory(
        bucket=bucket,
        bucket_exists=bucket_exists,
        object_versions=versions,
        delete_markers=markers,
        bytes_in_bucket=size,
        log_group=log_group,
        log_group_exists=group is not None,
        bytes_in_log_group=int((group or {}).get("storedBytes", 0)),
    )


def _find_log_group(logs: Any, name: str) -> dict[str, Any] | None:
    # The prefix filter can return longer names too; only an exact match counts.
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name):
        for group in page.get("logGroups", []):
            if group["logGroupName"] == name:
                return dict(group)
    return None


def still_logging_there(bedrock: Any, bucket: str, log_group: str) -> list[str]:
    """Destinations of the account's Bedrock invocation logging (this Region) that this purge would remove."""
    config = bedrock.get_model_invocation_logging_configuration().get("loggingConfig") or {}
    cloudwatch = config.get("cloudWatchConfig") or {}
    in_use = []
    if (config.get("s3Config") or {}).get("bucketName") == bucket:
        in_use.append(f"S3 delivery to {bucket}")
    if (cloudwatch.get("largeDataDeliveryS3Config") or {}).get("bucketName") == bucket:
        in_use.append(f"large-data delivery to {bucket}")
    if cloudwatch.get("logGroupName") == log_group:
        in_use.append(f"CloudWatch Logs delivery to {log_group}")
    return in_use


def delete_all(s3: Any, logs: Any, inventory: Inventory, out: TextIO) -> None:
    """Delete every version and marker, the bucket, then the log group."""
    if inventory.bucket_exists:
        batch: list[dict[str, str]] = []
        deleted = 0
        for _, entry in _versions(s3, inventory.bucket):
            batch.append({"Key": entry["Key"], "VersionId": entry["VersionId"]})
            if len(batch) == DELETE_BATCH:
                deleted += _delete_batch(s3, inventory.bucket, batch)
                batch = []
        if batch:
            deleted += _delete_batch(s3, inventory.bucket, batch)
        s3.delete_bucket(Bucket=inventory.bucket)
        print(f"Deleted {deleted} object versions and markers, and bucket {inventory.bucket}.", file=out)
    if inventory.log_group_exists:
        try:
            logs.delete_log_group(logGroupName=inventory.log_group)
        except ClientError as error:
            if _error_code(error) != "ResourceNotFoundException":
                raise
        print(f"Deleted log group {inventory.log_group}.", file=out)


def _delete_batch(s3: Any, bucket: str, batch: list[dict[str, str]]) -> int:
    response = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
    # DeleteObjects answers 200 even when single keys fail; the failures are listed in Errors.
    errors = response.get("Errors", [])
    if errors:
        first = errors[0]
        raise RuntimeError(
            f"{len(errors)} objects could not be deleted from {bucket}; first: {first.get('Key')} "
            f"({first.get('Code')}: {first.get('Message')}). Nothing else was deleted after this batch."
        )
    return len(batch)


def purge(
    *,
    s3: Any,
    logs: Any,
    bedrock: Any,
    bucket: str,
    log_group: str,
    confirmation: str | None,
    ask: Callable[[str], str],
    out: TextIO,
) -> Inventory:
    """List, check, confirm, delete; raises PurgeRefused (nothing deleted) unless the bucket name matches."""
    in_use = still_logging_there(bedrock, bucket, log_group)
    if in_use:
        raise PurgeRefused(
            "Bedrock invocation logging still writes here (" + "; ".join(in_use) + "). Delete the stack "
            "(sam delete) or turn logging off first: a deleted bucket name can be re-created by anyone, "
            "and Bedrock would then deliver your prompts to it."
        )
    inventory = take_inventory(s3, logs, bucket, log_group)
    print(inventory.describe(), file=out)
    if not inventory.bucket_exists and not inventory.log_group_exists:
        print("Nothing to delete.", file=out)
        return inventory
    typed = confirmation if confirmation is not None else ask(f"Type the bucket name ({bucket}) to confirm: ")
    if typed.strip() != bucket:
        raise PurgeRefused("Confirmation did not match the bucket name: nothing was deleted.")
    delete_all(s3, logs, inventory, out)
    return inventory


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--bucket", help="log bucket name (default: <bucket-prefix>-<account id>)")
    which.add_argument("--bucket-prefix", default=DEFAULT_BUCKET_PREFIX, help="the stack's BucketPrefix")
    parser.add_argument("--log-group", default=DEFAULT_LOG_GROUP, help="the stack's LogGroupName")
    parser.add_argument("--region", help="Region of the stack (default: your AWS configuration)")
    parser.add_argument(
        "--yes", metavar="BUCKET_NAME", help="skip the prompt; must be exactly the bucket name being deleted"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    import boto3  # only for real runs; tests pass clients in

    args = _parse(sys.argv[1:] if argv is None else argv)
    session = boto3.session.Session(region_name=args.region)
    bucket = args.bucket or f"{args.bucket_prefix}-{session.client('sts').get_caller_identity()['Account']}"
    if args.yes is None and not sys.stdin.isatty():
        print("Refusing: no terminal to confirm on; pass --yes <bucket name>.", file=sys.stderr)
        return 1
    try:
        purge(
            s3=session.client("s3"),
            logs=session.client("logs"),
            bedrock=session.client("bedrock"),
            bucket=bucket,
            log_group=args.log_group,
            confirmation=args.yes,
            ask=input,
            out=sys.stdout,
        )
    except PurgeRefused as refused:
        print(f"Refusing: {refused}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
