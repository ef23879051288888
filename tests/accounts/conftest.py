"""Both templates, transformed offline once per session (the same transform `make template-check` runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse

from scripts.transform_template import transform_file

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCE_TEMPLATE = REPO_ROOT / "source-account.yaml"
MAIN_TEMPLATE = REPO_ROOT / "template.yaml"


@pytest.fixture(scope="session")
def source_sam() -> dict[str, Any]:
    return yaml_parse(SOURCE_TEMPLATE.read_text())


@pytest.fixture(scope="session")
def main_sam() -> dict[str, Any]:
    return yaml_parse(MAIN_TEMPLATE.read_text())


@pytest.fixture(scope="session")
def source_cfn() -> dict[str, Any]:
    return transform_file(SOURCE_TEMPLATE)


@pytest.fixture(scope="session")
def main_cfn() -> dict[str, Any]:
    return transform_file(MAIN_TEMPLATE)
