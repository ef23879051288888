"""`bedrock-usage top` and `bedrock-usage tail`: options and the glue to top.py and tail.py.

Light at import (cli.py builds its parser from it); boto3 and the pricing load when a command runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

LOG_GROUP = "/aws/bedrock/modelinvocations"


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"--limit must be a whole number from 1 to 1000, got {text!r}")
    return value


def add_top_arguments(parser: argparse.ArgumentParser, hours: Any, moment: Any, price_cache: Any) -> None:
    """Options of `bedrock-usage top` (the window options are the report's)."""
    parser.add_argument(
        "hours", nargs="?", type=hours, help="window length in hours, ending now (default 24)"
    )
    parser.add_argument("--since", type=moment, help="window start, ISO-8601 UTC (instead of HOURS)")
    parser.add_argument("--until", type=moment, help="window end, ISO-8601 UTC (default: now)")
    parser.add_argument("--limit", type=_limit, default=10, help="how many requests (default 10)")
    parser.add_argument("--by", choices=("cost", "tokens"), default="cost", help="rank by (default cost)")
    parser.add_argument(
        "--logs", metavar="PATH|s3://BUCKET/PREFIX", help="read invocation log files instead of Logs Insights"
    )
    parser.add_argument("--log-group", default=LOG_GROUP, help="invocation log group")
    parser.add_argument("--region", default=None, help="the log group's Region (default: AWS_REGION)")
    parser.add_argument("--prices", metavar="FILE|s3://...|ssm:/NAME", help="price override file")
    parser.add_argument("--price-cache", **price_cache)
    parser.add_argument("--format", choices=("text", "json"), default="text")


def add_tail_arguments(parser: argparse.ArgumentParser, price_cache: Any) -> None:
    """Options of `bedrock-usage tail`."""
    parser.add_argument("--log-group", default=LOG_GROUP, help="invocation log group")
    parser.add_argument("--region", default=None, help="the log group's Region (default: AWS_REGION)")
    parser.add_argument("--prices", metavar="FILE|s3://...|ssm:/NAME", help="price override file")
    parser.add_argument("--price-cache", **price_cache)
    parser.add_argument("--poll", action="store_true", help="poll FilterLogEvents instead of Live Tail")


def _pricer(args: argparse.Namespace, region: str, cache: str, session: Any, now: Any) -> tuple[Any, Any]:
    """The report's Pricer for `region`: overrides, the cached Price List, genai-prices."""
    from bedrock_usage.model import SourceFailure
    from bedrock_usage.pipeline import CLIENT_CONFIG, ReportSettings, _catalogue
    from bedrock_usage.price import PriceOverrideError, Pricer, load_overrides

    def client(service: str, where: str | None = None, config: Any = CLIENT_CONFIG) -> Any:
        return session.client(service, region_name=where or region, config=config)

    try:
        overrides = load_overrides(args.prices, client=client) if args.prices else None
    except PriceOverrideError as exc:
        print(f"bedrock-usage: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    failures: list[SourceFailure] = []
    catalogue = _catalogue(ReportSettings(regions=(region,), price_cache=cache), client, now, failures)
    for failure in failures:
        print(f"bedrock-usage: warning: {failure.source}: {failure.message}", file=sys.stderr)
    pricer = Pricer(
        overrides, bedrock=lambda where: client("bedrock", where), catalogue=catalogue, default_region=region
    )
    return pricer, catalogue


def run_top(args: argparse.Namespace, *, window: Any, region: str, cache: str) -> int:
    """Rank the window's requests and print them; exit 1 when Logs Insights or the files failed."""
    import boto3

    from bedrock_usage.collect.insights import InsightsError
    from bedrock_usage.pipeline import SOURCE_ERRORS
    from bedrock_usage.top import format_top, top_from_insights, top_from_logfiles

    session = boto3.session.Session(region_name=region)
    pricer, catalogue = _pricer(args, region, cache, session, window.end)
    try:
        if args.logs:
            s3 = session.client("s3") if args.logs.startswith("s3://") else None
            result = top_from_logfiles(args.logs, window, pricer, by=args.by, limit=args.limit, s3=s3)
        else:
            logs = session.client("logs", region_name=region)
            result = top_from_insights(logs, args.log_group, window, pricer, by=args.by, limit=args.limit)
    except (InsightsError, *SOURCE_ERRORS) as exc:
        print(f"bedrock-usage: error: could not read requests: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    if catalogue is not None:
        catalogue.save()
    if args.format == "json":
        sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
    else:
        sys.stdout.write(format_top(result))
    return 0


def run_tail(args: argparse.Namespace, *, region: str, cache: str) -> int:
    """Follow the log group until Ctrl-C, then print the session's totals."""
    from datetime import UTC, datetime

    import boto3

    from bedrock_usage.tail import follow

    session = boto3.session.Session(region_name=region)
    pricer, _ = _pricer(args, region, cache, session, datetime.now(UTC))
    logs = session.client("logs", region_name=region)

    def write(line: str) -> None:
        print(line, flush=True)

    def warn(line: str) -> None:
        print(f"bedrock-usage: {line}", file=sys.stderr, flush=True)

    from botocore.exceptions import BotoCoreError, ClientError

    try:
        totals = follow(logs, args.log_group, pricer, write=write, warn=warn, live=not args.poll)
    except (LookupError, ClientError, BotoCoreError) as exc:
        # Totals seen before a failure are lost with the exception; the lines printed so far remain.
        print(f"bedrock-usage: error: {exc}", file=sys.stderr)
        return 1
    print(totals.summary(), flush=True)
    return 0
