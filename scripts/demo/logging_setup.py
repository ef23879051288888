"""Step: LoggingSetupFunction's Create, as CloudFormation sends it; where Bedrock's logs then go."""

from __future__ import annotations

import json
import tempfile
import uuid
from pathlib import Path

from scripts.demo.common import REPO, STACK_NAME, Demo, DemoError, Outcome, say, skip
from scripts.demo.emulator import client
from scripts.demo.functions import stack_function
from scripts.demo.stack import Stack


def step(demo: Demo) -> None:
    """Run LoggingSetupFunction's Create as CloudFormation would, and show the configuration it set."""
    stack, outcome, log = demo.stack, demo.outcome, demo.log
    resources = stack.template["Resources"]
    custom = next(
        (lid for lid, r in resources.items() if r["Type"] == "Custom::BedrockInvocationLogging"), None
    )
    function = stack_function(stack, "LoggingSetupFunction", log)
    event_file = REPO / "events" / "cfn-create.json"
    if custom is None or function is None or not event_file.exists():
        skip(
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


def destinations(stack: Stack, outcome: Outcome) -> tuple[str, str, str, bool]:
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


def logs_source(bucket: str, prefix: str) -> str:
    """The S3 URI of the folder Bedrock's log files go under (the logging configuration's keyPrefix)."""
    prefix = prefix.strip("/")
    return f"s3://{bucket}/{prefix}/" if prefix else f"s3://{bucket}/"
