"""The invocation logs: where they live, how long, encrypted, private, and never destroyed by accident."""

from __future__ import annotations

from typing import Any

import pytest

from tests.template.cfn import of_type

# The values CloudWatch Logs accepts for RetentionInDays (PutRetentionPolicy API reference).
CLOUDWATCH_RETENTION_DAYS = [
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
]


# The bucket policy stays with the bucket: a kept bucket without it would accept writes from any principal
# an identity policy allows, and plain-HTTP requests.
@pytest.mark.parametrize("name", ["LogBucket", "LogBucketPolicy", "InvocationLogGroup"])
def test_log_data_survives_stack_delete_and_resource_replacement(resources, name):
    resource = resources[name]
    assert resource["DeletionPolicy"] == "Retain"
    assert resource["UpdateReplacePolicy"] == "Retain"


def test_every_log_group_in_the_stack_has_a_retention(resources):
    """Including the functions' log groups that other parts add: nothing is kept forever by default."""
    groups = of_type(resources, "AWS::Logs::LogGroup")
    assert "InvocationLogGroup" in groups
    for name, group in groups.items():
        assert "RetentionInDays" in group["Properties"], name


def test_invocation_log_group_uses_the_parameters_and_only_allowed_retention_values(cfn, resources):
    props = resources["InvocationLogGroup"]["Properties"]
    assert props["LogGroupName"] == {"Ref": "LogGroupName"}
    assert props["RetentionInDays"] == {"Ref": "RetentionDays"}
    retention = cfn["Parameters"]["RetentionDays"]
    assert [int(v) for v in retention["AllowedValues"]] == CLOUDWATCH_RETENTION_DAYS
    assert int(retention["Default"]) == 30


def test_invocation_log_group_masks_pii_only_when_asked(resources):
    """MaskPiiInLogs=true attaches an audit + de-identify policy over the same identifiers; false: none."""
    policy = resources["InvocationLogGroup"]["Properties"]["DataProtectionPolicy"]
    condition, when_true, when_false = policy["Fn::If"]
    assert condition == "MaskPii"
    assert when_false == {"Ref": "AWS::NoValue"}
    audit, deidentify = when_true["Statement"]
    assert "Audit" in audit["Operation"]
    assert deidentify["Operation"] == {"Deidentify": {"MaskConfig": {}}}
    # CloudWatch Logs requires the de-identify identifiers to match the audit ones exactly.
    assert audit["DataIdentifier"] == deidentify["DataIdentifier"]
    identifiers = [d["Fn::Sub"] for d in audit["DataIdentifier"]]
    assert "arn:${AWS::Partition}:dataprotection::aws:data-identifier/EmailAddress" in identifiers


def test_log_bucket_is_private_versioned_encrypted_and_expires_every_version(resources):
    props = resources["LogBucket"]["Properties"]
    assert props["BucketName"] == {"Fn::Sub": "${BucketPrefix}-${AWS::AccountId}"}
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}

    rules = props["LifecycleConfiguration"]["Rules"]
    assert all(rule["Status"] == "Enabled" for rule in rules)
    expiring = [r for r in rules if "ExpirationInDays" in r]
    assert len(expiring) == 1
    # Versioning would otherwise keep every "expired" object forever as a noncurrent version.
    assert expiring[0]["ExpirationInDays"] == {"Ref": "LifecycleDays"}
    assert expiring[0]["NoncurrentVersionExpiration"] == {"NoncurrentDays": {"Ref": "LifecycleDays"}}


def test_log_bucket_encryption_is_aes256_by_default_and_the_kms_key_when_given(resources):
    (rule,) = resources["LogBucket"]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    condition, with_key, without_key = rule["ServerSideEncryptionByDefault"]["Fn::If"]
    assert condition == "HasKmsKey"
    assert without_key == {"SSEAlgorithm": "AES256"}
    assert with_key == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Ref": "KmsKeyArn"}}


def test_kms_key_parameter_is_optional_everywhere_it_is_used(cfn: dict[str, Any], resources):
    """An empty KmsKeyArn must not reach any resource: each use sits behind the HasKmsKey condition."""
    assert cfn["Parameters"]["KmsKeyArn"]["Default"] == ""
    assert cfn["Conditions"]["HasKmsKey"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "KmsKeyArn"}, ""]}]}

    def unguarded_uses(node: Any) -> int:
        if isinstance(node, dict):
            if node.get("Fn::If", [None])[0] == "HasKmsKey":
                return 0
            if node == {"Ref": "KmsKeyArn"}:
                return 1
            return sum(unguarded_uses(v) for v in node.values())
        if isinstance(node, list):
            return sum(unguarded_uses(v) for v in node)
        return 0

    # A whole resource may be the guard too (Condition: HasKmsKey).
    assert unguarded_uses({k: r for k, r in resources.items() if r.get("Condition") != "HasKmsKey"}) == 0
    topic = resources["AlertTopic"]["Properties"]
    assert topic["KmsMasterKeyId"]["Fn::If"][0] == "HasKmsKey"
    assert resources["InvocationLogGroup"]["Properties"]["KmsKeyId"]["Fn::If"][0] == "HasKmsKey"
