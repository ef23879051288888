"""ReportFunction's job: parse the event, build the report, render the digest, deliver it at most once.

The window a run reports on is derived deterministically, so that a retry reports the same window:
- `since`/`until` in the event: exactly that window.
- otherwise the window ends at the schedule's `scheduled_time` (EventBridge Scheduler puts
  `<aws.scheduler.scheduled-time>` in the Input; it is the same on every retry of one run) or, without it,
  at the current time - in both cases truncated to the hour - and is `hours` long (default 24).
  Truncating to the hour also leaves CloudWatch a few minutes to settle the last datapoints.
Exactly once: send_ledger.SendLedger, keyed on (window, recipients), writes a "sending" marker just before
the send and the MessageId after it. A retry finding the MessageId replays the stored result; a retry finding
only the marker sends nothing and reports "possibly delivered". A send that certainly failed removes the
marker, so the retry sends.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Protocol

from .deliver import SEND_CLIENT_CONFIG
from .digest import Digest, dashboard_link, insights_link, render_digest
from .digest_delivery import (
    DELIVERED,
    DRY_RUN,
    POSSIBLY_DELIVERED,
    UNDELIVERED,
    AlreadyClaimed,
    Delivery,
    deliver_digest,
)
from .model import Report, Window, iso
from .send_ledger import SENT, LedgerEntry, SendLedger

log = logging.getLogger(__name__)

MAX_HOURS = (
    24 * 93
)  # about a quarter: beyond it Cost Explorer/CloudWatch daily data and the email stop being useful
SES_MAX_RECIPIENTS = 50  # SES: at most 50 recipients per message
EVENT_KEYS = {"hours", "since", "until", "recipients", "dry_run", "scheduled_time", "attempt"}
_EMAIL = re.compile(r"^[^@\s,;<>\"']+@[^@\s,;<>\"']+\.[^@\s,;<>\"']+$")


class EventError(ValueError):
    """The invocation event is not something this function can run; nothing was called."""


class ConfigError(ValueError):
    """An environment variable is missing or malformed."""


# ---------------------------------------------------------------------------------------------- event


@dataclass(frozen=True)
class ReportJob:
    """What one invocation asks for."""

    window: Window
    recipients: tuple[str, ...] | None = None  # None: the configured ReportRecipients
    dry_run: bool = False
    scheduled: bool = False


def parse_event(event: Any, *, now: datetime | None = None) -> ReportJob:
    """Validate the invocation event and derive the window; raises EventError with a clear message."""
    if event is None:
        event = {}
    if not isinstance(event, Mapping):
        raise EventError(f'event must be a JSON object like {{"hours": 24}}, got {type(event).__name__}')
    unknown = sorted(set(event) - EVENT_KEYS)
    if unknown:
        raise EventError(f"unknown event key(s) {unknown}; allowed: {sorted(EVENT_KEYS)}")

    hours_given = "hours" in event
    hours = _hours(event.get("hours", 24))
    since = _moment(event, "since")
    until = _moment(event, "until")
    scheduled = _moment(event, "scheduled_time")
    if since and until and hours_given:
        raise EventError("give at most two of 'since', 'until' and 'hours'")
    if since and until:
        start, end = since, until
    elif since:
        start, end = since, since + timedelta(hours=hours)
    elif until:
        start, end = until - timedelta(hours=hours), until
    else:
        anchor = scheduled or (now or datetime.now(UTC))
        end = anchor.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        start = end - timedelta(hours=hours)
    if start >= end:
        raise EventError(f"'since' ({iso(start)}) must be before 'until' ({iso(end)})")
    if end - start > timedelta(hours=MAX_HOURS):
        raise EventError(f"window of {(end - start) / timedelta(hours=1):g} h is longer than {MAX_HOURS} h")

    dry_run = event.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise EventError(f"'dry_run' must be true or false, got {dry_run!r}")
    recipients = None
    if "recipients" in event:
        recipients = parse_recipients(event["recipients"], what="event 'recipients'")
        if not recipients:
            raise EventError("event 'recipients' is empty; leave it out to use the configured recipients")
    return ReportJob(Window(start, end), recipients, dry_run, scheduled is not None)


def _hours(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EventError(f"'hours' must be a number of hours like 24, got {value!r}")
    if not 0 < value <= MAX_HOURS:
        raise EventError(f"'hours' must be more than 0 and at most {MAX_HOURS}, got {value!r}")
    return float(value)


def _moment(event: Mapping[str, Any], key: str) -> datetime | None:
    value = event.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise EventError(f"'{key}' must be an ISO-8601 string like 2026-11-28T06:00:00Z, got {value!r}")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise EventError(
            f"'{key}' is not an ISO-8601 time: {value!r} (expected e.g. 2026-11-28T06:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        raise EventError(f"'{key}' needs a time zone, e.g. {value}Z for UTC")
    return moment.astimezone(UTC)


def parse_recipients(value: Any, *, what: str, error: type[ValueError] = EventError) -> tuple[str, ...]:
    """A list of addresses, or one string separated by commas/semicolons/spaces; each checked."""
    if isinstance(value, str):
        items = [p for p in re.split(r"[,;\s]+", value) if p]
    elif isinstance(value, list | tuple) and all(isinstance(p, str) for p in value):
        items = [p.strip() for p in value if p.strip()]
    else:
        raise error(f"{what} must be a list of email addresses, got {value!r}")
    bad = [p for p in items if not _EMAIL.match(p)]
    if bad:
        raise error(f"{what}: not an email address: {', '.join(repr(b) for b in bad[:3])}")
    if len(items) > SES_MAX_RECIPIENTS:
        raise error(f"{what}: {len(items)} addresses; SES takes at most {SES_MAX_RECIPIENTS} per message")
    return tuple(dict.fromkeys(items))  # de-duplicated, order kept


# --------------------------------------------------------------------------------------------- config


@dataclass(frozen=True)
class ReportConfig:
    """ReportFunction's settings, from its environment variables (template.yaml sets them)."""

    region: str
    regions: tuple[str, ...]
    sender: str | None = None
    recipients: tuple[str, ...] = ()
    topic_arn: str | None = None
    log_group: str | None = "/aws/bedrock/modelinvocations"
    logs_source: str | None = None
    cost_explorer: bool = False
    # COST_ALLOCATION_TAG_KEYS: principal tag keys, billed cost per value
    cost_allocation_tags: tuple[str, ...] = ()
    cur_table: str | None = None  # CUR_TABLE: "database.table" of the CUR 2.0 export (CurExport)
    cur_workgroup: str | None = None  # CUR_WORKGROUP: its Athena workgroup
    budget_usd: Decimal | None = None
    price_overrides: str | None = None
    dashboard_name: str | None = None
    idempotency_table: str | None = None
    top_n: int = 10
    # AWS Price List cache: PRICE_CACHE (file path, s3://bucket/key or "off"); by default a file in the
    # function's /tmp, so a warm container fetches the Price List at most once a day.
    price_cache: str | None = None
    linked_accounts: bool = False  # SOURCE_ACCOUNTS set: monitoring mode (template SourceAccounts)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ReportConfig:
        """Parse the environment once; every problem is named in one ConfigError."""
        env = os.environ if env is None else env
        problems: list[str] = []

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        region = get("AWS_REGION") or get("AWS_DEFAULT_REGION")
        if not region:
            problems.append("AWS_REGION is not set")
            region = "us-east-1"
        regions = tuple(r for r in re.split(r"[,\s]+", get("REPORT_REGIONS") or region) if r)
        bad_regions = [r for r in regions if not re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-\d", r)]
        if bad_regions:
            problems.append(f"REPORT_REGIONS: not a region: {', '.join(bad_regions)}")

        sender = get("SENDER_EMAIL")
        if sender and not _EMAIL.match(sender):
            problems.append(f"SENDER_EMAIL is not an email address: {sender!r}")
        recipients: tuple[str, ...] = ()
        try:
            recipients = parse_recipients(
                get("REPORT_RECIPIENTS") or "", what="REPORT_RECIPIENTS", error=ConfigError
            )
        except ConfigError as exc:
            problems.append(str(exc))
        topic_arn = get("ALERT_TOPIC_ARN")
        if topic_arn and not topic_arn.startswith("arn:"):
            problems.append(f"ALERT_TOPIC_ARN is not an ARN: {topic_arn!r}")
        if not topic_arn and not (sender and recipients):
            problems.append(
                "nowhere to deliver: set SENDER_EMAIL and REPORT_RECIPIENTS (email) "
                "or ALERT_TOPIC_ARN (fallback)"
            )

        cost_explorer_raw = (get("COST_EXPLORER") or "false").lower()
        if cost_explorer_raw not in ("true", "false"):
            problems.append(f"COST_EXPLORER must be true or false, got {cost_explorer_raw!r}")
        budget = None
        if raw := get("BUDGET_USD"):
            try:
                budget = Decimal(raw)
                if not budget.is_finite() or budget < 0:
                    raise InvalidOperation
            except InvalidOperation:
                problems.append(f"BUDGET_USD must be a non-negative amount, got {raw!r}")
                budget = None
        top_n = 10
        if raw := get("TOP_N"):
            if raw.isdigit() and 1 <= int(raw) <= 100:
                top_n = int(raw)
            else:
                problems.append(f"TOP_N must be a whole number from 1 to 100, got {raw!r}")
        if problems:
            raise ConfigError("ReportFunction configuration: " + "; ".join(problems))
        return cls(
            region=region,
            regions=regions,
            sender=sender,
            recipients=recipients,
            topic_arn=topic_arn,
            log_group=get("LOG_GROUP_NAME"),
            logs_source=get("LOGS_SOURCE"),
            cost_explorer=cost_explorer_raw == "true",
            cur_table=get("CUR_TABLE"),
            cur_workgroup=get("CUR_WORKGROUP"),
            cost_allocation_tags=tuple(
                dict.fromkeys(
                    k.strip() for k in (get("COST_ALLOCATION_TAG_KEYS") or "").split(",") if k.strip()
                )
            ),
            budget_usd=budget or None,  # BudgetAmount 0 means "no budget"
            price_overrides=get("PRICE_OVERRIDES"),
            dashboard_name=get("DASHBOARD_NAME"),
            # `sam local invoke` resolves !Ref to the logical ID, not the deployed table; a hand run is
            # deliberate, so it is not deduplicated.
            idempotency_table=None if get("AWS_SAM_LOCAL") == "true" else get("IDEMPOTENCY_TABLE"),
            top_n=top_n,
            price_cache=get("PRICE_CACHE")
            or str(Path(tempfile.gettempdir()) / "bedrock-usage" / "prices.json"),
            linked_accounts=bool(get("SOURCE_ACCOUNTS")),
        )


# ------------------------------------------------------------------------------------------------ job


def allowed_recipients(requested: tuple[str, ...] | None, configured: tuple[str, ...]) -> tuple[str, ...]:
    """The event's `recipients` when each is one of the configured ReportRecipients (in their spelling).

    Whoever may invoke the function must not be able to mail the digest (callers, costs) elsewhere.
    """
    if requested is None:
        return configured
    spelled = {address.lower(): address for address in configured}
    outside = [address for address in requested if address.lower() not in spelled]
    if outside:
        raise EventError(
            "event 'recipients' may only name addresses in ReportRecipients "
            f"({', '.join(configured) or 'none configured'}); not allowed: {', '.join(outside[:3])}"
        )
    return tuple(spelled[address.lower()] for address in requested)


class ReportBuilder(Protocol):
    def __call__(
        self,
        window: Window,
        config: ReportConfig,
        *,
        session: Any,
        now: datetime | None,
        sleep: Callable[[float], None],
    ) -> Report: ...


def pipeline_report(
    window: Window,
    config: ReportConfig,
    *,
    session: Any,
    now: datetime | None,
    sleep: Callable[[float], None],
) -> Report:
    """The real report: bedrock_usage.pipeline.run_report with settings from the config."""
    from .pipeline import ReportSettings, run_report  # the engine; imported when a report is built

    settings = ReportSettings(
        regions=config.regions,
        log_group=config.log_group,
        logs_source=config.logs_source,
        cost_explorer=config.cost_explorer,
        cost_allocation_tags=config.cost_allocation_tags,
        cur_table=config.cur_table,
        cur_workgroup=config.cur_workgroup,
        budget_usd=config.budget_usd,
        price_overrides=config.price_overrides,
        price_cache=config.price_cache,
        publish_cost_metric=True,
        linked_accounts=config.linked_accounts,
    )
    return run_report(window, settings, session=session, now=now, sleep=sleep)


def run_job(
    job: ReportJob,
    config: ReportConfig,
    *,
    session: Any = None,
    build_report: ReportBuilder = pipeline_report,
    now: datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
    lambda_context: Any = None,
) -> dict[str, Any]:
    """Build, render and deliver one digest at most once; returns a JSON-able summary.

    `status` in the result: delivered, possibly_delivered (an earlier or this run may have sent it; it is
    not sent again), undelivered (no person got it; the caller should fail the invocation) or dry_run.
    `replayed` is true when an earlier run's record answered and nothing was built or sent.
    """
    recipients = allowed_recipients(job.recipients, config.recipients)  # before any AWS call
    if session is None:
        import boto3

        session = boto3.session.Session(region_name=config.region)
    ledger = None
    if config.idempotency_table and not job.dry_run:
        ledger = SendLedger(
            session.client("dynamodb", region_name=config.region),
            config.idempotency_table,
            {"window": job.window.to_dict(), "recipients": sorted(recipients)},
            run_id=str(getattr(lambda_context, "aws_request_id", None) or uuid.uuid4()),
        )
        if (entry := ledger.read()) is not None:
            return replayed_result(entry, job, ledger.id)
    elif not job.dry_run:
        log.warning("no IDEMPOTENCY_TABLE: a retry of this window would send the digest again")

    report = build_report(job.window, config, session=session, now=now, sleep=sleep)
    digest = render_digest(
        report,
        dashboard_url=dashboard_link(config.region, config.dashboard_name) if config.dashboard_name else None,
        insights_url=insights_link(config.region, config.log_group, job.window.hours)
        if config.log_group
        else None,
        top_n=config.top_n,
    )
    if job.dry_run:
        return {**summary(report, digest, Delivery(DRY_RUN, "none"), dry_run=True), "replayed": False}
    try:
        delivery = deliver_digest(
            digest,
            sender=config.sender,
            recipients=recipients,
            topic_arn=config.topic_arn,
            sesv2=lambda: session.client("sesv2", region_name=config.region, config=SEND_CLIENT_CONFIG),
            sns=lambda: session.client("sns", region_name=config.region, config=SEND_CLIENT_CONFIG),
            claim=ledger.claim if ledger else None,
            sleep=sleep,
        )
    except AlreadyClaimed as exc:  # another run of this window got to the send first
        return replayed_result(exc.entry, job, ledger.id if ledger else None)
    result = {
        **summary(report, digest, delivery, dry_run=False),
        "replayed": False,
        "record_id": ledger.id if ledger else None,
    }
    if ledger is not None:
        if delivery.status == DELIVERED and delivery.message_id:
            ledger.record_sent(delivery.message_id, result)
        elif delivery.status == UNDELIVERED:
            ledger.release()  # nothing went out: the retry must be free to send
        # POSSIBLY_DELIVERED keeps the marker: no later run sends this window again.
    return result


def replayed_result(entry: LedgerEntry, job: ReportJob, record_id: str | None) -> dict[str, Any]:
    """What a run returns when an earlier run's record (`record_id` in the table) answers for it."""
    if entry.status == SENT and entry.result:
        return {**entry.result, "replayed": True, "record_id": record_id}
    return {
        "window": job.window.to_dict(),
        "status": POSSIBLY_DELIVERED,
        "status_reason": (
            f"a run of this window began sending at {entry.started_at} and recorded no answer "
            f"(it may have stopped before or after the service accepted it); not sent again"
        ),
        "delivered_via": "unknown",
        "message_id": None,
        "replayed": True,
        "record_id": record_id,
        "dry_run": False,
    }


def summary(report: Report, digest: Digest, delivery: Delivery, *, dry_run: bool) -> dict[str, Any]:
    """What the invocation returns and logs (JSON-able; stored in the exactly-once record)."""
    result: dict[str, Any] = {
        "window": report.window.to_dict(),
        "status": delivery.status,
        "status_reason": delivery.reason,
        "subject": digest.subject,
        "html_bytes": digest.html_bytes,
        "text_bytes": len(digest.text.encode("utf-8")),
        "delivered_via": delivery.channel,
        "message_id": delivery.message_id,
        "recipients": list(delivery.recipients),
        "fallback_reason": delivery.fallback_reason,
        "data_source_failures": [f.source for f in report.failures],
        "invocations": report.totals.invocations,
        "cost_usd": float(report.cost_usd),
        "unpriced_invocations": report.unpriced_invocations,
        # the "Worth doing" findings (README, Findings): how many, the largest, and the kinds not computed
        "findings": len(report.findings),
        "top_finding": report.findings[0].title if report.findings else None,
        "findings_not_computed": sorted(report.findings_not_computed),
        "dry_run": dry_run,
    }
    if dry_run:
        result["text"] = digest.text  # a hand run (sam local invoke) shows the digest it would send
    return result
