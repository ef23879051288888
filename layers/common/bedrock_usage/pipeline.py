"""One report, end to end: collect (per region) -> price -> analyse. Used by the CLI and the Lambda."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from bedrock_usage import log_archive
from bedrock_usage.advise import advise
from bedrock_usage.advise.quota_cache import QuotaCache, store_beside
from bedrock_usage.analyze import build_report
from bedrock_usage.model import Counts, Report, SourceFailure, Usage, Window
from bedrock_usage.price import PRICE_OVERRIDES_ENV, PriceOverrideError, Pricer, load_overrides
from bedrock_usage.pricing.cache import Catalogue, store_from
from bedrock_usage.pricing.price_list import PRICING_REGION

# What a failing data source may raise. The report still goes out and names the failure.
SOURCE_ERRORS = (ClientError, BotoCoreError, OSError, EOFError, ValueError)
# Standard retries back off on throttling (GetMetricData, GetQueryResults, GetCostAndUsage have TPS quotas).
CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 8})
_REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")


@dataclass(frozen=True)
class ReportSettings:
    regions: tuple[str, ...]
    log_group: str | None = "/aws/bedrock/modelinvocations"  # None: no Logs Insights (no per-caller data)
    logs_source: str | None = None  # path or s3:// URI: read log files instead of CloudWatch
    cost_explorer: bool = False
    # Principal tag keys activated as cost allocation tags ("team" or "iamPrincipal/team"): billed cost per
    # value, one Cost Explorer request each. Used only with cost_explorer.
    cost_allocation_tags: tuple[str, ...] = ()
    # CUR 2.0 export with caller identity, read with one Athena query ("database.table" and the workgroup,
    # whose bytes-scanned cutoff bounds the query's cost): billed cost per IAM principal, last final day.
    cur_table: str | None = None
    cur_workgroup: str | None = None
    budget_usd: Decimal | None = None
    price_overrides: str | None = (
        None  # path, s3://..., ssm:/name or inline JSON; else $BEDROCK_USAGE_PRICE_OVERRIDES
    )
    trend_days: int = 14
    # Logs Insights polling budget for the whole report, shared by the regions (ReportFunction's timeout is
    # 300 s, and the digest must still go out when Insights is slow).
    insights_timeout_s: float = 120
    # Where the AWS Price List catalogue is cached: a file path or s3://bucket/key; None or "off": no
    # Price List (genai-prices only). The findings' Service Quotas lists are cached beside it.
    price_cache: str | None = None
    # Publish the last complete day's estimated cost per model (BedrockUsageMonitor/EstimatedCostUSD) for the
    # anomaly-detection alarm: the scheduled ReportFunction does; the CLI does not.
    publish_cost_metric: bool = False
    # Monitoring mode (template SourceAccounts): also read every account linked through CloudWatch
    # cross-account observability, and show them per account (bedrock_usage/linked.py).
    linked_accounts: bool = False

    def __post_init__(self) -> None:
        if not self.regions:
            raise ValueError("at least one region is needed")
        bad = [r for r in self.regions if not _REGION_RE.match(r)]
        if bad:
            raise ValueError(f"not an AWS region: {', '.join(bad)}")
        if self.logs_source and not log_archive.locations(self.logs_source):
            raise ValueError(f"no log location in {self.logs_source!r}")
        if self.trend_days < 1:
            raise ValueError(f"trend_days must be at least 1, got {self.trend_days}")
        if self.budget_usd is not None and self.budget_usd < 0:
            raise ValueError(f"budget must not be negative, got {self.budget_usd}")


def daily_start(now: datetime, trend_days: int) -> datetime:
    """Midnight UTC of the earlier of the month's first day and `trend_days` days ago."""
    day = min(now.date().replace(day=1), now.date() - timedelta(days=trend_days - 1))
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def by_calling_region(usage: Usage, region: str) -> Usage:
    """Metrics are published in the Region that received the call: file one Region's usage under it."""
    if not usage.by_region:
        usage.by_region = {model_id: {region: Counts().add(c)} for model_id, c in usage.by_model.items()}
    return usage


def _attempt(name: str, failures: list[SourceFailure], read: Callable[[], Usage]) -> Usage | None:
    try:
        return read()
    except SOURCE_ERRORS as exc:
        failures.append(SourceFailure(name, f"{type(exc).__name__}: {exc}"))
        return None


def run_report(
    window: Window,
    settings: ReportSettings,
    *,
    session: boto3.session.Session | None = None,
    now: datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Report:
    """Collect the window, the previous window and the daily series; price and analyse them.

    A failing source becomes a SourceFailure in the report. Only bad settings raise (ValueError).
    """
    generated = (now or datetime.now(UTC)).astimezone(UTC)
    as_of = min(generated, window.end)  # a past window is reported as of its end
    session = session or boto3.session.Session()
    home = settings.regions[0]
    clients: dict[tuple[str, str], Any] = {}

    def client(service: str, region: str | None = None, config: Config = CLIENT_CONFIG) -> Any:
        key = (service, region or home)
        if key not in clients:
            clients[key] = session.client(service, region_name=key[1], config=config)  # type: ignore[call-overload]
        return clients[key]

    failures: list[SourceFailure] = []
    daily_from = daily_start(as_of, settings.trend_days)
    previous_window = window.previous()
    source = "log-files" if settings.logs_source else "cloudwatch"
    current = Usage(window=window, source=source)
    previous: Usage | None = Usage(window=previous_window, source=source)

    log_accounts = log_accounts_previous = None
    if settings.logs_source:
        sources = log_archive.locations(settings.logs_source)
        s3 = client("s3") if any(s.startswith("s3://") for s in sources) else None

        def attempt(name: str, read: Callable[[], Usage]) -> Usage | None:
            return _attempt(name, failures, read)

        read_now, log_accounts, _ = log_archive.read_locations(
            sources, window, attempt, s3=s3, daily_from=daily_from
        )
        current.merge(read_now)
        read_before, log_accounts_previous, complete = log_archive.read_locations(
            sources, previous_window, attempt, s3=s3, previous=True
        )
        previous = previous.merge(read_before) if complete and previous is not None else None
    else:
        from bedrock_usage.collect.account import collect_account

        for region in settings.regions:
            cw, logs = client("cloudwatch", region), client("logs", region)
            got = _attempt(
                f"cloudwatch ({region})",
                failures,
                partial(
                    collect_account,
                    cloudwatch=cw,
                    logs=logs,
                    window=window,
                    log_group=settings.log_group,
                    daily_from=daily_from,
                    sleep=sleep,
                    insights_timeout_s=settings.insights_timeout_s / len(settings.regions),
                ),
            )
            if got is not None:
                current.merge(by_calling_region(got, region))
            # Only the previous window's totals are compared: no Logs Insights, no daily series, no
            # percentiles (queries cost money).
            prev = _attempt(
                f"cloudwatch ({region}, previous window)",
                failures,
                partial(
                    collect_account,
                    cloudwatch=cw,
                    logs=logs,
                    window=previous_window,
                    log_group=None,
                    sleep=sleep,
                    totals_only=True,
                ),
            )
            previous = (
                previous.merge(by_calling_region(prev, region))
                if prev is not None and previous is not None
                else None
            )

    linked = linked_previous = None
    own_account = ""
    if settings.linked_accounts and not settings.logs_source:
        from bedrock_usage import linked as lk

        try:
            own_account = lk.own_account_id(client("sts"))
        except SOURCE_ERRORS as exc:
            failures.append(SourceFailure("linked-accounts", f"{type(exc).__name__}: {exc}"))
        else:
            linked = lk.collect_linked_regions(
                client,
                settings.regions,
                window,
                log_group=settings.log_group,
                own_account=own_account,
                sleep=sleep,
                # Half the Insights budget again: with this account's own query the function keeps a
                # margin under its 300 s timeout.
                insights_timeout_s=settings.insights_timeout_s / 2,
                now=generated,
                daily_from=daily_from,
            )
            lk.fold_sources(current, linked, own_account)
            if previous is not None:
                linked_previous = lk.collect_linked_regions(
                    client, settings.regions, previous_window, log_group=None, own_account=own_account,
                    with_logs=False, now=generated,
                )  # fmt: skip
                lk.fold_sources(previous, linked_previous, own_account, note=False)

    if previous is not None and previous.failures:
        # A partial previous window would make the change meaningless (e.g. +100% when one region failed).
        failures.extend(
            SourceFailure(f"{f.source} (previous window)", f"{f.message}; no change shown")
            for f in previous.failures
        )
        previous = None

    raw_bill = None
    if settings.cost_explorer:
        from bedrock_usage.billing import collect_bill

        try:
            # Cost Explorer is global, served from us-east-1. End is exclusive: completed days only.
            raw_bill = collect_bill(
                client("ce", "us-east-1"),
                daily_from.date(),
                min(as_of.date(), generated.date()),
                month_start=as_of.date().replace(day=1),
                tag_keys=settings.cost_allocation_tags,
            )
        except SOURCE_ERRORS as exc:
            failures.append(SourceFailure("cost-explorer", f"{type(exc).__name__}: {exc}"))

    overrides = None
    location = settings.price_overrides or os.environ.get(PRICE_OVERRIDES_ENV, "").strip() or None
    if location:
        try:
            overrides = load_overrides(location, client=lambda service: client(service))
        except PriceOverrideError as exc:
            failures.append(SourceFailure("price-overrides", f"{exc}; list prices used instead"))
    catalogue = _catalogue(settings, client, generated, failures)
    pricer = Pricer(
        overrides, bedrock=lambda region: client("bedrock", region), catalogue=catalogue, default_region=home
    )

    current.failures.extend(failures)
    report = build_report(
        current,
        pricer=pricer,
        previous=previous,
        billed=raw_bill.daily.amounts if raw_bill else None,
        provisional=frozenset(raw_bill.daily.provisional) if raw_bill else frozenset(),
        budget_usd=settings.budget_usd,
        regions=settings.regions,
        now=as_of,
        trend_days=settings.trend_days,
    )
    report.generated_at = generated
    if linked is not None:
        lk.add_accounts(
            report,
            linked,
            linked_previous if previous is not None else None,
            pricer,
            client=client,
            own_account=own_account,
            cost_explorer=settings.cost_explorer,
            today=generated.date(),
        )

    if log_accounts is not None:
        log_archive.add_accounts(
            report, log_accounts, log_accounts_previous if previous is not None else None, pricer
        )

    report.top_request = _dearest(settings, window, pricer, client, sleep, report)

    if raw_bill is not None:
        from bedrock_usage.billing import attach_billing

        attach_billing(report, raw_bill)
    if settings.cur_table and settings.cur_workgroup:
        _billed_by_caller(report, settings, client("athena"), as_of, sleep)

    # Findings that call AWS (quotas, lifecycle, provisioned throughput) need the account, not log files.
    aws = None if settings.logs_source else (lambda service, region: client(service, region))
    # Service Quotas lists are kept a day beside the Price List cache (advise/quota_cache.py).
    quotas = None
    if aws is not None:
        quotas = QuotaCache(store_beside(settings.price_cache, lambda s: client(s)), now=generated)
    advise(report, current, pricer, client=aws, regions=settings.regions, quota_cache=quotas)
    if quotas is not None:
        quotas.save()
        report.warnings.extend(quotas.warnings)
    if settings.publish_cost_metric:
        _publish_cost(report, current, pricer, client("cloudwatch"), as_of)
    if catalogue is not None:
        catalogue.save()
        report.warnings.extend(w for w in dict.fromkeys(catalogue.warnings) if w not in report.warnings)
    return report


def _dearest(
    settings: ReportSettings,
    window: Window,
    pricer: Pricer,
    client: Callable[..., Any],
    sleep: Callable[[float], None],
    report: Report,
) -> dict[str, Any] | None:
    """The digest's most expensive request; a failure to find it is a warning, not a failed source."""
    from bedrock_usage.collect.insights import InsightsError
    from bedrock_usage.top import dearest_request

    try:
        return dearest_request(
            window=window,
            pricer=pricer,
            client=client,
            regions=settings.regions,
            logs_source=settings.logs_source,
            log_group=settings.log_group,
            sleep=sleep,
            # Half the report's Insights budget: ReportFunction's 300 s must still cover the main query.
            timeout_s=settings.insights_timeout_s / 2 / len(settings.regions),
        )
    except (InsightsError, *SOURCE_ERRORS) as exc:
        report.warnings.append(f"the most expensive request was not found: {type(exc).__name__}: {exc}")
        return None


def _billed_by_caller(
    report: Report, settings: ReportSettings, athena: Any, as_of: datetime, sleep: Callable[[float], None]
) -> None:
    """Billed per caller from CUR 2.0 for the last final day (else two days back: CUR lags 24-48 h)."""
    from bedrock_usage.billing import billed_by_caller
    from bedrock_usage.billing_model import Billing
    from bedrock_usage.collect.cur import CurQueryError

    billing = report.billing or Billing()
    day = billing.last_final_day or (as_of.date() - timedelta(days=2))
    name = f"cur (Athena workgroup {settings.cur_workgroup})"
    try:
        callers, scanned = billed_by_caller(
            athena, str(settings.cur_table), str(settings.cur_workgroup), day, report, sleep=sleep
        )
    except (*SOURCE_ERRORS, CurQueryError) as exc:
        report.warnings.append(f"{name}: {type(exc).__name__}: {exc}")
        return
    billing.callers, billing.cur_day, billing.cur_bytes_scanned = callers, day, scanned
    report.billing = billing
    if not any(c.models for c in callers):  # no CUR row (estimated-only callers have no models)
        report.warnings.append(
            f"{name}: no Bedrock cost with a caller (line_item_iam_principal) on {day}: the export may have "
            "no data yet (the first delivery takes up to 24 h) or was created without caller identity"
        )


def _publish_cost(report: Report, usage: Usage, pricer: Pricer, cloudwatch: Any, stamp: datetime) -> None:
    from bedrock_usage.advise.metrics import last_day_costs, publish_daily_cost

    found = last_day_costs(report, usage, pricer)
    if found is None:
        return
    try:
        publish_daily_cost(cloudwatch, stamp, found[1])
    except SOURCE_ERRORS as exc:
        report.warnings.append(f"the daily cost metric was not published: {type(exc).__name__}: {exc}")


# The Price List is optional: few quick attempts, so that an unreachable endpoint costs seconds, not minutes.
PRICING_CONFIG = Config(connect_timeout=5, read_timeout=20, retries={"mode": "standard", "max_attempts": 3})


def _catalogue(
    settings: ReportSettings, client: Callable[..., Any], now: datetime, failures: list[SourceFailure]
) -> Catalogue | None:
    if not settings.price_cache:
        return None
    try:
        store = store_from(settings.price_cache, lambda service: client(service))
    except ValueError as exc:
        failures.append(SourceFailure("price-list", f"{exc}; list prices from genai-prices"))
        return None
    if store is None:
        return None
    session_client = client("pricing", PRICING_REGION, config=PRICING_CONFIG)
    return Catalogue(store, pricing=lambda: session_client, now=now)
