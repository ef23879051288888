"""`bedrock-usage top`: the dearest single requests of a window, priced with the project's prices.

Expected figures are worked out here by hand from the list prices that tests/engine/test_price.py pins
(genai-prices 0.2.3, no Price List): Claude Sonnet 4.5 through a `us.` profile $3.30 in, $16.50 out, $0.33
cache read, $4.125 cache write per 1M (regional +10%); Nova Lite $0.06 in, $0.24 out per 1M; and the
long-context model that tests/price/test_price_list.py uses, global.anthropic.claude-haiku-5-5: $0.10 in,
$0.50 out up to 100,000 input tokens, and above that the whole request at $0.50 in, $2.50 out.
Logs Insights is driven with botocore's Stubber (moto does not run `stats ... by`), fed the response shapes
of the real StartQuery/GetQueryResults; botocore validates both directions.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from bedrock_usage.cli import main
from bedrock_usage.price import Pricer
from bedrock_usage.top import (
    LARGEST_PER_MODEL_QUERY,
    MODELS_QUERY,
    largest_query,
    top_from_insights,
    top_from_logfiles,
)
from botocore.stub import Stubber

from tests.engine.helpers import ALICE, BOB, NOVA_LITE, SONNET45, record, window, write_gz

DAY = window("2026-11-27T00:00:00", "2026-11-28T00:00:00")
CLAUDE = f"us.{SONNET45}"
HAIKU = "global.anthropic.claude-haiku-5-5"
M = Decimal(1_000_000)

# by hand, per request
SMALL = (1_000 * Decimal("3.30") + 500 * Decimal("16.50")) / M  # 0.01155
CACHED = (
    100 * Decimal("3.30") + 50 * Decimal("16.50") + 20_000 * Decimal("0.33") + 1_000 * Decimal("4.125")
) / M  # 0.01188
LONG = (150_000 * Decimal("0.50") + 1_000 * Decimal("2.50")) / M  # 0.0775 at long-context rates, not 0.0155
NOVA = (50_000 * Decimal("0.06") + 100 * Decimal("0.24")) / M  # 0.003024: most tokens but the cheapest


def rec(timestamp: str, request_id: str, model_id: str = CLAUDE, **kw: Any) -> dict[str, Any]:
    r = record(timestamp, model_id, **kw)
    r["requestId"] = request_id
    return r


def archive(tmp_path: Path) -> Path:
    records: list[Any] = [
        rec("2026-11-27T10:00:00Z", "req-small", input_tokens=1_000, output_tokens=500),
        rec(
            "2026-11-27T11:00:00Z", "req-nova", NOVA_LITE, caller=BOB, input_tokens=50_000, output_tokens=100
        ),
        rec(
            "2026-11-27T12:00:00Z",
            "req-cached",
            input_tokens=100,
            output_tokens=50,
            cache_read=20_000,
            cache_write=1_000,
        ),
        rec("2026-11-27T13:00:00Z", "req-long", HAIKU, input_tokens=150_000, output_tokens=1_000),
        # outside the window, and the largest of all: not shown
        rec("2026-11-26T13:00:00Z", "req-yesterday", input_tokens=900_000, output_tokens=9_000),
    ]
    path = write_gz(tmp_path / "2026" / "11" / "27" / "10" / "a.json.gz", records)
    with path.open("ab") as raw:  # a second gzip member holding a cut line
        import gzip

        raw.write(gzip.compress(b'{"schemaType": "ModelInvocationLog", "timest\n'))
    return tmp_path


def test_given_log_files_when_ranked_by_cost_then_the_dearest_requests_come_first_at_their_own_rates(
    tmp_path: Path,
) -> None:
    result = top_from_logfiles(str(archive(tmp_path)), DAY, Pricer(), by="cost", limit=3)
    assert [(r.seen.request_id, r.cost_usd) for r in result.requests] == [
        ("req-long", LONG),
        ("req-cached", CACHED),
        ("req-small", SMALL),
    ]
    assert result.seen == 4
    assert result.skipped_records == 1
    top = result.requests[0]
    assert (top.seen.caller, top.seen.model_id, top.seen.counts.total_tokens) == (ALICE, HAIKU, 151_000)


def test_given_log_files_when_ranked_by_tokens_then_a_cheap_large_request_outranks_dearer_small_ones(
    tmp_path: Path,
) -> None:
    result = top_from_logfiles(str(archive(tmp_path)), DAY, Pricer(), by="tokens", limit=2)
    assert [(r.seen.request_id, r.cost_usd) for r in result.requests] == [
        ("req-long", LONG),
        ("req-nova", NOVA),
    ]


def test_given_an_unpriced_model_when_ranked_then_it_is_unpriced_not_free_and_ranks_below_priced(
    tmp_path: Path,
) -> None:
    provisioned = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/a1b2c3d4e5f6"
    write_gz(
        tmp_path / "p.json.gz",
        [
            rec("2026-11-27T10:00:00Z", "req-prov", provisioned, input_tokens=90_000),
            rec("2026-11-27T10:00:01Z", "req-small", input_tokens=1_000, output_tokens=500),
        ],
    )
    result = top_from_logfiles(str(tmp_path), DAY, Pricer(), by="cost", limit=5)
    assert [(r.seen.request_id, r.cost_usd) for r in result.requests] == [
        ("req-small", SMALL),
        ("req-prov", None),
    ]
    assert result.to_dict()["requests"][1]["cost_usd"] is None


def test_the_cli_prints_json_rows_with_time_caller_model_tokens_cost_and_request_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "top",
            "--since", "2026-11-27T00:00:00Z",
            "--until", "2026-11-28T00:00:00Z",
            "--logs", str(archive(tmp_path)),
            "--limit", "1",
            "--format", "json",
            "--price-cache", "off",
        ]
    )  # fmt: skip
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    (row,) = out["requests"]
    assert row["time"] == "2026-11-27T13:00:00Z"
    assert (row["caller"], row["model_id"], row["request_id"]) == (ALICE, HAIKU, "req-long")
    assert row["total_tokens"] == 151_000
    assert row["cost_usd"] == pytest.approx(float(LONG))
    assert out["skipped_records"] == 1


def test_the_cli_text_names_the_dearest_request(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["top", "24", "--until", "2026-11-28T00:00:00Z", "--logs", str(archive(tmp_path))]
    assert main([*argv, "--price-cache", "off"]) == 0
    first_row = capsys.readouterr().out.splitlines()[3]
    assert "req-long" in first_row
    assert "$0.0775" in first_row
    assert "151,000" in first_row


@pytest.mark.parametrize("bad", ["0", "-1", "x", "1001"])
def test_a_bad_limit_is_exit_2(bad: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["top", "--limit", bad])
    assert exit_.value.code == 2


# --- Logs Insights -----------------------------------------------------------------------------------

LOG_GROUP = "/aws/bedrock/modelinvocations"


def cells(**values: str) -> list[dict[str, str]]:
    return [{"field": k.replace("AT_", "@"), "value": v} for k, v in values.items()]


def insights_row(when: str, model: str, caller: str, request_id: str, tokens: tuple[int, ...]) -> Any:
    i, o, cr, cw = tokens
    return cells(
        AT_timestamp=when,
        caller=caller,
        model=model,
        region="us-east-1",
        requestId=request_id,
        in_tokens=str(i),
        out_tokens=str(o),
        cache_read=str(cr),
        cache_write=str(cw),
        total_tokens=str(i + o + cr + cw),
    )


def complete(rows: list[Any]) -> dict[str, Any]:
    return {"status": "Complete", "results": rows, "statistics": {"recordsMatched": 1.0}}


def test_given_logs_insights_when_ranked_then_each_models_largest_are_priced_and_merged() -> None:
    logs = boto3.client("logs", region_name="us-east-1")
    span = {"logGroupName": LOG_GROUP, "startTime": int(DAY.start.timestamp())}
    span["endTime"] = int(DAY.end.timestamp()) - 1
    with Stubber(logs) as stub:
        stub.add_response(
            "start_query", {"queryId": "q-models"}, {**span, "queryString": MODELS_QUERY, "limit": 10_000}
        )
        stub.add_response(
            "get_query_results",
            complete(
                [
                    cells(modelId=NOVA_LITE, requests="7"),
                    cells(modelId=CLAUDE, requests="3"),
                    cells(modelId=HAIKU, requests="1"),
                ]
            ),
            {"queryId": "q-models"},
        )
        # one query per model, in name order; each returns that model's largest requests by tokens
        answers = [
            (
                NOVA_LITE,
                [insights_row("2026-11-27 11:00:00.000", NOVA_LITE, BOB, "req-nova", (50_000, 100, 0, 0))],
            ),
            (
                HAIKU,
                [insights_row("2026-11-27 13:00:00.000", HAIKU, ALICE, "req-long", (150_000, 1_000, 0, 0))],
            ),
            (
                CLAUDE,
                [
                    insights_row("2026-11-27 10:00:00.000", CLAUDE, ALICE, "req-small", (1_000, 500, 0, 0)),
                    insights_row(
                        "2026-11-27 12:00:00.000", CLAUDE, ALICE, "req-cached", (100, 50, 20_000, 1_000)
                    ),
                ],
            ),
        ]
        for n, (model_id, rows) in enumerate(answers):
            params = {**span, "queryString": largest_query(model_id, 2), "limit": 2}
            stub.add_response("start_query", {"queryId": f"q-{n}"}, params)
            stub.add_response("get_query_results", complete(rows), {"queryId": f"q-{n}"})
        result = top_from_insights(logs, LOG_GROUP, DAY, Pricer(), by="cost", limit=2, sleep=lambda _: None)
        stub.assert_no_pending_responses()
    assert [(r.seen.request_id, r.cost_usd) for r in result.requests] == [
        ("req-long", LONG),
        ("req-cached", CACHED),
    ]
    assert result.requests[0].seen.moment.isoformat() == "2026-11-27T13:00:00+00:00"
    assert result.seen == 4


def test_the_per_model_query_reuses_the_reports_fallbacks_and_filters_one_model() -> None:
    text = largest_query(CLAUDE, 5)
    assert f'filter modelId = "{CLAUDE}"' in text
    assert "coalesce(input.inputTokenCount, rxInput, 0) as in_tokens" in text
    assert text.endswith("| limit 5")
    with pytest.raises(ValueError, match="cannot be quoted"):
        largest_query('bad"id', 5)


def test_given_only_the_dearest_is_wanted_then_one_insights_scan_with_dedup_gives_each_models() -> None:
    logs = boto3.client("logs", region_name="us-east-1")
    span = {"logGroupName": LOG_GROUP, "startTime": int(DAY.start.timestamp())}
    span["endTime"] = int(DAY.end.timestamp()) - 1
    rows = [
        insights_row("2026-11-27 11:00:00.000", NOVA_LITE, BOB, "req-nova", (50_000, 100, 0, 0)),
        insights_row("2026-11-27 12:00:00.000", CLAUDE, ALICE, "req-cached", (100, 50, 20_000, 1_000)),
    ]
    with Stubber(logs) as stub:
        params = {**span, "queryString": LARGEST_PER_MODEL_QUERY, "limit": 10_000}
        stub.add_response("start_query", {"queryId": "q-1"}, params)
        stub.add_response("get_query_results", complete(rows), {"queryId": "q-1"})
        result = top_from_insights(logs, LOG_GROUP, DAY, Pricer(), limit=1, sleep=lambda _: None)
        stub.assert_no_pending_responses()
    assert [(r.seen.request_id, r.cost_usd) for r in result.requests] == [("req-cached", CACHED)]
    assert LARGEST_PER_MODEL_QUERY.endswith("| sort total_tokens desc\n| dedup model\n| limit 10000")


def test_a_malformed_price_override_file_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "prices.json"
    bad.write_text('{"models": {"x": {"input": 1}}}')
    with pytest.raises(SystemExit) as exit_:
        main(["top", "--logs", str(archive(tmp_path)), "--prices", str(bad), "--price-cache", "off"])
    assert exit_.value.code == 2
    assert "needs 'input' and 'output'" in capsys.readouterr().err
