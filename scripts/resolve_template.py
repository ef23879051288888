"""Resolve a CloudFormation template for one set of parameter values, so scanners see what would deploy.

checkov evaluates neither Conditions nor Fn::If: a statement or property behind an Fn::If is judged by its
shape, not by what CloudFormation would create. This script does what CloudFormation does with parameter
values before it creates anything: it evaluates Conditions, keeps the chosen branch of every Fn::If, drops
resources and outputs whose condition is false and every AWS::NoValue, and replaces each Ref to a parameter
(and each ${Parameter} in Fn::Sub) with its value. Refs to resources and pseudo parameters stay as they are.
It also evaluates the template's Rules, so a caller can tell whether CloudFormation would accept the values.

Usage: python scripts/resolve_template.py build/transformed.json build/resolved.json [Name=Value ...]
(parameters not given keep their Default)
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

NO_VALUE = {"Ref": "AWS::NoValue"}


class ResolveError(ValueError):
    """The template or the values cannot be resolved (a missing value, an unknown condition)."""


def parameter_values(template: dict[str, Any], overrides: dict[str, str] | None = None) -> dict[str, Any]:
    """Every parameter's value: the override if given, else its Default; a parameter with neither fails."""
    overrides = dict(overrides or {})
    declared = template.get("Parameters", {})
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise ResolveError(f"not parameters of this template: {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        if name in overrides:
            values[name] = overrides[name]
        elif "Default" in spec:
            values[name] = spec["Default"]
        else:
            raise ResolveError(f"parameter {name} has no Default and no value was given")
    return values


class Resolver:
    """Evaluates conditions and intrinsic functions that depend only on parameter values."""

    def __init__(self, template: dict[str, Any], values: dict[str, Any]) -> None:
        self.template = template
        self.values = values
        self._conditions: dict[str, bool] = {}

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            definitions = self.template.get("Conditions", {})
            if name not in definitions:
                raise ResolveError(f"unknown condition {name}")
            self._conditions[name] = self.truth(definitions[name])
        return self._conditions[name]

    def scalar(self, node: Any) -> str:
        """A value compared by Fn::Equals: CloudFormation compares parameter values as strings."""
        if isinstance(node, dict) and set(node) == {"Ref"} and node["Ref"] in self.values:
            return str(self.values[node["Ref"]])
        if node == {"Ref": "AWS::Region"}:
            # Resolved for the Region the checks run with (CurExport's resources exist only in us-east-1).
            return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        if isinstance(node, str | int | float | bool):
            return str(node).lower() if isinstance(node, bool) else str(node)
        if isinstance(node, dict) and set(node) & {"Fn::Select", "Fn::Join"}:
            value = self.resolve(node)  # e.g. the first item of a split parameter (SourceAccounts)
            if isinstance(value, str):
                return value
        raise ResolveError(f"cannot compare {node!r} without deploying")

    def truth(self, node: Any) -> bool:
        """A condition expression (Conditions, Fn::If's condition, Rules' RuleCondition and Assert)."""
        if isinstance(node, dict) and len(node) == 1:
            ((fn, args),) = node.items()
            match fn:
                case "Condition":
                    return self.condition(args)
                case "Fn::Equals":
                    return self.scalar(args[0]) == self.scalar(args[1])
                case "Fn::Not":
                    return not self.truth(args[0])
                case "Fn::And":
                    return all(self.truth(a) for a in args)
                case "Fn::Or":
                    return any(self.truth(a) for a in args)
        raise ResolveError(f"not a condition expression: {node!r}")

    def sub(self, spec: Any) -> Any:
        """Fn::Sub with parameter names replaced by their values; other names are left for CloudFormation."""
        text, local = (spec, {}) if isinstance(spec, str) else (spec[0], self.resolve(spec[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in local and name in self.values:
                return str(self.values[name])
            return match.group(0)

        resolved = re.sub(r"\$\{(?!!)([^}]+)\}", replace, text)
        return {"Fn::Sub": resolved if not local else [resolved, local]}

    def resolve(self, node: Any) -> Any:
        """`node` as CloudFormation would see it with these values; NO_VALUE where a property disappears."""
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item != NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, value),) = node.items()
            if key == "Fn::If":
                name, when_true, when_false = value
                return self.resolve(when_true if self.condition(name) else when_false)
            if key == "Ref" and value in self.values:
                return self.values[value]
            if key == "Fn::Sub":
                return self.sub(value)
            if key in ("Fn::Split", "Fn::Join", "Fn::Select"):
                return _string_function(key, self.resolve(value))
        resolved = {key: self.resolve(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value != NO_VALUE}

    def broken_rules(self) -> list[str]:
        """The AssertDescription of each Rules assertion these values fail (none: CloudFormation accepts)."""
        broken = []
        for rule in self.template.get("Rules", {}).values():
            if "RuleCondition" in rule and not self.truth(rule["RuleCondition"]):
                continue
            for assertion in rule.get("Assertions", []):
                if not self.truth(assertion["Assert"]):
                    broken.append(assertion.get("AssertDescription", "a rule failed"))
        return broken


def _string_function(key: str, args: Any) -> Any:
    """Fn::Split, Fn::Join, Fn::Select on plain values; anything else is left for CloudFormation."""
    plain = isinstance(args, list) and not any(isinstance(a, dict) for a in args)
    if key == "Fn::Split" and plain and isinstance(args[1], str):
        return args[1].split(args[0])
    if key == "Fn::Join" and plain and isinstance(args[1], list) and all(isinstance(a, str) for a in args[1]):
        return str(args[0]).join(args[1])
    if key == "Fn::Select" and plain and isinstance(args[1], list):
        return args[1][int(args[0])]
    return {key: args}


def resolve_template(template: dict[str, Any], overrides: dict[str, str] | None = None) -> dict[str, Any]:
    """The template with these parameter values applied: no Conditions, no Fn::If, no parameter Refs."""
    resolver = Resolver(template, parameter_values(template, overrides))
    out: dict[str, Any] = {}
    for section, body in template.items():
        if section in ("Conditions", "Rules"):
            continue  # evaluated: nothing refers to them any more
        if section in ("Resources", "Outputs"):
            kept = {
                name: item
                for name, item in body.items()
                if "Condition" not in item or resolver.condition(item["Condition"])
            }
            out[section] = {
                name: {k: resolver.resolve(v) for k, v in item.items() if k != "Condition"}
                for name, item in kept.items()
            }
        else:
            out[section] = body
    return out


def main(argv: list[str]) -> int:
    if len(argv) < 3 or not all("=" in arg for arg in argv[3:]):
        print(__doc__.strip().splitlines()[-2], file=sys.stderr)
        return 2
    template = json.loads(Path(argv[1]).read_text())
    overrides = dict(arg.split("=", 1) for arg in argv[3:])
    try:
        resolved = resolve_template(template, overrides)
    except ResolveError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    out = Path(argv[2])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(resolved, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
