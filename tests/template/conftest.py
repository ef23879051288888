"""The SAM template as CloudFormation will see it: transformed once per session, offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse

from scripts.transform_template import transform_file

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = REPO_ROOT / "template.yaml"


@pytest.fixture(scope="session")
def sam_template() -> dict[str, Any]:
    """template.yaml as written (Globals, Serverless types)."""
    return yaml_parse(TEMPLATE.read_text())


@pytest.fixture(scope="session")
def cfn() -> dict[str, Any]:
    """The transformed template, the same one `make template-check` lints and scans."""
    return transform_file(TEMPLATE)


@pytest.fixture(scope="session")
def resources(cfn: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return cfn["Resources"]
