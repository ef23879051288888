"""Delivery: SES v2 for HTML email, SNS for the plain-text fallback. Clients are passed in."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError
from botocore.exceptions import ConnectionError as NotConnectedError

SNS_SUBJECT_MAX = 99  # SNS: "must be less than 100 characters"
SNS_MESSAGE_MAX_BYTES = 262_144  # body and message attributes together (REFERENCE.md section 14.1)

# A client for sends that must not happen twice: botocore's retries would re-send a SendEmail/Publish whose
# answer was lost (read timeout, connection closed) after the service had accepted it. `send_once` retries
# only answers that say the service did not accept the request.
# botocore's `max_attempts` counts retries; `total_max_attempts` counts the first call too: 1 = no retry.
SEND_CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=5, read_timeout=20
)
# Error codes by which SES v2 / SNS say "too fast, not accepted"
# (botocore sesv2 and sns models; SNS common errors).
THROTTLE_CODES = frozenset(
    {"Throttling", "ThrottlingException", "Throttled", "TooManyRequestsException", "LimitExceededException"}
)
SEND_ATTEMPTS = 4  # the first try and up to three throttled retries
Outcome = Literal["accepted", "refused", "unknown"]


class SendUnknown(Exception):
    """The request may have reached the service, but no answer came back: it may have been accepted."""


# What a send that certainly did not go out raises: the service's error answer, no connection, or a
# request that could not be built (botocore's parameter validation, text that cannot be encoded).
SEND_REFUSED = (ClientError, BotoCoreError, ValueError, TypeError)


def send_outcome(exc: BaseException) -> Outcome:
    """Whether a failed send could have been accepted: "refused" (certainly not) or "unknown".

    An error response (ClientError) is the service saying no. A connection that was never made
    (EndpointConnectionError, ConnectTimeoutError, SSL or proxy failure) or a request that could not be built
    sent nothing. A read timeout, a closed connection or an unreadable answer came after the request left:
    the service may have accepted it.
    """
    if isinstance(exc, ClientError | NotConnectedError | ParamValidationError | ValueError | TypeError):
        return "refused"
    return "unknown"


def send_once[T](call: Callable[[], T], *, sleep: Callable[[float], None] = time.sleep) -> T:
    """Run one send; retry only throttling errors, which mean the service did not accept it.

    Raises what refused it (one of SEND_REFUSED), or SendUnknown when the outcome cannot be known.
    """
    for attempt in range(SEND_ATTEMPTS):
        try:
            return call()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code not in THROTTLE_CODES or attempt == SEND_ATTEMPTS - 1:
                raise
            sleep(0.5 * 2**attempt)  # 0.5, 1, 2 s: SES's sandbox rate is 1 message per second
        except (BotoCoreError, ValueError, TypeError) as exc:
            if send_outcome(exc) == "refused":
                raise
            raise SendUnknown(str(exc)) from exc
    raise AssertionError("unreachable")  # pragma: no cover


def topic_subscriptions(sns: Any, topic_arn: str) -> list[dict[str, Any]]:
    """Every subscription of the topic, all pages (SNS returns 100 a page)."""
    pages = sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn)
    return [subscription for page in pages for subscription in page.get("Subscriptions", [])]


def confirmed_email_subscriptions(sns: Any, topic_arn: str) -> int:
    """How many people the topic reaches by email: confirmed `email`/`email-json` subscriptions.

    A subscription not yet confirmed has SubscriptionArn "PendingConfirmation" and receives nothing
    (SNS ListSubscriptionsByTopic; REFERENCE.md section 7).
    """
    return sum(
        1
        for subscription in topic_subscriptions(sns, topic_arn)
        if subscription.get("Protocol") in ("email", "email-json")
        and str(subscription.get("SubscriptionArn", "")).startswith("arn:")
    )


@dataclass(frozen=True)
class InlineImage:
    """An image shown in the HTML as <img src="cid:{content_id}">."""

    content_id: str
    data: bytes
    filename: str = "image.png"
    content_type: str = "image/png"


def send_email(
    sesv2: Any,
    *,
    sender: str,
    recipients: Sequence[str],
    subject: str,
    html: str,
    text: str,
    images: Sequence[InlineImage] = (),
    configuration_set: str | None = None,
) -> str:
    """Send one HTML+text email with SES v2 Simple content; returns the SES MessageId.

    Raises botocore's ClientError as SES does (MessageRejected, throttling after the SDK's
    retries, unverified addresses in the sandbox); the caller decides on a fallback.
    """
    if not recipients:
        raise ValueError("no recipients")
    message: dict[str, Any] = {
        "Subject": {"Data": subject, "Charset": "UTF-8"},
        "Body": {"Html": {"Data": html, "Charset": "UTF-8"}, "Text": {"Data": text, "Charset": "UTF-8"}},
    }
    if images:
        message["Attachments"] = [
            {
                "RawContent": image.data,
                "FileName": image.filename,
                "ContentType": image.content_type,
                "ContentDisposition": "INLINE",
                "ContentId": image.content_id,
                "ContentTransferEncoding": "BASE64",
            }
            for image in images
        ]
    request: dict[str, Any] = {
        "FromEmailAddress": sender,
        "Destination": {"ToAddresses": list(recipients)},
        "Content": {"Simple": message},
    }
    if configuration_set:
        request["ConfigurationSetName"] = configuration_set
    return str(sesv2.send_email(**request)["MessageId"])


def sns_subject(subject: str) -> str:
    """An SNS-safe subject: one line of printable ASCII, under 100 characters.

    SNS rejects subjects with line breaks or control characters, non-ASCII text, or 100+ characters.
    """
    ascii_only = subject.encode("ascii", errors="replace").decode("ascii")
    flat = " ".join("".join(ch if ch.isprintable() else " " for ch in ascii_only).split()) or "(no subject)"
    return flat if len(flat) <= SNS_SUBJECT_MAX else flat[: SNS_SUBJECT_MAX - 3] + "..."


def sns_message(text: str, *, reserved_bytes: int = 0) -> str:
    """Trim `text` to SNS's 256 KB limit (UTF-8 bytes) less `reserved_bytes`, saying so at the end when cut.

    `reserved_bytes` is what the message attributes take: SNS counts them toward the same limit.
    """
    limit = SNS_MESSAGE_MAX_BYTES - reserved_bytes
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    note = "\n\n[truncated to fit the 256 KB SNS limit]"
    keep = limit - len(note.encode("utf-8"))
    return data[:keep].decode("utf-8", errors="ignore") + note


def attributes_bytes(attributes: dict[str, dict[str, str]]) -> int:
    """What message attributes add to an SNS message's size: each name, data type and value, in UTF-8."""
    return sum(
        len(name.encode()) + len(spec["DataType"].encode()) + len(spec.get("StringValue", "").encode())
        for name, spec in attributes.items()
    )


# Message attribute that marks what this stack published itself, so its own subscribers can tell.
ORIGIN_ATTRIBUTE = "bedrock_usage_origin"


def publish_text(sns: Any, *, topic_arn: str, subject: str, text: str, origin: str | None = None) -> str:
    """Publish a plain-text message to an SNS topic (email subscribers get it as is).

    `origin`, when given, travels as the ORIGIN_ATTRIBUTE message attribute.
    """
    # A lone surrogate (possible in JSON read from logs) cannot be encoded as UTF-8: SNS would never get it.
    text = text.encode("utf-8", errors="replace").decode("utf-8")
    attributes = {ORIGIN_ATTRIBUTE: {"DataType": "String", "StringValue": origin}} if origin else {}
    request: dict[str, Any] = {
        "TopicArn": topic_arn,
        "Subject": sns_subject(subject),
        "Message": sns_message(text, reserved_bytes=attributes_bytes(attributes)),
    }
    if attributes:
        request["MessageAttributes"] = attributes
    return str(sns.publish(**request)["MessageId"])
