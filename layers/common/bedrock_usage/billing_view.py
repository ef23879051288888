"""Display values for the digest's bill sections: billed vs estimated (final days only), why the bill differs,
billed by team. Pure functions over the Report; the templates only lay them out."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .model import DayLine, Report
from .render import percent, usd

MAX_GAP_ROWS = 6
MAX_TEAM_ROWS = 10


def _ratio(part: Decimal | None, whole: Decimal | None) -> float | None:
    if part is None or not whole:
        return None
    return float(part / whole)


def _signed_usd(value: Decimal) -> str:
    return ("+" if value > 0 else "") + usd(value)


def billed_view(report: Report) -> dict[str, Any] | None:
    """Billed vs estimated over the final days only; provisional days are listed, never compared."""
    days: list[DayLine] = [d for d in report.daily if d.billed_usd is not None]
    if not days:
        return None
    # A day with no finality flag (billed_final None) comes from a source that only gives final days.
    final = [d for d in days if d.billed_final is not False]
    provisional = [d for d in days if d.billed_final is False]
    view: dict[str, Any] = {
        "provisional": ", ".join(f"{d.day:%d %b}" for d in provisional) or None,
        "provisional_billed": usd(sum((d.billed_usd or Decimal(0) for d in provisional), Decimal(0)))
        if provisional
        else None,
        "final": None,
    }
    if final:
        billed = sum((d.billed_usd or Decimal(0) for d in final), Decimal(0))
        estimated = sum((d.cost_usd or Decimal(0) for d in final), Decimal(0))
        last = final[-1]
        diff = (last.cost_usd or Decimal(0)) - (last.billed_usd or Decimal(0))
        view["final"] = {
            "days": len(final),
            "first": f"{final[0].day:%d %b}",
            "last": f"{last.day:%d %b}",
            "billed": usd(billed),
            "estimated": usd(estimated),
            "difference": usd(estimated - billed) if estimated != billed else "$0.00",
            "difference_pct": percent(_ratio(estimated - billed, billed), signed=True),
            "last_billed": usd(last.billed_usd),
            "last_estimated": usd(last.cost_usd),
            "last_difference": _signed_usd(diff) if diff else "$0.00",
            "last_difference_pct": percent(_ratio(diff, last.billed_usd), signed=True),
        }
    return view


def gap_view(report: Report) -> dict[str, Any] | None:
    """'Why the bill differs': billed, estimated and the largest parts, over the last final days."""
    gap = report.billing.gap if report.billing else None
    if gap is None:
        return None
    largest = gap.largest_part()
    rows = [
        {"what": category, "in_logs": in_logs, "billed": usd(value)}
        for category, in_logs, value in gap.by_category()[:MAX_GAP_ROWS]
    ]
    return {
        "first": f"{gap.first:%d %b}",
        "last": f"{gap.last:%d %b}",
        "billed": usd(gap.billed_usd),
        "estimated": usd(gap.estimated_usd),
        "in_logs": usd(gap.in_logs_usd),
        "not_in_logs": usd(gap.not_in_logs_usd),
        "unexplained": _signed_usd(gap.unexplained_usd) if gap.unexplained_usd else "$0.00",
        "largest": None if largest is None else {"what": largest[0], "usd": usd(largest[1])},
        "rows": rows,
        "rows_more": max(0, len(gap.by_category()) - MAX_GAP_ROWS),
    }


def callers_view(report: Report) -> dict[str, Any] | None:
    """'Billed by caller' (CUR 2.0), beside the estimate when the window is that same day."""
    billing = report.billing
    if billing is None or billing.cur_day is None:
        return None
    rows = []
    for c in billing.callers[:MAX_TEAM_ROWS]:
        diff = None if c.estimated_usd is None else c.estimated_usd - c.billed_usd
        rows.append(
            {
                "principal": c.principal,
                "billed": usd(c.billed_usd),
                "estimated": usd(c.estimated_usd) if c.estimated_usd is not None else None,
                "difference": None if diff is None else (_signed_usd(diff) if diff else "$0.00"),
                "models": ", ".join(m for m, _ in sorted(c.models.items(), key=lambda kv: -kv[1])[:3]),
            }
        )
    return {
        "day": f"{billing.cur_day:%d %b}",
        "rows": rows,
        "more": max(0, len(billing.callers) - MAX_TEAM_ROWS),
        "with_estimate": any(r["estimated"] is not None for r in rows),
        "scanned_mb": f"{(billing.cur_bytes_scanned or 0) / 1_000_000:,.1f}",
    }


def teams_view(report: Report) -> list[dict[str, Any]]:
    """'Billed by team': one table per principal tag key, untagged spend named as such."""
    if not report.billing:
        return []
    day = report.billing.last_final_day
    out = []
    for team in report.billing.teams:
        out.append(
            {
                "key": team.key,
                "billing_key": team.billing_key,
                "day": f"{day:%d %b}" if day else None,
                "rows": [
                    {
                        "value": r.value if r.value is not None else f"(no {team.key} tag)",
                        "untagged": r.value is None,
                        "last": usd(r.last_final_usd),
                        "mtd": usd(r.month_to_date_usd),
                    }
                    for r in team.rows[:MAX_TEAM_ROWS]
                ],
                "more": max(0, len(team.rows) - MAX_TEAM_ROWS),
            }
        )
    return out
