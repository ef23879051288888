"""Findings: what to do about the spend, ranked by dollars a month (issue 14).

`advise` adds `Report.findings` (sorted) and `Report.findings_not_computed` (kind -> why). Each kind lives in
its own module; those that read only the collected usage work on log files too, those that call AWS APIs
(quotas, lifecycle, provisioned throughput) are skipped with a reason when no client is given. A kind whose
data source fails is omitted and the failure named, never guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bedrock_usage.advise import lifecycle, provisioned, quotas
from bedrock_usage.advise.anomaly import anomalies
from bedrock_usage.advise.batch import batch_candidates
from bedrock_usage.advise.cache import unread_cache
from bedrock_usage.advise.geo import geo_vs_global
from bedrock_usage.advise.quota_cache import QuotaCache
from bedrock_usage.model import Finding, Report, Usage
from bedrock_usage.price import Pricer

# NotImplementedError: what the offline emulator (moto, `make demo`) raises for Bedrock and Service Quotas
# calls it lacks (ListFoundationModels, ListServiceQuotas); the finding is then named as not computed.
AWS_ERRORS = (ClientError, BotoCoreError, NotImplementedError)

# client(service, region) -> a boto3 client; None when the report reads log files only.
ClientFactory = Callable[[str, str], Any]
AWS_KINDS = ("quota-headroom", "end-of-life", "idle-provisioned")


def advise(
    report: Report,
    usage: Usage,
    pricer: Pricer,
    *,
    client: ClientFactory | None = None,
    regions: Sequence[str] = (),
    quota_cache: QuotaCache | None = None,
) -> None:
    """Compute every finding the data allows into `report` (findings sorted by dollars, then severity).

    `quota_cache` keeps the Service Quotas lists between reports; without one they are listed every time."""
    at = report.window.end
    findings: list[Finding] = []
    findings += geo_vs_global(report, pricer, at)
    findings += unread_cache(report, usage, pricer, at)
    findings += batch_candidates(report, usage, pricer, at)
    if report.daily:
        findings += anomalies(report, usage, pricer)
    else:
        report.findings_not_computed["anomaly"] = "no daily series in this report"
    if client is None:
        for kind in AWS_KINDS:
            report.findings_not_computed[kind] = "needs the AWS APIs; this report read log files only"
    else:
        cache = quota_cache or QuotaCache(None)
        findings += _from_aws(report, usage, pricer, client, list(regions or report.regions), cache)
    report.findings = sorted(findings, key=Finding.sort_key)


def _failed(report: Report, kind: str, what: str, region: str, exc: Exception) -> None:
    """Name the failure where the findings are shown; the usage figures are complete, so it is not a
    report failure (which would mark the whole digest incomplete)."""
    report.findings_not_computed[kind] = f"{what} failed in {region}: {type(exc).__name__}: {exc}"


def _from_aws(
    report: Report,
    usage: Usage,
    pricer: Pricer,
    client: ClientFactory,
    regions: list[str],
    quota_cache: QuotaCache,
) -> list[Finding]:
    """Findings 4, 5 and 6: per Region, one ListFoundationModels, one ListProvisionedModelThroughputs page,
    the Service Quotas pages (unless cached today) and one GetMetricData (paginated) for the models used."""
    found: list[Finding] = []
    catalogues: dict[str, dict[str, dict[str, Any]]] = {}
    for region in regions:
        try:
            catalogues[region] = lifecycle.foundation_models(client("bedrock", region))
        except AWS_ERRORS as exc:
            _failed(report, lifecycle.KIND, "ListFoundationModels", region, exc)
    found += lifecycle.end_of_life(report, catalogues, pricer, report.window.end)
    for region in regions:
        try:
            summaries = provisioned.in_service(client("bedrock", region))
        except AWS_ERRORS as exc:
            _failed(report, provisioned.KIND, "ListProvisionedModelThroughputs", region, exc)
            continue
        found += provisioned.idle_provisioned(report, usage, summaries)
    for region in regions:
        in_use = sorted(m for m, per in usage.by_region.items() if region in per) or (
            sorted(usage.by_model) if region == regions[0] and not usage.by_region else []
        )
        if not in_use:
            continue
        if region not in catalogues:
            report.findings_not_computed[quotas.KIND] = (
                f"model names unknown in {region} (ListFoundationModels)"
            )
            continue
        try:
            found += _headroom(report, pricer, client, region, in_use, catalogues[region], quota_cache)
        except AWS_ERRORS as exc:
            _failed(report, quotas.KIND, "Service Quotas or GetMetricData", region, exc)
    return found


def _headroom(
    report: Report,
    pricer: Pricer,
    client: ClientFactory,
    region: str,
    in_use: list[str],
    catalogue: dict[str, dict[str, Any]],
    quota_cache: QuotaCache,
) -> list[Finding]:
    # Quota names spell the model's provider and name: a model Bedrock does not list here (a provisioned or
    # custom model, an unresolved application profile) has no per-minute quota to compare with.
    named = [m for m in in_use if (pricer.resolve(m).base_model or "") in catalogue]
    unmatched = [m for m in in_use if m not in named]
    found: list[Finding] = []
    if named:
        sq = client("service-quotas", region)
        index = quota_cache.index(sq, region)
        use = quotas.peaks(client("cloudwatch", region), named, report.window)
        found, missing = quotas.headroom(region, named, pricer, catalogue, index, use)
        if missing:
            # Quotas never changed from their default have no applied value: read the defaults only then.
            defaults = {**quota_cache.index(sq, region, defaults=True), **index}
            more, missing = quotas.headroom(region, missing, pricer, catalogue, defaults, use)
            found += more
        unmatched += missing
    if unmatched:
        report.warnings.append(
            f"quota headroom: no per-minute quota matched {', '.join(unmatched[:5])} in {region}"
        )
    return found
