"""What every doctor check shares: the result row, the stack it checks, and the guard that makes each
check fail soft (a refused or missing API becomes a SKIP or WARN row with the reason, never a crash)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

PASS, WARN, FAIL, SKIP = "PASS", "WARN", "FAIL", "SKIP"
STATUSES = (PASS, WARN, FAIL, SKIP)

# Error codes that mean "you may not look", not "it is broken".
ACCESS_DENIED = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "AuthorizationError",
        "AuthorizationErrorException",
    }
)
# Error codes that mean the API is not there (an older partition, a Region without it, an emulator).
UNAVAILABLE = frozenset({"NotImplemented", "UnknownOperationException", "InvalidAction", "OptInRequired"})


@dataclass(frozen=True)
class Check:
    """One row of the doctor's table."""

    id: str
    name: str
    status: str
    seen: str
    fix: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "status": self.status, "seen": self.seen, "fix": self.fix}


@dataclass(frozen=True)
class StackInfo:
    """The deployed stack as the doctor needs it: outputs, parameters, and resources by logical ID."""

    name: str
    outputs: Mapping[str, str] = field(default_factory=dict)
    parameters: Mapping[str, str] = field(default_factory=dict)
    resources: Mapping[str, str] = field(default_factory=dict)  # logical ID -> physical ID
    resource_types: Mapping[str, str] = field(default_factory=dict)  # logical ID -> resource type

    def output(self, key: str) -> str | None:
        return self.outputs.get(key) or None

    def parameter(self, key: str, default: str = "") -> str:
        value = self.parameters.get(key)
        return default if value is None else value

    def of_type(self, *types: str) -> list[str]:
        """Physical IDs of the stack's resources of these types, in logical-ID order."""
        return [
            self.resources[lid]
            for lid in sorted(self.resources)
            if self.resource_types.get(lid) in types and self.resources[lid]
        ]


def read_stack(cloudformation: Any, name: str) -> StackInfo:
    """DescribeStacks (outputs, parameters) and ListStackResources (physical IDs); raises ClientError."""
    stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])}
    parameters = {
        p["ParameterKey"]: p.get("ResolvedValue", p.get("ParameterValue", ""))
        for p in stack.get("Parameters", [])
    }
    resources: dict[str, str] = {}
    types: dict[str, str] = {}
    request: dict[str, Any] = {"StackName": stack.get("StackId", name)}
    for _ in range(50):  # 100 resources a page; the stack has about 60
        page = cloudformation.list_stack_resources(**request)
        for item in page.get("StackResourceSummaries", []):
            resources[item["LogicalResourceId"]] = item.get("PhysicalResourceId", "")
            types[item["LogicalResourceId"]] = item.get("ResourceType", "")
        if not page.get("NextToken"):
            break
        request["NextToken"] = page["NextToken"]
    return StackInfo(stack.get("StackName", name), outputs, parameters, resources, types)


@dataclass
class Context:
    """What a check reads from: a client factory for the stack's Region, the stack, the clock."""

    client: Callable[[str], Any]
    stack: StackInfo
    region: str
    now: datetime
    sleep: Callable[[float], None] = time.sleep
    account: str | None = None

    def account_id(self) -> str:
        """This account's ID (STS GetCallerIdentity, asked once)."""
        if self.account is None:
            self.account = str(self.client("sts").get_caller_identity()["Account"])
        return self.account


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "Error"))


def describe_error(exc: ClientError) -> str:
    """`AccessDeniedException on GetAccount: <message>`."""
    message = str(exc.response.get("Error", {}).get("Message", "")).strip()
    return f"{error_code(exc)} on {exc.operation_name}" + (f": {message}" if message else "")


CheckFn = Callable[[Context], Check | Iterable[Check]]


def guarded(check_id: str, name: str, fn: CheckFn, ctx: Context) -> list[Check]:
    """Run one check; turn what it could not find out into a SKIP or WARN row that says why."""
    try:
        result = fn(ctx)
        return [result] if isinstance(result, Check) else list(result)
    except ClientError as exc:
        code = error_code(exc)
        if code in ACCESS_DENIED:
            return [
                Check(
                    check_id,
                    name,
                    SKIP,
                    f"not allowed to look: {describe_error(exc)}",
                    "run doctor with read-only credentials (README: Check a deploy)",
                )
            ]
        if code in UNAVAILABLE:
            return [Check(check_id, name, SKIP, f"API not available here: {describe_error(exc)}")]
        return [Check(check_id, name, WARN, f"could not check: {describe_error(exc)}", "re-run doctor")]
    except NotImplementedError as exc:  # moto raises this for an API it lacks
        return [Check(check_id, name, SKIP, f"API not available here: {exc}")]
    except BotoCoreError as exc:
        return [Check(check_id, name, WARN, f"could not check: {exc}", "check network and credentials")]
    except Exception as exc:  # noqa: BLE001 - a bug in one check must not hide the other rows
        detail = " ".join(str(exc).split())[:300]
        return [
            Check(
                check_id,
                name,
                WARN,
                f"the check itself failed: {type(exc).__name__}: {detail}",
                "a doctor bug: please report it with this line",
            )
        ]


def age(now: datetime, then: datetime) -> str:
    """`3 h 12 min ago`."""
    minutes = max(0, int((now - then).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min ago"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min ago"
    return f"{hours // 24} days ago"
