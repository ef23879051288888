"""Alarm and budget notifications -> readable, routed emails (AlarmRouterFunction)."""

from bedrock_usage.alarms.compose import Email, Extras, Links, compose, console_links
from bedrock_usage.alarms.notification import (
    AlarmNotification,
    BudgetNotification,
    ForwardedNotification,
    Notification,
    parse_message,
    parse_record,
)
from bedrock_usage.alarms.router import DeliveryError, Outcome, RouterConfig, route_event, route_record
from bedrock_usage.alarms.routing import Routing, RoutingError

__all__ = [
    "AlarmNotification",
    "BudgetNotification",
    "DeliveryError",
    "Email",
    "Extras",
    "ForwardedNotification",
    "Links",
    "Notification",
    "Outcome",
    "RouterConfig",
    "Routing",
    "RoutingError",
    "compose",
    "console_links",
    "parse_message",
    "parse_record",
    "route_event",
    "route_record",
]
