"""`bedrock-usage doctor` against the demo's emulated stack: writes build/demo/doctor.txt.

The demo runs it as a step (`step`), inside the emulator, after the alarm step. Checks the emulator (moto)
cannot answer are shown as SKIP with the reason; a real account answers them (README: Check a deploy).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bedrock_usage.doctor.command import format_text, run_doctor
from bedrock_usage.doctor.core import Context, StackInfo

STACK_NAME = "bedrock-usage-monitor"

# Checks moto answers with made-up or empty data; the APIs moto lacks altogether (SES GetAccount,
# GetMetricWidgetImage) become SKIP rows on their own, with the API named.
EMULATOR_SKIPS = {
    "2a": "the demo writes the log files itself; Bedrock's delivery metrics exist only in a real account",
    "3": "moto does not run Logs Insights queries (no parse, coalesce or sort); a real account does",
    "8a": "moto answers Cost Explorer with made-up figures; reachability is known only in a real account",
    "9": "the demo runs ReportFunction in-process, so Lambda publishes no AWS/Lambda metrics for it",
}


def _parameters(client: Callable[[str], Any], stack_name: str) -> dict[str, str]:
    """The stack's parameters as moto's CloudFormation holds them (empty when it has no such stack)."""
    with contextlib.suppress(Exception):  # the demo's stack may be created without moto's CloudFormation
        stack = client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
        return {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    return {}


def print_doctor(
    client: Callable[[str], Any],
    stack_outputs: Mapping[str, str],
    out_dir: Path,
    *,
    stack_name: str = STACK_NAME,
    physical_ids: Mapping[str, str] | None = None,
    template: Mapping[str, Any] | None = None,
    region: str = "us-east-1",
    now: datetime | None = None,
) -> Path:
    """Run every doctor check (no --send-test) against the emulated stack; print and write the table.

    `client(service)` makes a client in the emulator; `physical_ids` and `template` (the transformed
    template) tell the doctor the stack's alarms and functions, as ListStackResources does on AWS.
    """
    resources = dict(physical_ids or {})
    declared = (template or {}).get("Resources", {})
    types = {lid: declared[lid].get("Type", "") for lid in resources if lid in declared}
    stack = StackInfo(stack_name, dict(stack_outputs), _parameters(client, stack_name), resources, types)
    ctx = Context(client, stack, region, (now or datetime.now(UTC)).astimezone(UTC), sleep=lambda _: None)
    rows = run_doctor(ctx, skip=EMULATOR_SKIPS)
    text = format_text(rows, stack=stack_name, region=region)
    text += (
        "\nSKIP rows are what the emulator cannot answer; on a real deploy run "
        f"`bedrock-usage doctor --stack {stack_name} --region {region}`.\n"
    )
    path = Path(out_dir) / "doctor.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(text, end="", flush=True)
    return path


def step(demo: Any) -> None:
    """The demo's doctor step: the table for the emulated stack, in build/demo/doctor.txt."""
    from scripts.demo.emulator import client

    stack = demo.stack
    demo.outcome.files["doctor.txt"] = print_doctor(
        client,
        stack.outputs(),
        demo.outcome.out_dir,
        physical_ids=stack.physical_ids,
        template=stack.template,
        now=demo.now,
    )
