"""Plain data shared by every stage: collect -> price -> analyze -> render -> deliver.

Collectors return `Usage`; analysis turns it into a `Report`; renderers and the JSON contract
read the `Report`. Nothing here talks to AWS.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .billing_model import Billing


@dataclass(frozen=True)
class Window:
    """A half-open UTC time range [start, end)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("window bounds must be timezone-aware (UTC)")
        if self.start >= self.end:
            raise ValueError(
                f"window start {self.start.isoformat()} is not before end {self.end.isoformat()}"
            )

    @classmethod
    def last_hours(cls, hours: float, now: datetime | None = None) -> Window:
        """The `hours` before `now` (default: the current time), end truncated to the minute."""
        if not hours > 0:
            raise ValueError(f"hours must be a positive number, got {hours!r}")
        end = (now or datetime.now(UTC)).astimezone(UTC).replace(second=0, microsecond=0)
        return cls(end - timedelta(hours=hours), end)

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600

    def previous(self) -> Window:
        """The window of the same length that ends where this one starts."""
        return Window(self.start - (self.end - self.start), self.start)

    def to_dict(self) -> dict[str, str]:
        return {"start": iso(self.start), "end": iso(self.end)}


def iso(moment: datetime) -> str:
    """ISO-8601 UTC with a 'Z', second resolution: the form Bedrock logs use."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Counts:
    """Additive usage counters for one model, caller, day or the whole window."""

    invocations: int = 0
    input_tokens: int = 0  # uncached input only, as Bedrock reports inputTokenCount
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    client_errors: int = 0
    server_errors: int = 0
    throttles: int = 0

    def add(self, other: Counts) -> Counts:
        """Add `other` into self (in place) and return self."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self

    def __add__(self, other: Counts) -> Counts:
        return Counts().add(self).add(other)

    @property
    def errors(self) -> int:
        return self.client_errors + self.server_errors

    @property
    def total_input_tokens(self) -> int:
        """Everything the model read: uncached input plus cache reads and writes."""
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens

    @property
    def total_tokens(self) -> int:
        return self.total_input_tokens + self.output_tokens

    @property
    def error_rate(self) -> float | None:
        """Client plus server errors per invocation; None without invocations."""
        return self.errors / self.invocations if self.invocations else None

    @property
    def throttle_rate(self) -> float | None:
        """Throttled share of attempts (CloudWatch counts throttles apart from Invocations)."""
        attempts = self.invocations + self.throttles
        return self.throttles / attempts if attempts else None

    def to_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class Latency:
    """InvocationLatency statistics for one model, in milliseconds; None where unknown."""

    average_ms: float | None = None
    p50_ms: float | None = None
    p90_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    first_byte_ms: float | None = None  # mean time to first byte of streamed calls, where the records say

    def to_dict(self) -> dict[str, float | None]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


LargeKey = tuple[str, str, str, date, bool, int]
TierKey = tuple[str, str, str, date, bool, str]


@dataclass
class SourceFailure:
    """A data source that could not be read; the report still goes out and says so."""

    source: str  # e.g. "cloudwatch-metrics", "logs-insights", "cost-explorer", "log-files"
    message: str


@dataclass
class Usage:
    """What a collector returns for one window. Keys are the ModelId exactly as AWS reported it."""

    window: Window
    source: str
    by_model: dict[str, Counts] = field(default_factory=dict)
    by_caller: dict[tuple[str, str], Counts] = field(default_factory=dict)  # (caller ARN, model_id)
    latency: dict[str, Latency] = field(default_factory=dict)
    errors_by_code: dict[str, int] = field(default_factory=dict)
    daily: dict[date, dict[str, Counts]] = field(default_factory=dict)  # UTC day -> model_id -> counts
    # model_id -> calling Region -> counts (the record's `region`, or the Region whose metrics were read).
    # Prices differ by Region; empty when the collector could not tell.
    by_region: dict[str, dict[str, Counts]] = field(default_factory=dict)
    # Requests whose whole input (uncached + cache read + cache write) is at least LARGE_INPUT_FLOOR tokens,
    # keyed (model_id, region, caller, UTC day, in the window?, total input tokens): long-context rates
    # apply per request above a model's threshold, which aggregates cannot tell. Log files only.
    large_requests: dict[LargeKey, Counts] = field(default_factory=dict)
    # Calls that asked for the flex or priority service tier (the Converse body's serviceTier), keyed like
    # large_requests with the tier in place of the input size. Log files with text delivery only.
    service_tiers: dict[TierKey, Counts] = field(default_factory=dict)
    skipped_records: int = 0
    warnings: list[str] = field(default_factory=list)
    failures: list[SourceFailure] = field(default_factory=list)

    def model(self, model_id: str) -> Counts:
        return self.by_model.setdefault(model_id, Counts())

    def caller(self, caller: str, model_id: str) -> Counts:
        return self.by_caller.setdefault((caller, model_id), Counts())

    def day(self, day: date, model_id: str) -> Counts:
        return self.daily.setdefault(day, {}).setdefault(model_id, Counts())

    def regional(self, model_id: str, region: str) -> Counts:
        return self.by_region.setdefault(model_id, {}).setdefault(region, Counts())

    def regions(self) -> list[str]:
        """The calling Regions seen in the data, sorted (records without a region are left out)."""
        return sorted({r for per_model in self.by_region.values() for r in per_model} - {"unknown"})

    def totals(self) -> Counts:
        total = Counts()
        for counts in self.by_model.values():
            total.add(counts)
        return total

    def merge(self, other: Usage) -> Usage:
        """Add `other` (e.g. another region, same window) into self and return self.

        Latency is kept per model from whichever usage has it; a model seen in two regions keeps the
        first one's statistics (percentiles cannot be combined from summaries).
        """
        for model_id, counts in other.by_model.items():
            self.model(model_id).add(counts)
        for (caller, model_id), counts in other.by_caller.items():
            self.caller(caller, model_id).add(counts)
        for model_id, latency in other.latency.items():
            self.latency.setdefault(model_id, latency)
        for code, n in other.errors_by_code.items():
            self.errors_by_code[code] = self.errors_by_code.get(code, 0) + n
        for day, models in other.daily.items():
            for model_id, counts in models.items():
                self.day(day, model_id).add(counts)
        for model_id, regions in other.by_region.items():
            for region, counts in regions.items():
                self.regional(model_id, region).add(counts)
        for key, counts in other.large_requests.items():
            self.large_requests.setdefault(key, Counts()).add(counts)
        for tier_key, counts in other.service_tiers.items():
            self.service_tiers.setdefault(tier_key, Counts()).add(counts)
        self.skipped_records += other.skipped_records
        self.warnings.extend(other.warnings)
        self.failures.extend(other.failures)
        return self


@dataclass(frozen=True)
class PriceInfo:
    """How a ModelId was resolved and priced, and where the price came from."""

    model_id: str
    resolved_model: str | None  # the base model ID the price is for; None when unresolvable
    priced: bool
    source: str  # "AWS Price List <date>", "genai-prices 0.2.3", "override:<file>", "unpriced"
    approximate: bool = False
    note: str | None = None  # why unpriced / approximate, in words
    region: str | None = None  # the calling Region whose rates were used; None when not Region-specific


@dataclass
class RegionalCost:
    """One Region's share of a model line: its usage, what it cost and where the rates came from."""

    region: str
    counts: Counts
    cost_usd: Decimal | None
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "invocations": self.counts.invocations,
            "cost_usd": money(self.cost_usd),
            "price_source": self.source,
        }


def account_of_arn(arn: str) -> str | None:
    """The 12-digit account of an IAM or STS ARN (arn:partition:service::account:...); None otherwise."""
    parts = arn.split(":")
    return (
        parts[4]
        if len(parts) > 5 and parts[0] == "arn" and parts[4].isdigit() and len(parts[4]) == 12
        else None
    )


def money(value: Decimal | None) -> float | None:
    """Dollars for JSON: exact to a millionth of a dollar, None stays None (unpriced)."""
    return None if value is None else float(value.quantize(Decimal("0.000001")))


@dataclass
class ModelLine:
    model_id: str
    price: PriceInfo
    counts: Counts
    cost_usd: Decimal | None  # None when unpriced: never 0 for "unknown"
    previous: Counts | None = None
    previous_cost_usd: Decimal | None = None
    latency: Latency | None = None
    cache_savings_usd: Decimal | None = None
    share: float | None = None  # of total priced cost, 0..1
    by_region: list[RegionalCost] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "resolved_model": self.price.resolved_model,
            **{k: v for k, v in self.counts.to_dict().items()},
            "error_rate": self.counts.error_rate,
            "throttle_rate": self.counts.throttle_rate,
            "cost_usd": money(self.cost_usd),
            "priced": self.price.priced,
            "price_source": self.price.source,
            "approximate": self.price.approximate,
            "price_note": self.price.note,
            "previous_cost_usd": money(self.previous_cost_usd),
            "latency": self.latency.to_dict() if self.latency else None,
            "cache_savings_usd": money(self.cache_savings_usd),
            "share": self.share,
            "price_region": self.price.region,
            "by_region": [r.to_dict() for r in self.by_region],
        }


@dataclass
class CallerLine:
    caller: str
    counts: Counts
    cost_usd: Decimal | None  # cost of the priced part; None when nothing was priced
    unpriced_invocations: int = 0
    models: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "caller": self.caller,
            "account": account_of_arn(self.caller),
            **self.counts.to_dict(),
            "cost_usd": money(self.cost_usd),
            "unpriced_invocations": self.unpriced_invocations,
            "models": self.models,
        }


@dataclass
class DayLine:
    day: date
    counts: Counts
    cost_usd: Decimal | None
    billed_usd: Decimal | None = None  # from Cost Explorer, completed days only
    # False while Cost Explorer marks the day Estimated (provisional, commonly for 24-48 h); None: not billed
    billed_final: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            **self.counts.to_dict(),
            "cost_usd": money(self.cost_usd),
            "billed_usd": money(self.billed_usd),
            "billed_final": self.billed_final,
        }


SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


@dataclass
class Finding:
    """One thing worth doing: what was seen, the action, its dollars a month, the numbers behind it."""

    kind: str  # geo-vs-global, cache-unread, anomaly, quota-headroom, end-of-life, idle-provisioned, batch
    severity: str  # high | medium | low
    title: str
    action: str
    monthly_usd: Decimal | None  # saving or cost at risk per month; None when not a dollar figure
    evidence: dict[str, Any] = field(default_factory=dict)

    def sort_key(self) -> tuple[int, Decimal, int, str]:
        """Dollars first (largest first, undollared last), then severity."""
        dollars = self.monthly_usd
        return (
            1 if dollars is None else 0,
            -(dollars or Decimal(0)),
            SEVERITY_ORDER[self.severity],
            self.title,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "title": self.title,
            "action": self.action,
            "monthly_usd": money(self.monthly_usd),
            "evidence": self.evidence,
        }


@dataclass
class AccountLine:
    """One AWS account's share of the report (monitoring mode: the account and its linked source accounts)."""

    account_id: str
    name: str | None  # from AWS Organizations when readable
    counts: Counts
    cost_usd: Decimal | None  # priced part; None when nothing was priced
    unpriced_invocations: int = 0
    previous_cost_usd: Decimal | None = None
    share: float | None = None  # of the priced cost of all accounts, 0..1
    regions: list[str] = field(default_factory=list)
    models: list[dict[str, Any]] = field(default_factory=list)  # model_id, invocations, tokens, cost_usd
    billed_usd: Decimal | None = None  # Cost Explorer, LINKED_ACCOUNT, completed days of the month

    def to_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "name": self.name,
            **self.counts.to_dict(),
            "errors": self.counts.errors,
            "total_tokens": self.counts.total_tokens,
            "cost_usd": money(self.cost_usd),
            "unpriced_invocations": self.unpriced_invocations,
            "previous_cost_usd": money(self.previous_cost_usd),
            "share": self.share,
            "regions": self.regions,
            "models": self.models,
            "billed_usd": money(self.billed_usd),
        }


@dataclass
class Report:
    """Everything the digest, the CLI and the JSON contract show, computed once."""

    window: Window
    generated_at: datetime
    regions: list[str]
    source: str
    totals: Counts
    cost_usd: Decimal  # priced part only; unpriced usage is counted in unpriced_invocations
    unpriced_invocations: int
    models: list[ModelLine]
    callers: list[CallerLine]
    daily: list[DayLine] = field(default_factory=list)
    previous_totals: Counts | None = None
    previous_cost_usd: Decimal | None = None
    month_to_date_usd: Decimal | None = None
    projected_month_usd: Decimal | None = None
    budget_usd: Decimal | None = None
    cache_savings_usd: Decimal | None = None
    errors_by_code: dict[str, int] = field(default_factory=dict)
    skipped_records: int = 0
    warnings: list[str] = field(default_factory=list)
    failures: list[SourceFailure] = field(default_factory=list)
    # The window's most expensive single request (bedrock_usage.top.PricedRequest.to_dict()), where known.
    top_request: dict[str, Any] | None = None
    billing: Billing | None = None  # Cost Explorer beside the estimate (billing_model.py)
    findings: list[Finding] = field(default_factory=list)  # sorted by Finding.sort_key
    findings_not_computed: dict[str, str] = field(default_factory=dict)  # finding kind -> why not
    accounts: list[AccountLine] = field(default_factory=list)  # monitoring mode only
    accounts_notes: list[str] = field(default_factory=list)  # what the per-account view could not show

    @property
    def cost_change(self) -> float | None:
        """Fractional change of cost against the previous window; None when not comparable."""
        if self.previous_cost_usd is None or self.previous_cost_usd == 0:
            return None
        return float((self.cost_usd - self.previous_cost_usd) / self.previous_cost_usd)

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON contract (README, "JSON output")."""
        return {
            "schema_version": 1,
            "window": self.window.to_dict(),
            "generated_at": iso(self.generated_at),
            "regions": self.regions,
            "source": self.source,
            "totals": {
                **self.totals.to_dict(),
                "cost_usd": money(self.cost_usd),
                "unpriced_invocations": self.unpriced_invocations,
                "cache_savings_usd": money(self.cache_savings_usd),
                "error_rate": self.totals.error_rate,
                "throttle_rate": self.totals.throttle_rate,
            },
            "previous": None
            if self.previous_totals is None
            else {**self.previous_totals.to_dict(), "cost_usd": money(self.previous_cost_usd)},
            "cost_change": self.cost_change,
            "month": {
                "to_date_usd": money(self.month_to_date_usd),
                "projected_usd": money(self.projected_month_usd),
                "budget_usd": money(self.budget_usd),
            },
            "models": [m.to_dict() for m in self.models],
            "callers": [c.to_dict() for c in self.callers],
            "daily": [d.to_dict() for d in self.daily],
            "errors_by_code": self.errors_by_code,
            "skipped_records": self.skipped_records,
            "warnings": self.warnings,
            "failures": [{"source": f.source, "message": f.message} for f in self.failures],
            "top_request": self.top_request,
            "billing": self.billing.to_dict() if self.billing is not None else None,
            "findings": [f.to_dict() for f in self.findings],
            "findings_not_computed": [
                {"kind": kind, "reason": reason} for kind, reason in self.findings_not_computed.items()
            ],
            "accounts": [a.to_dict() for a in self.accounts],
            "accounts_notes": self.accounts_notes,
        }
