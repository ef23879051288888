"""The alarm router's job: one SNS record in, exactly one email (or one logged forward) out.

When SES is not configured the router only logs, because then the topic's own email subscription to
AlertEmail carries every raw notification. With SES configured, AlertEmail gets the readable email
instead, so a person receives one email per alarm, not two; its subscription then carries only what this
stack marks for it (ORIGIN_ATTRIBUTE "digest" or "ses-failed", by a subscription filter policy).

When SES refuses an email (sandbox, unverified identity, throttling past the SDK's retries), the router
publishes the notification as received back to the alert topic marked "ses-failed" (FALLBACK_TOPIC_ARN):
only AlertEmail's filtered subscription receives it, and the router logs, never re-sends, what it marked
itself, so nothing loops and the alarm still reaches a person.

No record can make another one fail: whatever reading or rendering one record raises, that record is
forwarded as received, with a note saying why, and the next record is handled as usual.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bedrock_usage.alarms.compose import Email, Extras, compose, console_links, plain_forward, scrub
from bedrock_usage.alarms.enrich import Deadline, enrich
from bedrock_usage.alarms.location import partition_of
from bedrock_usage.alarms.notification import (
    AlarmNotification,
    BudgetNotification,
    ForwardedNotification,
    Notification,
    parse_record,
)
from bedrock_usage.alarms.routing import Routing, RoutingError, is_address
from bedrock_usage.deliver import ORIGIN_ATTRIBUTE, publish_text, send_email

LOG_TEXT_LIMIT = 200_000  # characters of a forwarded message written to the log (an event holds 256 KB)
_AWS_ERRORS = (BotoCoreError, ClientError)
SES_FAILED_ORIGIN = (
    "ses-failed"  # ORIGIN_ATTRIBUTE on what the router republishes for AlertEmail's subscription
)


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
    alert_email: str | None = None  # gets whatever no routing rule (and no `default`) claims
    # the alert topic, when AlertEmail's (filtered) subscription there can take what SES refused
    fallback_topic: str | None = None
    by_account: bool = False  # monitoring mode (SOURCE_ACCOUNTS set): name the account beside each model

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RouterConfig:
        """Read SENDER_EMAIL, ALARM_ROUTING, ALERT_EMAIL, FALLBACK_TOPIC_ARN, DASHBOARD_NAME, LOG_GROUP_NAME,
        AWS_REGION.

        A bad ALARM_ROUTING or ALERT_EMAIL raises RoutingError (a ValueError) naming the bad part.
        """
        env = os.environ if env is None else env
        alert_email = env.get("ALERT_EMAIL", "").strip() or None
        if alert_email and not is_address(alert_email):
            raise RoutingError(f"ALERT_EMAIL {alert_email!r} is not an email address")
        return cls(
            sender=env.get("SENDER_EMAIL", "").strip() or None,
            routing=Routing.parse(env.get("ALARM_ROUTING", "")),
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            dashboard=env.get("DASHBOARD_NAME", "").strip() or None,
            log_group=env.get("LOG_GROUP_NAME", "").strip() or None,
            alert_email=alert_email,
            fallback_topic=env.get("FALLBACK_TOPIC_ARN", "").strip() or None,
            by_account=bool(env.get("SOURCE_ACCOUNTS", "").strip()),
        )

    def recipients_for(self, notification: Notification | None) -> tuple[str, ...]:
        """The routing rule's addresses; else AlertEmail (so an empty AlarmRouting sends all to it)."""
        found = (
            self.routing.recipients_for(notification) if notification is not None else self.routing.default
        )
        return found or ((self.alert_email,) if self.alert_email else ())


@dataclass(frozen=True)
class Outcome:
    """What happened to one record: 'emailed' (with the SES MessageId) or 'logged'."""

    kind: str  # alarm | resolved | budget | forwarded | digest
    action: str  # emailed | logged | republished (to AlertEmail after SES refused) | failed
    sns_message_id: str
    subject: str
    recipients: tuple[str, ...] = ()
    ses_message_id: str | None = None
    note: str | None = None
    enrichment_failures: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The handler's result for this record; every string encodable, so Lambda can return it."""
        return {
            "kind": self.kind,
            "action": self.action,
            "snsMessageId": scrub(self.sns_message_id),
            "subject": scrub(self.subject),
            "recipients": list(self.recipients),
            "sesMessageId": self.ses_message_id,
            "note": scrub(self.note) if self.note else None,
            "enrichmentFailures": [scrub(item) for item in self.enrichment_failures],
        }


def raw_message(record: Any) -> str:
    """The SNS Message exactly as received (or the whole record when it has none), for the log."""
    sns = record.get("Sns") if isinstance(record, dict) else None
    message = sns.get("Message") if isinstance(sns, dict) else None
    if isinstance(message, str):
        return message
    try:
        return json.dumps(record, default=str)
    except (TypeError, ValueError, RecursionError):
        return repr(record)[:LOG_TEXT_LIMIT]


def origin_of(record: Any) -> str | None:
    """The ORIGIN_ATTRIBUTE this stack sets on what it publishes itself; None for anything else."""
    sns = record.get("Sns") if isinstance(record, dict) else None
    attributes = sns.get("MessageAttributes") if isinstance(sns, dict) else None
    attribute = attributes.get(ORIGIN_ATTRIBUTE) if isinstance(attributes, dict) else None
    value = attribute.get("Value") if isinstance(attribute, dict) else None
    return value if isinstance(value, str) else None


def _envelope_field(record: Any, key: str) -> str:
    sns = record.get("Sns") if isinstance(record, dict) else None
    value = sns.get(key) if isinstance(sns, dict) else None
    return scrub(value) if isinstance(value, str) else ""


def kind_of(notification: Notification) -> str:
    if isinstance(notification, AlarmNotification):
        return "resolved" if notification.new_state == "OK" and notification.old_state == "ALARM" else "alarm"
    return "budget" if isinstance(notification, BudgetNotification) else "forwarded"


@dataclass
class _Batch:
    """What one invocation shares between its records: the deadline, and whether CloudWatch stalled."""

    deadline: Deadline
    cloudwatch_stalled: bool = False


def _send(
    sesv2: Any, config: RouterConfig, recipients: tuple[str, ...], email: Email, sns_id: str, logger: Any
) -> str:
    assert config.sender  # callers check
    try:
        return send_email(
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
                "sns_message_id": scrub(sns_id),
                "subject": email.subject,
                "recipients": list(recipients),
                "error": str(error),
            },
        )
        raise


def _log_only(
    record: Any, kind: str, why: str, *, note: str | None, alarm: str | None, logger: Any
) -> Outcome:
    text = scrub(raw_message(record))
    logger.warning(
        "notification logged, not emailed",
        extra={
            "why": why,
            "kind": kind,
            "sns_message_id": _envelope_field(record, "MessageId"),
            "sns_subject": _envelope_field(record, "Subject"),
            "alarm": scrub(alarm) if alarm else None,
            "note": scrub(note) if note else None,
            "notification_text": text[:LOG_TEXT_LIMIT],
            "notification_text_truncated": len(text) > LOG_TEXT_LIMIT,
        },
    )
    return Outcome(
        kind, "logged", _envelope_field(record, "MessageId"), _envelope_field(record, "Subject"), note=why
    )


def _not_emailed_because(config: RouterConfig, recipients: tuple[str, ...]) -> str | None:
    if not config.sender:
        return "no SenderEmail configured"
    if not recipients:
        return "no routing rule matches, and no default or AlertEmail"
    return None


def route_record(
    record: Any,
    config: RouterConfig,
    *,
    sesv2: Any,
    cloudwatch: Any,
    logger: Any = None,
    now: datetime | None = None,
    batch: _Batch | None = None,
    still_to_send: int = 1,
) -> Outcome:
    """Parse, route, enrich (within the deadline), render and send one record.

    SES failures are logged and re-raised; anything else a hostile record raises is left to `route_event`.
    """
    logger = logger or logging.getLogger(__name__)
    now = now or datetime.now(UTC)
    batch = batch or _Batch(Deadline(60.0))
    if origin_of(record) == "digest":
        return _digest_fallback(record, config, sesv2=sesv2, logger=logger, now=now)
    if origin_of(record) == SES_FAILED_ORIGIN:
        # Published by this router after SES refused it; AlertEmail's subscription delivers it. Never again.
        logger.info(
            "the router's own forward of a notification SES refused: left to AlertEmail's subscription"
        )
        return Outcome(
            "forwarded",
            "logged",
            _envelope_field(record, "MessageId"),
            _envelope_field(record, "Subject"),
            note="forward of a notification SES refused, delivered by AlertEmail's subscription",
        )
    notification = parse_record(record)
    recipients = config.recipients_for(notification)
    envelope = notification.envelope
    alarm = notification if isinstance(notification, AlarmNotification) else None
    alarm_name = alarm.name if alarm else getattr(notification, "alarm_name", None)
    note = notification.note if isinstance(notification, ForwardedNotification) else None
    why = _not_emailed_because(config, recipients)
    if why:
        return _log_only(record, kind_of(notification), why, note=note, alarm=alarm_name, logger=logger)
    # The ARN's partition and region only when they are real (notification.arn_location); else ours.
    region, partition = (
        (alarm.region, alarm.partition)
        if alarm and alarm.region
        else (config.region, partition_of(config.region))
    )
    links = console_links(
        region=region,
        partition=partition,
        alarm_name=alarm_name,
        dashboard=config.dashboard,
        log_group=config.log_group,
    )
    extras = Extras()
    if alarm:
        extras, timed_out = enrich(
            cloudwatch,
            alarm,
            now=now,
            logger=logger,
            budget_seconds=batch.deadline.enrichment_budget(still_to_send),
            skip_reason="CloudWatch did not answer for an earlier notification"
            if batch.cloudwatch_stalled
            else None,
            by_account=config.by_account,
        )
        batch.cloudwatch_stalled = batch.cloudwatch_stalled or timed_out
    email = compose(notification, links=links, extras=extras, now=now)
    message_id = _send(sesv2, config, recipients, email, envelope.message_id, logger)
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


def _digest_fallback(record: Any, config: RouterConfig, *, sesv2: Any, logger: Any, now: datetime) -> Outcome:
    """ReportFunction's plain-text digest, published to the alert topic when it could not use SES.

    When AlertEmail is subscribed (raw without SenderEmail, filtered to "digest"/"ses-failed" with it),
    that subscription delivers it, so it is only logged; otherwise the router emails it to `default`.
    """
    sns_id, subject = _envelope_field(record, "MessageId"), _envelope_field(record, "Subject")
    recipients = config.recipients_for(None)
    if not config.sender or not recipients or config.fallback_topic:
        logger.info("digest fallback on the alert topic: left to the topic's email subscription")
        return Outcome(
            "digest",
            "logged",
            sns_id,
            subject,
            note="digest fallback, delivered by the topic's email subscription",
        )
    note = "The daily digest's plain-text fallback (ReportFunction published it to the alert topic)."
    email = plain_forward(raw_message(record), note=note, subject=subject or "Bedrock usage digest", now=now)
    email = replace(email, subject=email.subject.removeprefix("Forwarded notification: "))
    message_id = _send(sesv2, config, recipients, email, sns_id, logger)
    return Outcome(
        "digest", "emailed", sns_id, email.subject, recipients=recipients, ses_message_id=message_id
    )


def forward_unprocessable(
    record: Any, config: RouterConfig, error: BaseException, *, sesv2: Any, logger: Any, now: datetime
) -> Outcome:
    """A record whose reading or rendering raised: forwarded as received (template-free), with a note."""
    note = (
        f"This notification could not be processed ({type(error).__name__}); it is forwarded as received. "
        "The alarm router's log has the details."
    )
    recipients = config.recipients_for(None)
    why = _not_emailed_because(config, recipients)
    if why:
        return _log_only(record, "forwarded", why, note=note, alarm=None, logger=logger)
    sns_id = _envelope_field(record, "MessageId")
    email = plain_forward(
        raw_message(record),
        note=note,
        subject=_envelope_field(record, "Subject") or "unreadable notification",
        now=now,
    )
    message_id = _send(sesv2, config, recipients, email, sns_id, logger)
    return Outcome(
        "forwarded",
        "emailed",
        sns_id,
        email.subject,
        recipients=recipients,
        ses_message_id=message_id,
        note=note,
    )


def forward_after_ses_failure(
    record: Any, config: RouterConfig, error: BaseException, *, sns: Any, logger: Any
) -> Outcome | None:
    """SES refused this record's email: publish it as received for AlertEmail's filtered subscription.

    None when there is no such subscription (no FALLBACK_TOPIC_ARN); a failed publish raises.
    """
    if not config.fallback_topic or sns is None:
        return None
    sns_id = _envelope_field(record, "MessageId")
    subject = _envelope_field(record, "Subject") or "Bedrock usage monitor notification"
    text = (
        f"The Bedrock usage monitor could not email this notification through SES ({type(error).__name__}: "
        f"{scrub(str(error))[:500]}). It is forwarded as received. Check SenderEmail in SES (verified "
        "identity, sandbox recipients) and the alarm router's log.\n\n--- Message as received ---\n"
        + scrub(raw_message(record))
    )
    message_id = publish_text(
        sns,
        topic_arn=config.fallback_topic,
        subject=f"Not emailed: {subject}",
        text=text,
        origin=SES_FAILED_ORIGIN,
    )
    logger.warning(
        "SES refused the email; the notification went to AlertEmail's subscription instead",
        extra={"sns_message_id": sns_id, "forward_message_id": message_id},
    )
    return Outcome(
        "forwarded", "republished", sns_id, subject, note="SES refused it; forwarded raw to AlertEmail"
    )


def route_event(
    event: Any,
    config: RouterConfig,
    *,
    sesv2: Any,
    cloudwatch: Any,
    sns: Any = None,
    logger: Any = None,
    now: datetime | None = None,
    deadline: Deadline | None = None,
) -> list[Outcome]:
    """Every record of an SNS-triggered Lambda event; raises DeliveryError after trying all of them.

    `deadline` (from the Lambda context) bounds the optional CloudWatch extras so every email still goes.
    """
    logger = logger or logging.getLogger(__name__)
    now = now or datetime.now(UTC)
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list) or not records:
        # Not an SNS delivery at all (e.g. a hand-made test event): still one forward, never dropped.
        records = [event]
    batch = _Batch(deadline or Deadline(60.0))
    outcomes: list[Outcome] = []
    failures: list[str] = []
    for index, record in enumerate(records):
        message_id = _envelope_field(record, "MessageId")
        common: dict[str, Any] = {"sesv2": sesv2, "logger": logger, "now": now}
        try:
            try:
                outcome = route_record(
                    record,
                    config,
                    cloudwatch=cloudwatch,
                    batch=batch,
                    still_to_send=len(records) - index,
                    **common,
                )
            except _AWS_ERRORS:
                raise
            except Exception as error:  # reported, and the record still forwarded raw
                logger.exception(
                    "notification could not be processed; forwarding it as received",
                    extra={"sns_message_id": message_id, "error": f"{type(error).__name__}: {error}"[:2000]},
                )
                outcome = forward_unprocessable(record, config, error, **common)
            outcomes.append(outcome)
        except _AWS_ERRORS as error:  # SES refused: AlertEmail's subscription takes it raw, when there is one
            failure: Exception = error
            try:
                fallback = forward_after_ses_failure(record, config, error, sns=sns, logger=logger)
            except Exception as publish_error:
                logger.exception(
                    "forwarding to the alert topic failed too", extra={"sns_message_id": message_id}
                )
                failure, fallback = publish_error, None
            if fallback is not None:
                outcomes.append(fallback)
                continue
            logger.exception("notification not delivered", extra={"sns_message_id": message_id})
            failures.append(f"{message_id or '?'}: {type(failure).__name__}: {failure}"[:1000])
            outcomes.append(Outcome("unknown", "failed", message_id, "", note=str(failure)[:1000]))
        except Exception as error:  # this record failed; the others still go, then Lambda retries
            logger.exception("notification not delivered", extra={"sns_message_id": message_id})
            failures.append(f"{message_id or '?'}: {type(error).__name__}: {error}"[:1000])
            outcomes.append(Outcome("unknown", "failed", message_id, "", note=str(error)[:1000]))
    if failures:
        raise DeliveryError(
            f"{len(failures)} of {len(records)} notification(s) not sent: " + "; ".join(failures)
        )
    return outcomes
