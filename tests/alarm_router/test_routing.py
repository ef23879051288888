"""The AlarmRouting setting: glob patterns on alarm names, `budget`, `default`; first match wins."""

from __future__ import annotations

import pytest
from bedrock_usage.alarms.notification import (
    AlarmNotification,
    BudgetNotification,
    ForwardedNotification,
    Trigger,
)
from bedrock_usage.alarms.routing import Routing, RoutingError

ROUTING = (
    "Bedrock-HighError*=oncall@example.com;ml@example.com,"
    "Bedrock-*=ml@example.com,"
    "budget=finance@example.com,"
    "default=ops@example.com"
)


def alarm(name: str) -> AlarmNotification:
    return AlarmNotification(
        name=name,
        new_state="ALARM",
        old_state="OK",
        reason="",
        trigger=Trigger("metric", "GreaterThanThreshold"),
    )


BUDGET = BudgetNotification(text="AWS Budget Notification", fields={"Budget Name": "BedrockUsageBudget"})


def test_first_matching_pattern_wins() -> None:
    routing = Routing.parse(ROUTING)
    assert routing.recipients_for(alarm("Bedrock-HighErrorRate")) == ("oncall@example.com", "ml@example.com")
    assert routing.recipients_for(alarm("Bedrock-HighLatency")) == ("ml@example.com",)


def test_budget_notifications_go_to_the_budget_rule() -> None:
    assert Routing.parse(ROUTING).recipients_for(BUDGET) == ("finance@example.com",)


def test_unmatched_alarm_and_unreadable_notifications_go_to_default() -> None:
    routing = Routing.parse(ROUTING)
    assert routing.recipients_for(alarm("SomethingElse")) == ("ops@example.com",)
    assert routing.recipients_for(ForwardedNotification(text="?", note="?")) == ("ops@example.com",)


def test_forwarded_alarm_is_routed_by_its_name() -> None:
    forwarded = ForwardedNotification(text="{}", note="no trigger", alarm_name="Bedrock-HighErrorRate")
    assert Routing.parse(ROUTING).recipients_for(forwarded) == ("oncall@example.com", "ml@example.com")


def test_patterns_are_case_sensitive_like_alarm_names() -> None:
    assert Routing.parse("bedrock-*=a@example.com").recipients_for(alarm("Bedrock-X")) == ()


def test_an_alarm_named_budget_is_not_a_budget_notification() -> None:
    routing = Routing.parse("budget=finance@example.com,default=ops@example.com")
    assert routing.recipients_for(alarm("budget")) == ("ops@example.com",)


def test_budget_without_a_budget_rule_goes_to_default() -> None:
    assert Routing.parse("Bedrock-*=a@example.com,default=ops@example.com").recipients_for(BUDGET) == (
        "ops@example.com",
    )


def test_empty_setting_routes_nothing() -> None:
    assert Routing.parse("").recipients_for(alarm("Bedrock-X")) == ()
    assert Routing.parse(None).recipients_for(BUDGET) == ()


def test_spaces_around_parts_are_ignored() -> None:
    routing = Routing.parse(" default = ops@example.com ; sre@example.com , ")
    assert routing.recipients_for(BUDGET) == ("ops@example.com", "sre@example.com")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("ops@example.com", "is not pattern=address"),
        ("=ops@example.com", "is not pattern=address"),
        ("default=", "has no address"),
        ("default=not-an-address", "is not an email address"),
        ("default=a@example.com;<b>@x.com", "is not an email address"),
    ],
)
def test_bad_settings_fail_with_a_clear_message(text: str, fragment: str) -> None:
    with pytest.raises(RoutingError, match=fragment):
        Routing.parse(text)
