"""The first deploy: nobody is left without email, the key questions come first, prompts stay private."""

from __future__ import annotations

from typing import Any

import pytest

from scripts.demo.common import DEMO_PARAMETERS
from scripts.resolve_template import Resolver, parameter_values

FIRST_QUESTIONS = ["AlertEmail", "SenderEmail", "ReportRecipients", "BudgetAmount", "TextDataDelivery"]
# The functions CloudFormation allows in Rules (RuleCondition and Assert), besides Ref to a parameter.
RULE_FUNCTIONS = {
    "Fn::And",
    "Fn::Or",
    "Fn::Not",
    "Fn::Equals",
    "Fn::Contains",
    "Fn::EachMemberEquals",
    "Fn::EachMemberIn",
    "Fn::RefAll",
    "Fn::ValueOf",
    "Fn::ValueOfAll",
}


def refused_with(cfn: dict[str, Any], **values: str) -> list[str]:
    """The AssertDescriptions CloudFormation would answer for these parameter values (none: accepted)."""
    return Resolver(cfn, parameter_values(cfn, values)).broken_rules()


def test_a_deploy_with_every_default_is_refused_and_told_which_parameters_to_set(cfn):
    """Given `sam deploy --guided` answered with Enter everywhere, CloudFormation refuses before creating
    anything, and the message names the parameters that would make someone receive the digest and alarms."""
    messages = refused_with(cfn)
    assert messages
    text = " ".join(messages)
    for parameter in ("AlertEmail", "SenderEmail", "ReportRecipients", "AlarmRouting"):
        assert parameter in text


@pytest.mark.parametrize(
    ("values", "who_is_missing"),
    [
        # A From address is no recipient: the digest would go to a topic nobody reads, alarms nowhere.
        ({"SenderEmail": "digest@example.com"}, "digest"),
        # The HTML digest would go out, but alarms and budget alerts would reach no one.
        ({"SenderEmail": "digest@example.com", "ReportRecipients": "finops@example.com"}, "alarms"),
        # Recipients without a sender: the digest falls back to the topic, the recipients get nothing.
        (
            {"AlertEmail": "ops@example.com", "ReportRecipients": "finops@example.com"},
            "ReportRecipients is set",
        ),
        ({"AlertEmail": "ops@example.com", "AlarmRouting": "default=ops@example.com"}, "AlarmRouting is set"),
    ],
)
def test_a_deploy_that_names_an_address_nobody_would_receive_mail_at_is_refused(cfn, values, who_is_missing):
    messages = refused_with(cfn, **values)
    assert any(who_is_missing in message for message in messages), messages


@pytest.mark.parametrize(
    "values",
    [
        {"AlertEmail": "ops@example.com"},
        {
            "AlertEmail": "ops@example.com",
            "SenderEmail": "d@example.com",
            "ReportRecipients": "f@example.com",
        },
        {
            "SenderEmail": "digest@example.com",
            "ReportRecipients": "finops@example.com",
            "AlarmRouting": "default=ops@example.com",
        },
    ],
)
def test_a_deploy_in_which_someone_receives_the_digest_and_the_alarms_is_accepted(cfn, values):
    assert refused_with(cfn, **values) == []


def test_the_demo_deploys_with_values_the_rules_accept(cfn):
    """The demo's moto CloudFormation does not run Rules; its parameters must pass them anyway."""
    assert refused_with(cfn, **DEMO_PARAMETERS) == []


def test_rules_use_only_rule_functions_on_declared_parameters(cfn):
    declared = set(cfn["Parameters"])

    def check(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                check(item)
        elif isinstance(node, dict):
            ((fn, args),) = node.items()
            if fn == "Ref":
                assert args in declared
            else:
                assert fn in RULE_FUNCTIONS, fn
                check(args)

    assert cfn["Rules"]
    for rule in cfn["Rules"].values():
        if "RuleCondition" in rule:
            check(rule["RuleCondition"])
        for assertion in rule["Assertions"]:
            check(assertion["Assert"])
            assert assertion["AssertDescription"]


def test_guided_deploy_asks_the_questions_a_new_user_must_answer_first(sam_template):
    """`sam deploy --guided` prompts in template order: the recipients, the budget and prompt logging
    come before the 25 parameters whose defaults suit most accounts."""
    assert list(sam_template["Parameters"])[: len(FIRST_QUESTIONS)] == FIRST_QUESTIONS


@pytest.mark.parametrize("name", FIRST_QUESTIONS)
def test_each_first_question_says_what_happens_when_left_at_its_default(sam_template, name):
    description = sam_template["Parameters"][name]["Description"]
    said = {"AlertEmail": "Empty =", "SenderEmail": "Empty =", "ReportRecipients": "Empty =",
            "BudgetAmount": "0 = no budget", "TextDataDelivery": '"false" (default)'}[name]  # fmt: skip
    assert said in description


def test_the_console_groups_start_with_the_same_questions_and_name_each_parameter_once(sam_template):
    groups = sam_template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    listed = [name for group in groups for name in group["Parameters"]]
    assert listed[: len(FIRST_QUESTIONS)] == FIRST_QUESTIONS
    assert len(listed) == len(set(listed))
    assert set(listed) <= set(sam_template["Parameters"])
    labels = sam_template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterLabels"]
    assert set(labels) <= set(sam_template["Parameters"])


def test_prompts_and_responses_are_not_logged_unless_asked_for(cfn, resources):
    """Invocation records keep identity, model, token counts and errorCode with every data-delivery flag off
    (a record measured on 2026-09-08 in ap-northeast-1, README "Parameters"); the monitor needs nothing more,
    so the text of prompts and responses is not logged by default."""
    assert cfn["Parameters"]["TextDataDelivery"]["Default"] == "false"
    for flag in ("ImageDataDelivery", "EmbeddingDataDelivery", "VideoDataDelivery", "AudioDataDelivery"):
        assert cfn["Parameters"][flag]["Default"] == "false"
    custom = resources["BedrockInvocationLogging"]["Properties"]
    assert custom["TextDataDelivery"] == {"Ref": "TextDataDelivery"}
    description = cfn["Parameters"]["TextDataDelivery"]["Description"]
    # What is logged, for how long, who can read it, what it costs.
    for fact in ("RetentionDays", "LifecycleDays", "logs:GetLogEvents", "s3:GetObject", "per GB"):
        assert fact in description
