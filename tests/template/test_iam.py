"""Who may do what: the logging role, the bucket policy, the topic policy, and every policy others add."""

from __future__ import annotations

from typing import Any

from tests.template.cfn import SubResolver, as_list, of_type, policy_statements, statement_by_sid

BEDROCK_SOURCE_ARN = "arn:aws:bedrock:us-east-1:123456789012:*"


def resolved(cfn: dict[str, Any], node: Any) -> str:
    return SubResolver(cfn).value(node)


def test_logging_role_trusts_only_bedrock_of_this_account_and_region(cfn, resources):
    """Given the logging role, its trust policy names bedrock.amazonaws.com alone, scoped by
    aws:SourceAccount and aws:SourceArn (confused-deputy protection)."""
    role = resources["BedrockLoggingRole"]["Properties"]
    statements = as_list(role["AssumeRolePolicyDocument"]["Statement"])

    assert len(statements) == 1
    trust = statements[0]
    assert trust["Effect"] == "Allow"
    assert trust["Principal"] == {"Service": "bedrock.amazonaws.com"}
    assert trust["Action"] in ("sts:AssumeRole", ["sts:AssumeRole"])
    assert resolved(cfn, trust["Condition"]["StringEquals"]["aws:SourceAccount"]) == "123456789012"
    assert resolved(cfn, trust["Condition"]["ArnLike"]["aws:SourceArn"]) == BEDROCK_SOURCE_ARN


def test_logging_role_may_only_write_bedrocks_stream_of_the_invocation_log_group(cfn, resources):
    """The role can create and write one stream (aws/bedrock/modelinvocations) of the stack's log group,
    built from the group's name (Bedrock rejects the ':*' ARN form), and nothing else."""
    role = resources["BedrockLoggingRole"]["Properties"]
    statements = [s for p in role["Policies"] for s in as_list(p["PolicyDocument"]["Statement"])]

    assert [s["Effect"] for s in statements] == ["Allow"]
    assert sorted(as_list(statements[0]["Action"])) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert role.get("ManagedPolicyArns") in (None, [])
    assert [resolved(cfn, r) for r in as_list(statements[0]["Resource"])] == [
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/bedrock/modelinvocations"
        ":log-stream:aws/bedrock/modelinvocations"
    ]
    # The name comes from the stack's own log group, so a renamed group moves the grant with it.
    assert "${InvocationLogGroup}" in statements[0]["Resource"]["Fn::Sub"]


def test_no_allow_statement_anywhere_grants_a_wildcard_action(resources):
    """No policy in the template (ours or the functions' that others add) allows '*' or 'service:*',
    and none uses NotAction/NotResource with Allow."""
    offenders = []
    for name, statement in policy_statements(resources):
        if statement.get("Effect") != "Allow":
            continue
        if "NotAction" in statement or "NotResource" in statement:
            offenders.append((name, statement))
        for action in as_list(statement.get("Action", [])):
            if not isinstance(action, str) or action == "*" or action.endswith(":*"):
                offenders.append((name, action))
    assert offenders == []


def test_no_role_gets_a_broad_aws_managed_policy(resources):
    """Functions get inline least-privilege statements; no AdministratorAccess/PowerUser/*FullAccess."""
    broad = [
        (name, arn)
        for name, role in of_type(resources, "AWS::IAM::Role").items()
        for arn in role["Properties"].get("ManagedPolicyArns", [])
        if isinstance(arn, str) and any(w in arn for w in ("AdministratorAccess", "PowerUser", "FullAccess"))
    ]
    assert broad == []


def test_every_role_trust_policy_names_a_service_principal(resources):
    """No role in the stack can be assumed by an account or '*' principal."""
    for name, role in of_type(resources, "AWS::IAM::Role").items():
        for statement in as_list(role["Properties"]["AssumeRolePolicyDocument"]["Statement"]):
            assert set(statement["Principal"]) == {"Service"}, name


def test_bucket_policy_denies_any_request_without_tls_on_bucket_and_objects(resources):
    policy = resources["LogBucketPolicy"]["Properties"]
    deny = statement_by_sid(as_list(policy["PolicyDocument"]["Statement"]), "DenyInsecureTransport")

    assert deny["Effect"] == "Deny"
    assert deny["Principal"] == "*"
    assert deny["Action"] == "s3:*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # The bucket itself (ListBucket, policy calls) and every object in it.
    assert as_list(deny["Resource"]) == [
        {"Fn::GetAtt": ["LogBucket", "Arn"]},
        {"Fn::Sub": "${LogBucket.Arn}/*"},
    ]


def test_bucket_policy_lets_only_bedrock_of_this_account_write_only_under_its_log_prefix(cfn, resources):
    """Bedrock (this account, this Region) may PutObject under AWSLogs/<acct>/BedrockModelInvocationLogs/
    only; no other Allow exists, and a Deny stops users and roles from writing log objects at all."""
    policy = resources["LogBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "LogBucket"}
    statements = as_list(policy["PolicyDocument"]["Statement"])

    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert [s["Sid"] for s in allows] == ["AmazonBedrockLogsWrite"]
    write = allows[0]
    assert write["Principal"] == {"Service": "bedrock.amazonaws.com"}
    assert as_list(write["Action"]) == ["s3:PutObject"]
    # Bedrock writes under <LogKeyPrefix>/AWSLogs/<account>/BedrockModelInvocationLogs/ (default: root).
    condition, with_prefix, at_root = write["Resource"]["Fn::If"]
    assert condition == "HasLogKeyPrefix"
    assert cfn["Conditions"]["HasLogKeyPrefix"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "LogKeyPrefix"}, ""]}]
    }
    assert (
        resolved(cfn, at_root)
        == "arn:aws:s3:us-east-1:123456789012:LogBucket/AWSLogs/123456789012/BedrockModelInvocationLogs/*"
    )
    assert with_prefix == {
        "Fn::Sub": "${LogBucket.Arn}/${LogKeyPrefix}/AWSLogs/${AWS::AccountId}/BedrockModelInvocationLogs/*"
    }
    assert resolved(cfn, write["Condition"]["StringEquals"]["aws:SourceAccount"]) == "123456789012"
    assert resolved(cfn, write["Condition"]["ArnLike"]["aws:SourceArn"]) == BEDROCK_SOURCE_ARN

    deny_users = statement_by_sid(statements, "DenyWritesExceptAwsServices")
    assert deny_users["Effect"] == "Deny"
    assert deny_users["Principal"] == "*"
    assert as_list(deny_users["Action"]) == ["s3:PutObject"]
    assert deny_users["Condition"] == {"Bool": {"aws:PrincipalIsAWSService": "false"}}


def test_alert_topic_accepts_publishes_from_cloudwatch_and_budgets_of_this_account_only(cfn, resources):
    policy = resources["AlertTopicPolicy"]["Properties"]
    assert policy["Topics"] == [{"Ref": "AlertTopic"}]
    statements = as_list(policy["PolicyDocument"]["Statement"])
    allows = {s["Principal"]["Service"]: s for s in statements if s["Effect"] == "Allow"}

    assert set(allows) == {"cloudwatch.amazonaws.com", "budgets.amazonaws.com"}
    for statement in allows.values():
        assert as_list(statement["Action"]) == ["sns:Publish"]
        assert statement["Resource"] == {"Ref": "AlertTopic"}
        assert resolved(cfn, statement["Condition"]["StringEquals"]["aws:SourceAccount"]) == "123456789012"
    cw_arn = resolved(cfn, allows["cloudwatch.amazonaws.com"]["Condition"]["ArnLike"]["aws:SourceArn"])
    assert cw_arn == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:*"
    budgets_arn = resolved(cfn, allows["budgets.amazonaws.com"]["Condition"]["ArnLike"]["aws:SourceArn"])
    assert budgets_arn == "arn:aws:budgets::123456789012:*"


def test_no_resource_policy_allows_an_anonymous_principal(resources):
    """Allow statements never name '*' or {'AWS': '*'}: every grant is to a named service or account."""
    for name, statement in policy_statements(resources):
        if statement.get("Effect") == "Allow":
            principal = statement.get("Principal")
            assert principal != "*", name
            if isinstance(principal, dict):
                assert "*" not in as_list(principal.get("AWS", [])), name
