"""Expand a packaged source-account template to plain CloudFormation for a service-managed StackSet.

StackSets with service-managed permissions do not accept templates that use a transform (CloudFormation
user guide, "Overview of CloudFormation macros"), and Lambda reads its code from a bucket in its own Region.
So: `sam package` uploads the code once, this script runs the SAM transform offline and points every code
location at `<ArtifactBucketPrefix>-<Region>`, a bucket per Region holding the same objects (README, Many
accounts, copies them).

Usage: python scripts/stackset_template.py build/source.packaged.yaml build/source.stackset.json
"""

from __future__ import annotations

import sys
from typing import Any

from scripts.transform_template import convert_main, transform_file

CODE_PROPERTY = {"AWS::Lambda::Function": "Code", "AWS::Lambda::LayerVersion": "Content"}
PREFIX_PARAMETER = "ArtifactBucketPrefix"


def regional_code(template: dict[str, Any]) -> dict[str, Any]:
    """The template with each Lambda code bucket replaced by `${ArtifactBucketPrefix}-${AWS::Region}`."""
    found = 0
    for resource in template.get("Resources", {}).values():
        prop = CODE_PROPERTY.get(resource.get("Type", ""))
        location = (resource.get("Properties") or {}).get(prop or "")
        if isinstance(location, dict) and "S3Bucket" in location:
            location["S3Bucket"] = {"Fn::Sub": f"${{{PREFIX_PARAMETER}}}-${{AWS::Region}}"}
            found += 1
    if not found:
        raise ValueError("no Lambda code in S3 found: give the template `sam package` wrote")
    template.setdefault("Parameters", {})[PREFIX_PARAMETER] = {
        "Type": "String",
        "AllowedPattern": "[a-z0-9][a-z0-9.-]{1,40}",
        "Description": "Code buckets are <prefix>-<Region>, one per Region, readable by the organization.",
    }
    return template


def main(argv: list[str]) -> int:
    return convert_main(argv, __doc__ or "", lambda source: regional_code(transform_file(source)))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
