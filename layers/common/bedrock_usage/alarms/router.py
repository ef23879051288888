"""The alarm router's job: one SNS record in, exactly one email (or one logged forward) out.

The router never publishes to SNS: its input is the alert topic, and a message sent back there would
loop. When SES is not configured it only logs, because the topic's own email subscription already
carries the raw notification.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bedrock_usage.alarms.cloudwatch import alarm_started, child_alarms, top_models, widget_image
from bedrock_usage.alarms.compose import Extras, compose, console_links
from bedrock_usage.alarms.notification import (
    AlarmNotification,
    BudgetNotification,
    ForwardedNotification,
    Notification,
    parse_record,
)
from bedrock_usage.alarms.routing import Routing
from bedrock_usage.deliver import ORIGIN_ATTRIBUTE, send_email

LOG_TEXT_LIMIT = 200_000  # characters of a forwarded message written to the log (an event holds 256 KB)
_AWS_ERRORS = (BotoCoreError, ClientError)


class DeliveryError(RuntimeError):
    """At least one notification could not be emailed; raised so Lambda retries and then dead-letters."""


@dataclass(frozen=True)
class RouterConfig:
    """Settings from the environment, read once per container."""

    sender: str | None
    routing: Routing
    region: str
    dashboard: str | None = None
    log_group: str | None = None
    by_account: bool = False  # monitoring mode (SOURCE_ACCOUNTS set): name the account beside each model

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RouterConfig:
        """Read SENDER_EMAIL, ALARM_ROUTING, DASHBOARD_NAME, LOG_GROUP_NAME, AWS_REGION.

        A bad ALARM_ROUTING raises RoutingError (a ValueError) naming the bad rule.
        """
        env = os.environ if env is None else env
        return cls(
            sender=env.get("SENDER_EMAIL", "").strip() or None,
            routing=Routing.parse(env.get("ALARM_ROUTING", "")),
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            dashboard=env.get("DASHBOARD_NAME", "").strip() or None,
            log_group=env.get("LOG_GROUP_NAME", "").strip() or None,
            by_account=bool(env.get("SOURCE_ACCOUNTS", "").strip()),
        )


@dataclass(frozen=True)
class Outcome:
    """What happened to one record: 'emailed' (with the SES MessageId) or 'logged'."""

    kind: str  # alarm | resolved | budget | forwarded | digest
    action: str  # emailed | logged | failed
    sns_message_id: str
    subject: str
    recipients: tuple[str, ...] = ()
    ses_message_id: str | None = None
    note: str | None = None
    enrichment_failures: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "action": self.action,
            "snsMessageId": self.sns_message_id,
            "subject": self.subject,
            "recipients": list(self.recipients),
            "sesMessageId": self.ses_message_id,
            "note": self.note,
            "enrichmentFailures": list(self.enrichment_failures),
        }


def raw_message(record: Any) -> str:
    """The SNS Message exactly as received (or the whole record when it has none), for the log."""
    sns = record.get("Sns") if isinstance(record, dict) else None
    message = sns.get("Message") if isinstance(sns, dict) else None
    if isinstance(message, str):
        return message
    return json.dumps(record, default=str)


def origin_of(record: Any) -> str | None:
    """The ORIGIN_ATTRIBUTE this stack sets on what it publishes itself; None for anything else."""
    sns = record.get("Sns") if isinstance(record, dict) else None
    attributes = sns.get("MessageAttributes") if isinstance(sns, dict) else None
    attribute = attributes.get(ORIGIN_ATTRIBUTE) if isinstance(attributes, dict) else None
    value = attribute.get("Value") if isinstance(attribute, dict) else None
    return value if isinstance(value, str) else None


def kind_of(notification: Notification) -> str:
    if isinstance(notification, AlarmNotification):
        return "resolved" if notification.new_state == "OK" and notification.old_state == "ALARM" else "alarm"
    return "budget" if isinstance(notification, BudgetNotification) else "forwarded"


def enrich(
    cloudwatch: Any, alarm: AlarmNotification, *, now: datetime, logger: Any, by_account: bool = False
) -> Extras:
    """Models, graph and start time from CloudWatch; each failure is logged and named, never fatal."""
    missing: list[str] = []
    models = graph = started = child = None
    if alarm.new_state == "ALARM" and alarm.trigger.kind == "composite":
        try:
            child = next(iter(child_alarms(cloudwatch, alarm)), None)
        except _AWS_ERRORS as error:
            logger.warning(
                "reading the child alarms failed", extra={"alarm": alarm.name, "error": str(error)}
            )
            missing.append("the triggering child alarm's metric (CloudWatch DescribeAlarms failed)")
    measured = child or alarm  # a composite alarm is shown through its triggering child
    if alarm.new_state == "ALARM" and measured.trigger.kind != "composite":
        try:
            models = top_models(cloudwatch, measured, now=now, by_account=by_account)
        except _AWS_ERRORS as error:
            logger.warning("per-model query failed", extra={"alarm": alarm.name, "error": str(error)})
            missing.append("the per-model breakdown (CloudWatch query failed)")
        try:
            graph = widget_image(cloudwatch, measured)
        except (*_AWS_ERRORS, ValueError, KeyError) as error:
            logger.warning("metric graph failed", extra={"alarm": alarm.name, "error": str(error)})
            missing.append("the graph (CloudWatch GetMetricWidgetImage failed)")
    elif alarm.new_state == "OK" and alarm.old_state == "ALARM":
        try:
            started = alarm_started(cloudwatch, alarm.name, before=alarm.state_change_time or now)
        except _AWS_ERRORS as error:
            logger.warning("alarm history failed", extra={"alarm": alarm.name, "error": str(error)})
            missing.append("how long the alarm lasted (alarm history unavailable)")
    return Extras(models=models, graph=graph, started=started, child=child, missing=tuple(missing))


def route_record(
    record: Any,
    config: RouterConfig,
    *,
    sesv2: Any,
    cloudwatch: Any,
    logger: Any = None,
    now: datetime | None = None,
) -> Outcome:
    """Parse, route, enrich, render and send one record. SES failures are logged and re-raised."""
    logger = logger or logging.getLogger(__name__)
    now = now or datetime.now(UTC)
    if origin_of(record) == "digest":
        # The daily digest's plain-text fallback, published to the alert topic by ReportFunction. The
        # topic's email subscription already delivers it; emailing it again would send it twice.
        sns = record.get("Sns", {})
        logger.info("digest fallback on the alert topic: left to the topic's email subscription")
        return Outcome(
            "digest",
            "logged",
            str(sns.get("MessageId", "")),
            str(sns.get("Subject") or ""),
            note="digest fallback, delivered by the topic's email subscription",
        )
    notification = parse_record(record)
    recipients = config.routing.recipients_for(notification)
    envelope = notification.envelope
    alarm = notification if isinstance(notification, AlarmNotification) else None
    alarm_name = alarm.name if alarm else getattr(notification, "alarm_name", None)
    links = console_links(
        region=(alarm.region if alarm else None) or config.region,
        partition=alarm.partition if alarm else "aws",
        alarm_name=alarm_name,
        dashboard=config.dashboard,
        log_group=config.log_group,
    )
    note = notification.note if isinstance(notification, ForwardedNotification) else None
    if not config.sender or not recipients:
        why = "no SenderEmail configured" if not config.sender else "no routing rule matches and no default"
        text = raw_message(record)
        logger.warning(
            "notification logged, not emailed",
            extra={
                "why": why,
                "kind": kind_of(notification),
                "sns_message_id": envelope.message_id,
                "sns_subject": envelope.subject,
                "alarm": alarm_name,
                "note": note,
                "notification_text": text[:LOG_TEXT_LIMIT],
                "notification_text_truncated": len(text) > LOG_TEXT_LIMIT,
            },
        )
        return Outcome(kind_of(notification), "logged", envelope.message_id, envelope.subject, note=why)
    extras = (
        enrich(cloudwatch, notification, now=now, logger=logger, by_account=config.by_account)
        if isinstance(notification, AlarmNotification)
        else Extras()
    )
    email = compose(notification, links=links, extras=extras, now=now)
    try:
        message_id = send_email(
            sesv2,
            sender=config.sender,
            recipients=recipients,
            subject=email.subject,
            html=email.html,
            text=email.text,
            images=email.images,
        )
    except _AWS_ERRORS as error:
        logger.error(
            "sending the alarm email failed",
            extra={
                "sns_message_id": envelope.message_id,
                "subject": email.subject,
                "recipients": list(recipients),
                "error": str(error),
            },
        )
        raise
    logger.info(
        "alarm email sent",
        extra={"subject": email.subject, "recipients": list(recipients), "ses_message_id": message_id},
    )
    return Outcome(
        kind_of(notification),
        "emailed",
        envelope.message_id,
        email.subject,
        recipients=recipients,
        ses_message_id=message_id,
        note=note,
        enrichment_failures=extras.missing,
    )


def route_event(
    event: Any,
    config: RouterConfig,
    *,
    sesv2: Any,
    cloudwatch: Any,
    logger: Any = None,
    now: datetime | None = None,
) -> list[Outcome]:
    """Every record of an SNS-triggered Lambda event; raises DeliveryError after trying all of them."""
    logger = logger or logging.getLogger(__name__)
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list) or not records:
        # Not an SNS delivery at all (e.g. a hand-made test event): still one forward, never dropped.
        records = [event]
    outcomes: list[Outcome] = []
    failures: list[str] = []
    for record in records:
        try:
            outcomes.append(
                route_record(record, config, sesv2=sesv2, cloudwatch=cloudwatch, logger=logger, now=now)
            )
        except _AWS_ERRORS as error:
            sns = record.get("Sns", {}) if isinstance(record, dict) else {}
            message_id = str(sns.get("MessageId", "")) if isinstance(sns, dict) else ""
            failures.append(f"{message_id or '?'}: {error}")
            outcomes.append(Outcome("unknown", "failed", message_id, "", note=str(error)))
    if failures:
        raise DeliveryError(
            f"{len(failures)} of {len(records)} notification(s) not sent: " + "; ".join(failures)
        )
    return outcomes
