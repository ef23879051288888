"""Step: ReportFunction with events/24h.json; the digest it emails, written to build/demo/digest.*."""

from __future__ import annotations

import datetime as dt
import json
from datetime import UTC, datetime

from scripts.demo.accounts import report_logs_source
from scripts.demo.common import REPO, Demo, DemoError, say, skip
from scripts.demo.emulator import captured_ses_requests
from scripts.demo.functions import stack_function
from scripts.demo.mail import sent_messages, verify_identities, write_email


def step(demo: Demo) -> None:
    """Run ReportFunction with events/24h.json and write the email it sent to build/demo/digest.*."""
    stack, outcome, log, now = demo.stack, demo.outcome, demo.log, demo.now
    function = stack_function(stack, "ReportFunction", log)
    event_file = REPO / "events" / "24h.json"
    if function is None or not event_file.exists():
        skip(outcome, "ReportFunction", "the function or events/24h.json is missing")
        return
    # moto does not aggregate Logs Insights queries (stats ... by) or compute percentiles, so the CloudWatch
    # path would show wrong numbers; the log-file collector reads the same records from the bucket instead.
    # With source accounts it has no cross-account observability either: their buckets are read too.
    function.env["LOGS_SOURCE"] = report_logs_source(demo)
    say(
        "    the emulator cannot run Logs Insights aggregations or metric percentiles"
        + (", nor link accounts (OAM, Metrics Insights)" if outcome.source_accounts else "")
        + f": the report reads the log files (LOGS_SOURCE={function.env['LOGS_SOURCE']}) instead"
    )
    sender, recipients = function.env.get("SENDER_EMAIL", ""), function.env.get("REPORT_RECIPIENTS", "")
    if sender:
        verify_identities(sender, *[r.strip() for r in recipients.replace(";", ",").split(",") if r.strip()])
    event = json.loads(event_file.read_text())
    if datetime.now(UTC) - now > dt.timedelta(hours=1):
        # Traffic that ends in the past (--now): report the hours that end where it ends.
        event["until"] = now.replace(minute=0, second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
        say(f'    --now is in the past: the event gets "until": "{event["until"]}"')
    before = len(sent_messages())
    with captured_ses_requests() as requests:
        result = function.invoke(event)
    outcome.report = result
    say(
        f"    ReportFunction: {result.get('invocations', 0):,} invocations, "
        f"${result.get('cost_usd', 0):,.2f} estimated, delivered via {result.get('delivered_via')} "
        f"to {', '.join(result.get('recipients', [])) or '-'}"
    )
    if result.get("data_source_failures"):
        failed = ", ".join(result["data_source_failures"])
        say(f"    data sources that failed (the digest says so too): {failed}")
    sent = sent_messages()[before:]
    if result.get("delivered_via") != "ses" or not sent or not requests:
        raise DemoError(
            f"ReportFunction did not send the digest through SES: {result.get('fallback_reason')}"
        )
    outcome.digest_subject = requests[-1]["Content"]["Simple"]["Subject"]["Data"]
    write_email(requests[-1], sent[-1], outcome.out_dir, "digest", outcome)
    say(f"    subject: {outcome.digest_subject}")
