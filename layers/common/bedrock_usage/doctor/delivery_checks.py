"""Checks 5 and 6, and --send-test: SES can send the digest, the alert topic reaches people and the
router, and one marked test message goes down each real path."""

from __future__ import annotations

import html
import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bedrock_usage.deliver import publish_text, topic_subscriptions
from bedrock_usage.digest import Digest
from bedrock_usage.digest_delivery import POSSIBLY_DELIVERED, UNDELIVERED, deliver_digest
from bedrock_usage.doctor.core import FAIL, PASS, SKIP, WARN, Check, Context, describe_error, error_code
from bedrock_usage.report_job import parse_recipients

TEST_ALARM = "Bedrock-DoctorTest"
PENDING = "PendingConfirmation"


def _recipients(ctx: Context) -> tuple[str, ...]:
    text = ctx.stack.parameter("ReportRecipients")
    return parse_recipients(text, what="ReportRecipients", error=ValueError) if text else ()


def _identity_verified(sesv2: Any, address: str) -> tuple[bool, str]:
    """Is the address, or else its domain, a verified SES identity? (verified?, what was found)"""
    for identity in (address, address.rsplit("@", 1)[-1]):
        try:
            found = sesv2.get_email_identity(EmailIdentity=identity)
        except ClientError as exc:
            if error_code(exc) == "NotFoundException":
                continue
            raise
        # VerifiedForSendingStatus is what SES enforces; VerificationStatus is the identity's own state.
        ok = bool(found.get("VerifiedForSendingStatus")) or found.get("VerificationStatus") == "SUCCESS"
        return ok, f"{identity} {found.get('VerificationStatus', 'unknown status')}"
    return False, f"{address} is not an SES identity"


def check_ses_identities(ctx: Context) -> Check:
    """5a. SenderEmail (and, for the sandbox, each recipient) is a verified SES identity."""
    name = "SES identities"
    sender = ctx.stack.parameter("SenderEmail")
    if not sender:
        return Check(
            "5a",
            name,
            SKIP,
            "no SenderEmail: the digest goes to the alert topic as plain text and alarm emails are not sent",
            "set SenderEmail (and ReportRecipients, AlarmRouting) for HTML email",
        )
    sesv2 = ctx.client("sesv2")
    ok, seen = _identity_verified(sesv2, sender)
    if not ok:
        return Check(
            "5a",
            name,
            FAIL,
            f"sender {seen}",
            f"verify {sender} (or its domain) in the SES console, Region {ctx.region}",
        )
    unverified = []
    for recipient in _recipients(ctx):
        verified, _ = _identity_verified(sesv2, recipient)
        if not verified:
            unverified.append(recipient)
    seen = f"sender {seen}"
    if unverified:
        # Only a problem in the sandbox; 5b says whether the account is in it.
        return Check(
            "5a",
            name,
            PASS,
            f"{seen}; recipients not verified: {', '.join(unverified)} (fine outside the sandbox, see 5b)",
        )
    return Check("5a", name, PASS, seen)


def check_ses_account(ctx: Context) -> Check:
    """5b. Sending is enabled, and the account is out of the sandbox (or every recipient is verified)."""
    name = "SES account"
    if not ctx.stack.parameter("SenderEmail"):
        return Check("5b", name, SKIP, "no SenderEmail: SES is not used")
    sesv2 = ctx.client("sesv2")
    account = sesv2.get_account()
    quota = account.get("SendQuota", {})
    seen = (
        f"sending {'enabled' if account.get('SendingEnabled') else 'DISABLED'}; "
        f"{'production' if account.get('ProductionAccessEnabled') else 'sandbox'}; "
        f"sent {quota.get('SentLast24Hours', 0):g} of {quota.get('Max24HourSend', 0):g} in 24 h"
    )
    if not account.get("SendingEnabled"):
        return Check("5b", name, FAIL, seen, f"SES sending is paused for this account in {ctx.region}")
    if not account.get("ProductionAccessEnabled"):
        unverified = [r for r in _recipients(ctx) if not _identity_verified(sesv2, r)[0]]
        if unverified:
            return Check(
                "5b",
                name,
                FAIL,
                f"{seen}; in the sandbox SES refuses unverified recipients: {', '.join(unverified)}",
                "verify them in SES, or request production access (SES console, Account dashboard)",
            )
        return Check("5b", name, WARN, seen, "sandbox: 200 emails a day, verified recipients only")
    return Check("5b", name, PASS, seen)


def check_topic(ctx: Context) -> Check:
    """6. The alert topic: who is subscribed, confirmed or not, and the alarm router among them."""
    name = "Alert topic subscriptions"
    topic = ctx.stack.output("AlertTopicArn")
    if not topic:
        return Check("6", name, SKIP, "the stack has no AlertTopicArn output")
    subs = topic_subscriptions(ctx.client("sns"), topic)
    router = ctx.stack.resources.get("AlarmRouterFunction")
    router_subscribed = any(
        s.get("Protocol") == "lambda"
        and router
        and str(s.get("Endpoint", "")).split(":function:")[-1].split(":")[0] == router
        for s in subs
    )
    pending = [s.get("Endpoint", "?") for s in subs if s.get("SubscriptionArn") == PENDING]
    people = [s.get("Endpoint", "?") for s in subs if s.get("Protocol") in ("email", "email-json", "sms")]
    seen = (
        f"{len(subs)} subscription(s): "
        + (", ".join(f"{s.get('Protocol')} {s.get('Endpoint')}" for s in subs) or "none")
        + (f"; pending confirmation: {', '.join(pending)}" if pending else "")
    )
    if router and not router_subscribed:
        return Check(
            "6", name, FAIL, f"{seen}; the alarm router {router} is not subscribed", "update the stack"
        )
    if pending:
        return Check("6", name, WARN, seen, "open the 'AWS Notification - Subscription Confirmation' email")
    if not people and not ctx.stack.parameter("AlarmRouting"):
        return Check(
            "6", name, WARN, seen, "nobody gets alarms: set AlertEmail or AlarmRouting (with SenderEmail)"
        )
    return Check("6", name, PASS, seen + ("" if router else "; router not listed by the stack"))


# ------------------------------------------------------------------------------------------ --send-test


def test_alarm_message(ctx: Context) -> dict[str, Any]:
    """A CloudWatch alarm notification as CloudWatch publishes it (REFERENCE.md §5), marked as a test."""
    stamp = ctx.now.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    account = ctx.account_id()
    return {
        "AlarmName": TEST_ALARM,
        "AlarmDescription": "TEST from bedrock-usage doctor --send-test: no action needed.",
        "AWSAccountId": account,
        "NewStateValue": "ALARM",
        "NewStateReason": "TEST: sent by bedrock-usage doctor --send-test to check alarm email delivery.",
        "StateChangeTime": stamp,
        "Region": ctx.region,
        "AlarmArn": f"arn:aws:cloudwatch:{ctx.region}:{account}:alarm:{TEST_ALARM}",
        "OldStateValue": "OK",
        "Trigger": {
            "MetricName": "Invocations",
            "Namespace": "AWS/Bedrock",
            "StatisticType": "Statistic",
            "Statistic": "SUM",
            "Unit": None,
            "Dimensions": [],
            "Period": 3600,
            "EvaluationPeriods": 1,
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 0.0,
            "TreatMissingData": "notBreaching",
        },
    }


def send_test_alarm(ctx: Context) -> Check:
    """Publish one test alarm notification to the alert topic: the router emails it as a real one."""
    name = "Test alarm email"
    topic = ctx.stack.output("AlertTopicArn")
    if not topic:
        return Check("S2", name, SKIP, "the stack has no AlertTopicArn output")
    message_id = publish_text(
        ctx.client("sns"),
        topic_arn=topic,
        subject=f'ALARM: "{TEST_ALARM}" in {ctx.region} (TEST)',
        text=json.dumps(test_alarm_message(ctx)),
    )
    routed = (
        "the alarm router emails it per AlarmRouting"
        if ctx.stack.parameter("AlarmRouting")
        else ("AlarmRouting is empty, so only the topic's email subscribers get it (raw)")
    )
    return Check(
        "S2",
        name,
        PASS,
        f"published {TEST_ALARM} to the alert topic (message {message_id}); {routed}",
        "no email within minutes? read the AlarmRouterFunction log group and its dead-letter queue",
    )


def send_test_digest(ctx: Context) -> Check:
    """Send one digest marked TEST the way the report function delivers it: SES, else the alert topic."""
    name = "Test digest"
    sender = ctx.stack.parameter("SenderEmail") or None
    topic = ctx.stack.output("AlertTopicArn")
    text = (
        "TEST from bedrock-usage doctor --send-test.\n"
        f"Stack {ctx.stack.name} in {ctx.region} can deliver its daily digest. No action needed.\n"
    )
    digest = Digest(
        subject=f"[TEST] Bedrock usage digest delivery check ({ctx.stack.name})",
        html=f"<p><strong>TEST</strong></p><pre>{html.escape(text)}</pre>",
        text=text,
    )
    try:
        delivery = deliver_digest(
            digest,
            sender=sender,
            recipients=_recipients(ctx),
            topic_arn=topic,
            sesv2=lambda: ctx.client("sesv2"),
            sns=lambda: ctx.client("sns"),
        )
    except (ClientError, BotoCoreError) as exc:
        detail = describe_error(exc) if isinstance(exc, ClientError) else str(exc)
        return Check("S1", name, FAIL, f"not delivered: {detail}", "see checks 5 and 6")
    if delivery.status == UNDELIVERED:
        return Check("S1", name, FAIL, f"not delivered: {delivery.reason}", "see checks 5 and 6")
    if delivery.status == POSSIBLY_DELIVERED:
        return Check(
            "S1", name, WARN, f"possibly delivered: {delivery.reason}", "look in the recipients' inbox"
        )
    if delivery.channel == "ses":
        return Check(
            "S1", name, PASS, f"sent by SES to {', '.join(delivery.recipients)} ({delivery.message_id})"
        )
    return Check(
        "S1",
        name,
        WARN,
        f"sent as plain text to the alert topic ({delivery.message_id}): {delivery.fallback_reason}",
        "set SenderEmail and ReportRecipients, verified in SES, for the HTML digest",
    )
