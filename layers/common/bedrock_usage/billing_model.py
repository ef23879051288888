"""Plain data for the bill beside the estimate: final and provisional days, the gap, spend by team.

Filled by `collect.billing` (Cost Explorer) and `billing_gap` (classification); read by the digest, the CLI
and the JSON contract (`Report.billing`). Nothing here talks to AWS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from .model import money


@dataclass
class UsageTypeCost:
    """Billed cost of one Cost Explorer usage type of one Bedrock service over the gap's days."""

    service: str
    usage_type: str
    cost_usd: Decimal
    category: str = ""  # set by billing_gap.classify
    in_logs: bool = False  # True: invocation logs see this usage, so the estimate should cover it

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "usage_type": self.usage_type,
            "category": self.category,
            "in_logs": self.in_logs,
            "billed_usd": money(self.cost_usd),
        }


@dataclass
class Gap:
    """Why the bill differs from the estimate, over final days only."""

    first: date
    last: date
    billed_usd: Decimal
    estimated_usd: Decimal
    rows: list[UsageTypeCost] = field(default_factory=list)

    @property
    def in_logs_usd(self) -> Decimal:
        """Billed for what the logs see (on-demand tokens): what the estimate should match."""
        return sum((r.cost_usd for r in self.rows if r.in_logs), Decimal(0))

    @property
    def not_in_logs_usd(self) -> Decimal:
        return sum((r.cost_usd for r in self.rows if not r.in_logs), Decimal(0))

    @property
    def unexplained_usd(self) -> Decimal:
        """On-demand billed minus the estimate: the part no usage type accounts for."""
        return self.in_logs_usd - self.estimated_usd

    def by_category(self) -> list[tuple[str, bool, Decimal]]:
        """(category, in_logs, billed) summed per category, largest first."""
        sums: dict[tuple[str, bool], Decimal] = {}
        for r in self.rows:
            sums[(r.category, r.in_logs)] = sums.get((r.category, r.in_logs), Decimal(0)) + r.cost_usd
        return sorted(((c, i, v) for (c, i), v in sums.items()), key=lambda t: (-abs(t[2]), t[0]))

    def largest_part(self) -> tuple[str, Decimal] | None:
        """The largest single reason for the difference: a category the logs cannot see, or the remainder."""
        parts = [(c, v) for c, in_logs, v in self.by_category() if not in_logs and v]
        remainder = self.unexplained_usd
        if remainder:
            parts.append(("on-demand tokens billed beyond the estimate", remainder))
        return max(parts, key=lambda p: abs(p[1]), default=None)

    def to_dict(self) -> dict[str, Any]:
        largest = self.largest_part()
        return {
            "first_day": self.first.isoformat(),
            "last_day": self.last.isoformat(),
            "billed_usd": money(self.billed_usd),
            "estimated_usd": money(self.estimated_usd),
            "in_logs_billed_usd": money(self.in_logs_usd),
            "not_in_logs_billed_usd": money(self.not_in_logs_usd),
            "unexplained_usd": money(self.unexplained_usd),
            "largest_part": None if largest is None else {"what": largest[0], "usd": money(largest[1])},
            "rows": [r.to_dict() for r in sorted(self.rows, key=lambda r: (-r.cost_usd, r.usage_type))],
        }


@dataclass
class TagSpend:
    value: str | None  # None: Bedrock spend by principals without this tag
    last_final_usd: Decimal = Decimal(0)
    month_to_date_usd: Decimal = Decimal(0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "untagged": self.value is None,
            "last_final_day_usd": money(self.last_final_usd),
            "month_to_date_usd": money(self.month_to_date_usd),
        }


@dataclass
class TagBreakdown:
    """Billed Bedrock cost per value of one principal tag (cost allocation tag `iamPrincipal/<key>`)."""

    key: str  # as the user wrote it, e.g. "team"
    billing_key: str  # as Cost Explorer names it, e.g. "iamPrincipal/team"
    rows: list[TagSpend] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "billing_key": self.billing_key, "rows": [r.to_dict() for r in self.rows]}


@dataclass
class CallerBill:
    """Billed cost of one IAM principal (a role stands for all its sessions) on one day, from CUR 2.0."""

    principal: str
    billed_usd: Decimal
    models: dict[str, Decimal] = field(default_factory=dict)
    estimated_usd: Decimal | None = None  # only when the report's window is that same UTC day

    def to_dict(self) -> dict[str, Any]:
        return {
            "principal": self.principal,
            "billed_usd": money(self.billed_usd),
            "estimated_usd": money(self.estimated_usd),
            "difference_usd": money(
                None if self.estimated_usd is None else self.estimated_usd - self.billed_usd
            ),
            "models": [{"model": m, "billed_usd": money(v)} for m, v in self.models.items()],
        }


@dataclass
class Billing:
    """What Cost Explorer says about Bedrock, beside the estimate."""

    last_final_day: date | None = None
    last_final_billed_usd: Decimal | None = None
    last_final_estimated_usd: Decimal | None = None
    provisional_days: list[date] = field(default_factory=list)
    gap: Gap | None = None
    teams: list[TagBreakdown] = field(default_factory=list)
    month_start: date | None = None
    cost_explorer_requests: int = 0
    callers: list[CallerBill] = field(default_factory=list)  # CUR 2.0, for `cur_day`
    cur_day: date | None = None
    cur_bytes_scanned: int | None = None  # what the Athena query scanned (billed per TB)

    @property
    def last_final_difference_usd(self) -> Decimal | None:
        """Estimate minus billed on the last final day (negative: the bill is higher)."""
        if self.last_final_billed_usd is None or self.last_final_estimated_usd is None:
            return None
        return self.last_final_estimated_usd - self.last_final_billed_usd

    @property
    def last_final_difference_ratio(self) -> float | None:
        diff = self.last_final_difference_usd
        if diff is None or not self.last_final_billed_usd:
            return None
        return float(diff / self.last_final_billed_usd)

    def to_dict(self) -> dict[str, Any]:
        return {
            "last_final_day": self.last_final_day.isoformat() if self.last_final_day else None,
            "last_final_billed_usd": money(self.last_final_billed_usd),
            "last_final_estimated_usd": money(self.last_final_estimated_usd),
            "last_final_difference_usd": money(self.last_final_difference_usd),
            "last_final_difference_ratio": self.last_final_difference_ratio,
            "provisional_days": [d.isoformat() for d in self.provisional_days],
            "gap": self.gap.to_dict() if self.gap else None,
            "by_tag": [t.to_dict() for t in self.teams],
            "month_start": self.month_start.isoformat() if self.month_start else None,
            "cost_explorer_requests": self.cost_explorer_requests,
            "by_caller": [c.to_dict() for c in self.callers],
            "cur_day": self.cur_day.isoformat() if self.cur_day else None,
            "cur_bytes_scanned": self.cur_bytes_scanned,
        }
