"""The logging custom resource's saved state: the configuration from before the stack, in SSM."""

from __future__ import annotations

import json
import re
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from bedrock_usage.logging_errors import LoggingSetupError, aws_errors, short_reason

STACK_ID = re.compile(
    r"arn:aws[a-z-]*:cloudformation:[a-z0-9-]+:[0-9]{12}:stack/([A-Za-z][A-Za-z0-9-]*)/([\w-]+)"
)
STATE_PARAMETER_ROOT = "/bedrock-usage-monitor"


def state_parameter_name(stack_id: str) -> str:
    """`/bedrock-usage-monitor/<stack name>/<stack uuid>/previous-logging-config`.

    The stack's unique ID is in the name, so a new stack with an old name never reads a stale state.
    """
    match = STACK_ID.fullmatch(stack_id)
    if not match:
        raise LoggingSetupError(short_reason(f"StackId is not a CloudFormation stack ARN: {stack_id}"))
    return f"{STATE_PARAMETER_ROOT}/{match.group(1)}/{match.group(2)}/previous-logging-config"


@dataclass(frozen=True)
class SavedState:
    """What this stack needs to undo its change: the previous configuration and the one it applied."""

    physical_id: str
    previous: dict[str, Any] | None
    applied: dict[str, Any]

    def to_json(self) -> str:
        body = {
            "version": 1,
            "physicalId": self.physical_id,
            "previous": self.previous,
            "applied": self.applied,
        }
        return json.dumps(body, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SavedState:
        body = json.loads(text)
        return cls(physical_id=body["physicalId"], previous=body.get("previous"), applied=body["applied"])


class StateStore:
    """The saved state in one SSM parameter, created on Create and removed on Delete."""

    def __init__(self, ssm: Any, name: str) -> None:
        self.ssm = ssm
        self.name = name

    def load(self) -> SavedState | None:
        with aws_errors(f"Reading SSM parameter {self.name}"):
            try:
                response = self.ssm.get_parameter(Name=self.name)
            except self.ssm.exceptions.ParameterNotFound:
                return None
        try:
            return SavedState.from_json(response["Parameter"]["Value"])
        except (ValueError, KeyError, TypeError) as exc:
            raise LoggingSetupError(
                short_reason(f"SSM parameter {self.name} does not hold a saved state")
            ) from exc

    def save(self, state: SavedState) -> None:
        with aws_errors(f"Saving the previous logging configuration to SSM parameter {self.name}"):
            self.ssm.put_parameter(
                Name=self.name,
                Value=state.to_json(),
                Type="String",
                Overwrite=True,
                # Standard (free) unless two configurations with long prefixes exceed its 4 KB.
                Tier="Intelligent-Tiering",
                Description="Bedrock invocation logging before this stack changed it; removed on delete",
            )

    def delete(self) -> None:
        with (
            aws_errors(f"Deleting SSM parameter {self.name}"),
            suppress(self.ssm.exceptions.ParameterNotFound),
        ):
            self.ssm.delete_parameter(Name=self.name)
