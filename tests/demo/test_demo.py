"""`make demo` end to end, at a small traffic volume, in a subprocess as `python -m scripts.demo` runs.

The subprocess keeps the demo's emulator and its Lambda modules (Powertools loggers, crhelper) out of this
test process. The expected numbers come from the traffic generator run here with the same inputs.
"""

from __future__ import annotations

import email
import email.policy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from bedrock_usage.model import Window

from scripts import traffic as gen
from tests.conftest import ACCOUNT_ID, REGION
from tests.demo.helpers import run_demo

pytestmark = pytest.mark.slow

PER_DAY = 150
SEED = 3


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("demo")
    now = datetime.now(UTC).replace(microsecond=0)
    done = run_demo(out, "--per-day", str(PER_DAY), "--seed", str(SEED), "--now", now.isoformat())
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    truth = gen.generate(now=now, account_id=ACCOUNT_ID, region=REGION, per_day=PER_DAY, seed=SEED)
    window = Window(
        datetime.fromisoformat(summary["report_window"]["start"]),
        datetime.fromisoformat(summary["report_window"]["end"]),
    )
    return {"out": out, "stdout": done.stdout, "summary": summary, "truth": truth, "window": window}


def test_demo_prints_every_step_and_says_what_the_emulator_cannot_do(demo: dict[str, Any]) -> None:
    stdout = demo["stdout"]
    for step in range(1, 9):
        assert f"[{step}/8]" in stdout
    assert "moto CloudFormation created" in stdout
    assert (
        "created directly (moto's CloudFormation skips AWS::CloudWatch::Alarm): HighInputTokenAlarm" in stdout
    )
    assert "14 days" in stdout  # why the oldest day is in S3 only
    assert demo["summary"]["skipped"] == []  # every function is in template.yaml: none may be left out
    lines = [line for line in stdout.splitlines() if "Logs Insights" in line and not line.startswith("SKIP")]
    assert len(lines) == 1, "the log-file path is explained in one line"
    assert "Done in" in stdout
    # the doctor's table for the emulated stack: what moto cannot answer is SKIP, nothing FAILs
    doctor = (demo["out"] / "doctor.txt").read_text()
    assert "bedrock-usage doctor: stack bedrock-usage-monitor" in doctor
    assert " 0 FAIL" in doctor


def test_the_writers_put_every_logged_request_in_s3_and_the_last_14_days_in_the_log_group(
    demo: dict[str, Any],
) -> None:
    outputs = demo["summary"]["stack_outputs"]
    assert outputs["LogBucketName"] == f"bedrock-logs-{ACCOUNT_ID}"  # the template's names, as deployed
    assert outputs["InvocationLogGroupName"] == "/aws/bedrock/modelinvocations"
    written, truth = demo["summary"]["written"], demo["truth"]
    logged = [inv for inv in truth.invocations if not inv.throttled]
    assert written["log file records"] == len(logged)
    assert 0 < written["log events"] < len(logged)  # the 15th day is too old for CloudWatch Logs
    assert written["metric datapoints"] > 0


def test_report_json_totals_equal_what_the_generator_wrote(demo: dict[str, Any]) -> None:
    """Given the demo's report window, Then the report (log-file path) counts every generated request."""
    report = json.loads((demo["out"] / "report.json").read_text())
    expected = demo["truth"].expected(demo["window"])
    totals = report["totals"]
    assert expected.invocations > 0
    assert totals["invocations"] == expected.invocations
    assert totals["input_tokens"] == expected.input_tokens
    assert totals["output_tokens"] == expected.output_tokens
    assert totals["cache_read_tokens"] == expected.cache_read_tokens
    assert totals["cache_write_tokens"] == expected.cache_write_tokens
    assert totals["client_errors"] == expected.client_errors
    assert report["failures"] == []
    unpriced = {m["model_id"] for m in report["models"] if not m["priced"]}
    assert unpriced <= {"acme.private-model-v1:0"}  # every other model has a list price
    private = demo["truth"].by_model(demo["window"]).get("acme.private-model-v1:0")
    assert totals["unpriced_invocations"] == (private.invocations if private else 0)
    if private and private.invocations:
        assert unpriced == {"acme.private-model-v1:0"}
    callers = {c["caller"]: c["invocations"] for c in report["callers"]}
    truth = demo["truth"].by_caller(demo["window"])
    assert callers == {caller: c.invocations for caller, c in truth.items() if c.invocations}


def test_logging_setup_turned_on_logging_to_the_stacks_log_group_and_bucket(demo: dict[str, Any]) -> None:
    summary = demo["summary"]
    assert "LoggingSetupFunction" not in summary["skipped"]
    assert summary["cloudformation_response"]["Status"] == "SUCCESS"
    config = summary["logging_config"]
    assert config["cloudWatchConfig"]["logGroupName"] == "/aws/bedrock/modelinvocations"
    assert (
        config["cloudWatchConfig"]["roleArn"]
        == f"arn:aws:iam::{ACCOUNT_ID}:role/BedrockCloudWatchLoggingRole"
    )
    assert config["s3Config"]["bucketName"] == f"bedrock-logs-{ACCOUNT_ID}"


def test_digest_email_shows_the_generated_invocations(demo: dict[str, Any]) -> None:
    """Given ReportFunction ran, Then the email read back from the emulator counts every generated request."""
    summary = demo["summary"]
    assert "ReportFunction" not in summary["skipped"]
    expected = demo["truth"].expected(demo["window"])
    assert summary["report_function"]["invocations"] == expected.invocations
    assert summary["report_function"]["delivered_via"] == "ses"
    out = demo["out"]
    html = (out / "digest.html").read_text()
    text = (out / "digest.txt").read_text()
    assert f"{expected.invocations:,}" in html
    assert f"{expected.invocations:,}" in text
    message = email.message_from_bytes((out / "digest.eml").read_bytes(), policy=email.policy.default)
    assert message["Subject"].strip() == summary["digest_subject"]  # a folded header may start with a space
    assert message["To"] == "finops@example.com"
    body = message.get_body(preferencelist=("html",))
    assert body is not None
    assert body.get_content().strip() == html.strip()
    plain = message.get_body(preferencelist=("plain",))
    assert plain is not None
    assert plain.get_content().strip() == text.strip()


def test_alarm_email_names_the_alarm(demo: dict[str, Any]) -> None:
    summary = demo["summary"]
    assert "AlarmRouterFunction" not in summary["skipped"]
    html = (demo["out"] / "alarm.html").read_text()
    assert "Bedrock-HighInputTokenUsage" in html
    assert "Bedrock-HighInputTokenUsage" in summary["alarm_subject"]


def test_a_failing_step_exits_non_zero_with_a_clear_message(tmp_path: Path) -> None:
    (tmp_path / "digest.html").write_text("stale")
    done = run_demo(tmp_path, "--days", "0")
    assert done.returncode == 1
    assert "demo failed: ValueError: per_day must be >= 0 and days >= 1" in done.stderr
    assert not (tmp_path / "digest.html").exists()  # no stale output passes for this run's
