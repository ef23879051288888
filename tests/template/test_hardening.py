"""Least privilege where SAM defaults are wide: the schedule role, function logs, queues and keys."""

from __future__ import annotations

import fnmatch
from typing import Any

import pytest

from scripts.resolve_template import resolve_template
from tests.template.cfn import ACCOUNT_ID, REGION, SubResolver, as_list, of_type

# What SAM attaches to every role it generates (AWS managed policy AWSLambdaBasicExecutionRole, v1).
BASIC_EXECUTION_ROLE = {
    "Effect": "Allow",
    "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
    "Resource": "*",
}
BASIC_EXECUTION_ARN = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/00000000-0000-0000-0000-000000000000"


class Arns:
    """ARNs of the template's log groups and queues as CloudFormation would return them."""

    def __init__(self, cfn: dict[str, Any]) -> None:
        self.resources = cfn["Resources"]
        self.sub = SubResolver(cfn)

    def group_name(self, logical_id: str) -> str:
        name = self.resources[logical_id]["Properties"].get("LogGroupName")
        return self.sub.value(name) if name else f"{logical_id}-generated"

    def value(self, node: Any) -> str:
        if isinstance(node, dict) and "Fn::GetAtt" in node:
            target, attribute = node["Fn::GetAtt"]
            if self.resources[target]["Type"] == "AWS::Logs::LogGroup" and attribute == "Arn":
                # Fn::GetAtt LogGroup.Arn ends in ":*" (AWS::Logs::LogGroup return values).
                return f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{self.group_name(target)}:*"
        if isinstance(node, dict) and "Fn::Sub" in node:
            text = node["Fn::Sub"]
            for lid, res in self.resources.items():
                if res["Type"] == "AWS::Logs::LogGroup":
                    text = text.replace("${" + lid + "}", self.group_name(lid))
            return self.sub.sub(text)
        return self.sub.value(node)

    def stream(self, group_logical_id: str) -> str:
        return (
            f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{self.group_name(group_logical_id)}"
            ":log-stream:2026/12/01/[$LATEST]0123456789abcdef"
        )


def role_statements(resources: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """Every statement that applies to a role: managed, inline, and AWS::IAM::Policy resources naming it."""
    props = resources[role]["Properties"]
    statements = [BASIC_EXECUTION_ROLE] if BASIC_EXECUTION_ARN in props.get("ManagedPolicyArns", []) else []
    documents = [p["PolicyDocument"] for p in props.get("Policies", [])]
    documents += [
        p["Properties"]["PolicyDocument"]
        for p in of_type(resources, "AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
    ]
    for document in documents:
        for item in as_list(document["Statement"]):
            statements += [s for s in as_list(item) if s != {"Ref": "AWS::NoValue"}]
    return statements


def allowed(arns: Arns, statements: list[dict[str, Any]], action: str, resource: str) -> bool:
    """IAM evaluation for one action on one resource: some Allow matches and no Deny does."""

    def matches(statement: dict[str, Any]) -> bool:
        if not any(fnmatch.fnmatchcase(action, a) for a in as_list(statement["Action"])):
            return False
        if "NotResource" in statement:
            return not any(
                fnmatch.fnmatchcase(resource, arns.value(r)) for r in as_list(statement["NotResource"])
            )
        return any(fnmatch.fnmatchcase(resource, arns.value(r)) for r in as_list(statement["Resource"]))

    relevant = [s for s in statements if matches(s)]
    return any(s["Effect"] == "Allow" for s in relevant) and not any(s["Effect"] == "Deny" for s in relevant)


FUNCTIONS = ["LoggingSetupFunction", "ReportFunction", "AlarmRouterFunction"]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_function_writes_its_own_log_group_and_no_other(cfn, resources, function):
    """Given SAM's AWSLambdaBasicExecutionRole (logs writes on '*'), a function still may write only its own
    log group: not the invocation logs the digest counts, not another function's log, and it creates none."""
    arns = Arns(cfn)
    props = resources[function]["Properties"]
    role = props["Role"]["Fn::GetAtt"][0]
    own = props["LoggingConfig"]["LogGroup"]["Ref"]
    statements = role_statements(resources, role)

    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        assert allowed(arns, statements, action, arns.stream(own)), (function, action)
        others = [g for g in of_type(resources, "AWS::Logs::LogGroup") if g != own]
        assert "InvocationLogGroup" in others
        for other in others:
            assert not allowed(arns, statements, action, arns.stream(other)), (function, action, other)
    assert not allowed(
        arns, statements, "logs:CreateLogGroup", f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:x"
    )


def test_the_digest_schedule_role_trusts_only_scheduler_for_this_accounts_schedule_group(cfn, resources):
    """The role EventBridge Scheduler assumes carries aws:SourceAccount and aws:SourceArn (the schedule
    group, which is what Scheduler sends), and may only start the digest and dead-letter a failed start."""
    (schedule,) = of_type(resources, "AWS::Scheduler::Schedule").values()
    props = schedule["Properties"]
    group = props.get("GroupName", "default")
    role = props["Target"]["RoleArn"]["Fn::GetAtt"][0]
    trust = as_list(resources[role]["Properties"]["AssumeRolePolicyDocument"]["Statement"])

    assert len(trust) == 1
    assert trust[0]["Principal"] == {"Service": "scheduler.amazonaws.com"}
    conditions = trust[0]["Condition"]["StringEquals"]
    sub = SubResolver(cfn)
    assert sub.value(conditions["aws:SourceAccount"]) == ACCOUNT_ID
    assert (
        sub.value(conditions["aws:SourceArn"])
        == f"arn:aws:scheduler:{REGION}:{ACCOUNT_ID}:schedule-group/{group}"
    )

    granted = {
        (action, str(statement["Resource"]))
        for statement in role_statements(resources, role)
        for action in as_list(statement["Action"])
    }
    assert granted == {
        ("lambda:InvokeFunction", str({"Fn::GetAtt": ["ReportFunction", "Arn"]})),
        ("sqs:SendMessage", str(props["Target"]["DeadLetterConfig"]["Arn"])),
        (
            "kms:GenerateDataKey",
            str({"Ref": "KmsKeyArn"}),
        ),  # only with KmsKeyArn: the queue is then encrypted
        ("kms:Decrypt", str({"Ref": "KmsKeyArn"})),
    }


def test_every_queue_refuses_requests_without_tls(resources):
    """Both dead-letter queues hold whole events (alarm notifications, digest runs)."""
    queues = of_type(resources, "AWS::SQS::Queue")
    assert set(queues) >= {"ReportDeadLetterQueue", "AlarmRouterDeadLetterQueue"}
    protected = set()
    for policy in of_type(resources, "AWS::SQS::QueuePolicy").values():
        for statement in as_list(policy["Properties"]["PolicyDocument"]["Statement"]):
            if statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}:
                assert statement["Effect"] == "Deny"
                assert statement["Principal"] == "*"
                assert statement["Action"] == "sqs:*"
                protected.add(statement["Resource"]["Fn::GetAtt"][0])
    assert protected == set(queues)


# Where each kind of data store takes its KMS key.
KEY_PROPERTY = {
    "AWS::Logs::LogGroup": ("KmsKeyId",),
    "AWS::SQS::Queue": ("KmsMasterKeyId",),
    "AWS::SNS::Topic": ("KmsMasterKeyId",),
    "AWS::DynamoDB::Table": ("SSESpecification", "KMSMasterKeyId"),
    "AWS::S3::Bucket": (
        "BucketEncryption",
        "ServerSideEncryptionConfiguration",
        0,
        "ServerSideEncryptionByDefault",
        "KMSMasterKeyID",
    ),
}


def test_with_a_kms_key_every_data_store_is_encrypted_with_it(cfn):
    """KmsKeyArn reaches every place data rests: log groups, queues, the topic, the table and the bucket."""
    deployed = resolve_template(
        cfn, {"KmsKeyArn": KEY, "AlertEmail": "ops@example.com", "SenderEmail": "d@example.com"}
    )["Resources"]
    stores = {lid: r for lid, r in deployed.items() if r["Type"] in KEY_PROPERTY}
    assert len(stores) >= 9
    for lid, resource in stores.items():
        node: Any = resource["Properties"]
        for step in KEY_PROPERTY[resource["Type"]]:
            node = node[step]
        assert node == KEY, lid
    table = deployed["ReportIdempotencyTable"]["Properties"]["SSESpecification"]
    assert table == {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": KEY}


def test_with_a_kms_key_the_report_may_use_it_only_through_dynamodb_for_its_table(cfn):
    deployed = resolve_template(cfn, {"KmsKeyArn": KEY, "AlertEmail": "ops@example.com"})["Resources"]
    (use,) = [
        s for s in role_statements(deployed, "ReportFunctionRole") if s.get("Sid") == "UseKeyThroughDynamoDB"
    ]
    assert use["Resource"] == KEY
    assert use["Condition"] == {
        "StringEquals": {"kms:ViaService": {"Fn::Sub": "dynamodb.${AWS::Region}.amazonaws.com"}}
    }
    without_key = resolve_template(cfn, {"AlertEmail": "ops@example.com"})["Resources"]
    assert not [
        s for s in role_statements(without_key, "ReportFunctionRole") if "kms" in str(s.get("Action"))
    ]
