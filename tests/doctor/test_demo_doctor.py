"""scripts/demo/doctor.py against an emulated stack (moto): the table is written, what moto cannot answer
is a SKIP that says why, and what it can answer is checked for real."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scripts.demo.doctor import EMULATOR_SKIPS, print_doctor
from tests.doctor.conftest import World, add_alarms, add_subscriptions, put_log_event, put_record, verify


def _rows(text: str) -> dict[str, str]:
    """First row per check id -> its line."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) > 2 and parts[0] in ("PASS", "WARN", "FAIL", "SKIP"):
            found.setdefault(parts[1], line)
    return found


def test_doctor_table_for_the_demo(world: World, tmp_path: Path) -> None:
    add_subscriptions(world)
    add_alarms(world)
    verify(world, "bedrock-usage@example.com", "finops@example.com")
    now = datetime.now(UTC)
    put_record(world, now - timedelta(minutes=10))
    put_log_event(world, now - timedelta(minutes=10))
    template = {"Resources": {lid: {"Type": kind} for lid, kind in world.types.items()}}
    # The demo's parameters live in moto's CloudFormation stack, where print_doctor reads them.
    names = ("SenderEmail", "ReportRecipients", "AlarmRouting", "BudgetAmount")
    world.client("cloudformation").create_stack(
        StackName="bedrock-usage-monitor",
        TemplateBody=json.dumps(
            {
                "Parameters": {name: {"Type": "String"} for name in names},
                "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
            }
        ),
        Parameters=[{"ParameterKey": k, "ParameterValue": world.parameters[k]} for k in names],
    )

    path = print_doctor(
        world.client, world.outputs, tmp_path, physical_ids=world.resources, template=template, now=now
    )

    assert path == tmp_path / "doctor.txt"
    rows = _rows(path.read_text())
    for check_id, reason in EMULATOR_SKIPS.items():
        assert rows[check_id].startswith("SKIP"), rows[check_id]
        assert reason in rows[check_id]
    assert rows["5b"].startswith("SKIP")  # no SES GetAccount in moto
    assert "get_account" in rows["5b"]
    assert rows["7b"].startswith("SKIP")  # no GetMetricWidgetImage in moto
    for answered in ("1", "2b", "2c", "5a", "6", "7a"):
        assert rows[answered].startswith("PASS"), rows[answered]
