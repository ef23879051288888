"""build_report: costs per model and caller, ordering, previous window, days, month-end projection."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import boto3
import pytest
from bedrock_usage.analyze import build_report
from bedrock_usage.model import Counts, Latency, SourceFailure, Usage
from bedrock_usage.price import Pricer
from botocore.stub import Stubber

from .helpers import ALICE, BOB, NOVA_LITE, SONNET45, at, window

NOW = at("2026-11-20T12:00:00")
WINDOW = window("2026-11-19T12:00:00", "2026-11-20T12:00:00")
CLAUDE = f"us.{SONNET45}"
COHERE = "cohere.command-r-v1:0"  # genai-prices 0.2.3 has no price for it
PROVISIONED = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/a1b2c3d4e5f6"


def current_usage() -> Usage:
    usage = Usage(window=WINDOW, source="log-files")
    # Claude regional: $3.30 in, $16.50 out, $0.33 cache read -> 3.30 + 3.30 + 0.33 = $6.93
    usage.caller(ALICE, CLAUDE).add(
        Counts(
            invocations=8,
            input_tokens=600_000,
            output_tokens=150_000,
            cache_read_tokens=1_000_000,
            client_errors=1,
            throttles=2,
        )
    )
    usage.caller(BOB, CLAUDE).add(Counts(invocations=2, input_tokens=400_000, output_tokens=50_000))
    # Nova Lite: $0.06 in, $0.24 out -> 0.06 + 0.024 = $0.084
    usage.caller(BOB, NOVA_LITE).add(Counts(invocations=5, input_tokens=1_000_000, output_tokens=100_000))
    usage.caller(BOB, COHERE).add(Counts(invocations=4, input_tokens=9_000_000, output_tokens=1))
    usage.caller(ALICE, PROVISIONED).add(Counts(invocations=3, input_tokens=10, output_tokens=10))
    for (_, model_id), counts in usage.by_caller.items():
        usage.model(model_id).add(counts)
    usage.latency[CLAUDE] = Latency(average_ms=1500.0, p99_ms=4000.0)
    usage.errors_by_code = {"ValidationException": 1, "ThrottlingException": 2}
    usage.skipped_records = 3
    usage.warnings.append("3 malformed log record(s) skipped")
    usage.failures.append(SourceFailure("logs-insights", "AccessDeniedException"))
    return usage


def test_models_are_priced_sorted_by_cost_and_unpriced_kept_with_usage() -> None:
    report = build_report(current_usage(), pricer=Pricer(), regions=["us-east-1"], now=NOW)
    assert [m.model_id for m in report.models] == [CLAUDE, NOVA_LITE, COHERE, PROVISIONED]
    claude, nova, cohere, provisioned = report.models
    assert claude.cost_usd == Decimal("6.93")
    assert nova.cost_usd == Decimal("0.084")
    assert cohere.cost_usd is None
    assert provisioned.cost_usd is None
    assert report.cost_usd == Decimal("7.014")
    assert report.unpriced_invocations == 4 + 3
    assert claude.share is not None
    assert abs(claude.share - 6.93 / 7.014) < 1e-9
    assert cohere.share is None
    # Cache savings: 1M reads x (3.30 - 0.33)
    assert claude.cache_savings_usd == Decimal("2.97")
    assert report.cache_savings_usd == Decimal("2.97")


def test_totals_count_unpriced_usage_but_not_its_cost() -> None:
    report = build_report(current_usage(), pricer=Pricer(), now=NOW)
    assert report.totals.invocations == 8 + 2 + 5 + 4 + 3
    assert report.totals.input_tokens == 600_000 + 400_000 + 1_000_000 + 9_000_000 + 10
    data = report.to_dict()
    assert data["totals"]["cost_usd"] == 7.014
    assert data["totals"]["unpriced_invocations"] == 7
    cohere = next(m for m in data["models"] if m["model_id"] == COHERE)
    assert cohere["cost_usd"] is None
    assert cohere["priced"] is False
    assert any("not in the cost" in w and COHERE in w for w in report.warnings)


def test_callers_carry_the_cost_of_their_priced_part_and_unpriced_invocations() -> None:
    report = build_report(current_usage(), pricer=Pricer(), now=NOW)
    by_name = {c.caller: c for c in report.callers}
    # Alice: Claude 0.6M in + 0.15M out + 1M cache read = 1.98 + 2.475 + 0.33 = 4.785; provisioned unpriced
    assert by_name[ALICE].cost_usd == Decimal("4.785")
    assert by_name[ALICE].unpriced_invocations == 3
    # Bob: Claude 0.4M in + 0.05M out = 1.32 + 0.825 = 2.145; Nova 0.084; Cohere unpriced
    assert by_name[BOB].cost_usd == Decimal("2.145") + Decimal("0.084")
    assert by_name[BOB].unpriced_invocations == 4
    assert by_name[BOB].models == sorted([CLAUDE, NOVA_LITE, COHERE])
    assert [c.caller for c in report.callers] == [ALICE, BOB]


def test_errors_throttles_and_their_rates() -> None:
    data = build_report(current_usage(), pricer=Pricer(), now=NOW).to_dict()
    assert data["totals"]["client_errors"] == 1
    assert data["totals"]["throttles"] == 2
    assert data["totals"]["error_rate"] == 1 / 22
    assert data["totals"]["throttle_rate"] == 2 / 24
    assert data["errors_by_code"] == {"ThrottlingException": 2, "ValidationException": 1}
    assert data["skipped_records"] == 3
    assert data["failures"] == [{"source": "logs-insights", "message": "AccessDeniedException"}]


def test_previous_window_cost_and_change() -> None:
    previous = Usage(window=WINDOW.previous(), source="log-files")
    previous.model(NOVA_LITE).add(Counts(invocations=1, input_tokens=2_000_000))  # $0.12
    report = build_report(current_usage(), pricer=Pricer(), previous=previous, now=NOW)
    nova = next(m for m in report.models if m.model_id == NOVA_LITE)
    claude = next(m for m in report.models if m.model_id == CLAUDE)
    assert nova.previous_cost_usd == Decimal("0.12")
    assert claude.previous_cost_usd == Decimal(0)  # priced, and not used then
    assert report.previous_cost_usd == Decimal("0.12")
    assert report.cost_change == float((Decimal("7.014") - Decimal("0.12")) / Decimal("0.12"))
    assert report.to_dict()["previous"]["invocations"] == 1


def test_month_to_date_and_projection_from_the_daily_series() -> None:
    """Nova Lite on November day d: d million input tokens ($0.06 x d); $0.03 so far on the 20th."""
    usage = Usage(window=WINDOW, source="log-files")
    usage.model(NOVA_LITE).add(Counts(invocations=1, input_tokens=500_000))
    for day in range(1, 20):
        usage.day(date(2026, 11, day), NOVA_LITE).add(Counts(invocations=1, input_tokens=day * 1_000_000))
    usage.day(date(2026, 10, 31), NOVA_LITE).add(Counts(invocations=1, input_tokens=50_000_000))
    usage.day(date(2026, 11, 20), NOVA_LITE).add(Counts(invocations=1, input_tokens=500_000))
    billed = {date(2026, 11, d): Decimal("0.07") * d for d in range(1, 21)}
    report = build_report(
        usage, pricer=Pricer(), billed=billed, budget_usd=Decimal("15"), now=NOW, trend_days=14
    )
    # 0.06 x (1 + ... + 19) = $11.40, plus $0.03 today; October 31 is last month's.
    assert report.month_to_date_usd == Decimal("11.43")
    # Run rate: Nov 13..19 -> 0.06 x 16 = $0.96 a day, x 10.5 days left (Nov 20 12:00 -> Dec 1 00:00).
    assert report.projected_month_usd == Decimal("11.43") + Decimal("10.08")
    assert any("exceeds the budget $15.00" in w for w in report.warnings)
    # The month so far (the 1st is before now - 14 days, so the month decides the start).
    assert [d.day for d in report.daily] == [date(2026, 11, 1) + timedelta(days=i) for i in range(20)]
    assert [d.cost_usd for d in report.daily[:3]] == [Decimal("0.06"), Decimal("0.12"), Decimal("0.18")]
    assert report.daily[-2].billed_usd == Decimal("1.33")  # the 19th
    assert report.daily[-1].billed_usd is None  # today is not complete: not set beside the estimate


def test_no_daily_series_means_no_projection() -> None:
    usage = Usage(window=WINDOW, source="cloudwatch")
    usage.model(NOVA_LITE).add(Counts(invocations=1, input_tokens=1_000_000))
    report = build_report(usage, pricer=Pricer(), now=NOW)
    assert report.daily == []
    assert report.month_to_date_usd is None
    assert report.projected_month_usd is None


def test_an_empty_window_is_a_zero_report_not_an_error() -> None:
    report = build_report(Usage(window=WINDOW, source="log-files"), pricer=Pricer(), now=NOW)
    data = report.to_dict()
    assert data["totals"]["invocations"] == 0
    assert data["totals"]["cost_usd"] == 0.0
    assert data["totals"]["error_rate"] is None
    assert data["models"] == []


def test_claude_cache_writes_carry_a_warning_that_the_1h_rate_is_not_applied() -> None:
    usage = Usage(window=WINDOW, source="test")
    usage.model(SONNET45).add(Counts(invocations=1, input_tokens=10, output_tokens=10, cache_write_tokens=5))
    usage.model(NOVA_LITE).add(Counts(invocations=1, input_tokens=10, output_tokens=10))
    report = build_report(usage, pricer=Pricer(), regions=["us-east-1"], now=NOW)
    [warning] = [w for w in report.warnings if "1-hour" in w]
    assert SONNET45 in warning
    assert NOVA_LITE not in warning
    without = Usage(window=usage.window, source="test")
    without.model(SONNET45).add(Counts(invocations=1, input_tokens=10, output_tokens=10))
    assert not [
        w
        for w in build_report(without, pricer=Pricer(), regions=["us-east-1"], now=NOW).warnings
        if "1-hour" in w
    ]


def test_unpriced_models_are_ordered_by_tokens_after_every_priced_one_and_the_warning_lists_five() -> None:
    usage = Usage(window=WINDOW, source="test")
    usage.model(NOVA_LITE).add(Counts(invocations=1, input_tokens=1))  # priced, tiny: still first
    for i, tokens in enumerate([30, 10, 70, 50, 20, 60, 40]):
        usage.model(f"acme.m{i}-v1:0").add(Counts(invocations=i + 1, input_tokens=tokens))
    usage.model("acme.tie-b").add(Counts(invocations=1, input_tokens=50))
    report = build_report(usage, pricer=Pricer(), now=NOW)
    assert [m.model_id for m in report.models] == [
        NOVA_LITE,
        "acme.m2-v1:0",  # 70 tokens
        "acme.m5-v1:0",  # 60
        "acme.m3-v1:0",  # 50, before its tie by ID
        "acme.tie-b",  # 50
        "acme.m6-v1:0",  # 40
        "acme.m0-v1:0",  # 30
        "acme.m4-v1:0",  # 20
        "acme.m1-v1:0",  # 10
    ]
    [warning] = [w for w in report.warnings if "not in the cost" in w]
    assert warning.startswith(
        f"{1 + 2 + 3 + 4 + 5 + 6 + 7 + 1} invocation(s) on 8 model(s) are not in the cost: "
    )
    assert warning.endswith(" and 3 more")
    assert warning.count("genai-prices") == 5  # each listed one says why


def test_previous_window_cost_skips_unpriced_models_and_counts_models_gone_since() -> None:
    previous = Usage(window=WINDOW.previous(), source="log-files")
    previous.model(NOVA_LITE).add(Counts(invocations=1, input_tokens=1_000_000))  # $0.06
    previous.model(COHERE).add(Counts(invocations=9, input_tokens=5_000_000))  # unpriced: not $0, not counted
    previous.model(f"global.{SONNET45}").add(
        Counts(invocations=1, output_tokens=1_000_000)
    )  # $15.00, gone now
    current = Usage(window=WINDOW, source="log-files")
    current.model(NOVA_LITE).add(Counts(invocations=1, input_tokens=3_000_000))  # $0.18
    current.model(COHERE).add(Counts(invocations=1, input_tokens=1))
    report = build_report(current, pricer=Pricer(), previous=previous, now=NOW)
    assert report.previous_cost_usd == Decimal("15.06")
    nova = next(m for m in report.models if m.model_id == NOVA_LITE)
    cohere = next(m for m in report.models if m.model_id == COHERE)
    assert nova.previous_cost_usd == Decimal("0.06")
    assert nova.previous is not None
    assert nova.previous.input_tokens == 1_000_000
    assert cohere.previous_cost_usd is None  # unpriced then too: no change can be shown
    assert report.previous_totals is not None
    assert report.previous_totals.invocations == 11
    assert nova.share == 1.0


def test_a_caller_with_only_unpriced_usage_has_no_cost_not_zero_and_sorts_last() -> None:
    usage = Usage(window=WINDOW, source="test")
    usage.caller(ALICE, COHERE).add(Counts(invocations=5, input_tokens=9_000_000))
    usage.caller(BOB, NOVA_LITE).add(Counts(invocations=1, input_tokens=1_000_000))
    usage.caller(BOB, COHERE).add(Counts(invocations=2, input_tokens=10))
    report = build_report(usage, pricer=Pricer(), now=NOW)
    bob, alice = report.callers
    assert (bob.caller, bob.cost_usd, bob.unpriced_invocations) == (BOB, Decimal("0.06"), 2)
    assert (alice.caller, alice.cost_usd, alice.unpriced_invocations) == (ALICE, None, 5)
    assert bob.counts.invocations == 3
    assert bob.models == [NOVA_LITE, COHERE]  # alphabetical: amazon. before cohere.


def test_errors_by_code_are_ordered_by_count_then_code() -> None:
    usage = Usage(window=WINDOW, source="test")
    usage.errors_by_code = {"B": 2, "A": 2, "C": 5, "D": 1}
    report = build_report(usage, pricer=Pricer(), now=NOW)
    assert list(report.errors_by_code.items()) == [("C", 5), ("A", 2), ("B", 2), ("D", 1)]


def test_approximate_prices_are_warned_and_only_priced_models_feed_cache_savings() -> None:
    usage = Usage(window=WINDOW, source="test")
    usage.model(f"ca.{SONNET45}").add(Counts(invocations=1, input_tokens=1_000_000))
    usage.model(COHERE).add(Counts(invocations=1, cache_read_tokens=1_000_000))
    report = build_report(usage, pricer=Pricer(), now=NOW, regions=("ca-central-1",))
    assert [w for w in report.warnings if w.startswith(f"price of ca.{SONNET45} is approximate: ")]
    assert report.cache_savings_usd == Decimal(0)  # Claude had no cache reads; Cohere is unpriced
    assert report.regions == ["ca-central-1"]
    assert report.generated_at == NOW


def test_a_priced_model_with_no_tokens_costs_zero_sorts_with_the_priced_ones_and_has_no_share() -> None:
    """A guardrail-blocked call is priced at $0 (a real zero): it sorts after dearer priced models and
    before any unpriced one; with nothing to divide by, no model gets a share."""
    usage = Usage(window=WINDOW, source="test")
    usage.model(COHERE).add(Counts(invocations=1, input_tokens=5_000_000))
    usage.model(NOVA_LITE).add(Counts(invocations=1))
    report = build_report(usage, pricer=Pricer(), now=NOW)
    assert [m.model_id for m in report.models] == [NOVA_LITE, COHERE]
    assert report.models[0].cost_usd == Decimal(0)
    assert report.models[0].share is None
    assert report.cost_usd == Decimal(0)
    usage.model(f"us.{SONNET45}").add(Counts(invocations=1, input_tokens=100_000))  # $0.33
    report = build_report(usage, pricer=Pricer(), now=NOW)
    assert [m.model_id for m in report.models] == [f"us.{SONNET45}", NOVA_LITE, COHERE]
    assert [m.share for m in report.models] == [1.0, 0.0, None]


def test_without_a_previous_window_no_model_has_a_previous_cost() -> None:
    report = build_report(current_usage(), pricer=Pricer(), now=NOW)
    assert [m.previous_cost_usd for m in report.models] == [None] * 4
    assert report.previous_cost_usd is None
    assert report.previous_totals is None


def test_cache_writes_through_an_application_profile_to_claude_carry_the_1_hour_warning() -> None:
    """Stubber: GetInferenceProfile's real response shape (moto does not implement it)."""
    arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/82ey7vcct4m3"
    bedrock = boto3.client("bedrock", region_name="us-east-1")
    usage = Usage(window=WINDOW, source="test")
    usage.model(arn).add(Counts(invocations=1, input_tokens=10, cache_write_tokens=1_000))
    with Stubber(bedrock) as stub:
        stub.add_response(
            "get_inference_profile",
            {
                "inferenceProfileName": "team",
                "inferenceProfileArn": arn,
                "models": [{"modelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{SONNET45}"}],
                "inferenceProfileId": "82ey7vcct4m3",
                "status": "ACTIVE",
                "type": "APPLICATION",
            },
        )
        report = build_report(usage, pricer=Pricer(bedrock=lambda region: bedrock), now=NOW)
    [warning] = [w for w in report.warnings if "1-hour" in w]
    assert arn in warning


def test_with_no_complete_day_in_the_series_the_projection_adds_nothing() -> None:
    """A one-day trend on the 1st has no earlier day: the run rate is $0, not a guess."""
    now = at("2026-12-01T12:00:00")
    usage = Usage(window=WINDOW, source="test")
    usage.day(date(2026, 12, 1), NOVA_LITE).add(Counts(invocations=1, input_tokens=2_000_000))  # $0.12
    usage.day(date(2026, 11, 30), NOVA_LITE).add(Counts(invocations=1, input_tokens=9_000_000))
    report = build_report(usage, pricer=Pricer(), now=now, trend_days=1)
    assert [d.day for d in report.daily] == [date(2026, 12, 1)]
    assert report.month_to_date_usd == Decimal("0.12")
    assert report.projected_month_usd == Decimal("0.12")


def test_a_caller_using_two_unpriced_models_counts_both_models_invocations() -> None:
    usage = Usage(window=WINDOW, source="log-files")
    usage.caller(ALICE, COHERE).add(Counts(invocations=4))
    usage.caller(ALICE, PROVISIONED).add(Counts(invocations=3))
    report = build_report(usage, pricer=Pricer(), now=NOW)
    assert report.callers[0].unpriced_invocations == 7
    assert report.source == "log-files"


def test_a_previous_window_with_only_unpriced_usage_costs_zero_and_shows_no_change() -> None:
    previous = Usage(window=WINDOW.previous(), source="log-files")
    previous.model(COHERE).add(Counts(invocations=2, input_tokens=10))
    report = build_report(current_usage(), pricer=Pricer(), previous=previous, now=NOW)
    assert report.previous_cost_usd == Decimal(0)
    assert report.cost_change is None
    assert report.to_dict()["previous"]["cost_usd"] == 0.0


@pytest.mark.parametrize(("models", "tail"), [(5, ""), (6, " and 1 more")])
def test_the_unpriced_warning_names_five_models_then_counts_the_rest(models: int, tail: str) -> None:
    usage = Usage(window=WINDOW, source="test")
    for i in range(models):
        usage.model(f"acme.m{i}").add(Counts(invocations=1, input_tokens=100 - i))
    [warning] = [w for w in build_report(usage, pricer=Pricer(), now=NOW).warnings if "not in the cost" in w]
    note = "genai-prices 0.2.3 has no price for acme.m{}; add one in a price override"
    listed = "; ".join(f"acme.m{i} ({note.format(i)})" for i in range(5))
    assert warning == f"{models} invocation(s) on {models} model(s) are not in the cost: {listed}{tail}"


def test_the_cache_write_warning_in_full() -> None:
    usage = Usage(window=WINDOW, source="test")
    usage.model(SONNET45).add(Counts(invocations=1, cache_write_tokens=5))
    [warning] = [w for w in build_report(usage, pricer=Pricer(), now=NOW).warnings if "1-hour" in w]
    assert warning == (
        "prompt-cache writes are priced at the 5-minute rate (1.25x input); writes with the 1-hour TTL "
        f"cost 2x input, so the estimate is low if you use it: {SONNET45}"
    )
