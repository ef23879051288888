"""Reading linked accounts in a monitoring account, against botocore Stubber responses of the real shapes.

moto 5 has no CloudWatch cross-account observability (PRODUCT.md), so the CloudWatch and Logs clients here are
real botocore clients with a Stubber: botocore validates every request against the service model, and the
responses carry the documented cross-account fields (ListMetrics `OwningAccounts`, one MetricDataResult per
grouped Metrics Insights series sharing the query's Id, Insights rows with the record's `accountId`).
The grouped series' Label is taken to hold the group values ("<account> <model>"); the reader finds the
12-digit account wherever it stands in the label.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest
from bedrock_usage.accounts_view import account_lines, accounts_view
from bedrock_usage.collect.accounts import (
    QUERY,
    collect_linked,
    collect_linked_metrics,
    parse_label,
    plan_queries,
)
from bedrock_usage.model import Window
from bedrock_usage.price import Pricer
from bedrock_usage.pricing.overrides import load_overrides
from botocore.stub import ANY, Stubber

from tests.accounts.linked_shapes import (
    BETA,
    GAMMA,
    HAIKU,
    LINKED_LIST_METRICS,
    LOG_GROUP,
    NOVA,
    NOW,
    OWN,
    WINDOW,
    add_linked_query,
    insights_row,
    list_metrics_page,
)

# account -> model -> metric -> window sum (all different, so a swap shows)
DATA: dict[str, dict[str, dict[str, float]]] = {
    OWN: {NOVA: {"Invocations": 10, "InputTokenCount": 1000, "OutputTokenCount": 200}},
    BETA: {
        NOVA: {"Invocations": 30, "InputTokenCount": 3000, "OutputTokenCount": 600},
        HAIKU: {
            "Invocations": 5,
            "InputTokenCount": 500,
            "OutputTokenCount": 100,
            "InvocationClientErrors": 2,
        },
    },
    GAMMA: {HAIKU: {"Invocations": 1, "InputTokenCount": 100, "OutputTokenCount": 50}},
}
METRIC_ORDER = ["Invocations", "InputTokenCount", "OutputTokenCount", "InvocationClientErrors"]


def _client(service: str) -> Any:
    return boto3.client(service, region_name="us-east-1")


def _list_metrics_page() -> dict[str, Any]:
    page = list_metrics_page(DATA)
    # An account-wide series without dimensions must not be counted (collect/cloudwatch.py).
    page["Metrics"].append({"Namespace": "AWS/Bedrock", "MetricName": "Invocations", "Dimensions": []})
    page["OwningAccounts"].append(BETA)
    return page


def _stub_metrics(stub: Stubber) -> None:
    stub.add_response("list_metrics", _list_metrics_page(), LINKED_LIST_METRICS)
    for metric in METRIC_ORDER:
        results = []
        for account, models in DATA.items():
            for model, values in models.items():
                if metric in values:
                    # A series may come back in more than one bucket: the reader sums them.
                    half = values[metric] / 2
                    results.append(
                        {
                            "Id": "q",
                            "Label": f"{account} {model}",
                            "Timestamps": [WINDOW.start, WINDOW.start + timedelta(hours=12)],
                            "Values": [half, half],
                            "StatusCode": "Complete",
                        }
                    )
        stub.add_response(
            "get_metric_data",
            {"MetricDataResults": results, "Messages": []},
            {
                "MetricDataQueries": [
                    {
                        "Id": "q",
                        "Expression": f'SELECT SUM({metric}) FROM SCHEMA("AWS/Bedrock", ModelId) '  # noqa: S608
                        "GROUP BY AWS.AccountId, ModelId ORDER BY SUM() DESC LIMIT 500",
                        "Period": 86_400,
                        "ReturnData": True,
                    }
                ],
                "StartTime": ANY,
                "EndTime": ANY,
            },
        )


def _stub_logs(stub: Stubber) -> None:
    add_linked_query(
        stub,
        "q-linked",
        [
            insights_row(
                account=BETA,
                caller=f"arn:aws:iam::{BETA}:role/app",
                model=NOVA,
                error_code="-",
                calls="30",
                input_tokens="3000",
                output_tokens="600",
                cache_read_tokens="0",
                cache_write_tokens="0",
            ),
            insights_row(
                account=GAMMA,
                caller=f"arn:aws:sts::{GAMMA}:assumed-role/Batch/job",
                model=HAIKU,
                error_code="ValidationException",
                calls="1",
                input_tokens="100",
                output_tokens="50",
                cache_read_tokens="0",
                cache_write_tokens="0",
            ),
        ],
        start_time=int(WINDOW.start.timestamp()),
        end_time=int(WINDOW.end.timestamp()) - 1,
        statistics={"recordsMatched": 31.0, "recordsScanned": 31.0, "bytesScanned": 9000.0},
    )


@pytest.fixture
def linked() -> Any:
    cloudwatch, logs = _client("cloudwatch"), _client("logs")
    with Stubber(cloudwatch) as cw_stub, Stubber(logs) as logs_stub:
        _stub_metrics(cw_stub)
        _stub_logs(logs_stub)
        result = collect_linked(
            cloudwatch=cloudwatch,
            logs=logs,
            window=WINDOW,
            region="us-east-1",
            log_group=LOG_GROUP,
            own_account=OWN,
            sleep=lambda _: None,
            now=NOW,
        )
        cw_stub.assert_no_pending_responses()
        logs_stub.assert_no_pending_responses()
    return result


def test_metrics_are_split_by_account_and_model(linked: Any) -> None:
    assert linked.failures == []
    assert set(linked.by_account) == {OWN, BETA, GAMMA}
    beta = linked.by_account[BETA]
    assert beta.by_model[NOVA].invocations == 30
    assert beta.by_model[NOVA].input_tokens == 3000
    assert beta.by_model[HAIKU].output_tokens == 100
    assert beta.by_model[HAIKU].client_errors == 2
    assert beta.by_region[HAIKU]["us-east-1"].invocations == 5
    assert linked.by_account[GAMMA].by_model[HAIKU].invocations == 1
    assert linked.by_account[OWN].by_model[NOVA].invocations == 10
    # One ListMetrics page and one GetMetricData per metric name, whatever the number of accounts.
    assert dict(linked.calls) == {"ListMetrics": 1, "GetMetricData": 4, "StartQuery": 1, "GetQueryResults": 1}


def test_callers_come_from_the_source_accounts_log_groups(linked: Any) -> None:
    beta = linked.by_account[BETA]
    assert beta.by_caller[(f"arn:aws:iam::{BETA}:role/app", NOVA)].invocations == 30
    gamma = linked.by_account[GAMMA]
    assert gamma.errors_by_code == {"ValidationException": 1}
    assert gamma.by_caller[(f"arn:aws:sts::{GAMMA}:assumed-role/Batch/job", HAIKU)].client_errors == 1


def test_per_account_cost_share_and_order(linked: Any) -> None:
    prices = {"models": {NOVA: {"input": 1, "output": 4}, HAIKU: {"input": 10, "output": 50}}}
    pricer = Pricer(load_overrides(json.dumps(prices)), default_region="us-east-1")
    lines = account_lines(linked, None, pricer, names={BETA: "payments-prod"})
    # By hand, USD per 1M tokens: BETA nova 3000*1 + 600*4 = 5400, haiku 500*10 + 100*50 = 10000 -> 0.0154;
    # OWN 1000*1 + 200*4 = 1800 -> 0.0018; GAMMA 100*10 + 50*50 = 3500 -> 0.0035. Total 0.0207.
    assert [a.account_id for a in lines] == [BETA, GAMMA, OWN]
    assert [a.cost_usd for a in lines] == [Decimal("0.0154"), Decimal("0.0035"), Decimal("0.0018")]
    assert lines[0].share == pytest.approx(0.0154 / 0.0207)
    assert lines[0].name == "payments-prod"
    assert lines[1].name is None
    assert lines[0].counts.invocations == 35
    assert lines[0].counts.errors == 2
    assert [m["model_id"] for m in lines[0].models] == [HAIKU, NOVA]
    data = lines[0].to_dict()
    assert data["total_tokens"] == 3000 + 600 + 500 + 100
    assert data["regions"] == ["us-east-1"]


def test_digest_section_only_with_more_than_one_account(linked: Any) -> None:
    pricer = Pricer(load_overrides(json.dumps({"models": {NOVA: {"input": 1, "output": 4}}})))
    lines = account_lines(linked, None, pricer)
    assert accounts_view(lines[:1], [], 10) is None
    view = accounts_view(lines, ["a note"], 2)
    assert view is not None
    assert view["count"] == 3
    assert len(view["rows"]) == 2
    assert view["more"]["count"] == 1
    assert view["notes"] == ["a note"]


def test_past_500_series_a_metric_is_read_as_metricstats_naming_accounts() -> None:
    # 300 accounts x 2 models: 600 (account, model) series of Invocations, 300 of InputTokenCount.
    discovered: dict[str, dict[str, set[str]]] = {
        f"{n:012d}": {NOVA: {"Invocations", "InputTokenCount"}, HAIKU: {"Invocations"}} for n in range(300)
    }
    plan = plan_queries(discovered)
    assert [metric for metric, _ in plan.insights] == ["InputTokenCount"]
    assert len(plan.per_series) == 600
    assert {metric for _, _, metric in plan.per_series} == {"Invocations"}


def test_metricstat_batches_name_the_account() -> None:
    cloudwatch = _client("cloudwatch")
    series = {f"{n:012d}": {NOVA: {"Invocations"}} for n in range(501)}
    page = {
        "Metrics": [
            {
                "Namespace": "AWS/Bedrock",
                "MetricName": "Invocations",
                "Dimensions": [{"Name": "ModelId", "Value": NOVA}],
            }
        ]
        * 501,
        "OwningAccounts": list(series),
    }
    with Stubber(cloudwatch) as stub:
        stub.add_response("list_metrics", page)
        # 501 series: two calls of MetricStat queries (500 + 1), each naming its account.
        for ids in (range(500), range(1)):
            stub.add_response(
                "get_metric_data",
                {
                    "MetricDataResults": [
                        {"Id": f"s{i}", "Values": [float(i + 1)], "StatusCode": "Complete"} for i in ids
                    ]
                },
                {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY},
            )
        sent: list[dict[str, Any]] = []
        cloudwatch.meta.events.register(
            "before-parameter-build.cloudwatch.GetMetricData", lambda params, **_: sent.append(params)
        )
        linked = collect_linked_metrics(cloudwatch, WINDOW, "us-east-1", now=NOW)
        stub.assert_no_pending_responses()
    assert linked.calls["GetMetricData"] == 2
    first = sent[0]["MetricDataQueries"][0]
    assert first["AccountId"] == "000000000000"
    assert first["MetricStat"]["Stat"] == "Sum"
    assert first["MetricStat"]["Period"] == 86_400
    assert sent[1]["MetricDataQueries"][0]["AccountId"] == "000000000500"
    assert linked.by_account["000000000000"].by_model[NOVA].invocations == 1
    assert linked.by_account["000000000499"].by_model[NOVA].invocations == 500
    assert linked.by_account["000000000500"].by_model[NOVA].invocations == 1  # first of the second call


@pytest.mark.parametrize(
    ("label", "model", "expected"),
    [
        (f"{BETA} {NOVA}", None, (BETA, NOVA)),
        (f"{NOVA} {BETA}", None, (BETA, NOVA)),
        (BETA, HAIKU, (BETA, HAIKU)),
        ("Other", None, None),
        # An application inference profile ARN holds an account, but not as a word of its own.
        (
            f"{GAMMA} arn:aws:bedrock:us-east-1:{GAMMA}:application-inference-profile/abc",
            None,
            (GAMMA, f"arn:aws:bedrock:us-east-1:{GAMMA}:application-inference-profile/abc"),
        ),
    ],
)
def test_labels(label: str, model: str | None, expected: tuple[str, str] | None) -> None:
    assert parse_label(label, model) == expected


def test_a_window_older_than_two_weeks_is_a_failure_not_zero() -> None:
    old = Window(NOW - timedelta(days=20), NOW - timedelta(days=19))
    result = collect_linked(
        cloudwatch=_client("cloudwatch"),
        logs=None,
        window=old,
        region="us-east-1",
        log_group=None,
        own_account=OWN,
        now=NOW,
    )
    assert result.by_account == {}
    assert "two weeks" in result.failures[0].message


def test_query_groups_insights_rows_by_the_records_account() -> None:
    assert 'coalesce(accountId, "unknown") as account' in QUERY
    assert "by account, caller, model, error_code" in QUERY
