"""run_report end to end: log files, CloudWatch in two regions (moto), Cost Explorer (Stubber), failures."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from bedrock_usage.model import Window
from bedrock_usage.pipeline import ReportSettings, daily_start, run_report
from bedrock_usage.price import PRICE_OVERRIDES_ENV
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber
from moto import mock_aws

from ..billing.ce_shapes import BEDROCK, CLAUDE, S3, group, period, response
from ..moto_gaps import drop_percentiles
from ..stubbed_session import StubbedSession
from .helpers import ALICE, BOB, NOVA_LITE, at, record, write_gz

NOW = at("2026-11-20T12:00:00")
WINDOW = Window.last_hours(24, NOW)


def _archive(root: Path) -> Path:
    """A Bedrock-layout folder: the window, the previous window and earlier days of the month."""
    base = root / "AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1"
    write_gz(
        base / "2026/11/20/09/a.json.gz",
        [
            record("2026-11-20T09:00:00Z", NOVA_LITE, caller=ALICE, input_tokens=1_000_000, output_tokens=0),
            record("2026-11-20T09:01:00Z", NOVA_LITE, caller=BOB, input_tokens=1_000_000, output_tokens=0),
        ],
    )
    write_gz(
        base / "2026/11/19/01/b.json.gz",
        [record("2026-11-19T01:00:00Z", NOVA_LITE, input_tokens=500_000, output_tokens=0)],
    )
    write_gz(
        base / "2026/11/02/10/c.json.gz",
        [record("2026-11-02T10:00:00Z", NOVA_LITE, input_tokens=3_000_000, output_tokens=0)],
    )
    return root


def test_daily_start_is_the_earlier_of_month_start_and_trend_days() -> None:
    assert daily_start(NOW, 14) == at("2026-11-01T00:00:00")
    assert daily_start(at("2026-11-03T05:00:00"), 14) == at("2026-10-21T00:00:00")


def test_log_files_report_with_previous_window_and_daily_series(tmp_path: Path) -> None:
    settings = ReportSettings(regions=("us-east-1",), logs_source=str(_archive(tmp_path)))
    report = run_report(WINDOW, settings, now=NOW)
    assert report.failures == []
    assert report.source == "log-files"
    assert report.totals.invocations == 2
    assert report.cost_usd == Decimal("0.12")  # 2M input x $0.06
    assert report.previous_cost_usd == Decimal("0.03")  # 0.5M on the 19th 01:00 (previous window)
    assert {c.caller for c in report.callers} == {ALICE, BOB}
    # Month to date: 3M (2nd) + 0.5M (19th) + 2M (20th) = 5.5M x $0.06
    assert report.month_to_date_usd == Decimal("0.33")
    assert report.daily[0].day == date(2026, 11, 1)
    assert report.generated_at == NOW


def test_a_missing_log_source_is_a_failure_in_the_report_not_an_exception(tmp_path: Path) -> None:
    settings = ReportSettings(regions=("us-east-1",), logs_source=str(tmp_path / "gone"))
    report = run_report(WINDOW, settings, now=NOW)
    assert [f.source for f in report.failures] == ["log-files", "log-files (previous window)"]
    assert report.totals.invocations == 0
    assert report.to_dict()["previous"] is None  # not comparable, rather than "was zero"


def test_a_bad_override_is_reported_and_list_prices_are_used(tmp_path: Path) -> None:
    bad = tmp_path / "prices.json"
    bad.write_text("{oops")
    settings = ReportSettings(
        regions=("us-east-1",), logs_source=str(_archive(tmp_path / "logs")), price_overrides=str(bad)
    )
    report = run_report(WINDOW, settings, now=NOW)
    assert [f.source for f in report.failures] == ["price-overrides"]
    assert report.cost_usd == Decimal("0.12")


def test_overrides_from_the_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PRICE_OVERRIDES_ENV, json.dumps({"models": {NOVA_LITE: {"input": 1, "output": 1}}}))
    settings = ReportSettings(regions=("us-east-1",), logs_source=str(_archive(tmp_path)))
    report = run_report(WINDOW, settings, now=NOW)
    assert report.cost_usd == Decimal(2)
    assert report.models[0].price.source == "override:inline"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"regions": ()}, "at least one region"),
        ({"regions": ("us-east-1", "mars-1")}, "not an AWS region: mars-1"),
        ({"regions": ("us-east-1",), "trend_days": 0}, "trend_days"),
        ({"regions": ("us-east-1",), "budget_usd": Decimal(-1)}, "budget"),
    ],
)
def test_bad_settings_raise(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ReportSettings(**kwargs)


@mock_aws
def test_cloudwatch_in_two_regions_is_merged_per_model() -> None:
    """moto for ListMetrics/GetMetricData Sum and Average (faithful); percentile queries are dropped."""
    moment = NOW - timedelta(hours=3)
    for region, invocations in (("us-east-1", 10), ("eu-west-1", 5)):
        cw = boto3.client("cloudwatch", region_name=region)
        for name, value in (("Invocations", invocations), ("InputTokenCount", invocations * 100_000)):
            cw.put_metric_data(
                Namespace="AWS/Bedrock",
                MetricData=[
                    {
                        "MetricName": name,
                        "Dimensions": [{"Name": "ModelId", "Value": NOVA_LITE}],
                        "Value": value,
                        "Timestamp": moment,
                    }
                ],
            )
    session = boto3.session.Session()
    session.events.register("provide-client-params.cloudwatch.GetMetricData", drop_percentiles)
    settings = ReportSettings(regions=("us-east-1", "eu-west-1"), log_group=None)
    report = run_report(Window(NOW - timedelta(hours=24), NOW), settings, session=session, now=NOW)
    assert report.failures == []
    assert report.source == "cloudwatch"
    assert report.regions == ["us-east-1", "eu-west-1"]
    assert report.totals.invocations == 15
    assert report.totals.input_tokens == 1_500_000
    assert report.cost_usd == Decimal("0.09")  # 1.5M x $0.06


def test_cost_explorer_billed_days_are_set_beside_the_estimate(tmp_path: Path) -> None:
    """Stubber with GetCostAndUsage's real response shape; Marketplace-billed Claude is counted."""

    def respond(stub: Stubber) -> None:
        day = [group([BEDROCK], "0.03"), group([CLAUDE], "1.50"), group([S3], "9.99")]
        stub.add_response("get_cost_and_usage", response([period(date(2026, 11, 19), day, estimated=False)]))

    session = StubbedSession({"ce": respond})
    settings = ReportSettings(regions=("us-east-1",), logs_source=str(_archive(tmp_path)), cost_explorer=True)
    report = run_report(WINDOW, settings, session=session, now=NOW)
    assert report.failures == []
    billed = {d.day: d.billed_usd for d in report.daily if d.billed_usd is not None}
    assert billed == {date(2026, 11, 19): Decimal("1.53")}


def test_cost_explorer_denied_is_a_failure_and_the_report_still_comes(tmp_path: Path) -> None:
    def respond(stub: Stubber) -> None:
        stub.add_client_error("get_cost_and_usage", "AccessDeniedException", "not enabled", 400)

    session = StubbedSession({"ce": respond})
    settings = ReportSettings(regions=("us-east-1",), logs_source=str(_archive(tmp_path)), cost_explorer=True)
    report = run_report(WINDOW, settings, session=session, now=NOW)
    assert [f.source for f in report.failures] == ["cost-explorer"]
    assert "AccessDeniedException" in report.failures[0].message
    assert report.totals.invocations == 2


class _DeniesPreviousWindow(boto3.session.Session):
    """moto everywhere, except that eu-west-1 refuses GetMetricData for the previous window: the AccessDenied
    is returned by a `before-call` hook on that one client (moto never denies)."""

    def __init__(self, window_start: datetime) -> None:
        super().__init__()
        self.window_start = window_start

    def client(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        made = super().client(*args, **kwargs)
        if args[0] == "cloudwatch" and kwargs.get("region_name") == "eu-west-1":
            asked: list[datetime] = []
            made.meta.events.register(
                "provide-client-params.cloudwatch.GetMetricData",
                lambda params, **_: asked.append(params["EndTime"]),
            )

            def deny(**_: Any) -> Any:
                if asked and asked[-1] <= self.window_start:
                    error = {"Error": {"Code": "AccessDenied", "Message": "denied"}}
                    return AWSResponse("https://monitoring", 403, {}, None), error
                return None

            made.meta.events.register("before-call.cloudwatch.GetMetricData", deny)
        return made


@mock_aws
def test_a_previous_window_missing_a_region_shows_no_change_and_says_why() -> None:
    window = Window(NOW - timedelta(hours=24), NOW)
    for region in ("us-east-1", "eu-west-1"):
        cw = boto3.client("cloudwatch", region_name=region)
        for moment in (NOW - timedelta(hours=3), NOW - timedelta(hours=27)):  # in each window
            cw.put_metric_data(
                Namespace="AWS/Bedrock",
                MetricData=[
                    {
                        "MetricName": "InputTokenCount",
                        "Dimensions": [{"Name": "ModelId", "Value": NOVA_LITE}],
                        "Value": 1_000_000,
                        "Timestamp": moment,
                    }
                ],
            )
    session = _DeniesPreviousWindow(window.start)
    session.events.register("provide-client-params.cloudwatch.GetMetricData", drop_percentiles)
    settings = ReportSettings(regions=("us-east-1", "eu-west-1"), log_group=None)

    report = run_report(window, settings, session=session, now=NOW)

    assert report.cost_usd == Decimal("0.12")  # both regions in the current window
    # half of the previous window would read as +100%: no change is shown, and the report says why
    assert report.previous_cost_usd is None
    assert report.cost_change is None
    assert any(f.source.endswith("(previous window)") for f in report.failures)
