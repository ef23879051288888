"""Who gets which notification: alarm-name glob patterns, `budget`, and a `default`.

Format (one line, safe to type at a `sam deploy --guided` prompt - no quotes, no spaces needed):
    Bedrock-HighError*=oncall@example.com;ml@example.com,budget=finance@example.com,default=ops@example.com
Rules are tried in order; the first whose pattern matches the alarm name wins. `budget` matches AWS
Budgets alerts, `default` anything no rule matched (including notifications we could not read).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase

from bedrock_usage.alarms.notification import BudgetNotification, Notification

BUDGET = "budget"
DEFAULT = "default"
_ADDRESS = re.compile(r"[^@\s;,=<>\"']+@[^@\s;,=<>\"']+\.[^@\s;,=<>\"']+")


def is_address(text: str) -> bool:
    """Whether `text` reads as one email address (the same check the AlarmRouting rules get)."""
    return bool(_ADDRESS.fullmatch(text))


class RoutingError(ValueError):
    """The AlarmRouting setting cannot be read."""


@dataclass(frozen=True)
class Rule:
    pattern: str
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class Routing:
    rules: tuple[Rule, ...] = ()

    @classmethod
    def parse(cls, text: str | None) -> Routing:
        """Parse the AlarmRouting setting; raises RoutingError naming the bad part."""
        rules: list[Rule] = []
        for raw in (text or "").split(","):
            part = raw.strip()
            if not part:
                continue
            pattern, sep, addresses = part.partition("=")
            pattern = pattern.strip()
            if not sep or not pattern:
                raise RoutingError(f"routing rule {part!r} is not pattern=address[;address...]")
            recipients = tuple(a.strip() for a in addresses.split(";") if a.strip())
            if not recipients:
                raise RoutingError(f"routing rule {part!r} has no address")
            for address in recipients:
                if not _ADDRESS.fullmatch(address):
                    raise RoutingError(f"routing rule {part!r}: {address!r} is not an email address")
            rules.append(Rule(pattern, recipients))
        return cls(tuple(rules))

    @property
    def default(self) -> tuple[str, ...]:
        """The `default` rule's addresses (empty when there is none)."""
        return next((rule.recipients for rule in self.rules if rule.pattern == DEFAULT), ())

    def recipients_for(self, notification: Notification) -> tuple[str, ...]:
        """The addresses for this notification (first matching rule, else default; may be empty)."""
        is_budget = isinstance(notification, BudgetNotification)
        key = None if is_budget else notification.route_key
        for rule in self.rules:
            if rule.pattern == DEFAULT:
                continue
            if is_budget and rule.pattern == BUDGET:
                return rule.recipients
            if key is not None and rule.pattern != BUDGET and fnmatchcase(key, rule.pattern):
                return rule.recipients
        return self.default
