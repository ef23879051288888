"""Findings: what to do about the spend, ranked by dollars a month (issue 14).

`advise` adds `Report.findings` (sorted) and `Report.findings_not_computed` (kind -> why). Each kind lives in
its own module; those that read only the collected usage work on log files too, those that call AWS APIs
(quotas, lifecycle, provisioned throughput) are skipped with a reason when no client is given. A kind whose
data source fails is omitted and the failure named, never guessed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bedrock_usage.advise.anomaly import anomalies
from bedrock_usage.advise.cache import unread_cache
from bedrock_usage.advise.geo import geo_vs_global
from bedrock_usage.model import Finding, Report, Usage
from bedrock_usage.price import Pricer

# client(service, region) -> a boto3 client; None when the report reads log files only.
ClientFactory = Callable[[str, str], Any]
AWS_KINDS = ("quota-headroom", "end-of-life", "idle-provisioned")


def advise(report: Report, usage: Usage, pricer: Pricer, *, client: ClientFactory | None = None) -> None:
    """Compute every finding the data allows into `report` (findings sorted by dollars, then severity)."""
    at = report.window.end
    findings: list[Finding] = []
    findings += geo_vs_global(report, pricer, at)
    findings += unread_cache(report, usage, pricer, at)
    if report.daily:
        findings += anomalies(report, usage, pricer)
    else:
        report.findings_not_computed["anomaly"] = "no daily series in this report"
    if client is None:
        for kind in AWS_KINDS:
            report.findings_not_computed[kind] = "needs the AWS APIs; this report read log files only"
    report.findings = sorted(findings, key=Finding.sort_key)
