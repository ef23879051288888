"""Where an alarm lives: partition and Region, taken only from a real-looking ARN.

A notification's AlarmArn is text anyone who can publish to the topic controls; its Region becomes part of
a console link's host name, so only a real Region code of a known partition is accepted.
"""

from __future__ import annotations

import re

# A region code as AWS writes them (us-east-1, us-gov-west-1, cn-northwest-1, ap-southeast-4). Anything
# else in an ARN is forged or broken, and must never become part of a link's host name.
REGION_PATTERN = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
# Partition -> the region prefix its regions carry ("" = any region outside the other two partitions).
_PARTITION_PREFIX = {"aws": "", "aws-cn": "cn-", "aws-us-gov": "us-gov-"}


def partition_of(region: str) -> str:
    """The partition a (valid) region code belongs to: cn-* -> aws-cn, us-gov-* -> aws-us-gov, else aws."""
    for partition, prefix in _PARTITION_PREFIX.items():
        if prefix and region.startswith(prefix):
            return partition
    return "aws"


def arn_location(arn: str | None) -> tuple[str | None, str | None]:
    """(partition, region) of an ARN when both are real and agree; (None, None) for anything else.

    The caller then falls back to the function's own Region, so a forged AlarmArn cannot steer links.
    """
    parts = (arn or "").split(":")
    if len(parts) < 6 or parts[0] != "arn":
        return None, None
    partition, region = parts[1], parts[3]
    if partition not in _PARTITION_PREFIX or not REGION_PATTERN.fullmatch(region):
        return None, None
    if partition_of(region) != partition:
        return None, None
    return partition, region
