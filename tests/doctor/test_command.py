"""The command: rows in order, fail-soft guard, exit status, text and JSON, and `bedrock-usage doctor`
end to end against a stack in moto's CloudFormation (DescribeStacks outputs and parameters)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from bedrock_usage import cli
from bedrock_usage.doctor.command import CHECKS, exit_status, format_text, run_doctor, to_dict
from bedrock_usage.doctor.core import FAIL, PASS, SKIP, WARN, Check, Context, guarded, read_stack
from botocore.exceptions import ClientError

from tests.doctor.conftest import (
    BUCKET,
    LOG_GROUP,
    ROLE_ARN,
    World,
    add_alarms,
    add_subscriptions,
    put_log_event,
    put_record,
    verify,
)


def _denied(_: Context) -> Check:
    raise ClientError(
        {"Error": {"Code": "AccessDeniedException", "Message": "not authorized to perform: ses:GetAccount"}},
        "GetAccount",
    )


def _throttled(_: Context) -> Check:
    raise ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "ListMetrics")


def _missing_api(_: Context) -> Check:
    raise NotImplementedError("The get_account action has not been implemented")


def _bug(_: Context) -> Check:
    raise KeyError("Stacks")


@pytest.mark.parametrize(
    ("fn", "status", "words"),
    [
        (_denied, SKIP, "not allowed to look: AccessDeniedException on GetAccount"),
        (_throttled, WARN, "could not check: Throttling on ListMetrics"),
        (_missing_api, SKIP, "API not available here"),
        (_bug, WARN, "the check itself failed: KeyError"),
    ],
)
def test_a_check_that_cannot_look_becomes_a_row(world: World, fn: object, status: str, words: str) -> None:
    (row,) = guarded("5b", "SES account", fn, world.context())  # type: ignore[arg-type]
    assert row.status == status
    assert words in row.seen


def test_exit_status_is_zero_unless_a_row_fails() -> None:
    assert exit_status([Check("1", "a", PASS, ""), Check("2", "b", WARN, ""), Check("3", "c", SKIP, "")]) == 0
    assert exit_status([Check("1", "a", PASS, ""), Check("2", "b", FAIL, "")]) == 1


def test_text_table_shows_fix_under_its_row() -> None:
    rows = [Check("1", "Logging", PASS, "on"), Check("2a", "Delivery", FAIL, "3 failed", "check the role")]
    lines = format_text(rows, stack="s", region="eu-west-1").splitlines()
    assert lines[0] == "bedrock-usage doctor: stack s in eu-west-1"
    assert lines[2].startswith("PASS  1 Logging")
    assert lines[3].startswith("FAIL  2a Delivery")
    assert lines[4].strip() == "-> check the role"
    assert lines[-1] == "1 PASS, 0 WARN, 1 FAIL, 0 SKIP"


def test_skip_map_replaces_checks_and_send_test_adds_rows(world: World) -> None:
    skip = {check_id: "not here" for check_id, _, _ in CHECKS}
    rows = run_doctor(world.context(), skip=skip)
    assert [row.id for row in rows] == [check_id for check_id, _, _ in CHECKS]
    assert {row.status for row in rows} == {SKIP}
    with_tests = run_doctor(world.context(), skip=skip, send_test=True)
    assert [row.id for row in with_tests][-2:] == ["S1", "S2"]


def test_read_only_without_send_test(world: World) -> None:
    """Nothing is sent or published unless --send-test: every request is a read."""
    add_subscriptions(world, router=False)
    add_alarms(world)
    verify(world, "bedrock-usage@example.com")
    operations: list[str] = []
    for service in ("bedrock", "cloudwatch", "logs", "s3", "sesv2", "sns", "ce", "budgets", "sts"):
        world.client(service).meta.events.register(
            "before-call", lambda model, **_: operations.append(model.name)
        )
    run_doctor(world.context(datetime.now(UTC)))
    writes = [
        op for op in operations if not op.startswith(("Get", "List", "Describe", "StartQuery", "Filter"))
    ]
    assert operations
    assert writes == []


TEMPLATE = {
    "Parameters": {"SenderEmail": {"Type": "String", "Default": ""}, "BudgetAmount": {"Type": "String"}},
    "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
    "Outputs": {
        "InvocationLogGroupName": {"Value": LOG_GROUP},
        "LoggingRoleArn": {"Value": ROLE_ARN},
        "LogBucketName": {"Value": BUCKET},
        "AlertTopicArn": {"Value": {"Ref": "Topic"}},
    },
}


def _create_stack(world: World) -> None:
    world.client("cloudformation").create_stack(
        StackName="bum",
        TemplateBody=json.dumps(TEMPLATE),
        Parameters=[{"ParameterKey": "BudgetAmount", "ParameterValue": "0"}],
    )


def test_read_stack_takes_outputs_parameters_and_resources(world: World) -> None:
    _create_stack(world)
    stack = read_stack(world.client("cloudformation"), "bum")
    assert stack.outputs["LogBucketName"] == BUCKET
    assert stack.outputs["AlertTopicArn"].startswith("arn:aws:sns:")
    assert stack.parameter("BudgetAmount") == "0"
    assert stack.of_type("AWS::SNS::Topic") == [stack.outputs["AlertTopicArn"]]


def test_cli_json_end_to_end(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    _create_stack(world)
    now = datetime.now(UTC)
    put_record(world, now - timedelta(minutes=5))
    put_log_event(world, now - timedelta(minutes=5))
    status = cli.main(["doctor", "--stack", "bum", "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert out["stack"] == "bum"
    rows = {row["id"]: row for row in out["checks"]}
    assert rows["1"]["status"] == PASS  # the world's logging setting equals the stack's outputs
    assert rows["2b"]["status"] == PASS
    assert rows["8b"]["status"] == SKIP  # BudgetAmount 0
    assert status == out["exit_status"] == (1 if any(r["status"] == FAIL for r in out["checks"]) else 0)
    assert to_dict([], stack="x", region="y")["exit_status"] == 0


def test_cli_missing_stack_exits_2(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["doctor", "--stack", "nope"]) == 2
    assert "cannot read stack nope" in capsys.readouterr().out


def test_cli_fails_when_logging_is_off(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    _create_stack(world)
    world.client("bedrock").delete_model_invocation_logging_configuration()
    assert cli.main(["doctor", "--stack", "bum"]) == 1
    text = capsys.readouterr().out
    assert "FAIL  1 Bedrock logging configuration" in text


def test_cli_without_a_region_exits_2(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert cli.main(["doctor"]) == 2
    assert "cannot read stack bedrock-usage-monitor" in capsys.readouterr().out
