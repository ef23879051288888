"""The stack: template.yaml's resources, created in the emulator as CloudFormation would create them."""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys
import warnings
import zipfile
from dataclasses import dataclass, field
from typing import Any

from scripts.demo.common import ARTIFACT_BUCKET, REGION, REPO, STACK_NAME, DemoError, say
from scripts.demo.emulator import account_id, client
from scripts.demo.resources import create_directly


def _refs(node: Any) -> set[str]:
    """Logical IDs (and parameters) a template fragment refers to, through Ref, GetAtt and Sub."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) else str(value).split(".")[0]
                found.add(target)
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                found.update(m.split(".")[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", text))
                if isinstance(value, list):
                    found.update(_refs(value[1]))
            else:
                found.update(_refs(value))
    elif isinstance(node, list):
        for item in node:
            found.update(_refs(item))
    return found


def _dependencies(resource: dict[str, Any]) -> set[str]:
    deps = _refs(resource.get("Properties", {}))
    depends_on = resource.get("DependsOn", [])
    deps.update([depends_on] if isinstance(depends_on, str) else depends_on)
    return deps


@dataclass
class Stack:
    """What the demo made of template.yaml: the moto stack plus the pieces created directly."""

    template: dict[str, Any]
    resource_map: Any  # moto's ResourceMap: resolves Ref, GetAtt, Sub, If with the stack's real values
    physical_ids: dict[str, str]
    created_directly: list[str] = field(default_factory=list)
    not_emulated: list[str] = field(default_factory=list)

    def resolve(self, node: Any) -> Any:
        from moto.cloudformation.parsing import clean_json

        return clean_json(node, self.resource_map)

    def condition(self, name: str | None) -> bool:
        return True if name is None else bool(self.resource_map.lazy_condition_map[name])

    def outputs(self) -> dict[str, str]:
        out = {}
        for name, output in self.template.get("Outputs", {}).items():
            if self.condition(output.get("Condition")):
                with contextlib.suppress(Exception):  # an output of a piece moto cannot emulate
                    value = self.resolve(output["Value"])
                    if isinstance(value, str | int | float):  # moto resolves a few Refs to model objects
                        out[name] = str(value)
        return out

    def function_name(self, logical_id: str) -> str | None:
        return self.physical_ids.get(logical_id)


def _upload_artifacts(template: dict[str, Any]) -> None:
    """Zip each function's and the layer's folder into the artifact bucket, as `sam package` uploads them."""
    s3 = client("s3")
    s3.create_bucket(Bucket=ARTIFACT_BUCKET)
    keys: set[str] = set()
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        code = props.get("Code") or props.get("Content") or {}
        if isinstance(code, dict) and code.get("S3Bucket") == ARTIFACT_BUCKET:
            keys.add(code["S3Key"])
    for key in sorted(keys):
        folder = REPO / key
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
                if path.is_file() and "__pycache__" not in path.parts and ".egg-info" not in str(path):
                    archive.write(path, path.relative_to(folder).as_posix())
        s3.put_object(Bucket=ARTIFACT_BUCKET, Key=key, Body=buffer.getvalue())


def create_stack(parameters: dict[str, str]) -> Stack:
    """Create the template's resources: moto's CloudFormation where it can, the API directly elsewhere."""
    sys.path.insert(0, str(REPO))
    from moto.cloudformation.models import cloudformation_backends
    from moto.cloudformation.parsing import get_model_map

    from scripts.transform_template import transform_file

    template = transform_file(REPO / "template.yaml")
    declared = template.get("Parameters", {})
    overrides = {k: v for k, v in parameters.items() if k in declared}
    _upload_artifacts(template)

    supported = set(get_model_map())
    resources: dict[str, dict[str, Any]] = template["Resources"]
    # moto's CloudFormation takes what it models; a custom resource would make it invoke a Lambda (Docker), so
    # the demo runs that one itself. Anything that refers to a piece moto skips is created directly too.
    direct = {
        lid for lid, r in resources.items() if r["Type"] not in supported or r["Type"].startswith("Custom::")
    }
    changed = True
    while changed:
        changed = False
        for lid, resource in resources.items():
            if lid not in direct and _dependencies(resource) & direct:
                direct.add(lid)
                changed = True
    subset = {k: v for k, v in template.items() if k not in ("Outputs", "Resources")}
    subset["Resources"] = {lid: r for lid, r in resources.items() if lid not in direct}
    cloudformation = client("cloudformation")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # moto warns about every type it skips; we say it once per resource
        cloudformation.create_stack(
            StackName=STACK_NAME,
            TemplateBody=json.dumps(subset),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in overrides.items()],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
    status = cloudformation.describe_stacks(StackName=STACK_NAME)["Stacks"][0]["StackStatus"]
    if status != "CREATE_COMPLETE":
        raise DemoError(f"stack {STACK_NAME} ended in {status}")
    summaries = cloudformation.list_stack_resources(StackName=STACK_NAME)["StackResourceSummaries"]
    physical = {s["LogicalResourceId"]: s["PhysicalResourceId"] for s in summaries}
    backend = cloudformation_backends[account_id()][REGION]
    moto_stack = next(s for s in backend.stacks.values() if s.name == STACK_NAME)
    stack = Stack(template, moto_stack.resource_map, physical)
    say(f"    moto CloudFormation created {len(summaries)} resources of stack {STACK_NAME}")
    for lid in _in_dependency_order({k: resources[k] for k in direct}):
        resource = resources[lid]
        if not stack.condition(resource.get("Condition")):
            continue
        if resource["Type"].startswith("Custom::"):
            continue  # run as CloudFormation would, in its own step
        create_directly(stack, lid, resource)
    return stack


def _in_dependency_order(resources: dict[str, dict[str, Any]]) -> list[str]:
    order: list[str] = []
    seen: set[str] = set()

    def visit(lid: str) -> None:
        if lid in seen:
            return
        seen.add(lid)
        for dep in sorted(_dependencies(resources[lid]) & set(resources)):
            visit(dep)
        order.append(lid)

    for lid in sorted(resources):
        visit(lid)
    return order
