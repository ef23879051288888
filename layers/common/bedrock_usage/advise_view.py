"""The digest's and the CLI's "Worth doing": the three largest findings in a sentence each, then rows."""

from __future__ import annotations

from typing import Any

from bedrock_usage.model import Finding, Report
from bedrock_usage.render import usd

TOP = 3
MAX_ROWS = 10  # the rest of the table; more are counted, so the email stays far under Gmail's clip
MAX_TEXT = 200

KIND_LABELS = {
    "geo-vs-global": "Global profile",
    "cache-unread": "Prompt cache",
    "anomaly": "Cost anomaly",
    "quota-headroom": "Quota headroom",
    "end-of-life": "End of life",
    "idle-provisioned": "Idle capacity",
    "batch-candidate": "Batch / flex",
}


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def amount(finding: Finding) -> str:
    """'$31.94 a month'; 'saving unpriced' when no rate prices it; else the severity (a risk, not dollars)."""
    if finding.monthly_usd is None:
        return "saving unpriced" if "unpriced" in finding.evidence else f"{finding.severity} risk"
    return f"{usd(finding.monthly_usd)} a month"


def worth_doing(report: Report) -> dict[str, Any] | None:
    """Display values for the "Worth doing" section; None when there are no findings (nothing is shown)."""
    if not report.findings:
        return None
    top = report.findings[:TOP]
    rest = report.findings[TOP : TOP + MAX_ROWS]
    return {
        "top": [
            {
                "kind": KIND_LABELS.get(f.kind, f.kind),
                "title": _clip(f.title),
                "amount": amount(f),
                "action": _clip(f.action, 2 * MAX_TEXT),
                "severity": f.severity,
            }
            for f in top
        ],
        "rest": [
            {"kind": KIND_LABELS.get(f.kind, f.kind), "title": _clip(f.title), "amount": amount(f)}
            for f in rest
        ],
        "more": max(0, len(report.findings) - TOP - MAX_ROWS),
        "not_computed": not_computed(report),
    }


def not_computed(report: Report) -> list[str]:
    """'Quota headroom, End of life: why' — kinds that share a reason are named together."""
    by_reason: dict[str, list[str]] = {}
    for kind, reason in report.findings_not_computed.items():
        by_reason.setdefault(reason, []).append(KIND_LABELS.get(kind, kind))
    return [f"{', '.join(kinds)}: {_clip(reason, 120)}" for reason, kinds in by_reason.items()]


def advice_json(report: Report) -> dict[str, Any]:
    """`bedrock-usage advise --format json`: the findings, the window and what failed (report keys)."""
    data = report.to_dict()
    return {k: data[k] for k in ("window", "source", "findings", "findings_not_computed", "failures")}


def advice_text(report: Report) -> str:
    """`bedrock-usage advise`: every finding, largest first, with its action and evidence."""
    lines = [f"WORTH DOING, {report.window.start:%Y-%m-%d %H:%M} to {report.window.end:%Y-%m-%d %H:%M} UTC"]
    if not report.findings:
        lines.append("  Nothing found: no saving or risk in this window.")
    for i, f in enumerate(report.findings, 1):
        lines.append(f"{i:3d}. [{f.severity}] {f.title} -- {amount(f)}")
        lines.append(f"     {f.action}")
        evidence = ", ".join(f"{k}={v}" for k, v in f.evidence.items() if k != "method")
        lines.append(f"     evidence: {evidence}")
        if "method" in f.evidence:
            lines.append(f"     computed: {f.evidence['method']}")
    for kind, reason in report.findings_not_computed.items():
        lines.append(f"  not computed: {KIND_LABELS.get(kind, kind)}: {reason}")
    for failure in report.failures:
        lines.append(f"  data source failed: {failure.source}: {failure.message}")
    return "\n".join(lines) + "\n"
