"""Delivery: SES v2 for HTML email, SNS for the plain-text fallback. Clients are passed in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

SNS_SUBJECT_MAX = 99  # SNS: "must be less than 100 characters"
SNS_MESSAGE_MAX_BYTES = 262_144


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


def sns_message(text: str) -> str:
    """Trim `text` to fit SNS's 256 KB limit (UTF-8 bytes), saying so at the end when cut."""
    data = text.encode("utf-8")
    if len(data) <= SNS_MESSAGE_MAX_BYTES:
        return text
    note = "\n\n[truncated to fit the 256 KB SNS limit]"
    keep = SNS_MESSAGE_MAX_BYTES - len(note.encode("utf-8"))
    return data[:keep].decode("utf-8", errors="ignore") + note


# Message attribute that marks what this stack published itself, so its own subscribers can tell.
ORIGIN_ATTRIBUTE = "bedrock_usage_origin"


def publish_text(sns: Any, *, topic_arn: str, subject: str, text: str, origin: str | None = None) -> str:
    """Publish a plain-text message to an SNS topic (email subscribers get it as is).

    `origin`, when given, travels as the ORIGIN_ATTRIBUTE message attribute.
    """
    request: dict[str, Any] = {
        "TopicArn": topic_arn,
        "Subject": sns_subject(subject),
        "Message": sns_message(text),
    }
    if origin:
        request["MessageAttributes"] = {ORIGIN_ATTRIBUTE: {"DataType": "String", "StringValue": origin}}
    return str(sns.publish(**request)["MessageId"])
