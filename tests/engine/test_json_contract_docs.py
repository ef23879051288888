"""The README documents every key of the JSON contract (README section `json`)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from bedrock_usage.analyze import build_report
from bedrock_usage.model import Counts, Latency, Usage
from bedrock_usage.price import Pricer

from ..conftest import REPO_ROOT
from .helpers import ALICE, NOVA_LITE, at, window


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_every_json_key_is_in_the_readme() -> None:
    w = window("2026-11-19T12:00:00", "2026-11-20T12:00:00")
    usage = Usage(window=w, source="log-files")
    usage.caller(ALICE, NOVA_LITE).add(Counts(invocations=1, input_tokens=10))
    usage.model(NOVA_LITE).add(Counts(invocations=1, input_tokens=10))
    usage.latency[NOVA_LITE] = Latency(average_ms=1.0)
    usage.day(date(2026, 11, 19), NOVA_LITE).add(Counts(invocations=1))
    report = build_report(
        usage,
        pricer=Pricer(),
        previous=Usage(window=w.previous(), source="log-files"),
        now=at("2026-11-20T12:00:00"),
    )
    report.budget_usd = Decimal(1)
    data = report.to_dict()
    data.pop("errors_by_code")  # its keys are error codes, not contract keys
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("<!-- section: json -->", 1)[1].split("<!-- section:", 1)[0]
    documented = set(re.findall(r"`([a-z_0-9]+)(?:\[\])?`", section)) | set(
        re.findall(r"[{,]\s*([a-z_0-9]+)", section)
    )
    missing = sorted(_keys(data) - documented)
    assert missing == []
