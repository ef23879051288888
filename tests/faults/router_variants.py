"""Hostile variants of the real notifications in events/, for the alarm router's fault-injection suite.

Each variant is a Lambda event built from a real-shaped sample (events/sns-*.json) with one thing made
hostile: injected markup, huge or deeply nested content, non-finite numbers, lone surrogates, wrong types,
nulls, forged ARNs, non-JSON, budget look-alikes, and odd batches (0 or 3 records).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.conftest import load_event

ALARM_EVENTS = (
    "sns-alarm-insights.json",
    "sns-alarm-single.json",
    "sns-alarm-math.json",
    "sns-alarm-anomaly.json",
    "sns-alarm-composite.json",
    "sns-alarm-ok.json",
)
SCRIPT = '<script>alert("pwned")</script>'
IMG = '"><img src=x onerror=alert(1)>'
HEADER_INJECTION = "Bedrock-X\r\nBcc: attacker@evil.example\r\n"
SURROGATE = "\ud800"


@dataclass(frozen=True)
class Variant:
    """One hostile event and what a reader must still be able to see in the result."""

    name: str
    event: Any
    records: int = 1  # records the router must answer for (an event that is no SNS batch counts as one)
    readable: str | None = None  # text the email's plain-text part must contain, unescaped
    forged_host: str | None = None  # a host that must not appear in any link


def record(name: str) -> dict[str, Any]:
    return copy.deepcopy(load_event(name)["Records"][0])


def message(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(record(name)["Sns"]["Message"])
    return data


def event_of(*records: Any) -> dict[str, Any]:
    return {"Records": list(records)}


def with_text(name: str, text: Any) -> dict[str, Any]:
    """The sample's record with its SNS Message replaced by `text` (a str, or anything for wrong types)."""
    item = record(name)
    item["Sns"]["Message"] = text
    return item


def with_data(name: str, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """The sample's record with its alarm JSON changed by `change`."""
    data = message(name)
    change(data)
    return with_text(name, json.dumps(data))


def setter(*path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"a": value}
    return value


def _injections() -> list[Variant]:
    found = []
    for name in ALARM_EVENTS:
        short = name.removeprefix("sns-alarm-").removesuffix(".json")
        found.append(
            Variant(
                f"script-in-name-{short}",
                event_of(with_data(name, setter("AlarmName", value=SCRIPT))),
                readable=SCRIPT,
            )
        )
        found.append(
            Variant(
                f"img-in-description-{short}",
                event_of(with_data(name, setter("AlarmDescription", value=IMG))),
                readable=IMG,
            )
        )
    found += [
        Variant(
            "script-in-reason",
            event_of(
                with_data("sns-alarm-single.json", setter("NewStateReason", value=SCRIPT + " [1.0 (x)]"))
            ),
            readable=SCRIPT,
        ),
        Variant(
            "script-in-dimension",
            event_of(
                with_data(
                    "sns-alarm-single.json",
                    setter("Trigger", "Dimensions", value=[{"name": SCRIPT, "value": IMG}]),
                )
            ),
        ),
        Variant(
            "script-in-insights-expression",
            event_of(
                with_data(
                    "sns-alarm-insights.json",
                    setter("Trigger", "Metrics", value=[{"Id": "q1", "Expression": f"SELECT SUM({SCRIPT})"}]),
                )
            ),
        ),
        Variant(
            "header-injection-in-name",
            event_of(with_data("sns-alarm-single.json", setter("AlarmName", value=HEADER_INJECTION))),
        ),
        Variant(
            "script-in-sns-subject", event_of(_subject("sns-other.json", SCRIPT + "\r\nBcc: x@evil.example"))
        ),
        Variant(
            "script-in-budget-name",
            event_of(
                with_text(
                    "sns-budget.json",
                    record("sns-budget.json")["Sns"]["Message"].replace(
                        "Budget Name: BedrockUsageBudget", f"Budget Name: {SCRIPT}"
                    ),
                )
            ),
            readable=SCRIPT,
        ),
        Variant(
            "script-as-plain-text", event_of(with_text("sns-other.json", SCRIPT + IMG)), readable=SCRIPT + IMG
        ),
        Variant(
            "script-in-composite-rule",
            event_of(with_data("sns-alarm-composite.json", setter("AlarmRule", value=f'ALARM("{SCRIPT}")'))),
        ),
    ]
    return found


def _subject(name: str, subject: Any) -> dict[str, Any]:
    item = record(name)
    item["Sns"]["Subject"] = subject
    return item


def _huge() -> list[Variant]:
    big = "A" * 250_000
    many_points = ", ".join(f"{i}.5 (28/11/26 18:{i % 60:02d}:00)" for i in range(8000))
    budget = record("sns-budget.json")["Sns"]["Message"]
    return [
        Variant(
            "huge-description",
            event_of(with_data("sns-alarm-insights.json", setter("AlarmDescription", value=big))),
        ),
        Variant(
            "huge-name",
            event_of(with_data("sns-alarm-single.json", setter("AlarmName", value="N" * 200_000))),
        ),
        Variant(
            "huge-reason-datapoints",
            event_of(
                with_data(
                    "sns-alarm-single.json",
                    setter(
                        "NewStateReason", value=f"Threshold Crossed: datapoints [{many_points}] were greater"
                    ),
                )
            ),
        ),
        Variant("huge-plain-text", event_of(with_text("sns-other.json", "line of text\n" * 20_000))),
        Variant("huge-one-line", event_of(with_text("sns-other.json", "x" * 262_000))),
        Variant(
            "huge-budget",
            event_of(with_text("sns-budget.json", budget + ("Note:" + " " * 200 + "x\n") * 1000)),
        ),
        Variant(
            "huge-subject",
            event_of(_subject("sns-alarm-single.json", "S" * 100_000)),
            readable="Bedrock-HighLatency",
        ),
        Variant("many-children", event_of(with_data("sns-alarm-composite.json", _many_children))),
    ]


def _many_children(data: dict[str, Any]) -> None:
    data["TriggeringChildren"] = [
        {"Arn": f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:child-{i}", "State": {"Value": "ALARM"}}
        for i in range(5000)
    ]


def _nested() -> list[Variant]:
    return [
        Variant("nested-array-message", event_of(with_text("sns-other.json", "[" * 100_000 + "]" * 100_000))),
        Variant(
            "nested-object-message",
            event_of(with_text("sns-other.json", '{"a":' * 50_000 + "1" + "}" * 50_000)),
        ),
        Variant(
            "nested-in-trigger",
            event_of(with_data("sns-alarm-single.json", setter("Trigger", "Unit", value=nested(500)))),
        ),
        Variant(
            "nested-too-deep-in-description",
            event_of(with_text("sns-alarm-single.json", _deep_description())),
        ),
        Variant("nested-record", event_of(nested(5000))),
    ]


def _deep_description() -> str:
    text = json.dumps(message("sns-alarm-single.json"))
    return text.replace('"AlarmDescription": null', '"AlarmDescription": ' + "[" * 50_000 + "]" * 50_000)


def _numbers() -> list[Variant]:
    single = record("sns-alarm-single.json")["Sns"]["Message"]
    insights = record("sns-alarm-insights.json")["Sns"]["Message"]
    found = []
    for bad in ("NaN", "Infinity", "-Infinity", "1e999"):
        found.append(
            Variant(
                f"period-{bad}",
                event_of(
                    with_text("sns-alarm-single.json", single.replace('"Period": 300', f'"Period": {bad}'))
                ),
            )
        )
        found.append(
            Variant(
                f"threshold-{bad}",
                event_of(
                    with_text(
                        "sns-alarm-insights.json",
                        insights.replace('"Threshold": 100000.0', f'"Threshold": {bad}'),
                    )
                ),
            )
        )
    found += [
        Variant(
            "evaluation-periods-1e999",
            event_of(
                with_text(
                    "sns-alarm-single.json",
                    single.replace('"EvaluationPeriods": 3', '"EvaluationPeriods": 1e999'),
                )
            ),
        ),
        Variant(
            "datapoint-1e999",
            event_of(
                with_text("sns-alarm-single.json", single.replace("14210.5 (28/11/26", "1e999 (28/11/26"))
            ),
        ),
        Variant(
            "threshold-zero",
            event_of(with_data("sns-alarm-single.json", setter("Trigger", "Threshold", value=0))),
        ),
        Variant(
            "threshold-huge-int",
            event_of(with_data("sns-alarm-single.json", setter("Trigger", "Threshold", value=10**400))),
        ),
    ]
    return found


def _surrogates() -> list[Variant]:
    budget = record("sns-budget.json")["Sns"]["Message"]
    return [
        Variant(
            "surrogate-in-name",
            event_of(with_data("sns-alarm-single.json", setter("AlarmName", value=f"x{SURROGATE}y"))),
        ),
        Variant(
            "surrogate-in-description",
            event_of(with_data("sns-alarm-insights.json", setter("AlarmDescription", value=SURROGATE * 10))),
        ),
        Variant(
            "surrogate-raw-plain-text", event_of(with_text("sns-other.json", f"hello {SURROGATE} world"))
        ),
        Variant(
            "surrogate-in-budget",
            event_of(with_text("sns-budget.json", budget.replace("BedrockUsageBudget", f"B{SURROGATE}"))),
        ),
        Variant("surrogate-in-subject", event_of(_subject("sns-other.json", f"subject {SURROGATE}"))),
        Variant(
            "surrogate-in-message-id",
            event_of(
                {
                    **record("sns-other.json"),
                    "Sns": {**record("sns-other.json")["Sns"], "MessageId": SURROGATE},
                }
            ),
        ),
        Variant(
            "surrogate-in-model-dimension",
            event_of(
                with_data(
                    "sns-alarm-single.json",
                    setter("Trigger", "Dimensions", value=[{"name": "ModelId", "value": SURROGATE}]),
                )
            ),
        ),
    ]


def _wrong_types() -> list[Variant]:
    return [
        Variant(
            "name-is-a-number", event_of(with_data("sns-alarm-single.json", setter("AlarmName", value=12345)))
        ),
        Variant(
            "name-is-a-list",
            event_of(with_data("sns-alarm-single.json", setter("AlarmName", value=["a", "b"]))),
        ),
        Variant(
            "name-is-an-object",
            event_of(with_data("sns-alarm-single.json", setter("AlarmName", value={"x": SCRIPT}))),
        ),
        Variant(
            "trigger-is-a-list", event_of(with_data("sns-alarm-single.json", setter("Trigger", value=[1, 2])))
        ),
        Variant(
            "trigger-is-a-string",
            event_of(with_data("sns-alarm-single.json", setter("Trigger", value="SUM > 1"))),
        ),
        Variant(
            "metrics-is-an-object",
            event_of(with_data("sns-alarm-math.json", setter("Trigger", "Metrics", value={"Id": "e1"}))),
        ),
        Variant(
            "dimensions-is-a-string",
            event_of(with_data("sns-alarm-single.json", setter("Trigger", "Dimensions", value="ModelId"))),
        ),
        Variant(
            "threshold-is-text",
            event_of(with_data("sns-alarm-insights.json", setter("Trigger", "Threshold", value="lots"))),
        ),
        Variant(
            "state-is-a-list",
            event_of(with_data("sns-alarm-single.json", setter("NewStateValue", value=["ALARM"]))),
        ),
        Variant(
            "children-is-a-string",
            event_of(with_data("sns-alarm-composite.json", setter("TriggeringChildren", value="x"))),
        ),
        Variant(
            "change-time-is-garbage",
            event_of(with_data("sns-alarm-ok.json", setter("StateChangeTime", value="yesterday"))),
        ),
        Variant("message-is-an-object", event_of(with_text("sns-alarm-single.json", {"AlarmName": "x"}))),
        Variant("message-is-a-number", event_of(with_text("sns-other.json", 42))),
        Variant("sns-is-a-list", event_of({"EventSource": "aws:sns", "Sns": [1, 2, 3]})),
        Variant("record-is-a-string", event_of("just a string")),
        Variant("record-is-null", event_of(None)),
        Variant("records-is-an-object", {"Records": {"Sns": record("sns-other.json")["Sns"]}}),
        Variant("event-is-a-list", [record("sns-other.json")]),
        Variant(
            "attributes-are-garbage",
            event_of(
                {
                    **record("sns-other.json"),
                    "Sns": {**record("sns-other.json")["Sns"], "MessageAttributes": "x"},
                }
            ),
        ),
    ]


def _nulls() -> list[Variant]:
    every_null = {key: None for key in message("sns-alarm-single.json")}
    trigger_nulls = message("sns-alarm-single.json")
    trigger_nulls["Trigger"] = {key: None for key in trigger_nulls["Trigger"]}
    return [
        Variant("every-field-null", event_of(with_text("sns-alarm-single.json", json.dumps(every_null)))),
        Variant(
            "every-trigger-field-null",
            event_of(with_text("sns-alarm-single.json", json.dumps(trigger_nulls))),
        ),
        Variant("message-null", event_of(with_text("sns-other.json", None))),
        Variant(
            "subject-and-id-null",
            event_of(
                {
                    **record("sns-other.json"),
                    "Sns": {**record("sns-other.json")["Sns"], "Subject": None, "MessageId": None},
                }
            ),
        ),
        Variant("json-null", event_of(with_text("sns-other.json", "null"))),
    ]


def _forged_arns() -> list[Variant]:
    found = []
    for label, arn in (
        ("host", "arn:aws:cloudwatch:evil.example/x?:123456789012:alarm:Bedrock-X"),
        ("subdomain", "arn:aws:cloudwatch:us-east-1.evil.example:123456789012:alarm:Bedrock-X"),
        ("partition", "arn:evil.example:cloudwatch:us-east-1:123456789012:alarm:Bedrock-X"),
        ("mismatch", "arn:aws-cn:cloudwatch:evil.example:123456789012:alarm:Bedrock-X"),
        ("huge", "arn:aws:cloudwatch:" + "evil.example" * 20_000 + ":1:alarm:x"),
    ):
        found.append(
            Variant(
                f"forged-arn-{label}",
                event_of(with_data("sns-alarm-single.json", setter("AlarmArn", value=arn))),
                forged_host="evil.example",
            )
        )
    found.append(
        Variant(
            "forged-long-region-name",
            event_of(with_data("sns-alarm-single.json", setter("Region", value="evil.example"))),
            forged_host="evil.example",
        )
    )
    return found


def _non_json() -> list[Variant]:
    single = record("sns-alarm-single.json")["Sns"]["Message"]
    return [
        Variant(
            "truncated-json",
            event_of(with_text("sns-alarm-single.json", single[: len(single) // 3])),
            readable=single[:40],
        ),
        Variant("not-json-brace", event_of(with_text("sns-other.json", "{not json at all"))),
        Variant("control-characters", event_of(with_text("sns-other.json", "a\x00b\x07c\x1bd\u202ee"))),
        Variant("empty", event_of(with_text("sns-other.json", ""))),
        Variant("json-array", event_of(with_text("sns-other.json", "[1, 2, 3]"))),
    ]


def _budget_look_alikes() -> list[Variant]:
    return [
        Variant(
            "alert-word-with-budget-name",
            event_of(with_text("sns-other.json", "Security Alert\nBudget Name: x\n")),
        ),
        Variant(
            "budget-anchor-mid-text",
            event_of(
                with_text("sns-other.json", "FYI:\nAWS Budget Notification May 1, 2026\nBudget Name: x\n")
            ),
        ),
        Variant("budget-anchor-only", event_of(with_text("sns-other.json", "AWS Budget Notification\n"))),
    ]


def _batches() -> list[Variant]:
    three = event_of(
        record("sns-budget.json"),
        with_text("sns-other.json", "[" * 100_000 + "]" * 100_000),  # the record that used to raise
        with_data("sns-alarm-single.json", setter("AlarmName", value=f"{SCRIPT}{SURROGATE}")),
    )
    return [
        Variant("zero-records", {"Records": []}),
        Variant("three-records-middle-one-hostile", three, records=3),
        Variant(
            "three-records-all-hostile",
            event_of(
                with_text(
                    "sns-alarm-single.json",
                    '{"AlarmName": "x", "Trigger": {"Period": NaN}, "NewStateValue": "ALARM"}',
                ),
                with_data("sns-alarm-single.json", setter("AlarmName", value=SURROGATE)),
                with_text("sns-other.json", None),
            ),
            records=3,
        ),
    ]


def variants() -> list[Variant]:
    """Every hostile variant, each with a unique name."""
    found = [
        *_injections(),
        *_huge(),
        *_nested(),
        *_numbers(),
        *_surrogates(),
        *_wrong_types(),
        *_nulls(),
        *_forged_arns(),
        *_non_json(),
        *_budget_look_alikes(),
        *_batches(),
    ]
    assert len({v.name for v in found}) == len(found), "variant names must be unique"
    return found
