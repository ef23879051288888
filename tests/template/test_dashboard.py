"""The dashboard body: valid JSON once deployed, every ModelId, the right log field paths."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.template.cfn import SubResolver

SEARCH_ALL_MODELS = "SEARCH('{AWS/Bedrock,ModelId} "
# A token field at the top level of the record (the seed's mistake): not preceded by "input."/"output.".
TOP_LEVEL_TOKEN_FIELD = re.compile(r"(?<![.\w])(input|output|cacheRead\w*|cacheWrite\w*)TokenCount\b")


@pytest.fixture(scope="module")
def body(cfn: dict[str, Any]) -> dict[str, Any]:
    """The body CloudFormation would store, with placeholder values for every ${...}."""
    raw = cfn["Resources"]["UsageDashboard"]["Properties"]["DashboardBody"]
    return json.loads(SubResolver(cfn).value(raw))


def widgets(body: dict[str, Any], type_: str) -> list[dict[str, Any]]:
    return [w["properties"] for w in body["widgets"] if w["type"] == type_]


def expressions(widget: dict[str, Any]) -> list[str]:
    return [row[0]["expression"] for row in widget["metrics"] if isinstance(row[0], dict)]


def test_dashboard_is_named_by_the_parameter_and_fits_the_grid(resources, body):
    assert resources["UsageDashboard"]["Properties"]["DashboardName"] == {"Ref": "DashboardName"}
    for widget in body["widgets"]:
        assert widget["x"] + widget["width"] <= 24
        assert widget["type"] in {"metric", "log", "text", "alarm"}


@pytest.mark.parametrize(
    ("metric", "stat"),
    [
        ("Invocations", "Sum"),
        ("InputTokenCount", "Sum"),
        ("OutputTokenCount", "Sum"),
        ("InvocationLatency", "Average"),
        ("InvocationLatency", "p99"),
        ("InvocationClientErrors", "Sum"),
        ("InvocationServerErrors", "Sum"),
        ("InvocationThrottles", "Sum"),
    ],
)
def test_runtime_metrics_are_graphed_for_every_model_id(body, metric, stat):
    """A SEARCH over {AWS/Bedrock,ModelId} shows every model, including ones first used after deploy."""
    wanted = f"{SEARCH_ALL_MODELS}MetricName=\"{metric}\"', '{stat}', 300)"
    assert any(wanted in e for w in widgets(body, "metric") for e in expressions(w))


@pytest.mark.parametrize("kind", ["Read", "Write"])
def test_cache_token_graphs_match_both_candidate_metric_names(body, kind):
    """The docs disagree on the cache metric names (REFERENCE.md 13.1): one SEARCH matches either."""
    wanted = (
        f'{SEARCH_ALL_MODELS}MetricName="Cache{kind}InputTokenCount" OR '
        f"MetricName=\"Cache{kind}InputTokens\"', 'Sum', 300)"
    )
    assert any(e == wanted for w in widgets(body, "metric") for e in expressions(w))


def test_no_metric_widget_hard_codes_a_model_id(body):
    for widget in widgets(body, "metric"):
        for row in widget["metrics"]:
            assert "ModelId" not in [c for c in row if isinstance(c, str)], widget["title"]


def test_log_delivery_health_shows_success_and_failure_of_every_destination(body):
    names = {
        row[1]
        for w in widgets(body, "metric")
        for row in w["metrics"]
        if isinstance(row[0], str) and row[0] == "AWS/Bedrock"
    }
    assert names == {
        f"ModelInvocation{dest}Delivery{outcome}"
        for dest in ("LogsCloudWatch", "LogsS3", "LargeDataS3")
        for outcome in ("Success", "Failure")
    }


def test_log_queries_read_the_invocation_log_group_with_nested_token_fields(body):
    queries = [w["query"] for w in widgets(body, "log")]
    assert len(queries) >= 2
    for query in queries:
        assert query.startswith("SOURCE '/aws/bedrock/modelinvocations' | ")
        assert "input.inputTokenCount" in query
        assert "output.outputTokenCount" in query
        assert TOP_LEVEL_TOKEN_FIELD.search(query) is None, query


def test_recent_invocations_table_shows_time_model_caller_and_tokens(body):
    (recent,) = [w for w in widgets(body, "log") if w["title"] == "Recent invocations"]
    fields = recent["query"].split("| fields ", 1)[1].split(" |", 1)[0].split(", ")
    wanted = {"@timestamp", "modelId", "identity.arn", "input.inputTokenCount", "output.outputTokenCount"}
    assert wanted <= set(fields)
    assert "sort @timestamp desc" in recent["query"]


def test_top_callers_table_groups_by_caller_arn(body):
    (top,) = [w for w in widgets(body, "log") if w["title"] == "Top callers"]
    assert re.search(r"\bby identity\.arn\b", top["query"])
    assert "sum(input.inputTokenCount)" in top["query"]


def test_alarm_widget_shows_every_notifying_bedrock_alarm(cfn, resources, body):
    resolver = SubResolver(cfn)
    notifying = {
        resolver.get_att(name, "Arn")
        for name, res in resources.items()
        if res["Type"].startswith("AWS::CloudWatch::")
        and "AlarmActions" in res.get("Properties", {})
        and str(res["Properties"].get("AlarmName", "")).startswith("Bedrock-")
    }
    (alarm_widget,) = widgets(body, "alarm")
    assert set(alarm_widget["alarms"]) == notifying


def test_search_series_are_labelled_with_their_model_id(body):
    """Dynamic labels must reach CloudWatch as ${PROP(...)}: in Fn::Sub they are escaped as ${!PROP(...)}."""
    for widget in widgets(body, "metric"):
        for row in widget["metrics"]:
            if isinstance(row[0], dict) and row[0]["expression"].startswith("SEARCH("):
                assert "${PROP('Dim.ModelId')}" in row[0]["label"], widget["title"]
