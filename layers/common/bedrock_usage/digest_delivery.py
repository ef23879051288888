"""How one digest reaches a person: SES HTML email, else plain text to the alert topic's email subscribers.

A digest counts as delivered only when a person receives it: SES accepted it, or SNS accepted it for a topic
with at least one confirmed email subscription. No send is ever repeated when its answer was lost.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from .deliver import (
    SEND_REFUSED,
    SendUnknown,
    confirmed_email_subscriptions,
    publish_text,
    send_email,
    send_once,
)
from .digest import Digest
from .send_ledger import LedgerEntry

log = logging.getLogger(__name__)

DIGEST_ORIGIN = "digest"  # ORIGIN_ATTRIBUTE value on the SNS fallback

DELIVERED = "delivered"
POSSIBLY_DELIVERED = "possibly_delivered"
UNDELIVERED = "undelivered"
DRY_RUN = "dry_run"


@dataclass(frozen=True)
class Delivery:
    """How the digest went out, or why it did not."""

    status: str  # DELIVERED, POSSIBLY_DELIVERED, UNDELIVERED or DRY_RUN
    channel: str  # "ses", "sns" or "none"
    message_id: str | None = None
    recipients: tuple[str, ...] = ()
    fallback_reason: str | None = None  # why the HTML email was not sent
    reason: str | None = None  # why possibly delivered / undelivered


class AlreadyClaimed(Exception):
    """Another run of this window began sending first: this one must not send."""

    def __init__(self, entry: LedgerEntry) -> None:
        super().__init__(f"{entry.status} since {entry.started_at}")
        self.entry = entry


def deliver_digest(
    digest: Digest,
    *,
    sender: str | None,
    recipients: tuple[str, ...],
    topic_arn: str | None,
    sesv2: Callable[[], Any],
    sns: Callable[[], Any],
    claim: Callable[[], LedgerEntry | None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    """SES when a sender and recipients are configured; otherwise, or when SES refuses, SNS text.

    `sesv2`/`sns` are client factories (use deliver.SEND_CLIENT_CONFIG: no SDK retries). `claim`, when
    given, is called just before the first send: it writes the "sending" marker and returns the earlier
    run's record when there is one (then AlreadyClaimed is raised and nothing is sent).
    """

    def before_send() -> None:
        if claim is not None and (entry := claim()) is not None:
            raise AlreadyClaimed(entry)

    if sender and recipients:
        before_send()
        ses = sesv2()
        try:
            message_id = send_once(
                lambda: send_email(
                    ses,
                    sender=sender,
                    recipients=recipients,
                    subject=digest.subject,
                    html=digest.html,
                    text=digest.text,
                ),
                sleep=sleep,
            )
            return Delivery(DELIVERED, "ses", message_id, recipients)
        except SendUnknown as exc:
            return Delivery(
                POSSIBLY_DELIVERED,
                "ses",
                recipients=recipients,
                reason=f"SES's answer was lost ({exc}); it may have accepted the email: not sent again",
            )
        except SEND_REFUSED as exc:
            reason = _reason("SES", exc)
            log.warning("SES did not accept the digest", extra={"fallback_reason": reason})
    else:
        reason = "no SenderEmail configured" if not sender else "no ReportRecipients configured"
        log.info(
            "no email configuration: the digest goes to the alert topic", extra={"fallback_reason": reason}
        )

    if not topic_arn:
        return Delivery(UNDELIVERED, "none", fallback_reason=reason, reason=f"{reason}, and no alert topic")
    client = sns()
    try:
        people = confirmed_email_subscriptions(client, topic_arn)
    except (ClientError, BotoCoreError) as exc:
        return Delivery(
            UNDELIVERED,
            "none",
            fallback_reason=reason,
            reason=f"{reason}, and the alert topic's subscriptions could not be read: {_reason('SNS', exc)}",
        )
    if not people:
        return Delivery(
            UNDELIVERED,
            "none",
            fallback_reason=reason,
            reason=(
                f"{reason}, and the alert topic has no confirmed email subscription, so no person would "
                "receive it (set AlertEmail and confirm the subscription email AWS sends)"
            ),
        )
    before_send()
    try:
        message_id = send_once(
            lambda: publish_text(
                client,
                topic_arn=topic_arn,
                subject=digest.subject,
                text=fallback_text(digest, reason),
                # the alarm router on the same topic leaves it to the email subscription
                origin=DIGEST_ORIGIN,
            ),
            sleep=sleep,
        )
    except SendUnknown as exc:
        return Delivery(
            POSSIBLY_DELIVERED,
            "sns",
            fallback_reason=reason,
            reason=f"SNS's answer was lost ({exc}); it may have accepted the message: not sent again",
        )
    except SEND_REFUSED as exc:
        return Delivery(
            UNDELIVERED,
            "none",
            fallback_reason=reason,
            reason=f"{reason}, and the alert topic did not accept it either: {_reason('SNS', exc)}",
        )
    return Delivery(DELIVERED, "sns", message_id, (), reason)


def fallback_text(digest: Digest, reason: str) -> str:
    """The plain-text digest for the alert topic, saying why the HTML email was not sent."""
    return (
        f"This is the plain-text Bedrock usage digest. The HTML email was not sent: {reason}.\n"
        "To get the HTML digest, set the SenderEmail and ReportRecipients stack parameters and verify the "
        "addresses in Amazon SES.\n\n" + digest.text
    )


def _reason(service: str, exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{service} {error.get('Code', 'error')}: {error.get('Message', '')}".strip()
    if isinstance(exc, BotoCoreError) and not isinstance(exc, ParamValidationError):
        return f"{service} unreachable: {exc}"
    return f"{service} request could not be built: {exc}"
