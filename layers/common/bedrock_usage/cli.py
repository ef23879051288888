"""`bedrock-usage`: usage and cost reports, price look-ups and the logging status, from a terminal.

Exit status: 0 = done; 1 = report written but a data source failed (the report says which);
2 = bad arguments (one line on stderr).
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NoReturn

from bedrock_usage.model import Report, Window, iso
from bedrock_usage.render import cache_effect, count, percent, usd

DEFAULT_HOURS = 24.0
TEXT_DAYS = 14  # the JSON has the whole month; a terminal shows two weeks


class _Parser(argparse.ArgumentParser):
    """argparse prints usage and exits 2; we keep the 2 but print one clear line."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _fail(message: str) -> NoReturn:
    print(f"bedrock-usage: error: {message}", file=sys.stderr)
    raise SystemExit(2)


MAX_HOURS = 87_600  # ten years: longer windows are not meaningful and overflow date arithmetic


def _hours(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"HOURS must be a positive number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"HOURS must be a positive number, got {text!r}")
    if value > MAX_HOURS:
        raise argparse.ArgumentTypeError(f"HOURS must be at most {MAX_HOURS} (ten years), got {text!r}")
    return value


def _moment(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO-8601 time: {text!r} (e.g. 2026-11-27T00:00:00Z)"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _usd(text: str) -> Decimal:
    try:
        value = Decimal(text.lstrip("$"))
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not an amount in USD: {text!r}") from None
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"not an amount in USD: {text!r}")
    return value


def _default_region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


_PRICE_CACHE: dict[str, Any] = {
    "metavar": "FILE|s3://BUCKET/KEY|off",
    "default": None,
    "help": "AWS Price List cache, refreshed daily (default $BEDROCK_USAGE_PRICE_CACHE, else "
    "~/.cache/bedrock-usage/price-list.json; off: genai-prices only); the findings' Service Quotas "
    "lists are kept beside it, in service-quotas.json",
}


def _price_cache(args: argparse.Namespace) -> str:
    """--price-cache, else $BEDROCK_USAGE_PRICE_CACHE, else ~/.cache/bedrock-usage/price-list.json."""
    from bedrock_usage.pricing.cache import CACHE_ENV, default_cli_path

    return str(args.price_cache or os.environ.get(CACHE_ENV, "").strip() or default_cli_path())


def _report_arguments(report: argparse.ArgumentParser, formats: tuple[str, ...]) -> None:
    report.add_argument(
        "hours", nargs="?", type=_hours, help="window length in hours, ending now (default 24)"
    )
    report.add_argument("--since", type=_moment, help="window start, ISO-8601 UTC (instead of HOURS)")
    report.add_argument("--until", type=_moment, help="window end, ISO-8601 UTC (default: now)")
    report.add_argument(
        "--logs",
        metavar="PATH|s3://BUCKET/PREFIX",
        help="read invocation log files instead of CloudWatch; several locations comma-separated (e.g. one "
        "bucket per account); records of more than one account add usage per account",
    )
    report.add_argument("--region", action="append", help="region to read (repeatable; default: AWS_REGION)")
    report.add_argument("--log-group", default="/aws/bedrock/modelinvocations", help="invocation log group")
    report.add_argument(
        "--no-callers", action="store_true", help="skip the Logs Insights query (no per-caller figures)"
    )
    report.add_argument("--format", choices=formats, default="text")
    report.add_argument("--out", metavar="FILE", help="write the report here instead of stdout")
    report.add_argument(
        "--cost-explorer", action="store_true", help="set billed cost per day beside the estimate"
    )
    report.add_argument(
        "--tag-key",
        action="append",
        metavar="KEY",
        help="with --cost-explorer: principal tag key to split billed cost by (repeatable; e.g. team)",
    )
    report.add_argument(
        "--linked-accounts",
        action="store_true",
        help="monitoring account: also read every linked source account and show usage per account",
    )
    report.add_argument(
        "--budget", type=_usd, metavar="USD", help="monthly budget to compare the projection with"
    )
    report.add_argument(
        "--prices", metavar="FILE|s3://...|ssm:/NAME", help="price override file (README: Prices)"
    )
    report.add_argument("--trend-days", type=int, default=14, help="days in the daily series (default 14)")
    report.add_argument("--price-cache", **_PRICE_CACHE)


def build_parser(*, logging_status: Any = None) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="bedrock-usage", description="Amazon Bedrock usage and cost, from CloudWatch or log files."
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    report = sub.add_parser("report", help="usage and cost report for a time window")
    _report_arguments(report, ("text", "json", "html"))
    advise = sub.add_parser("advise", help="what is worth doing: savings and risks ranked by dollars")
    _report_arguments(advise, ("text", "json"))

    prices = sub.add_parser("prices", help="how model IDs resolve and what 1M tokens cost in a Region")
    prices.add_argument("model_ids", nargs="+", metavar="MODEL_ID")
    prices.add_argument("--prices", metavar="FILE|s3://...|ssm:/NAME", help="price override file")
    prices.add_argument(
        "--region", default=None, help="the calling Region whose rates apply (default: AWS_REGION)"
    )
    prices.add_argument("--price-cache", **_PRICE_CACHE)
    prices.add_argument("--format", choices=("text", "json"), default="text")

    status = sub.add_parser("logging-status", help="is Bedrock invocation logging on, and is it delivering?")
    if logging_status is not None:
        logging_status.add_arguments(status)
    requests_cli = importlib.import_module("bedrock_usage.requests_cli")
    requests_cli.add_top_arguments(
        sub.add_parser("top", help="the most expensive single requests in a time window"),
        _hours,
        _moment,
        _PRICE_CACHE,
    )
    requests_cli.add_tail_arguments(
        sub.add_parser("tail", help="follow new invocations, priced, with a running total"), _PRICE_CACHE
    )
    bill = sub.add_parser("bill", help="Bedrock's billed cost from Cost Explorer: by usage type or team")
    importlib.import_module("bedrock_usage.bill_cli").add_arguments(bill)
    doctor = sub.add_parser("doctor", help="check a deployed stack: logging, delivery, email, alarms, cost")
    importlib.import_module("bedrock_usage.doctor").add_arguments(doctor)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    logging_status: Any = None
    if args_list[:1] == ["logging-status"]:
        try:
            logging_status = importlib.import_module("bedrock_usage.logging_status")
        except ImportError:
            _fail("logging-status is not available in this version (bedrock_usage.logging_status is missing)")
    args = build_parser(logging_status=logging_status).parse_args(args_list)
    try:
        if args.command in ("report", "advise"):
            return _report(args)
        if args.command == "prices":
            return _prices(args)
        if args.command in ("top", "tail"):
            return _requests(args)
        if args.command == "bill":
            return int(importlib.import_module("bedrock_usage.bill_cli").run(args))
        if args.command == "doctor":
            return int(importlib.import_module("bedrock_usage.doctor").run(args))
        return int(logging_status.run(args))
    except BrokenPipeError:  # `bedrock-usage report | head`
        return 0


# ---------------------------------------------------------------------------------------------- report


def _window(args: argparse.Namespace, now: datetime) -> Window:
    window = _requested_window(args, now)
    try:
        window.previous()  # the report compares against it: it must exist on the calendar too
    except OverflowError:
        _fail(f"the window starting {iso(window.start)} is too long or too early to report on")
    return window


def _requested_window(args: argparse.Namespace, now: datetime) -> Window:
    if args.since is not None and args.hours is not None:
        _fail("give HOURS or --since, not both")
    until = args.until or now
    if args.since is not None:
        if args.since >= until:
            _fail(f"--since {iso(args.since)} is not before --until {iso(until)}")
        return Window(args.since, until)
    hours = args.hours or DEFAULT_HOURS
    if args.until is None:
        return Window.last_hours(hours, now)
    return Window(until - timedelta(hours=hours), until)


def _check_readable(location: str | None, what: str) -> None:
    if not location or location.startswith(("s3://", "ssm:", "{")):
        return
    path = Path(location).expanduser()
    if not path.exists():
        _fail(f"{what} {location}: no such file or folder")
    if not os.access(path, os.R_OK):
        _fail(f"{what} {location}: not readable")


def _check_writable(location: str | None) -> None:
    if not location:
        return
    folder = Path(location).expanduser().resolve().parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        _fail(f"--out {location}: cannot write to {folder}")


def _load_prices(location: str | None, session: Any) -> Any:
    from bedrock_usage.price import PriceOverrideError, load_overrides

    if not location:
        return None
    try:
        return load_overrides(location, client=lambda service: session.client(service))
    except PriceOverrideError as exc:
        _fail(str(exc))


def _report(args: argparse.Namespace) -> int:
    import boto3

    from bedrock_usage.pipeline import ReportSettings, run_report

    now = datetime.now(UTC)
    window = _window(args, now)
    if args.logs:
        from bedrock_usage.log_archive import locations

        for location in locations(args.logs):
            _check_readable(location, "--logs")
    _check_readable(args.prices, "--prices")
    _check_writable(args.out)
    regions = tuple(dict.fromkeys(args.region or [_default_region()]))
    session = boto3.session.Session(region_name=regions[0])
    if args.prices and not args.prices.startswith(("s3://", "ssm:")):
        _load_prices(
            args.prices, session
        )  # a bad local file is a bad argument: exit 2 now, not a warning later
    try:
        settings = ReportSettings(
            regions=regions,
            log_group=None if args.no_callers else args.log_group,
            logs_source=args.logs,
            cost_explorer=args.cost_explorer,
            cost_allocation_tags=tuple(args.tag_key or ()),
            budget_usd=args.budget,
            price_overrides=args.prices,
            trend_days=args.trend_days,
            price_cache=_price_cache(args),
            linked_accounts=args.linked_accounts,
        )
    except ValueError as exc:
        _fail(str(exc))
    report = run_report(window, settings, session=session, now=now)

    if args.command == "advise":
        from bedrock_usage.advise_view import advice_json, advice_text

        output = (
            json.dumps(advice_json(report), indent=2) + "\n" if args.format == "json" else advice_text(report)
        )
    elif args.format == "json":
        output = json.dumps(report.to_dict(), indent=2) + "\n"
    elif args.format == "html":
        try:
            from bedrock_usage.digest import render_digest
        except ImportError:
            _fail("--format html is not available in this version (bedrock_usage.digest is missing)")
        output = render_digest(report).html
    else:
        output = format_text(report)
    if args.out:
        Path(args.out).expanduser().write_text(output, encoding="utf-8")
    else:
        sys.stdout.write(output)
    if report.failures:
        for failure in report.failures:
            print(f"bedrock-usage: warning: {failure.source} failed: {failure.message}", file=sys.stderr)
        return 1
    return 0


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    """Left-align the first column, right-align the rest."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    lines = []
    for row in [headers, *rows]:
        cells = [str(c).ljust(widths[0]) if i == 0 else str(c).rjust(widths[i]) for i, c in enumerate(row)]
        lines.append(indent + "  ".join(cells).rstrip())
    return lines


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _change(current: Decimal | int, previous: Decimal | int | None) -> str:
    if previous is None or previous == 0:
        return ""
    ratio = float((Decimal(current) - Decimal(previous)) / Decimal(previous))
    return f" ({percent(ratio, signed=True)} vs previous)"


def format_text(report: Report) -> str:
    """A readable console report: totals, models, callers, days, errors, warnings."""
    t = report.totals
    out = [
        f"Bedrock usage {iso(report.window.start)} -> {iso(report.window.end)} ({report.window.hours:g} h)",
        f"source {report.source}; regions {', '.join(report.regions) or '-'}; "
        f"generated {iso(report.generated_at)}",
        "",
        "Totals",
        f"  invocations          {count(t.invocations)}"
        + _change(t.invocations, report.previous_totals.invocations if report.previous_totals else None),
        f"  input tokens         {count(t.input_tokens)} (uncached)",
        f"  output tokens        {count(t.output_tokens)}",
        f"  cache read / write   {count(t.cache_read_tokens)} / {count(t.cache_write_tokens)}",
        f"  estimated cost       {usd(report.cost_usd)}" + _change(report.cost_usd, report.previous_cost_usd),
    ]
    if report.unpriced_invocations:
        out.append(f"  unpriced invocations {count(report.unpriced_invocations)} (not in the cost)")
    if report.cache_savings_usd:
        out.append(f"  prompt caching       {cache_effect(report.cache_savings_usd)}")
    out.append(
        f"  errors               {count(t.client_errors)} client, {count(t.server_errors)} server"
        f" ({percent(t.error_rate)}); throttles {count(t.throttles)} ({percent(t.throttle_rate)})"
    )
    if report.month_to_date_usd is not None:
        line = (
            f"  month to date        {usd(report.month_to_date_usd)}; "
            f"projected {usd(report.projected_month_usd)}"
        )
        if report.budget_usd is not None:
            line += f" of budget {usd(report.budget_usd)}"
        out.append(line)

    if report.models:
        out += ["", "Models"]
        rows = []
        for m in report.models:
            lat = m.latency
            name = m.model_id + ("*" if m.price.approximate else "")
            rows.append(
                [
                    name,
                    count(m.counts.invocations),
                    count(m.counts.input_tokens),
                    count(m.counts.output_tokens),
                    count(m.counts.cache_read_tokens),
                    count(m.counts.cache_write_tokens),
                    usd(m.cost_usd),
                    percent(m.share) if m.share is not None else "-",
                    usd(m.previous_cost_usd) if m.previous_cost_usd is not None else "-",
                    f"{_ms(lat.average_ms)}/{_ms(lat.p99_ms)}" if lat else "-",
                    percent(m.counts.error_rate),
                ]
            )
        out += _table(
            [
                "model",
                "calls",
                "input",
                "output",
                "cache rd",
                "cache wr",
                "cost",
                "share",
                "previous",
                "avg/p99 ms",
                "errors",
            ],
            rows,
        )
        if any(m.price.approximate for m in report.models):
            out.append("  * approximate price (see warnings)")

    if report.callers:
        out += ["", "Callers"]
        out += _table(
            ["caller", "calls", "input", "output", "cost", "unpriced calls"],
            [
                [
                    c.caller,
                    count(c.counts.invocations),
                    count(c.counts.input_tokens),
                    count(c.counts.output_tokens),
                    usd(c.cost_usd),
                    count(c.unpriced_invocations),
                ]
                for c in report.callers
            ],
        )

    if report.daily:
        days = report.daily[-TEXT_DAYS:]
        out += ["", f"Last {len(days)} days (UTC)"]
        out += _table(
            ["day", "calls", "tokens", "estimate", "billed"],
            [
                [
                    d.day.isoformat(),
                    count(d.counts.invocations),
                    count(d.counts.total_tokens),
                    usd(d.cost_usd),
                    "-"
                    if d.billed_usd is None
                    else usd(d.billed_usd) + (" (provisional)" if d.billed_final is False else ""),
                ]
                for d in days
            ],
        )

    out += importlib.import_module("bedrock_usage.bill_cli").billing_lines(report.billing)
    if report.errors_by_code:
        out += ["", "Errors by code"]
        out += _table(["code", "count"], [[k, count(v)] for k, v in report.errors_by_code.items()])
    if report.skipped_records:
        out += ["", f"Skipped records: {count(report.skipped_records)} malformed (see warnings)"]
    if report.warnings:
        out += ["", "Warnings"] + [f"  - {w}" for w in report.warnings]
    if report.failures:
        out += ["", "Failed sources (figures above are incomplete)"]
        out += [f"  - {f.source}: {f.message}" for f in report.failures]
    return "\n".join(out) + "\n"


def _requests(args: argparse.Namespace) -> int:
    requests_cli = importlib.import_module("bedrock_usage.requests_cli")
    _check_readable(args.prices, "--prices")
    region = args.region or _default_region()
    if args.command == "tail":
        return int(requests_cli.run_tail(args, region=region, cache=_price_cache(args)))
    _check_readable(args.logs, "--logs")
    window = _requested_window(args, datetime.now(UTC))
    return int(requests_cli.run_top(args, window=window, region=region, cache=_price_cache(args)))


# ---------------------------------------------------------------------------------------------- prices


def _prices(args: argparse.Namespace) -> int:
    from bedrock_usage.pricing.show import show_prices

    _check_readable(args.prices, "--prices")
    region = args.region or _default_region()
    return show_prices(args, region, _price_cache(args), load_overrides=_load_prices, fail=_fail)


if __name__ == "__main__":
    sys.exit(main())
