"""Which log files are read, and their lines: folders that are not dates, flat S3 prefixes, blank lines."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import boto3
from bedrock_usage.collect.logfiles import collect_logfiles
from moto import mock_aws

from .helpers import SONNET45, gz_lines, record, window, write_gz

CLAUDE = f"us.{SONNET45}"
DAY = window("2026-11-27T00:00:00", "2026-11-28T00:00:00")


def test_a_folder_path_that_is_not_a_real_date_is_read_and_its_records_decide(tmp_path: Path) -> None:
    """30 February is no hour folder: the file cannot be placed in time, so it is read, not dropped."""
    write_gz(tmp_path / "2026/02/30/10/a.json.gz", [record("2026-11-27T10:00:00Z", input_tokens=8)])
    usage = collect_logfiles(str(tmp_path), DAY)
    assert usage.by_model[CLAUDE].input_tokens == 8


def test_blank_lines_at_the_start_of_a_gzip_file_do_not_hide_the_records_after_them(tmp_path: Path) -> None:
    body = "\n\n" + "".join(
        json.dumps(record(f"2026-11-27T10:00:0{i}Z", input_tokens=i)) + "\n" for i in (1, 2)
    )
    (tmp_path / "b.json.gz").write_bytes(gzip.compress(body.encode()))
    usage = collect_logfiles(str(tmp_path), DAY)
    assert (usage.by_model[CLAUDE].invocations, usage.by_model[CLAUDE].input_tokens) == (2, 1 + 2)
    assert usage.warnings == []


@mock_aws
def test_an_s3_prefix_holding_files_and_no_date_folders_is_listed_flat() -> None:
    """Log files copied into one folder (no YYYY/ folders under it): every file there is read.

    moto stands in for S3; like S3 it leaves CommonPrefixes out of a delimited listing that has none.
    """
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="bedrock-logs-test")
    for name, tokens in (("a", 3), ("b", 4)):
        body = gz_lines([record("2026-11-27T10:00:00Z", input_tokens=tokens)])
        s3.put_object(Bucket="bedrock-logs-test", Key=f"copied/{name}.json.gz", Body=body)
    usage = collect_logfiles("s3://bedrock-logs-test/copied/", DAY, s3=s3)
    assert usage.by_model[CLAUDE].input_tokens == 3 + 4
