"""`bedrock-usage bill`: Bedrock's billed cost from Cost Explorer alone (no logs, no estimate), and the bill's
lines in `bedrock-usage report --cost-explorer`.

Exit status: 0 = done; 1 = Cost Explorer failed (one line on stderr); 2 = bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from .billing_gap import build_gap
from .billing_model import Billing, TagBreakdown
from .render import percent, usd

TAG_KEYS_ENV = "BEDROCK_USAGE_TAG_KEYS"
BY = ("usage-type", "team", "caller")
MAX_DAYS = 93


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `bill` subcommand's options."""
    parser.add_argument(
        "--days",
        type=int,
        default=14,
        help=f"completed UTC days to read, ending yesterday (1-{MAX_DAYS}; default 14)",
    )
    parser.add_argument(
        "--by", choices=BY, default="usage-type", help="break the bill down by usage type (default) or team"
    )
    parser.add_argument(
        "--tag-key",
        action="append",
        metavar="KEY",
        help=f"principal tag key for --by team (repeatable; default ${TAG_KEYS_ENV}, else team)",
    )
    parser.add_argument(
        "--cur-table", metavar="DB.TABLE", help="--by caller: the CUR 2.0 export's table (stack: CUR_TABLE)"
    )
    parser.add_argument("--cur-workgroup", metavar="NAME", help="--by caller: its Athena workgroup")
    parser.add_argument("--format", choices=("text", "json"), default="text")


def run(args: argparse.Namespace, *, session: Any = None, today: date | None = None) -> int:
    """Read the bill and print it; see the module docstring for the exit status."""
    from botocore.exceptions import BotoCoreError, ClientError

    from .billing import attach_raw, collect_bill

    if not 1 <= args.days <= MAX_DAYS:
        print(f"bedrock-usage: error: --days must be 1 to {MAX_DAYS}, got {args.days}", file=sys.stderr)
        return 2
    if args.by == "caller" and not (args.cur_table and args.cur_workgroup):
        print(
            "bedrock-usage: error: --by caller reads the CUR 2.0 export with caller identity "
            "(CurExport=true): give --cur-table and --cur-workgroup (the stack's CUR_TABLE, CUR_WORKGROUP)",
            file=sys.stderr,
        )
        return 2
    tag_keys: tuple[str, ...] = ()
    if args.by == "team":
        env = [k.strip() for k in os.environ.get(TAG_KEYS_ENV, "").split(",") if k.strip()]
        tag_keys = tuple(dict.fromkeys(args.tag_key or env or ["team"]))
    today = today or datetime.now(UTC).date()
    if session is None:
        import boto3

        session = boto3.session.Session()
    from .pipeline import CLIENT_CONFIG

    client = session.client("ce", region_name="us-east-1", config=CLIENT_CONFIG)
    try:
        raw = collect_bill(
            client,
            today - timedelta(days=args.days),
            today,
            month_start=today.replace(day=1),
            tag_keys=tag_keys,
            with_usage_types=args.by == "usage-type",
        )
    except (ClientError, BotoCoreError) as exc:
        print(f"bedrock-usage: error: cost-explorer failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    billing = attach_raw(raw)
    if args.by == "caller":
        failed = _callers(args, session, billing, today)
        if failed:
            return failed
    if raw.usage is not None and raw.gap_days is not None:
        billing.gap = build_gap(raw.usage, {}, *raw.gap_days)
    days = [
        {"day": d.isoformat(), "billed_usd": float(v), "final": d not in raw.daily.provisional}
        for d, v in raw.daily.amounts.items()
    ]
    if args.format == "json":
        data = {"days": days, "billing": billing.to_dict(), "warnings": raw.warnings}
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        out = [
            f"Bedrock bill from Cost Explorer, {days[0]['day'] if days else '-'} to "
            f"{days[-1]['day'] if days else '-'} "
            f"({raw.requests} requests, {usd(Decimal(raw.requests) / 100)})",
            "",
            "Days (UTC)",
        ]
        out += [
            f"  {d['day']}  {usd(Decimal(str(d['billed_usd']))):>12}  "
            + ("final" if d["final"] else "provisional")
            for d in days
        ]
        out += billing_lines(billing, with_estimate=False)
        out += [f"warning: {w}" for w in raw.warnings]
        sys.stdout.write("\n".join(out) + "\n")
    return 0


def _callers(args: argparse.Namespace, session: Any, billing: Billing, today: date) -> int:
    """Billed per caller from CUR 2.0 for the last final day (else two days back); 1 when the query fails."""
    from botocore.exceptions import BotoCoreError, ClientError

    from .billing import billed_by_caller
    from .collect.cur import CurQueryError

    day = billing.last_final_day or today - timedelta(days=2)
    athena = session.client("athena", config=_config())
    try:
        billing.callers, billing.cur_bytes_scanned = billed_by_caller(
            athena, args.cur_table, args.cur_workgroup, day
        )
    except (ClientError, BotoCoreError, CurQueryError, ValueError) as exc:
        print(f"bedrock-usage: error: cur failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    billing.cur_day = day
    return 0


def _config() -> Any:
    from .pipeline import CLIENT_CONFIG

    return CLIENT_CONFIG


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=True)]
    return [
        "  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in [headers, *rows]
    ]


def billing_lines(billing: Billing | None, *, with_estimate: bool = True) -> list[str]:
    """The bill's sections as console lines: last final day, the gap by usage type, billed by team."""
    if billing is None:
        return []
    out: list[str] = []
    if billing.last_final_day is not None:
        line = f"Last final day {billing.last_final_day}: billed {usd(billing.last_final_billed_usd)}"
        if with_estimate and billing.last_final_difference_usd is not None:
            line += (
                f", estimated {usd(billing.last_final_estimated_usd)} (difference "
                f"{usd(billing.last_final_difference_usd)}, "
                f"{percent(billing.last_final_difference_ratio, signed=True)})"
            )
        out += ["", line]
    if billing.provisional_days:
        out.append(
            "Provisional (still estimated by Cost Explorer): " + ", ".join(map(str, billing.provisional_days))
        )
    gap = billing.gap
    if gap is not None:
        head = f"By usage type, {gap.first} to {gap.last} (final days): billed {usd(gap.billed_usd)}"
        if with_estimate:
            beyond = usd(gap.unexplained_usd)
            head += f", estimated {usd(gap.estimated_usd)}, on-demand beyond the estimate {beyond}"
        out += ["", head]
        rows = sorted(gap.rows, key=lambda r: (-r.cost_usd, r.usage_type))
        out += _table(
            ["category", "in logs", "usage type", "service", "billed"],
            [
                [r.category, "yes" if r.in_logs else "no", r.usage_type, r.service, usd(r.cost_usd)]
                for r in rows
            ],
        )
    if billing.cur_day is not None:
        scanned = f"{(billing.cur_bytes_scanned or 0) / 1_000_000:,.1f} MB scanned"
        out += ["", f"By caller, {billing.cur_day} (CUR 2.0; {scanned})"]
        out += _table(
            ["principal", "billed", "estimated", "models"],
            [
                [
                    c.principal,
                    usd(c.billed_usd),
                    "-" if c.estimated_usd is None else usd(c.estimated_usd),
                    ", ".join(c.models),
                ]
                for c in billing.callers
            ],
        )
    for team in billing.teams:
        out += ["", f"By {team.key} ({team.billing_key})"]
        out += _team_table(team, billing.last_final_day)
    return out


def _team_table(team: TagBreakdown, day: date | None) -> list[str]:
    if not team.rows:
        return ["  no Bedrock spend in the period"]
    return _table(
        [team.key, str(day or "last final day"), "month to date"],
        [
            [
                r.value if r.value is not None else f"(no {team.key} tag)",
                usd(r.last_final_usd),
                usd(r.month_to_date_usd),
            ]
            for r in team.rows
        ],
    )
