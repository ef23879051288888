"""The emails the functions sent through the emulated SES, written to build/demo/ as .html, .txt and .eml."""

from __future__ import annotations

import email.policy
import email.utils
from datetime import UTC, datetime
from email.message import EmailMessage, MIMEPart
from pathlib import Path
from typing import Any

from scripts.demo.common import REGION, DemoError, Outcome
from scripts.demo.emulator import account_id, client


def sent_messages() -> list[Any]:
    """Every message the emulated SES has accepted so far, oldest first."""
    from moto.ses.models import ses_backends

    return list(ses_backends[account_id()][REGION].sent_messages)


def write_email(request: dict[str, Any], stored: Any, out: Path, stem: str, outcome: Outcome) -> None:
    """Write <stem>.html (as the emulator stored it), .txt and .eml (the MIME message SES builds)."""
    simple = request["Content"]["Simple"]
    html, text = simple["Body"]["Html"]["Data"], simple["Body"].get("Text", {}).get("Data", "")
    if stored.body != html:
        raise DemoError(f"the emulator stored a different HTML body than {stem} sent")
    message = EmailMessage(policy=email.policy.default)  # LF line ends: a file on disk, not an SMTP session
    message["From"] = request["FromEmailAddress"]
    message["To"] = ", ".join(request["Destination"].get("ToAddresses", []))
    message["Subject"] = simple["Subject"]["Data"]
    message["Date"] = email.utils.format_datetime(datetime.now(UTC))
    message["Message-ID"] = f"<{stored.id}@email.amazonses.com>"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    html_part = message.get_body(preferencelist=("html",))
    if not isinstance(html_part, MIMEPart):
        raise DemoError(f"could not build the MIME message of {stem}")
    for attachment in simple.get("Attachments", []):
        maintype, _, subtype = attachment.get("ContentType", "application/octet-stream").partition("/")
        html_part.add_related(
            attachment["RawContent"].encode("latin-1"),
            maintype,
            subtype,
            cid=f"<{attachment.get('ContentId', attachment['FileName'])}>",
            filename=attachment["FileName"],
        )
    out.mkdir(parents=True, exist_ok=True)
    for suffix, content in ((".html", html), (".txt", text), (".eml", message.as_string())):
        path = out / f"{stem}{suffix}"
        path.write_text(content, encoding="utf-8")
        outcome.files[f"{stem}{suffix}"] = path


def verify_identities(*addresses: str) -> None:
    """Verify sender and recipients: in the SES sandbox (and in moto) both must be verified identities."""
    sesv2 = client("sesv2")
    for address in addresses:
        sesv2.create_email_identity(EmailIdentity=address)
