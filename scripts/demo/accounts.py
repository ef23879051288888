"""Step (`--accounts N`): N-1 emulated source accounts, each logging its Bedrock traffic to its own bucket.

moto keys every backend by account: STS AssumeRole into a role ARN of another account ID returns credentials
that moto resolves to that account, as Organizations' member-account role does in a real organization.
Each source account gets what source-account.yaml gives it (the bucket `<BucketPrefix>-<account>` and the
log group, named by that template's defaults) and Bedrock logging pointed at them; its traffic differs in
volume, so the Accounts section has a ranking. The monitoring account's report reads every account's files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scripts.demo.common import REGION, REPO, Demo, say
from scripts.demo.emulator import client
from scripts.demo.logging_setup import destinations, logs_source

MAX_ACCOUNTS = 10  # the monitoring account and nine source accounts: IDs 111111111111 ... 999999999999
MEMBER_ROLE = "OrganizationAccountAccessRole"  # the role Organizations creates in each member account
VOLUME = 0.6  # source account k calls Bedrock per_day * VOLUME**k times a day: a visible ranking


@dataclass(frozen=True)
class SourceAccount:
    """One emulated source account: its ID, traffic inputs and where its log files went."""

    account_id: str
    per_day: int
    seed: int
    bucket: str
    key_prefix: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "per_day": self.per_day,
            "seed": self.seed,
            "logs_source": logs_source(self.bucket, self.key_prefix),
        }


def plan(accounts: int, per_day: int, seed: int) -> list[SourceAccount]:
    """The source accounts of a run with `accounts` accounts in all (the monitoring account is the first)."""
    if not 1 <= accounts <= MAX_ACCOUNTS:
        raise ValueError(f"--accounts must be 1 to {MAX_ACCOUNTS}, got {accounts}")
    names = _source_template_names()
    return [
        SourceAccount(
            account_id=str(k) * 12,
            per_day=round(per_day * VOLUME**k),
            seed=seed + k,
            bucket=f"{names['BucketPrefix']}-{str(k) * 12}",
            key_prefix=names["LogKeyPrefix"],
        )
        for k in range(1, accounts)
    ]


def _source_template_names() -> dict[str, str]:
    """source-account.yaml's parameter defaults that name the bucket, its key prefix and the log group."""
    from samtranslator.yaml_helper import yaml_parse

    parameters = yaml_parse((REPO / "source-account.yaml").read_text())["Parameters"]
    return {k: str(parameters[k]["Default"]) for k in ("BucketPrefix", "LogKeyPrefix", "LogGroupName")}


def session_of(account_id: str) -> Any:
    """A boto3 session in another emulated account, through STS AssumeRole into its member-account role."""
    import boto3

    credentials = client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{MEMBER_ROLE}", RoleSessionName="bedrock-usage-demo"
    )["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )


def step(demo: Demo) -> None:
    """Create each source account's bucket and log group, turn on its logging and write its traffic."""
    from scripts import traffic as gen

    log_group = _source_template_names()["LogGroupName"]
    for account in plan(demo.accounts, demo.per_day, demo.seed):
        session = session_of(account.account_id)
        if session.client("sts").get_caller_identity()["Account"] != account.account_id:
            raise RuntimeError(f"moto did not switch to account {account.account_id}")
        s3 = session.client("s3")
        s3.create_bucket(Bucket=account.bucket)
        session.client("logs").create_log_group(logGroupName=log_group)
        # The custom resource's effect (LoggingSetupFunction runs once, for the monitoring account).
        session.client("bedrock").put_model_invocation_logging_configuration(
            loggingConfig={
                "cloudWatchConfig": {
                    "logGroupName": log_group,
                    "roleArn": f"arn:aws:iam::{account.account_id}:role/BedrockCloudWatchLoggingRole",
                },
                "s3Config": {"bucketName": account.bucket, "keyPrefix": account.key_prefix},
                "textDataDeliveryEnabled": True,
            }
        )
        traffic = gen.generate(
            now=demo.now,
            account_id=account.account_id,
            region=REGION,
            days=demo.days,
            per_day=account.per_day,
            seed=account.seed,
        )
        gen.write_log_files(
            s3, traffic, bucket=account.bucket, key_prefix=account.key_prefix, seed=account.seed
        )
        demo.outcome.source_accounts.append({**account.to_dict(), "written": traffic.written})
        say(
            f"    account {account.account_id}: {len(traffic.invocations):,} requests (about "
            f"{account.per_day:,} a day) -> s3://{account.bucket}/: {traffic.written['log files']:,} objects"
        )
    say(
        "    source accounts write log files only: their metrics and log groups would reach this account "
        "through the observability link, which the emulator lacks (emulator.py)"
    )


def report_logs_source(demo: Demo) -> str:
    """LOGS_SOURCE for the monitoring account's report: its own log files, then each source account's."""
    _, bucket, prefix, _ = destinations(demo.stack, demo.outcome)
    return ",".join([logs_source(bucket, prefix), *(a["logs_source"] for a in demo.outcome.source_accounts)])
