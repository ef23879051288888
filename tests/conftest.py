"""Shared fixtures. Every test runs offline: fake credentials, a fixed region, no real endpoint."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
EVENTS_DIR = REPO_ROOT / "events"

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account


@pytest.fixture(autouse=True)
def offline_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and region, whatever the developer's shell has; no profile or config files."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "SAM_CLI_TELEMETRY": "0",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_METRICS_NAMESPACE": "BedrockUsageMonitorTest",
        # No AWS Price List look-ups unless a test hands in its own (stubbed) client.
        "BEDROCK_USAGE_PRICE_CACHE": "off",
        "PRICE_CACHE": "off",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def load_event(name: str) -> dict[str, Any]:
    """A sample event from events/, the same files `sam local invoke -e` takes."""
    return json.loads((EVENTS_DIR / name).read_text())


@dataclass
class FakeLambdaContext:
    """The attributes Powertools and crhelper read from the Lambda context."""

    function_name: str = "test-function"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:test-function"
    aws_request_id: str = "52fdfc07-2182-154f-163f-5f0f9a621d72"
    log_group_name: str = "/aws/lambda/test-function"
    log_stream_name: str = "2026/11/28/[$LATEST]abcdef"
    remaining_ms: int = 120_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture
def tokyo_local_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's clock in Tokyo (UTC+9), as a CLI user's there: no figure may depend on local time."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


FUNCTIONS_DIR = REPO_ROOT / "functions"


def load_handler_module(function: str, module: str = "app") -> Any:
    """Import functions/<function>/<module>.py the way Lambda does, under a unique module name.

    Every function folder has its own app.py, so a plain `import app` would collide between them.
    """
    import importlib.util
    import sys

    path = FUNCTIONS_DIR / function / f"{module}.py"
    name = f"_lambda_{function}_{module}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None, f"cannot load {path}"
    assert spec.loader is not None, f"cannot load {path}"
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[name] = loaded
    spec.loader.exec_module(loaded)
    return loaded
