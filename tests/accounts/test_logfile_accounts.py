"""Usage per account from invocation log files: each record's accountId, through the collector and the report.

Local folders in Bedrock's S3 key layout (the collector reads S3 and folders alike; tests/engine covers S3).
Costs come from price overrides (USD per million tokens), so every expected figure is worked out by hand here.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from bedrock_usage.cli import main
from bedrock_usage.collect.logfile_accounts import UNKNOWN, account_of
from bedrock_usage.collect.logfiles import collect_logfiles
from bedrock_usage.digest import render_digest
from bedrock_usage.log_archive import locations, read_locations
from bedrock_usage.model import Latency, Usage, Window
from bedrock_usage.pipeline import ReportSettings, run_report

from tests.engine.helpers import ALICE, NOVA_LITE, at, invoke_stream_record, record, write_gz

BETA, GAMMA = "222222222222", "333333333333"
BETA_BOT = f"arn:aws:sts::{BETA}:assumed-role/bot-role/bot"
GAMMA_JOB = f"arn:aws:sts::{GAMMA}:assumed-role/job-role/nightly"
NOW = at("2026-11-20T12:00:00")
WINDOW = Window.last_hours(24, NOW)
PRICES = {"models": {NOVA_LITE: {"input": 1, "output": 4}}}  # USD per million tokens


def _rec(stamp: str, account: Any, caller: str, tokens: int, out: int = 0, **kw: Any) -> dict[str, Any]:
    rec = record(stamp, NOVA_LITE, caller=caller, input_tokens=tokens, output_tokens=out, **kw)
    if account is None:
        del rec["accountId"]
    else:
        rec["accountId"] = account
    return rec


def _folder(root: Path, account: str, hour: str, records: list[dict[str, Any]]) -> Path:
    """One account's log file under <root>/AWSLogs/<account>/BedrockModelInvocationLogs/us-east-1/<hour>/."""
    write_gz(root / f"AWSLogs/{account}/BedrockModelInvocationLogs/us-east-1/{hour}/f.json.gz", records)
    return root


def test_two_accounts_in_one_file_are_split_and_the_totals_are_unchanged(tmp_path: Path) -> None:
    """Given one file with records of two accounts, Then each account gets its own records, as usual."""
    path = write_gz(
        tmp_path / "mixed.json.gz",
        [
            _rec("2026-11-20T09:00:00Z", BETA, BETA_BOT, 1000, 10),
            _rec("2026-11-20T09:05:00Z", GAMMA, GAMMA_JOB, 300, 5, error_code="ValidationException"),
            _rec("2026-11-20T09:10:00Z", BETA, BETA_BOT, 2000, 20),
            _rec("2026-11-19T01:00:00Z", BETA, BETA_BOT, 7, 1),  # before the window: daily series only
        ],
    )
    per_account: dict[str, Usage] = {}
    usage = collect_logfiles(str(path), WINDOW, daily_from=at("2026-11-19T00:00:00"), per_account=per_account)
    assert list(per_account) == [BETA, GAMMA]
    beta, gamma = per_account[BETA], per_account[GAMMA]
    assert beta.totals().invocations == 2
    assert beta.totals().input_tokens == 3000
    assert beta.totals().output_tokens == 30
    assert beta.by_caller[(BETA_BOT, NOVA_LITE)].invocations == 2
    assert beta.by_region == {NOVA_LITE: {"us-east-1": beta.by_model[NOVA_LITE]}}
    assert beta.daily[at("2026-11-19T00:00:00").date()][NOVA_LITE].input_tokens == 7
    assert gamma.totals().invocations == 1
    assert gamma.totals().client_errors == 1
    assert set(gamma.by_caller) == {(GAMMA_JOB, NOVA_LITE)}
    # The report's own reading is the same as without the split: three calls, 3,300 input tokens.
    assert usage.totals().invocations == 3
    assert usage.totals().input_tokens == 3300
    assert collect_logfiles(str(path), WINDOW).totals() == usage.totals()


@pytest.mark.parametrize(
    "value",
    [
        None,  # no accountId at all
        123456789012,  # a number, not the string Bedrock writes
        {"id": BETA},
        "12345",
        "1234567890123",
        f"{BETA}\n",
        f"<b>{BETA}</b>",
        "\uff11" * 12,  # full-width digit one: \d takes it; an account ID has ASCII digits only
    ],
)
def test_a_record_without_a_12_digit_account_counts_under_unknown(tmp_path: Path, value: Any) -> None:
    """Given a record whose accountId is missing or not 12 ASCII digits, Then it is counted, as "unknown"."""
    path = write_gz(
        tmp_path / "odd.json.gz",
        [_rec("2026-11-20T09:00:00Z", value, ALICE, 100), _rec("2026-11-20T09:01:00Z", BETA, BETA_BOT, 50)],
    )
    per_account: dict[str, Usage] = {}
    usage = collect_logfiles(str(path), WINDOW, per_account=per_account)
    assert usage.skipped_records == 0  # a record's account is not a reason to drop its usage
    assert {a: u.totals().input_tokens for a, u in per_account.items()} == {UNKNOWN: 100, BETA: 50}


def test_account_of_takes_exactly_twelve_ascii_digits() -> None:
    assert account_of(BETA) == BETA
    assert account_of("000000000000") == "000000000000"
    assert account_of(None) == UNKNOWN
    assert account_of(" " + BETA) == UNKNOWN


def test_locations_split_on_commas_and_keep_an_existing_path_whole(tmp_path: Path) -> None:
    assert locations("s3://a/ , s3://b/logs/,,s3://a/") == ["s3://a/", "s3://b/logs/"]
    odd = tmp_path / "logs,2026"
    odd.mkdir()
    assert locations(str(odd)) == [str(odd)]


def test_a_log_source_without_a_location_is_a_bad_setting() -> None:
    with pytest.raises(ValueError, match="no log location in ' , '"):
        ReportSettings(regions=("us-east-1",), logs_source=" , ")


def _two_buckets(tmp_path: Path) -> tuple[Path, Path]:
    """One folder per account, as each account's bedrock-logs-<account> bucket holds its own records."""
    beta = _folder(
        tmp_path / "beta",
        BETA,
        "2026/11/20/09",
        [
            _rec("2026-11-20T09:00:00Z", BETA, BETA_BOT, 3_000_000, 500_000),
            _rec("2026-11-20T09:01:00Z", BETA, BETA_BOT, 1_000_000, 0),
        ],
    )
    _folder(beta, BETA, "2026/11/19/01", [_rec("2026-11-19T01:00:00Z", BETA, BETA_BOT, 2_000_000)])
    gamma = _folder(
        tmp_path / "gamma",
        GAMMA,
        "2026/11/20/10",
        [_rec("2026-11-20T10:00:00Z", GAMMA, GAMMA_JOB, 1_000_000, 250_000)],
    )
    return beta, gamma


def test_a_report_over_two_accounts_log_folders_has_accounts_and_an_accounts_section(tmp_path: Path) -> None:
    """Given two log locations, one per account, Then the report ranks both, as monitoring mode does."""
    beta, gamma = _two_buckets(tmp_path)
    settings = ReportSettings(
        regions=("us-east-1",), logs_source=f"{gamma},{beta}", price_overrides=json.dumps(PRICES)
    )
    report = run_report(WINDOW, settings, now=NOW)
    assert report.failures == []
    # The dearest request is looked for in every location: beta's $5 call (3M in, 0.5M out), read second.
    assert report.top_request is not None
    assert (report.top_request["caller"], report.top_request["cost_usd"]) == (BETA_BOT, 5.0)
    # beta: 4M input x $1 + 0.5M output x $4 = $6; gamma: 1M x $1 + 0.25M x $4 = $2; previous: beta 2M = $2
    assert report.cost_usd == Decimal("8")
    assert [(a.account_id, a.cost_usd, a.counts.invocations) for a in report.accounts] == [
        (BETA, Decimal("6"), 2),
        (GAMMA, Decimal("2"), 1),
    ]
    assert [a.share for a in report.accounts] == [0.75, 0.25]
    assert [a.previous_cost_usd for a in report.accounts] == [Decimal("2"), Decimal("0")]
    assert report.accounts[0].regions == ["us-east-1"]
    assert report.accounts[0].name is None
    assert report.accounts_notes == [
        "accounts are the log records' own accountId; log files carry no account names"
    ]
    data = report.to_dict()
    assert [a["account_id"] for a in data["accounts"]] == [BETA, GAMMA]
    digest = render_digest(report)
    assert "ACCOUNTS (2)" in digest.text
    assert ">Accounts<" in digest.html
    for account in (BETA, GAMMA):
        assert account in digest.text
        assert account in digest.html
    assert "+200.0%" in digest.text  # beta: $6 against $2


def test_records_without_an_account_are_an_unknown_account_and_a_note(tmp_path: Path) -> None:
    folder = write_gz(
        tmp_path / "logs/x.json.gz",
        [
            _rec("2026-11-20T09:00:00Z", BETA, BETA_BOT, 1_000_000),
            _rec("2026-11-20T09:01:00Z", "<script>0</script>", ALICE, 10),
        ],
    ).parent
    settings = ReportSettings(
        regions=("us-east-1",), logs_source=str(folder), price_overrides=json.dumps(PRICES)
    )
    report = run_report(WINDOW, settings, now=NOW)
    assert [a.account_id for a in report.accounts] == [BETA, UNKNOWN]
    assert (
        report.accounts_notes[-1]
        == '1 invocation(s) in the log files carry no 12-digit accountId: shown as account "unknown"'
    )
    digest = render_digest(report)
    assert "script" not in digest.text
    assert "script" not in digest.html
    assert UNKNOWN in digest.text


def test_one_account_in_the_log_files_adds_no_accounts_view(tmp_path: Path) -> None:
    beta, _ = _two_buckets(tmp_path)
    report = run_report(WINDOW, ReportSettings(regions=("us-east-1",), logs_source=str(beta)), now=NOW)
    assert report.accounts == []
    assert report.accounts_notes == []
    assert "ACCOUNTS" not in render_digest(report).text


def test_a_failing_location_is_named_and_the_others_still_count(tmp_path: Path) -> None:
    """Given a second location that does not exist, Then the report names it, counts the first, and shows no
    change (a previous window missing a location would make the change meaningless)."""
    beta, _ = _two_buckets(tmp_path)
    gone = tmp_path / "gone"
    settings = ReportSettings(
        regions=("us-east-1",), logs_source=f"{beta},{gone}", price_overrides=json.dumps(PRICES)
    )
    report = run_report(WINDOW, settings, now=NOW)
    assert [f.source for f in report.failures] == [
        f"log-files ({gone})",
        f"log-files ({gone}, previous window)",
    ]
    assert report.totals.invocations == 2
    assert report.previous_cost_usd is None
    assert report.accounts == []  # one account read


def test_the_cli_reads_comma_separated_locations_and_refuses_a_missing_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    beta, gamma = _two_buckets(tmp_path)
    since = ["--since", "2026-11-19T12:00:00Z", "--until", "2026-11-20T12:00:00Z"]
    assert main(["report", *since, "--logs", f"{beta},{gamma}", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {a["account_id"]: a["invocations"] for a in data["accounts"]} == {BETA: 2, GAMMA: 1}
    with pytest.raises(SystemExit) as exit_info:
        main(["report", *since, "--logs", f"{beta},{tmp_path / 'gone'}"])
    assert exit_info.value.code == 2
    assert f"--logs {tmp_path / 'gone'}: no such file or folder" in capsys.readouterr().err


def _latency_buckets(tmp_path: Path) -> tuple[Path, Path]:
    """One model in two accounts' folders with different latencies; three calls streamed, with first byte.

    beta: 4 slow calls, 4,000-9,000 ms (the 4,000 and 5,000 ms ones streamed: first byte 300 and 500 ms);
    gamma: 16 fast calls, 100-1,600 ms (the 1,600 ms one streamed: first byte 100 ms).
    """
    slow = [
        _rec(f"2026-11-20T09:00:0{i}Z", BETA, BETA_BOT, 10, latency_ms=ms)
        for i, ms in enumerate((6_000, 9_000))
    ]
    slow += [
        invoke_stream_record(f"2026-11-20T09:01:0{i}Z", ms, fb, model_id=NOVA_LITE, caller=BETA_BOT)
        for i, (ms, fb) in enumerate(((4_000, 300), (5_000, 500)))
    ]
    fast = [
        _rec(f"2026-11-20T10:00:{i:02d}Z", GAMMA, GAMMA_JOB, 10, latency_ms=100 * (i + 1)) for i in range(15)
    ]
    fast.append(
        invoke_stream_record("2026-11-20T10:01:00Z", 1_600, 100, model_id=NOVA_LITE, caller=GAMMA_JOB)
    )
    return (
        _folder(tmp_path / "beta", BETA, "2026/11/20/09", slow),
        _folder(tmp_path / "gamma", GAMMA, "2026/11/20/10", fast),
    )


def _nova_latency(report_or_usage: Any) -> Latency:
    if isinstance(report_or_usage, Usage):
        return report_or_usage.latency[NOVA_LITE]
    (line,) = [m for m in report_or_usage.models if m.model_id == NOVA_LITE]
    assert line.latency is not None
    return line.latency


def test_a_model_in_two_locations_has_the_latency_of_all_its_calls(tmp_path: Path) -> None:
    """Given one model's calls in two accounts' log folders, Then its latency is that of every call: the
    same as one read of a folder holding both, and the figures worked out by hand from the 20 values."""
    beta, gamma = _latency_buckets(tmp_path)
    settings = ReportSettings(regions=("us-east-1",), logs_source=f"{gamma},{beta}")
    report = run_report(WINDOW, settings, now=NOW)
    assert report.failures == []
    latency = _nova_latency(report)
    # The exact merge: one read over the folder that holds both locations' files.
    assert latency == collect_logfiles(str(tmp_path), WINDOW).latency[NOVA_LITE]
    # By hand, sorted: 100, 200, ..., 1,600 (gamma), 4,000, 5,000, 6,000, 9,000 (beta); nearest rank of 20.
    assert latency.average_ms == (sum(range(100, 1_700, 100)) + 4_000 + 5_000 + 6_000 + 9_000) / 20  # 1,880
    assert latency.max_ms == 9_000
    assert latency.p50_ms == pytest.approx(1_000, rel=0.01)  # rank 10
    assert latency.p90_ms == pytest.approx(5_000, rel=0.01)  # rank 18
    assert latency.p99_ms == pytest.approx(9_000, rel=0.01)  # rank 20
    # Time to first byte: the mean of the three streamed calls, not of the two locations' means (250).
    assert latency.first_byte_ms == (300 + 500 + 100) / 3
    assert not [w for w in report.warnings if "latency" in w]


def test_a_failing_location_adds_nothing_to_the_latency_of_the_others(tmp_path: Path) -> None:
    """Given a location that fails after one of its files was read (the next is a dangling link), Then the
    model's latency is that of the location that was read, untouched by the failed one's calls."""
    beta, _ = _latency_buckets(tmp_path)
    broken = _folder(
        tmp_path / "broken",
        GAMMA,
        "2026/11/20/10",
        [_rec("2026-11-20T10:00:00Z", GAMMA, GAMMA_JOB, 10, latency_ms=60_000)],
    )
    hour = broken / f"AWSLogs/{GAMMA}/BedrockModelInvocationLogs/us-east-1/2026/11/20/10"
    (hour / "z.json.gz").symlink_to(tmp_path / "nowhere.json.gz")  # read after f.json.gz: sorted names
    settings = ReportSettings(regions=("us-east-1",), logs_source=f"{broken},{beta}")
    report = run_report(WINDOW, settings, now=NOW)
    assert [f.source for f in report.failures] == [f"log-files ({broken})"]
    assert _nova_latency(report) == collect_logfiles(str(beta), WINDOW).latency[NOVA_LITE]
    assert _nova_latency(report).max_ms == 9_000  # not the failed location's 60,000 ms call


def test_the_previous_windows_read_merges_latency_too(tmp_path: Path) -> None:
    """Given both locations read for the previous window, Then its latency is merged the same way."""
    beta, gamma = _latency_buckets(tmp_path)
    failures: list[str] = []

    def attempt(name: str, read: Any) -> Usage | None:
        try:
            return read()  # type: ignore[no-any-return]
        except OSError:
            failures.append(name)
            return None

    usage, _, complete = read_locations([str(beta), str(gamma)], WINDOW, attempt, previous=True)
    assert (failures, complete) == ([], True)
    assert _nova_latency(usage) == collect_logfiles(str(tmp_path), WINDOW).latency[NOVA_LITE]
    assert _nova_latency(usage).first_byte_ms == 300
