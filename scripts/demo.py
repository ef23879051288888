"""`make demo`: the whole Bedrock Usage Monitor pipeline on an embedded AWS emulator (moto), offline.

Creates the stack's resources from the real template.yaml, turns on invocation logging through
LoggingSetupFunction as CloudFormation would, writes 15 days of realistic Bedrock traffic, runs
ReportFunction with events/24h.json and one alarm through AlarmRouterFunction, and writes the emails
to build/demo/. Where the emulator cannot do what AWS does, it says so in one line and never fakes a result.

Usage: python -m scripts.demo [--per-day N] [--days N] [--seed N] [--out DIR] [--now ISO-8601]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import email.policy
import email.utils
import importlib.util
import io
import json
import os
import re
import sys
import tempfile
import time
import uuid
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage, MIMEPart
from pathlib import Path
from typing import Any, TextIO

REPO = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
STACK_NAME = "bedrock-usage-monitor"
ARTIFACT_BUCKET = "offline-artifacts"  # where scripts/transform_template.py points CodeUri/ContentUri
# Demo-only parameter values: an address to send from and to (SES in the emulator accepts any verified one).
DEMO_PARAMETERS = {
    "SenderEmail": "bedrock-usage@example.com",
    "ReportRecipients": "finops@example.com",
    "AlertEmail": "oncall@example.com",
    "AlarmRouting": "Bedrock-*=oncall@example.com,budget=finops@example.com,default=oncall@example.com",
}


class DemoError(Exception):
    """A step failed; the message says which and why."""


def say(message: str) -> None:
    print(message, flush=True)


# --------------------------------------------------------------------------------------- the emulator


@contextlib.contextmanager
def emulator() -> Iterator[None]:
    """moto's mock_aws in this process, stopped at the end even on failure; fake credentials only."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "1",
    }.items():
        os.environ[name] = value
    # A profile or a custom endpoint (LocalStack, say) would send requests past moto, to a real service.
    for name in [n for n in os.environ if n == "AWS_PROFILE" or n.startswith("AWS_ENDPOINT_URL")]:
        os.environ.pop(name)
    from botocore import handlers
    from moto import mock_aws

    handlers.BUILTIN_HANDLERS.extend(_HOOKS)
    mock = mock_aws()
    mock.start()
    try:
        yield
    finally:
        mock.stop()
        for hook in _HOOKS:
            handlers.BUILTIN_HANDLERS.remove(hook)


def client(service: str) -> Any:
    import boto3

    return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]


# --------------------------------------------------------------------------------------- the stack


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
class _Created:
    """A resource created outside moto's CloudFormation, as moto's resource map expects it."""

    physical_resource_id: str
    attributes: dict[str, str] = field(default_factory=dict)

    def get_cfn_attribute(self, name: str) -> str:
        if name not in self.attributes:
            raise DemoError(f"attribute {name} of {self.physical_resource_id} is not known to the demo")
        return self.attributes[name]


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
    backend = cloudformation_backends[_account_id()][REGION]
    moto_stack = next(s for s in backend.stacks.values() if s.name == STACK_NAME)
    stack = Stack(template, moto_stack.resource_map, physical)
    say(f"    moto CloudFormation created {len(summaries)} resources of stack {STACK_NAME}")
    for lid in _in_dependency_order({k: resources[k] for k in direct}):
        resource = resources[lid]
        if not stack.condition(resource.get("Condition")):
            continue
        if resource["Type"].startswith("Custom::"):
            continue  # run as CloudFormation would, in its own step
        _create_directly(stack, lid, resource)
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


def _account_id() -> str:
    return str(client("sts").get_caller_identity()["Account"])


def _register(stack: Stack, lid: str, physical_id: str, **attributes: str) -> None:
    stack.resource_map._parsed_resources[lid] = _Created(physical_id, attributes)
    stack.physical_ids[lid] = physical_id


def _create_directly(stack: Stack, lid: str, resource: dict[str, Any]) -> None:
    """Create one piece moto's CloudFormation skips, from its resolved template properties."""
    from moto.cloudformation.parsing import get_model_map, parse_and_create_resource

    kind = resource["Type"]
    if kind in get_model_map():
        # A type moto models that refers to a piece it skips: moto's own model creates it, after that piece.
        created = parse_and_create_resource(
            lid, json.loads(json.dumps(resource)), stack.resource_map, _account_id(), REGION
        )
        if created is None:
            raise DemoError(f"moto could not create {lid} ({kind})")
        stack.resource_map._parsed_resources[lid] = created
        stack.physical_ids[lid] = created.physical_resource_id
        return
    creator = _CREATORS.get(kind)
    if creator is None:
        stack.not_emulated.append(f"{lid} ({kind})")
        _register(stack, lid, lid)  # a Ref to it resolves to its logical ID; a GetAtt fails, naming it
        say(f"    not emulated: {lid} ({kind}) - the demo has no way to create it; a real deploy does")
        return
    props = stack.resolve(resource.get("Properties", {}))
    try:
        note = creator(stack, lid, props)
    except NotImplementedError as exc:
        stack.not_emulated.append(f"{lid} ({kind})")
        _register(stack, lid, lid)
        say(f"    not emulated: {lid} ({kind}) - {exc}")
        return
    stack.created_directly.append(lid)
    say(f"    created directly (moto's CloudFormation skips {kind}): {lid}{note}")


def _bucket_policy(stack: Stack, lid: str, props: dict[str, Any]) -> str:
    # moto 5.2.5 evaluates bucket policies without their conditions, so a TLS-only or "only AWS services
    # write" Deny would refuse every request, Bedrock's and the report's included.
    raise NotImplementedError(
        "moto ignores policy conditions, so its Deny statements would refuse every request; "
        "a real deploy applies it"
    )


def _topic_policy(stack: Stack, lid: str, props: dict[str, Any]) -> str:
    sns = client("sns")
    for topic in props["Topics"]:
        sns.set_topic_attributes(
            TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(props["PolicyDocument"])
        )
    _register(stack, lid, lid)
    return ""


def _queue_policy(stack: Stack, lid: str, props: dict[str, Any]) -> str:
    sqs = client("sqs")
    for queue in props["Queues"]:
        sqs.set_queue_attributes(QueueUrl=queue, Attributes={"Policy": json.dumps(props["PolicyDocument"])})
    _register(stack, lid, lid)
    return ""


def _subscription(stack: Stack, lid: str, props: dict[str, Any]) -> str:
    arn = client("sns").subscribe(
        TopicArn=props["TopicArn"],
        Protocol=props["Protocol"],
        Endpoint=props["Endpoint"],
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    _register(stack, lid, arn)
    return f" ({props['Protocol']} -> {props['Endpoint'].rsplit(':', 1)[-1]})"


_ALARM_KEYS = {
    "AlarmName",
    "AlarmDescription",
    "ActionsEnabled",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Dimensions",
    "Period",
    "Unit",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
    "Metrics",
    "ThresholdMetricId",
    "Tags",
}


def _alarm(stack: Stack, lid: str, props: dict[str, Any]) -> str:
    request = {k: v for k, v in props.items() if k in _ALARM_KEYS}
    name = request.setdefault("AlarmName", f"{STACK_NAME}-{lid}")
    for key in ("Threshold",):
        if key in request:
            request[key] = float(request[key])
    for key in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
        if key in request:
            request[key] = int(request[key])
    for query in request.get("Metrics", []):
        if "Period" in query:
            query["Period"] = int(query["Period"])
        if "MetricStat" in query:
            query["MetricStat"]["Period"] = int(query["MetricStat"]["Period"])
    cloudwatch = client("cloudwatch")
    cloudwatch.put_metric_alarm(**request)
    arn = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["AlarmArn"]
    _register(stack, lid, name, Arn=arn)
    return f" ({name})"


def _composite_alarm(stack: Stack, lid: str, props: dict[str, Any]) -> str:
    # moto 5.2.5 stores composite alarms (DescribeAlarms returns them) but has no PutCompositeAlarm route,
    # so this one goes straight to its backend, with the properties PutCompositeAlarm would take.
    from moto.cloudwatch.models import cloudwatch_backends

    name = props.get("AlarmName", f"{STACK_NAME}-{lid}")
    alarm = cloudwatch_backends[_account_id()][REGION].put_metric_alarm(
        name=name,
        namespace="",
        metric_name="",
        comparison_operator="",
        evaluation_periods=0,
        period=0,
        threshold=0.0,
        statistic="",
        description=props.get("AlarmDescription", ""),
        dimensions=[],
        alarm_actions=props.get("AlarmActions", []),
        ok_actions=props.get("OKActions", []),
        insufficient_data_actions=props.get("InsufficientDataActions", []),
        actions_enabled=props.get("ActionsEnabled", True) not in (False, "false"),
        rule=props["AlarmRule"],
    )
    _register(stack, lid, name, Arn=alarm.alarm_arn)
    return f" ({name}: {props['AlarmRule']})"


def _budget(stack: Stack, lid: str, props: dict[str, Any]) -> str:
    budget = dict(props["Budget"])
    budget.setdefault("BudgetName", f"{STACK_NAME}-{lid}")
    limit = budget.get("BudgetLimit")
    if limit:
        budget["BudgetLimit"] = {"Amount": str(limit["Amount"]), "Unit": limit["Unit"]}
    notifications = []
    for item in props.get("NotificationsWithSubscribers", []):
        notification = dict(item["Notification"])
        notification["Threshold"] = float(notification["Threshold"])
        notifications.append({"Notification": notification, "Subscribers": item["Subscribers"]})
    client("budgets").create_budget(
        AccountId=_account_id(), Budget=budget, NotificationsWithSubscribers=notifications
    )
    _register(stack, lid, budget["BudgetName"])
    return f" ({budget['BudgetName']}, {budget.get('BudgetLimit', {}).get('Amount')} USD)"


def _schedule(stack: Stack, lid: str, props: dict[str, Any]) -> str:
    request = {k: v for k, v in props.items() if k != "State"} | {"State": props.get("State", "ENABLED")}
    request.setdefault("Name", f"{STACK_NAME}-{lid}"[:64])
    target = request["Target"]
    if "RetryPolicy" in target:
        target["RetryPolicy"] = {k: int(v) for k, v in target["RetryPolicy"].items()}
    if "FlexibleTimeWindow" in request and "MaximumWindowInMinutes" in request["FlexibleTimeWindow"]:
        request["FlexibleTimeWindow"]["MaximumWindowInMinutes"] = int(
            request["FlexibleTimeWindow"]["MaximumWindowInMinutes"]
        )
    arn = client("scheduler").create_schedule(**request)["ScheduleArn"]
    _register(stack, lid, request["Name"], Arn=arn)
    return f" ({request['ScheduleExpression']} {request.get('ScheduleExpressionTimezone', 'UTC')})"


def _event_invoke_config(stack: Stack, lid: str, props: dict[str, Any]) -> str:
    request: dict[str, Any] = {
        "FunctionName": props["FunctionName"],
        "Qualifier": props.get("Qualifier", "$LATEST"),
    }
    if "MaximumRetryAttempts" in props:
        request["MaximumRetryAttempts"] = int(props["MaximumRetryAttempts"])
    if "MaximumEventAgeInSeconds" in props:
        request["MaximumEventAgeInSeconds"] = int(props["MaximumEventAgeInSeconds"])
    if "DestinationConfig" in props:
        request["DestinationConfig"] = props["DestinationConfig"]
    client("lambda").put_function_event_invoke_config(**request)
    _register(stack, lid, f"{props['FunctionName']}:{request['Qualifier']}")
    return ""


_CREATORS: dict[str, Callable[[Stack, str, dict[str, Any]], str]] = {
    "AWS::S3::BucketPolicy": _bucket_policy,
    "AWS::SNS::TopicPolicy": _topic_policy,
    "AWS::SQS::QueuePolicy": _queue_policy,
    "AWS::SNS::Subscription": _subscription,
    "AWS::CloudWatch::Alarm": _alarm,
    "AWS::CloudWatch::CompositeAlarm": _composite_alarm,
    "AWS::Budgets::Budget": _budget,
    "AWS::Scheduler::Schedule": _schedule,
    "AWS::Lambda::EventInvokeConfig": _event_invoke_config,
}


# --------------------------------------------------------------------------------------- running functions


@dataclass
class DemoContext:
    """The Lambda context attributes Powertools and crhelper read; the remaining time counts down for real."""

    function_name: str
    timeout_s: int
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{_account_id()}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    log_stream_name: str = "2026/01/01/[$LATEST]demo"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self.started)) * 1000))


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


class Lambda:
    """A function of the stack, run in this process the way the Lambda runtime runs it.

    Its code folder (from the template's CodeUri) and the layer package are importable, its environment is
    the one the emulated function was created with, and its module is imported once (a warm container).
    Its own log output goes to build/demo/lambda.log, not to the demo's progress lines.
    """

    def __init__(self, logical_id: str, stack: Stack, log: TextIO) -> None:
        name = stack.function_name(logical_id)
        if not name:
            raise LookupError(logical_id)
        config = client("lambda").get_function_configuration(FunctionName=name)
        resource = stack.template["Resources"][logical_id]
        self.logical_id = logical_id
        self.name = name
        self.folder = REPO / resource["Properties"]["Code"]["S3Key"]
        self.module_name, _, self.function = config["Handler"].rpartition(".")
        self.timeout = int(config.get("Timeout", 3))
        self.env = {
            **{k: str(v) for k, v in config.get("Environment", {}).get("Variables", {}).items()},
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.get("MemorySize", 128)),
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "_HANDLER": config["Handler"],
        }
        self.log = log
        self.module: Any = None

    @contextlib.contextmanager
    def _runtime(self) -> Iterator[None]:
        # Lambda puts the function's folder first and the layer's python/ folder after it on sys.path.
        paths = [str(self.folder), str(REPO / "layers" / "common")]
        sys.path[:0] = paths
        try:
            with (
                _environment(self.env),
                contextlib.redirect_stdout(self.log),
                contextlib.redirect_stderr(self.log),
            ):
                yield
        finally:
            for path in paths:
                sys.path.remove(path)

    def invoke(self, event: dict[str, Any]) -> Any:
        print(f"\n===== {self.logical_id} ({self.name}) =====", file=self.log, flush=True)
        with self._runtime():
            if self.module is None:
                path = self.folder / f"{self.module_name.replace('.', '/')}.py"
                spec = importlib.util.spec_from_file_location(f"_demo_{self.logical_id}", path)
                if spec is None or spec.loader is None:
                    raise DemoError(f"cannot load {path}")
                module = importlib.util.module_from_spec(spec)
                sys.modules[spec.name] = module
                spec.loader.exec_module(module)
                self.module = module
            handler = getattr(self.module, self.function)
            return handler(event, DemoContext(self.name, self.timeout))


# ------------------------------------------------------------------------------------ CloudFormation's side


# --------------------------------------------------------------------------------------- the steps


@dataclass
class Outcome:
    """What the demo produced, for the summary and the test."""

    out_dir: Path
    logging_config: dict[str, Any] | None = None
    cfn_response: dict[str, Any] | None = None
    traffic: Any = None
    report: dict[str, Any] | None = None  # ReportFunction's result
    report_window: Any = None
    digest_subject: str | None = None
    files: dict[str, Path] = field(default_factory=dict)
    alarm_subject: str | None = None
    stack_outputs: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def _skip(outcome: Outcome, what: str, why: str) -> None:
    outcome.skipped.append(what)
    say(f"    not yet available: {what} ({why}); skipped")


def _function(stack: Stack, logical_id: str, log: TextIO) -> Lambda | None:
    try:
        return Lambda(logical_id, stack, log)
    except LookupError:
        return None


def step_logging_setup(stack: Stack, outcome: Outcome, log: TextIO) -> None:
    """Run LoggingSetupFunction's Create as CloudFormation would, and show the configuration it set."""
    resources = stack.template["Resources"]
    custom = next(
        (lid for lid, r in resources.items() if r["Type"] == "Custom::BedrockInvocationLogging"), None
    )
    function = _function(stack, "LoggingSetupFunction", log)
    event_file = REPO / "events" / "cfn-create.json"
    if custom is None or function is None or not event_file.exists():
        _skip(
            outcome,
            "LoggingSetupFunction",
            "the custom resource, its function or events/cfn-create.json is missing",
        )
        return
    properties = stack.resolve(resources[custom]["Properties"])
    # CloudFormation passes every property as a string.
    properties = {k: v if isinstance(v, str) else json.dumps(v) for k, v in properties.items()}
    stack_id = client("cloudformation").describe_stacks(StackName=STACK_NAME)["Stacks"][0]["StackId"]
    from scripts.response_url import ResponseUrlServer, self_signed_certificate

    with tempfile.TemporaryDirectory() as tmp:
        cert_file, key_file = Path(tmp) / "response-url-cert.pem", Path(tmp) / "response-url-key.pem"
        self_signed_certificate(cert_file, key_file)
        catcher = ResponseUrlServer(cert_file, key_file)
        event = json.loads(event_file.read_text())
        event.update(
            RequestId=str(uuid.uuid4()),
            ResponseURL=catcher.url("/cloudformation-response?X-Amz-Signature=demo"),
            StackId=stack_id,
            LogicalResourceId=custom,
            ServiceToken=properties.get("ServiceToken", ""),
            ResourceProperties=properties,
        )
        function.env["SSL_CERT_FILE"] = str(cert_file)  # trust the stand-in ResponseURL, only here
        try:
            function.invoke(event)
        finally:
            function.env.pop("SSL_CERT_FILE")
            catcher.close()
        if not catcher.received:
            raise DemoError("LoggingSetupFunction sent no response to CloudFormation")
        response = catcher.received[-1].body
    outcome.cfn_response = response
    say(
        f"    CloudFormation received: {response['Status']} for {custom} "
        f"(PhysicalResourceId {response.get('PhysicalResourceId')})"
    )
    if response["Status"] != "SUCCESS":
        raise DemoError(f"the custom resource failed: {response.get('Reason')}")
    config = client("bedrock").get_model_invocation_logging_configuration().get("loggingConfig")
    if not config:
        raise DemoError("LoggingSetupFunction answered SUCCESS but Bedrock logging is off")
    outcome.logging_config = config
    cw, s3 = config.get("cloudWatchConfig", {}), config.get("s3Config", {})
    say(
        f"    Bedrock invocation logging: CloudWatch Logs {cw.get('logGroupName')} (role {cw.get('roleArn')})"
    )
    say(
        f"                                S3 s3://{s3.get('bucketName')}/{s3.get('keyPrefix', '')}"
        f"  text delivery {'on' if config.get('textDataDeliveryEnabled') else 'off'}"
    )


def _destinations(stack: Stack, outcome: Outcome) -> tuple[str, str, str, bool]:
    """(log group, bucket, key prefix, text delivery): from the logging configuration, else the stack."""
    config = outcome.logging_config
    if config:
        cw, s3 = config.get("cloudWatchConfig", {}), config.get("s3Config", {})
        return (
            cw["logGroupName"],
            s3["bucketName"],
            s3.get("keyPrefix", ""),
            bool(config.get("textDataDeliveryEnabled", True)),
        )
    outputs = stack.outputs()
    return outputs["InvocationLogGroupName"], outputs["LogBucketName"], "", True


def _logs_source(bucket: str, prefix: str) -> str:
    """The S3 URI of the folder Bedrock's log files go under (the logging configuration's keyPrefix)."""
    prefix = prefix.strip("/")
    return f"s3://{bucket}/{prefix}/" if prefix else f"s3://{bucket}/"


def step_traffic(
    stack: Stack, outcome: Outcome, *, now: datetime, days: int, per_day: int, seed: int
) -> None:
    """Write Bedrock traffic where Bedrock writes it: metrics, the log group and the bucket."""
    from scripts import traffic as gen

    log_group, bucket, prefix, text = _destinations(stack, outcome)
    traffic = gen.generate(
        now=now, account_id=_account_id(), region=REGION, days=days, per_day=per_day, seed=seed
    )
    outcome.traffic = traffic
    callers, models = {i.caller for i in traffic.invocations}, {i.model.model_id for i in traffic.invocations}
    say(
        f"    {len(traffic.invocations):,} requests over {days} days from {len(callers)} callers to "
        f"{len(models)} model IDs (seed {seed})"
    )
    gen.write_metrics(client("cloudwatch"), traffic)
    gen.write_log_events(client("logs"), traffic, log_group=log_group, text_delivery=text)
    gen.write_log_files(
        client("s3"), traffic, bucket=bucket, key_prefix=prefix, text_delivery=text, seed=seed
    )
    w = traffic.written
    say(
        f"    AWS/Bedrock: {w['metric datapoints']:,} datapoints; {log_group}: {w['log events']:,} events; "
        f"s3://{bucket}/{prefix}: {w['log files']:,} .json.gz objects ({w['log file records']:,} records)"
    )
    say(
        "    CloudWatch takes data at most 14 days old, so the 15th day is in S3 only (Bedrock writes live, "
        "a backfill cannot)"
    )


_SES_REQUESTS: list[dict[str, Any]] = []


def _capture_send_email(params: dict[str, Any], **_: Any) -> None:
    """Keep every SES v2 SendEmail request as the caller passed it.

    moto keeps only the HTML body of a Simple-content message; the text part and the inline images are
    read from the request itself.
    """
    _SES_REQUESTS.append(json.loads(json.dumps(params, default=lambda b: b.decode("latin-1"))))


def _no_widget_image(**_: Any) -> tuple[Any, dict[str, Any]]:
    """moto has no GetMetricWidgetImage (it would raise NotImplementedError inside the caller); answer with
    an error instead, as a failing real call would, so the caller takes its documented no-graph path."""
    from botocore.awsrequest import AWSResponse

    error = {"Code": "NotImplemented", "Message": "the emulator (moto) cannot render metric widget images"}
    response = AWSResponse(f"https://monitoring.{REGION}.amazonaws.com/", 501, {}, None)  # type: ignore[arg-type]
    return response, {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 501}}


_UNFAITHFUL_EXPRESSION = re.compile(r"^\s*SELECT\b|\bSEARCH\s*\(", re.IGNORECASE)


def _mark_unfaithful_query(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    """moto answers Metrics Insights (SELECT ...) and SEARCH expressions with made-up series; mark them."""
    queries = params.get("MetricDataQueries") or []
    if any(_UNFAITHFUL_EXPRESSION.search(str(q.get("Expression", ""))) for q in queries):
        context["demo_unfaithful"] = True


def _refuse_unfaithful_query(context: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]] | None:
    """Fail such a GetMetricData call, as an unavailable API would, instead of returning wrong numbers."""
    if not context.get("demo_unfaithful"):
        return None
    from botocore.awsrequest import AWSResponse

    error = {"Code": "NotImplemented", "Message": "the emulator (moto) cannot run Metrics Insights or SEARCH"}
    response = AWSResponse(f"https://monitoring.{REGION}.amazonaws.com/", 501, {}, None)  # type: ignore[arg-type]
    return response, {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 501}}


# Registered like moto registers its own hook: for every botocore session, from the emulator's start on.
_HOOKS = (
    ("provide-client-params.sesv2.SendEmail", _capture_send_email),
    ("before-call.cloudwatch.GetMetricWidgetImage", _no_widget_image),
    ("before-parameter-build.cloudwatch.GetMetricData", _mark_unfaithful_query),
    ("before-call.cloudwatch.GetMetricData", _refuse_unfaithful_query),
)


@contextlib.contextmanager
def captured_ses_requests() -> Iterator[list[dict[str, Any]]]:
    """The SES v2 SendEmail requests made while active."""
    start = len(_SES_REQUESTS)
    requests: list[dict[str, Any]] = []
    try:
        yield requests
    finally:
        requests.extend(_SES_REQUESTS[start:])


def _sent_messages() -> list[Any]:
    from moto.ses.models import ses_backends

    return list(ses_backends[_account_id()][REGION].sent_messages)


def _write_email(request: dict[str, Any], stored: Any, out: Path, stem: str, outcome: Outcome) -> None:
    """Write <stem>.html (as the emulator stored it), .txt and .eml (the MIME message SES builds)."""
    simple = request["Content"]["Simple"]
    html, text = simple["Body"]["Html"]["Data"], simple["Body"].get("Text", {}).get("Data", "")
    if stored.body != html:
        raise DemoError(f"the emulator stored a different HTML body than {stem} sent")
    message = EmailMessage(policy=email.policy.default)  # LF line ends: a file on disk, not an SMTP session
    message["From"] = request["FromEmailAddress"]
    message["To"] = ", ".join(request["Destination"].get("ToAddresses", []))
    message["Subject"] = simple["Subject"]["Data"]
    message["Date"] = email.utils.format_datetime(datetime.now(UTC))
    message["Message-ID"] = f"<{stored.id}@email.amazonses.com>"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    html_part = message.get_body(preferencelist=("html",))
    if not isinstance(html_part, MIMEPart):
        raise DemoError(f"could not build the MIME message of {stem}")
    for attachment in simple.get("Attachments", []):
        maintype, _, subtype = attachment.get("ContentType", "application/octet-stream").partition("/")
        html_part.add_related(
            attachment["RawContent"].encode("latin-1"),
            maintype,
            subtype,
            cid=f"<{attachment.get('ContentId', attachment['FileName'])}>",
            filename=attachment["FileName"],
        )
    out.mkdir(parents=True, exist_ok=True)
    for suffix, content in ((".html", html), (".txt", text), (".eml", message.as_string())):
        path = out / f"{stem}{suffix}"
        path.write_text(content, encoding="utf-8")
        outcome.files[f"{stem}{suffix}"] = path


def _verify_identities(*addresses: str) -> None:
    sesv2 = client("sesv2")
    for address in addresses:
        sesv2.create_email_identity(EmailIdentity=address)


def step_report(stack: Stack, outcome: Outcome, log: TextIO, now: datetime) -> None:
    """Run ReportFunction with events/24h.json and write the email it sent to build/demo/digest.*."""
    function = _function(stack, "ReportFunction", log)
    event_file = REPO / "events" / "24h.json"
    if function is None or not event_file.exists():
        _skip(outcome, "ReportFunction", "the function or events/24h.json is missing")
        return
    _, bucket, prefix, _ = _destinations(stack, outcome)
    # moto does not aggregate Logs Insights queries (stats ... by) or compute percentiles, so the CloudWatch
    # path would show wrong numbers; the log-file collector reads the same records from the bucket instead.
    function.env["LOGS_SOURCE"] = _logs_source(bucket, prefix)
    say(
        f"    the emulator cannot run Logs Insights aggregations or metric percentiles: the report reads the "
        f"log files (LOGS_SOURCE={function.env['LOGS_SOURCE']}) instead"
    )
    sender, recipients = function.env.get("SENDER_EMAIL", ""), function.env.get("REPORT_RECIPIENTS", "")
    if sender:
        _verify_identities(sender, *[r.strip() for r in recipients.replace(";", ",").split(",") if r.strip()])
    event = json.loads(event_file.read_text())
    if datetime.now(UTC) - now > dt.timedelta(hours=1):
        # Traffic that ends in the past (--now): report the hours that end where it ends.
        event["until"] = now.replace(minute=0, second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
        say(f'    --now is in the past: the event gets "until": "{event["until"]}"')
    before = len(_sent_messages())
    with captured_ses_requests() as requests:
        result = function.invoke(event)
    outcome.report = result
    say(
        f"    ReportFunction: {result.get('invocations', 0):,} invocations, "
        f"${result.get('cost_usd', 0):,.2f} estimated, delivered via {result.get('delivered_via')} "
        f"to {', '.join(result.get('recipients', [])) or '-'}"
    )
    if result.get("data_source_failures"):
        failed = ", ".join(result["data_source_failures"])
        say(f"    data sources that failed (the digest says so too): {failed}")
    sent = _sent_messages()[before:]
    if result.get("delivered_via") != "ses" or not sent or not requests:
        raise DemoError(
            f"ReportFunction did not send the digest through SES: {result.get('fallback_reason')}"
        )
    outcome.digest_subject = requests[-1]["Content"]["Simple"]["Subject"]["Data"]
    _write_email(requests[-1], sent[-1], outcome.out_dir, "digest", outcome)
    say(f"    subject: {outcome.digest_subject}")


def _hourly_input_tokens(start: datetime, end: datetime) -> dict[datetime, float]:
    """SUM(InputTokenCount) over every ModelId per hour: what the alarm's Metrics Insights query computes.

    moto does not run Metrics Insights, so the same sum is taken with ListMetrics + GetMetricData (Sum).
    """
    cloudwatch = client("cloudwatch")
    metrics = [
        m
        for page in cloudwatch.get_paginator("list_metrics").paginate(
            Namespace="AWS/Bedrock", MetricName="InputTokenCount"
        )
        for m in page["Metrics"]
        if [d["Name"] for d in m.get("Dimensions", [])] == ["ModelId"]
    ]
    totals: dict[datetime, float] = {}
    for i in range(0, len(metrics), 500):
        queries = [
            {
                "Id": f"m{n}",
                "MetricStat": {"Metric": metric, "Period": 3600, "Stat": "Sum"},
                "ReturnData": True,
            }
            for n, metric in enumerate(metrics[i : i + 500])
        ]
        for page in cloudwatch.get_paginator("get_metric_data").paginate(
            MetricDataQueries=queries, StartTime=start, EndTime=end
        ):
            for result in page["MetricDataResults"]:
                for stamp, value in zip(result["Timestamps"], result["Values"], strict=True):
                    totals[stamp] = totals.get(stamp, 0.0) + value
    return totals


def _alarm_event(base: dict[str, Any], now: datetime) -> tuple[dict[str, Any], str] | None:
    """The SNS delivery CloudWatch would make for the stack's input-token alarm at its latest breaching hour.

    Built from the emulated alarm's real configuration and the emulated metrics; None when no hour in the
    last day crossed the threshold (then nothing would have fired).
    """
    message = json.loads(base["Records"][0]["Sns"]["Message"])
    found = client("cloudwatch").describe_alarms(AlarmNames=[message["AlarmName"]])["MetricAlarms"]
    if not found:
        return None
    alarm = found[0]
    last_hour = now.replace(minute=0, second=0, microsecond=0)
    hours = _hourly_input_tokens(last_hour - dt.timedelta(hours=24), last_hour)
    if not hours:
        return None
    crossed = sorted((hour, value) for hour, value in hours.items() if value > alarm["Threshold"])
    if not crossed:
        return None
    hour, value = crossed[-1]  # the latest hour over the threshold: the alarm's latest change to ALARM
    changed = hour.astimezone(UTC) + dt.timedelta(hours=1, seconds=41)
    message.update(
        AlarmName=alarm["AlarmName"],
        AlarmDescription=alarm.get("AlarmDescription"),
        AWSAccountId=_account_id(),
        AlarmArn=alarm["AlarmArn"],
        NewStateValue="ALARM",
        OldStateValue="OK",
        NewStateReason=(
            f"Threshold Crossed: 1 out of the last 1 datapoints [{value:.1f} "
            f"({hour.astimezone(UTC):%d/%m/%y %H:%M:%S})] was greater than the threshold "
            f"({alarm['Threshold']:.1f}) (minimum 1 datapoint for OK -> ALARM transition)."
        ),
        StateChangeTime=changed.strftime("%Y-%m-%dT%H:%M:%S.") + f"{changed.microsecond // 1000:03d}+0000",
        OKActions=alarm.get("OKActions", []),
        AlarmActions=alarm.get("AlarmActions", []),
    )
    message["Trigger"].update(
        Threshold=float(alarm["Threshold"]), ComparisonOperator=alarm["ComparisonOperator"]
    )
    if alarm.get("Metrics"):
        message["Trigger"]["Metrics"] = [
            {k: q[k] for k in ("Expression", "Id", "Label", "Period", "ReturnData") if k in q}
            for q in alarm["Metrics"]
        ]
    event = json.loads(json.dumps(base))
    sns = event["Records"][0]["Sns"]
    topic = (alarm.get("AlarmActions") or [sns["TopicArn"]])[0]
    sns.update(
        Message=json.dumps(message),
        Subject=f'ALARM: "{alarm["AlarmName"]}" in US East (N. Virginia)',
        TopicArn=topic,
        Timestamp=changed.strftime("%Y-%m-%dT%H:%M:%S.") + f"{changed.microsecond // 1000:03d}Z",
        MessageId=str(uuid.uuid4()),
    )
    return (
        event,
        f"{alarm['AlarmName']}: {value:,.0f} input tokens in the hour from {hour.astimezone(UTC):%H:%M} UTC",
    )


def step_alarm(stack: Stack, outcome: Outcome, log: TextIO, now: datetime) -> None:
    """Fire one alarm notification through AlarmRouterFunction and write the email to build/demo/alarm.*."""
    function = _function(stack, "AlarmRouterFunction", log)
    event_file = REPO / "events" / "sns-alarm-insights.json"
    if function is None or not event_file.exists():
        _skip(outcome, "AlarmRouterFunction", "the function or events/sns-alarm-insights.json is missing")
        return
    base = json.loads(event_file.read_text())
    built = _alarm_event(base, now)
    if built is None:
        event = base
        say(f"    no hour of this traffic crossed the alarm threshold: sending {event_file.name} as it is")
    else:
        event, what = built
        say(
            "    moto neither evaluates alarms nor delivers SNS to Lambda: the notification CloudWatch would "
            f"send is built from the emulated alarm and metrics ({what})"
        )
    say(
        "    moto has no GetMetricWidgetImage and no Metrics Insights: those calls fail here, so the email "
        "goes without its graph and its per-model breakdown"
    )
    # In the SES sandbox both the sender and the recipients must be verified identities.
    addresses = re.findall(
        r"[^\s=,;]+@[^\s=,;]+", " ".join(function.env.get(k, "") for k in ("SENDER_EMAIL", "ALARM_ROUTING"))
    )
    if function.env.get("SENDER_EMAIL"):
        _verify_identities(*dict.fromkeys(addresses))
    before = len(_sent_messages())
    with captured_ses_requests() as requests:
        result = function.invoke(event)
    sent = _sent_messages()[before:]
    if not sent or not requests:
        raise DemoError(f"AlarmRouterFunction sent no email: {json.dumps(result)[:300]}")
    outcome.alarm_subject = requests[-1]["Content"]["Simple"]["Subject"]["Data"]
    _write_email(requests[-1], sent[-1], outcome.out_dir, "alarm", outcome)
    say(
        f"    AlarmRouterFunction emailed {', '.join(requests[-1]['Destination'].get('ToAddresses', []))}: "
        f"{outcome.alarm_subject}"
    )


def step_summary(stack: Stack, outcome: Outcome, now: datetime) -> None:
    """The same report as JSON (the CLI's contract) and a short summary of what the demo made."""
    from bedrock_usage.model import Window
    from bedrock_usage.pipeline import ReportSettings, run_report
    from bedrock_usage.render import usd

    _, bucket, prefix, _ = _destinations(stack, outcome)
    outcome.stack_outputs = stack.outputs()
    if outcome.report:
        window_dict = outcome.report["window"]
        window = Window(
            datetime.fromisoformat(window_dict["start"]), datetime.fromisoformat(window_dict["end"])
        )
    else:
        window = Window.last_hours(24, now.replace(minute=0))
    outcome.report_window = window
    report = run_report(
        window, ReportSettings(regions=(REGION,), logs_source=_logs_source(bucket, prefix)), now=now
    )
    path = outcome.out_dir / "report.json"
    path.write_text(json.dumps(report.to_dict(), indent=1))
    outcome.files["report.json"] = path
    totals = report.totals
    say(
        f"    window {window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M} UTC: "
        f"{totals.invocations:,} invocations, {totals.total_tokens:,} tokens "
        f"({totals.cache_read_tokens:,} read from the prompt cache), {usd(report.cost_usd)} estimated"
        + (f", {report.unpriced_invocations:,} invocations unpriced" if report.unpriced_invocations else "")
    )
    say(
        f"    errors: {totals.client_errors:,} client, {totals.server_errors:,} server; throttles are in the "
        "InvocationThrottles metric only (throttled requests are not logged)"
    )
    if report.models:
        top = max(report.models, key=lambda m: (m.cost_usd or 0, m.counts.invocations))
        say(f"    top model:  {top.model_id} - {usd(top.cost_usd)}, {top.counts.invocations:,} invocations")
    if report.callers:
        caller = max(report.callers, key=lambda c: (c.cost_usd or 0, c.counts.invocations))
        spent = f"{usd(caller.cost_usd)}, {caller.counts.invocations:,} invocations"
        say(f"    top caller: {caller.caller} - {spent}")


def run(
    out_dir: Path, *, per_day: int = 1000, days: int = 15, seed: int = 7, now: datetime | None = None
) -> Outcome:
    """Every step, in order; raises DemoError (or the failing step's own error) on the first failure."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in (
        "digest.html",
        "digest.txt",
        "digest.eml",
        "alarm.html",
        "alarm.txt",
        "alarm.eml",
        "report.json",
        "summary.json",
    ):
        (out_dir / stale).unlink(missing_ok=True)
    outcome = Outcome(out_dir)
    started = time.monotonic()
    steps = 7

    def step(n: int, text: str) -> None:
        say(f"[{n}/{steps}] {text}  ({time.monotonic() - started:.0f}s)")

    with (out_dir / "lambda.log").open("w", encoding="utf-8") as log:
        step(1, "Starting the AWS emulator (moto, in this process; fake credentials, no network)")
        with emulator():
            step(2, "Creating the stack's resources from template.yaml (transformed offline by SAM)")
            stack = create_stack(DEMO_PARAMETERS)
            step(3, "LoggingSetupFunction: Create, as CloudFormation sends it")
            step_logging_setup(stack, outcome, log)
            step(4, f"Writing {days} days of Bedrock traffic the way Bedrock writes it")
            step_traffic(stack, outcome, now=now, days=days, per_day=per_day, seed=seed)
            step(5, "ReportFunction with events/24h.json")
            step_report(stack, outcome, log, now)
            step(6, "AlarmRouterFunction with one alarm notification")
            step_alarm(stack, outcome, log, now)
            step(7, "Summary")
            step_summary(stack, outcome, now)
    outcome.files["lambda.log"] = out_dir / "lambda.log"
    outcome.files["summary.json"] = _write_summary(outcome, now=now, per_day=per_day, days=days, seed=seed)
    say("")
    say(f"Done in {time.monotonic() - started:.0f}s. Files in {_shown(out_dir)}/:")
    for path in outcome.files.values():
        say(f"    {_shown(path)}")
    if "digest.html" in outcome.files:
        say(
            f"Open the digest in a browser: xdg-open {_shown(outcome.files['digest.html'])} (macOS: open); "
            "the .eml opens in a mail client; `make preview` renders it to a PNG."
        )
    if outcome.skipped:
        say(f"Not yet available, skipped: {', '.join(outcome.skipped)}")
    return outcome


def _write_summary(outcome: Outcome, **inputs: Any) -> Path:
    """What each step produced, machine-readable (the demo's test reads it)."""
    traffic = outcome.traffic
    data = {
        "inputs": {k: v.isoformat() if isinstance(v, datetime) else v for k, v in inputs.items()},
        "skipped": outcome.skipped,
        "stack_outputs": outcome.stack_outputs,
        "logging_config": outcome.logging_config,
        "cloudformation_response": outcome.cfn_response,
        "written": traffic.written if traffic else {},
        "report_function": outcome.report,
        "report_window": outcome.report_window.to_dict() if outcome.report_window else None,
        "digest_subject": outcome.digest_subject,
        "alarm_subject": outcome.alarm_subject,
        "files": {name: str(path) for name, path in outcome.files.items()},
    }
    path = outcome.out_dir / "summary.json"
    path.write_text(json.dumps(data, indent=1, default=str))
    return path


def _shown(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(Path.cwd()))
    return str(path)


def _utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone; add Z or +00:00")
    if moment > datetime.now(UTC):
        raise argparse.ArgumentTypeError(f"{text!r} is in the future; CloudWatch would refuse its traffic")
    return moment.astimezone(UTC)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.demo", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--per-day", type=int, default=1000, help="average Bedrock requests a day (default 1000)"
    )
    parser.add_argument("--days", type=int, default=15, help="days of traffic (default 15)")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the traffic (default 7)")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "demo", help="output folder")
    parser.add_argument(
        "--now", type=_utc, default=None, help="end of the traffic, ISO-8601 UTC (default: now)"
    )
    args = parser.parse_args(argv)
    try:
        run(args.out, per_day=args.per_day, days=args.days, seed=args.seed, now=args.now)
    except Exception as exc:  # noqa: BLE001 - the top of a command: one clear line, the details in the log
        print(f"\ndemo failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        print(f"(function logs: {_shown(args.out / 'lambda.log')}; traceback below)", file=sys.stderr)
        import traceback

        traceback.print_exc()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
