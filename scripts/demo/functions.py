"""The stack's functions, run in this process the way the Lambda runtime runs them."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from scripts.demo.common import REGION, REPO, DemoError
from scripts.demo.emulator import account_id, client
from scripts.demo.stack import Stack


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
        return f"arn:aws:lambda:{REGION}:{account_id()}:function:{self.function_name}"

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


def stack_function(stack: Stack, logical_id: str, log: TextIO) -> Lambda | None:
    """The stack's function `logical_id`, ready to invoke; None when the template has no such function."""
    try:
        return Lambda(logical_id, stack, log)
    except LookupError:
        return None
