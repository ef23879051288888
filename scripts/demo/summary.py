"""Step: the same report as JSON (the CLI's contract), a short summary, and summary.json."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from scripts.demo.accounts import report_logs_source
from scripts.demo.common import REGION, Demo, Outcome, say


def step(demo: Demo) -> None:
    """The same report as JSON (the CLI's contract) and a short summary of what the demo made."""
    stack, outcome, now = demo.stack, demo.outcome, demo.now
    from bedrock_usage.model import Window
    from bedrock_usage.pipeline import ReportSettings, run_report
    from bedrock_usage.render import usd

    outcome.stack_outputs = stack.outputs()
    if outcome.report:
        window_dict = outcome.report["window"]
        window = Window(
            datetime.fromisoformat(window_dict["start"]), datetime.fromisoformat(window_dict["end"])
        )
    else:
        window = Window.last_hours(24, now.replace(minute=0))
    outcome.report_window = window
    report = run_report(
        window, ReportSettings(regions=(REGION,), logs_source=report_logs_source(demo)), now=now
    )
    path = outcome.out_dir / "report.json"
    path.write_text(json.dumps(report.to_dict(), indent=1))
    outcome.files["report.json"] = path
    totals = report.totals
    say(
        f"    window {window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M} UTC: "
        f"{totals.invocations:,} invocations, {totals.total_tokens:,} tokens "
        f"({totals.cache_read_tokens:,} read from the prompt cache), {usd(report.cost_usd)} estimated"
        + (f", {report.unpriced_invocations:,} invocations unpriced" if report.unpriced_invocations else "")
    )
    say(
        f"    errors: {totals.client_errors:,} client, {totals.server_errors:,} server; throttles are in the "
        "InvocationThrottles metric only (throttled requests are not logged)"
    )
    if report.models:
        top = max(report.models, key=lambda m: (m.cost_usd or 0, m.counts.invocations))
        say(f"    top model:  {top.model_id} - {usd(top.cost_usd)}, {top.counts.invocations:,} invocations")
    if report.callers:
        caller = max(report.callers, key=lambda c: (c.cost_usd or 0, c.counts.invocations))
        spent = f"{usd(caller.cost_usd)}, {caller.counts.invocations:,} invocations"
        say(f"    top caller: {caller.caller} - {spent}")
    for account in report.accounts:
        share = f"{account.share:.0%}" if account.share is not None else "-"
        say(
            f"    account {account.account_id}: {usd(account.cost_usd)} ({share}), "
            f"{account.counts.invocations:,} invocations"
        )


def write_summary(outcome: Outcome, **inputs: Any) -> Path:
    """What each step produced, machine-readable (the demo's test reads it)."""
    traffic = outcome.traffic
    data = {
        "inputs": {k: v.isoformat() if isinstance(v, datetime) else v for k, v in inputs.items()},
        "skipped": outcome.skipped,
        "stack_outputs": outcome.stack_outputs,
        "logging_config": outcome.logging_config,
        "cloudformation_response": outcome.cfn_response,
        "written": traffic.written if traffic else {},
        "source_accounts": outcome.source_accounts,
        "report_function": outcome.report,
        "report_window": outcome.report_window.to_dict() if outcome.report_window else None,
        "digest_subject": outcome.digest_subject,
        "alarm_subject": outcome.alarm_subject,
        "files": {name: str(path) for name, path in outcome.files.items()},
    }
    path = outcome.out_dir / "summary.json"
    path.write_text(json.dumps(data, indent=1, default=str))
    return path
