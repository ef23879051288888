"""Step: Bedrock traffic, written where Bedrock writes it (metrics, the log group, the bucket)."""

from __future__ import annotations

from scripts.demo.common import REGION, Demo, say
from scripts.demo.emulator import account_id, client
from scripts.demo.logging_setup import destinations


def step(demo: Demo) -> None:
    """Write Bedrock traffic where Bedrock writes it: metrics, the log group and the bucket."""
    stack, outcome, now = demo.stack, demo.outcome, demo.now
    days, per_day, seed = demo.days, demo.per_day, demo.seed
    from scripts import traffic as gen

    log_group, bucket, prefix, text = destinations(stack, outcome)
    traffic = gen.generate(
        now=now, account_id=account_id(), region=REGION, days=days, per_day=per_day, seed=seed
    )
    outcome.traffic = traffic
    callers, models = {i.caller for i in traffic.invocations}, {i.model.model_id for i in traffic.invocations}
    say(
        f"    {len(traffic.invocations):,} requests over {days} days from {len(callers)} callers to "
        f"{len(models)} model IDs (seed {seed})"
    )
    gen.write_metrics(client("cloudwatch"), traffic)
    gen.write_log_events(client("logs"), traffic, log_group=log_group, text_delivery=text)
    gen.write_log_files(
        client("s3"), traffic, bucket=bucket, key_prefix=prefix, text_delivery=text, seed=seed
    )
    w = traffic.written
    say(
        f"    AWS/Bedrock: {w['metric datapoints']:,} datapoints; {log_group}: {w['log events']:,} events; "
        f"s3://{bucket}/{prefix}: {w['log files']:,} .json.gz objects ({w['log file records']:,} records)"
    )
    say(
        "    CloudWatch takes data at most 14 days old, so the 15th day is in S3 only (Bedrock writes live, "
        "a backfill cannot)"
    )
