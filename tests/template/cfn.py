"""Small readers for a CloudFormation template: policy statements, Fn::Sub with placeholder values."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
PSEUDO = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT_ID,
    "AWS::Partition": "aws",
    "AWS::StackName": "bedrock-usage-monitor",
    "AWS::URLSuffix": "amazonaws.com",
}
POLICY_KEYS = ("PolicyDocument", "AssumeRolePolicyDocument", "KeyPolicy")


def of_type(resources: dict[str, dict[str, Any]], type_: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in resources.items() if res["Type"] == type_}


def as_list(value: Any) -> list[Any]:
    """A policy field that may be one value or a list; both branches of an Fn::If count."""
    if isinstance(value, dict) and "Fn::If" in value:
        return [*as_list(value["Fn::If"][1]), *as_list(value["Fn::If"][2])]
    return value if isinstance(value, list) else [value]


def policy_statements(resources: dict[str, dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every statement of every policy document anywhere in the template, with its resource's name."""

    def walk(name: str, node: Any) -> Iterator[tuple[str, dict[str, Any]]]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in POLICY_KEYS and isinstance(value, dict) and "Statement" in value:
                    # A statement list may hold Fn::If items: each branch is a statement (or AWS::NoValue).
                    for item in as_list(value["Statement"]):
                        for statement in as_list(item):
                            if statement != {"Ref": "AWS::NoValue"}:
                                yield name, statement
                else:
                    yield from walk(name, value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(name, item)

    for name, resource in resources.items():
        yield from walk(name, resource.get("Properties", {}))


def statement_by_sid(statements: list[dict[str, Any]], sid: str) -> dict[str, Any]:
    matches = [s for s in statements if s.get("Sid") == sid]
    assert len(matches) == 1, f"expected one statement {sid!r}, found {len(matches)}"
    return matches[0]


class SubResolver:
    """Resolves Fn::Sub strings with plausible placeholder values, and fails on unknown names."""

    def __init__(self, cfn: dict[str, Any]) -> None:
        self.parameters: dict[str, Any] = cfn.get("Parameters", {})
        self.resources: dict[str, Any] = cfn["Resources"]

    def ref(self, name: str) -> str:
        if name in PSEUDO:
            return PSEUDO[name]
        if name in self.parameters:
            return str(self.parameters[name].get("Default", f"param-{name}"))
        resource = self.resources[name]  # KeyError = a reference to nothing
        props = resource.get("Properties", {})
        match resource["Type"]:
            case "AWS::SNS::Topic":
                return f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:{self.value(props.get('TopicName', name))}"
            case "AWS::Logs::LogGroup":
                return self.value(props.get("LogGroupName", name))
            case "AWS::S3::Bucket":
                return self.value(props.get("BucketName", name.lower()))
            case "AWS::CloudWatch::Alarm" | "AWS::CloudWatch::CompositeAlarm":
                return self.value(props.get("AlarmName", name))
            case _:
                return name

    def get_att(self, name: str, attribute: str) -> str:
        resource = self.resources[name]
        if attribute == "Arn":
            service = resource["Type"].split("::")[1].lower()
            return f"arn:aws:{service}:{REGION}:{ACCOUNT_ID}:{name}"
        if attribute == "TopicName":
            return self.value(resource["Properties"].get("TopicName", name))
        return f"{name}-{attribute}"

    def value(self, node: Any) -> str:
        """A scalar property value: a string, a Ref, a GetAtt or a Sub."""
        if isinstance(node, str | int | float):
            return str(node)
        if "Ref" in node:
            return self.ref(node["Ref"])
        if "Fn::GetAtt" in node:
            target = node["Fn::GetAtt"]
            name, attribute = target if isinstance(target, list) else target.split(".", 1)
            return self.get_att(name, attribute)
        if "Fn::Sub" in node:
            return self.sub(node["Fn::Sub"])
        raise ValueError(f"cannot resolve {node!r}")

    def sub(self, spec: str | list[Any]) -> str:
        text, local = (spec, {}) if isinstance(spec, str) else (spec[0], spec[1])

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in local:
                return self.value(local[name])
            if "." in name and not name.startswith("AWS::"):
                resource, attribute = name.split(".", 1)
                return self.get_att(resource, attribute)
            return self.ref(name)

        # ${!Literal} is an escaped ${Literal}; everything else must resolve.
        resolved = re.sub(r"\$\{(?!!)([^}]+)\}", replace, text)
        return resolved.replace("${!", "${")
