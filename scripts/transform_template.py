"""Transform the SAM template to plain CloudFormation, offline, so it can be linted and scanned.

`sam validate --lint` no longer runs the SAM transform, and checkov/cfn-lint on the SAM template
miss what the transform generates (function roles, schedules, permissions).

Usage: python scripts/transform_template.py template.yaml build/transformed.json
"""

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class _OfflinePolicyLoader:
    """Managed-policy name lookups would call IAM; the template uses ARNs and inline policies only."""

    def load(self) -> dict[str, str]:
        return {}


# Local artifact paths and the property that holds them; `sam package` would upload these to S3.
_LOCAL_ARTIFACTS = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Serverless::StateMachine": "DefinitionUri",
}


def _as_packaged(template: dict[str, Any]) -> None:
    """Point local artifact paths at placeholder S3 URIs, as `sam package` would (cfn-lint does the same)."""
    for resource in template.get("Resources", {}).values():
        prop = _LOCAL_ARTIFACTS.get(resource.get("Type", ""))
        props = resource.get("Properties") or {}
        if prop and isinstance(props.get(prop), str) and not props[prop].startswith("s3://"):
            props[prop] = f"s3://offline-artifacts/{props[prop].strip('/')}"


def transform_file(source: Path) -> dict[str, Any]:
    """Return the CloudFormation template SAM would deploy for `source`."""
    # The transform fills in AWS::Region; any region will do offline.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    template = yaml_parse(source.read_text())
    _as_packaged(template)
    return transform(template, {}, _OfflinePolicyLoader())  # type: ignore[arg-type]


def convert_main(argv: list[str], usage: str, convert: Callable[[Path], dict[str, Any]]) -> int:
    """`script SOURCE OUT`: write convert(SOURCE) to OUT as JSON; wrong arguments print the usage line."""
    if len(argv) != 3:
        print(usage.strip().splitlines()[-1], file=sys.stderr)
        return 2
    out = Path(argv[2])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(convert(Path(argv[1])), indent=1, default=str))
    return 0


def main(argv: list[str]) -> int:
    return convert_main(argv, __doc__ or "", transform_file)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
