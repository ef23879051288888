"""Fixtures for the logging custom resource: moto, a TLS stand-in for CloudFormation's ResponseURL,
the handler loaded as Lambda loads it, and a way to make Bedrock answer with an error."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from scripts.response_url import Received, ResponseUrlServer, self_signed_certificate
from tests.conftest import ACCOUNT_ID, REGION, FakeLambdaContext, load_event, load_handler_module

ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/BedrockCloudWatchLoggingRole"
# Test-sized timings for LoggingSetupFunction (its environment variables; template.yaml has the real ones).
TEST_SETTINGS = {
    "DELETE_LOG_FLUSH_SECONDS": "0",
    "PUT_RETRY_INITIAL_SECONDS": "0.05",
    "PUT_RETRY_MAX_SECONDS": "0.2",
    "RESPONSE_RESERVE_SECONDS": "1.5",
    "RESPONSE_GUARD_SECONDS": "1.0",
    "RESPONSE_ATTEMPT_TIMEOUT_SECONDS": "0.3",
    "RESPONSE_BACKOFF_SECONDS": "0.05",
    "SDK_READ_TIMEOUT_SECONDS": "0.5",
    "SDK_MAX_ATTEMPTS": "2",
}
BUCKET = f"bedrock-logs-{ACCOUNT_ID}"
LOG_GROUP = "/aws/bedrock/modelinvocations"
REQUIRED_PROPERTIES = {"LogGroupName": LOG_GROUP, "RoleArn": ROLE_ARN, "BucketName": BUCKET}

# Another team's setup, already in the account before the stack is deployed.
FOREIGN_CONFIG: dict[str, Any] = {
    "cloudWatchConfig": {
        "logGroupName": "/team-a/bedrock",
        "roleArn": f"arn:aws:iam::{ACCOUNT_ID}:role/TeamABedrockLogging",
    },
    "s3Config": {"bucketName": "team-a-bedrock-logs", "keyPrefix": "invocations/"},
    "textDataDeliveryEnabled": False,
    "imageDataDeliveryEnabled": False,
    "embeddingDataDeliveryEnabled": True,
}


@pytest.fixture(scope="session")
def tls_certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for 127.0.0.1 (cert file, key file)."""
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    self_signed_certificate(cert_file, key_file)
    return cert_file, key_file


class CloudFormationEndpoint(ResponseUrlServer):
    """The stand-in for the pre-signed ResponseURL, with one URL per request."""

    def url_for(self, request_id: str) -> str:
        return self.url(f"/cfn-response/{request_id}?X-Amz-Signature=test")


@pytest.fixture
def cfn_endpoint(
    tls_certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> Iterator[CloudFormationEndpoint]:
    cert_file, key_file = tls_certificate
    # The responder builds ssl.create_default_context(), which loads the CA file named by SSL_CERT_FILE.
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    endpoint = CloudFormationEndpoint(cert_file, key_file)
    yield endpoint
    endpoint.close()


@pytest.fixture
def aws() -> Iterator[None]:
    """moto for every client, including those the handler creates from boto3's default session."""
    with mock_aws():
        boto3.setup_default_session(region_name=REGION)
        yield
        boto3.DEFAULT_SESSION = None


@pytest.fixture
def bedrock(aws: None) -> Any:
    return boto3.client("bedrock", region_name=REGION)


@pytest.fixture
def ssm(aws: None) -> Any:
    return boto3.client("ssm", region_name=REGION)


ErrorInjector = Callable[..., dict[str, int]]


@pytest.fixture
def bedrock_error(aws: None) -> ErrorInjector:
    """Make a Bedrock operation answer with an AWS error, for clients created after this call.

    moto always accepts Put and never denies access, so the errors Bedrock really sends (ValidationException
    while IAM propagates; AccessDeniedException) are injected with a botocore `before-call` hook on boto3's
    default session: the request is still validated against the service model, and the handler code
    runs unchanged. `times=None` fails every call. Returns a counter of injected failures.
    """

    def inject(operation: str, code: str, message: str, times: int | None = None) -> dict[str, int]:
        counter = {"failures": 0}

        def hook(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
            if times is not None and counter["failures"] >= times:
                return None
            counter["failures"] += 1
            status = 403 if code == "AccessDeniedException" else 400
            http = AWSResponse(f"https://bedrock.{REGION}.amazonaws.com", status, {}, None)
            return http, {
                "Error": {"Code": code, "Message": message},
                "ResponseMetadata": {"HTTPStatusCode": status},
            }

        assert boto3.DEFAULT_SESSION is not None
        boto3.DEFAULT_SESSION.events.register(f"before-call.bedrock.{operation}", hook)
        return counter

    return inject


@pytest.fixture
def handler(aws: None, cfn_endpoint: CloudFormationEndpoint, monkeypatch: pytest.MonkeyPatch) -> Any:
    """functions/logging_setup/app.py, imported inside moto, with test-sized timings."""
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "INFO")
    for name, value in TEST_SETTINGS.items():
        monkeypatch.setenv(name, value)
    return load_handler_module("logging_setup")


class CountdownContext(FakeLambdaContext):
    """A Lambda context whose remaining time runs down with the wall clock, as Lambda's does."""

    def __init__(self, remaining_ms: int) -> None:
        super().__init__(remaining_ms=remaining_ms)
        self._started = time.monotonic()

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms - int((time.monotonic() - self._started) * 1000)


@dataclass
class Invoker:
    handler: Any
    endpoint: CloudFormationEndpoint

    def __call__(self, name: str, remaining_ms: int = 30_000, **changes: Any) -> Received:
        """Run the handler on events/<name> (with top-level and property changes); return what CFN got."""
        event = load_event(name)
        properties = changes.pop("properties", None)
        event.update(changes)
        if properties is not None:
            event["ResourceProperties"] = {**event["ResourceProperties"], **properties}
            event["ResourceProperties"] = {
                k: v for k, v in event["ResourceProperties"].items() if v is not None
            }
        event["ResponseURL"] = self.endpoint.url_for(event["RequestId"])
        before = len(self.endpoint.received)
        self.handler.lambda_handler(event, CountdownContext(remaining_ms))
        new = self.endpoint.received[before:]
        assert len(new) == 1, f"CloudFormation must get exactly one response, got {len(new)}"
        return new[0]


@pytest.fixture
def invoke(handler: Any, cfn_endpoint: CloudFormationEndpoint) -> Invoker:
    return Invoker(handler, cfn_endpoint)
