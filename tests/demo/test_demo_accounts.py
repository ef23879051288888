"""`make demo ARGS="--accounts 3"`: two emulated source accounts feed the monitoring account's one digest.

The demo runs in a subprocess (tests/demo/helpers.py) at a small volume. Expected figures come from the
traffic generator run here with each account's inputs (summary.json records them): invocations are counted
from the generated requests, and each account's cost is those requests' counts per model at the list price
the report's Pricer quotes, summed here. So the test checks the reading of several accounts' buckets, the
split by accountId and the per-account view, not the price data (tests/price covers that).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from bedrock_usage.model import Window
from bedrock_usage.price import Pricer

from scripts import traffic as gen
from tests.conftest import ACCOUNT_ID, REGION
from tests.demo.helpers import run_demo

pytestmark = pytest.mark.slow

PER_DAY, DAYS, SEED = 200, 2, 5


@pytest.fixture(scope="module")
def demo3(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("demo3")
    now = datetime.now(UTC).replace(microsecond=0)
    done = run_demo(
        out, "--accounts", "3", "--per-day", str(PER_DAY), "--days", str(DAYS), "--seed", str(SEED),
        "--now", now.isoformat(),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    window = Window(
        datetime.fromisoformat(summary["report_window"]["start"]),
        datetime.fromisoformat(summary["report_window"]["end"]),
    )
    inputs = [(ACCOUNT_ID, PER_DAY, SEED)] + [
        (a["account_id"], a["per_day"], a["seed"]) for a in summary["source_accounts"]
    ]
    truth = {
        account: gen.generate(now=now, account_id=account, region=REGION, days=DAYS, per_day=n, seed=seed)
        for account, n, seed in inputs
    }
    return {"out": out, "stdout": done.stdout, "summary": summary, "window": window, "truth": truth}


def _expected_cost(traffic: gen.Traffic, window: Window, pricer: Pricer) -> Decimal:
    """The account's priced cost: each model's generated counts at its list price in the calling Region."""
    total = Decimal(0)
    for model_id, counts in traffic.by_model(window).items():
        unit = pricer.quote(model_id, window.end, REGION).unit
        if unit is not None:  # acme.private-model-v1:0 has no price: unpriced, as in the report
            total += unit.cost(counts)
    return total


def test_two_source_accounts_each_write_their_own_bucket(demo3: dict[str, Any]) -> None:
    sources = demo3["summary"]["source_accounts"]
    assert [a["account_id"] for a in sources] == ["111111111111", "222222222222"]
    for source in sources:
        # source-account.yaml's bucket name, <BucketPrefix>-<AccountId>
        assert source["logs_source"] == f"s3://bedrock-logs-{source['account_id']}/"
        logged = [inv for inv in demo3["truth"][source["account_id"]].invocations if not inv.throttled]
        assert source["written"]["log file records"] == len(logged)
    assert sources[0]["per_day"] > sources[1]["per_day"]  # volumes differ, so the ranking is visible
    assert "[5/9] 2 emulated source accounts" in demo3["stdout"]
    assert demo3["summary"]["skipped"] == []


def test_report_json_has_each_accounts_invocations_and_cost(demo3: dict[str, Any]) -> None:
    """Given three accounts' log files, Then accounts[] holds each one's figures, computed here from the
    generated requests, most expensive first, and the totals are their sum."""
    report = json.loads((demo3["out"] / "report.json").read_text())
    window, truth = demo3["window"], demo3["truth"]
    assert report["failures"] == []
    pricer = Pricer(None)
    expected = {
        account: (traffic.expected(window).invocations, _expected_cost(traffic, window, pricer))
        for account, traffic in truth.items()
    }
    assert all(n > 0 for n, _ in expected.values())
    got = {a["account_id"]: (a["invocations"], a["cost_usd"]) for a in report["accounts"]}
    assert set(got) == set(truth)
    for account, (invocations, cost) in expected.items():
        assert got[account][0] == invocations, account
        assert got[account][1] == pytest.approx(float(cost), abs=1e-6), account
    costs = [a["cost_usd"] for a in report["accounts"]]
    assert costs == sorted(costs, reverse=True)
    total_cost = sum(cost for _, cost in expected.values())
    for line in report["accounts"]:
        assert line["share"] == pytest.approx(float(expected[line["account_id"]][1] / total_cost), abs=1e-9)
        assert line["regions"] == [REGION]
    assert report["totals"]["invocations"] == sum(n for n, _ in expected.values())
    assert report["accounts_notes"] == [
        "accounts are the log records' own accountId; log files carry no account names"
    ]


def test_the_digest_has_an_accounts_section_naming_each_account(demo3: dict[str, Any]) -> None:
    out, window = demo3["out"], demo3["window"]
    html, text = (out / "digest.html").read_text(), (out / "digest.txt").read_text()
    assert "ACCOUNTS (3)" in text
    assert ">Accounts<" in html
    section = text.split("ACCOUNTS (3)", 1)[1].split("\n\n\n", 1)[0]
    for account, traffic in demo3["truth"].items():
        invocations = traffic.expected(window).invocations
        assert account in html
        assert account in section
        assert f"{invocations:,} calls" in section  # the account's line, with its own count
    # The ReportFunction read the same three accounts as report.json.
    assert demo3["summary"]["report_function"]["invocations"] == sum(
        t.expected(window).invocations for t in demo3["truth"].values()
    )
