"""`sam build` works offline, and every built function imports the way Lambda would load it.

Lambda puts the function code first on sys.path, then the layer's python/ folder, then the runtime's
own boto3. The import runs in a fresh python3.13 without this venv's site-packages (-I -S), so a
dependency that only the dev venv has fails here instead of in the first real invocation.
(The folder is not called tests/build: pytest, ruff and .gitignore all skip folders named "build".)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from samtranslator.yaml_helper import yaml_parse

from scripts.transform_template import transform_file
from tests.template.cfn import SubResolver

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = REPO_ROOT / "template.yaml"
VENV_BIN = Path(sys.executable).parent
# What the Lambda python3.13 runtime provides besides the standard library.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")


def _functions() -> dict[str, dict[str, Any]]:
    resources = yaml_parse(TEMPLATE.read_text())["Resources"]
    return {name: res for name, res in resources.items() if res["Type"] == "AWS::Serverless::Function"}


def _layers() -> list[str]:
    resources = yaml_parse(TEMPLATE.read_text())["Resources"]
    return [name for name, res in resources.items() if res["Type"] == "AWS::Serverless::LayerVersion"]


def _offline_env() -> dict[str, str]:
    return {
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # sam build looks for python3.13
        "HOME": os.environ.get("HOME", "/tmp"),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "SAM_CLI_TELEMETRY": "0",
    }


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sam") / "build"
    cache = out.parent / "cache"
    result = subprocess.run(
        [
            str(VENV_BIN / "sam"),
            "build",
            "--template-file",
            str(TEMPLATE),
            "--build-dir",
            str(out),
            "--cache-dir",
            str(cache),
        ],
        cwd=REPO_ROOT,
        env=_offline_env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, f"sam build failed:\n{result.stdout}\n{result.stderr}"
    return out


@pytest.fixture(scope="module")
def runtime_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stand-in for the runtime's bundled SDK: links to this venv's boto3 and its dependencies."""
    site = Path(boto3.__file__).resolve().parent.parent
    out = tmp_path_factory.mktemp("lambda-runtime")
    for name in RUNTIME_PACKAGES:
        (out / name).symlink_to(site / name)
    return out


def test_every_function_and_layer_is_built(build_dir):
    built = yaml_parse((build_dir / "template.yaml").read_text())["Resources"]
    for name in [*_functions(), *_layers()]:
        assert (build_dir / name).is_dir(), f"{name} was not built"
        assert name in built
    for name, function in _functions().items():
        handler = function["Properties"].get("Handler", "app.handler")
        module = handler.rsplit(".", 1)[0].replace(".", "/")
        assert (build_dir / name / f"{module}.py").is_file(), f"{name}: no {module}.py in the artifact"


def test_layer_contains_the_package_and_every_pinned_requirement(build_dir):
    python = build_dir / "CommonLayer" / "python"
    assert (python / "bedrock_usage" / "__init__.py").is_file()
    assert (python / "bedrock_usage" / "py.typed").is_file()
    installed = {
        re.sub(r"[-_.]+", "-", p.name.split("-")[0]).lower(): p.name.split("-")[1].removesuffix(".dist")
        for p in python.glob("*.dist-info")
    }
    for line in (REPO_ROOT / "layers" / "common" / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, version = line.split("==")
        assert installed.get(re.sub(r"[-_.]+", "-", name).lower()) == version, (
            f"{line} missing from the layer"
        )


def _environment(function_name: str) -> dict[str, str]:
    """The function's environment variables (Globals merged) with deploy-like placeholder values."""
    cfn = transform_file(TEMPLATE)
    resolver = SubResolver(cfn)
    variables = cfn["Resources"][function_name]["Properties"].get("Environment", {}).get("Variables", {})
    env = {}
    for key, value in variables.items():
        try:
            env[key] = resolver.value(value)
        except (ValueError, KeyError, TypeError):
            env[key] = "placeholder"  # Fn::If / Fn::Join: any string will do for an import
    return env


IMPORT_CHECK = """
import importlib, json, sys
task_root, layer, runtime, handler = sys.argv[1:5]
sys.path[:0] = [task_root, layer, runtime]
module_name, function_name = handler.rsplit(".", 1)
module = importlib.import_module(module_name)
import bedrock_usage
print(json.dumps({
    "callable": callable(getattr(module, function_name, None)),
    "bedrock_usage": bedrock_usage.__file__,
}))
"""


@pytest.mark.parametrize("function_name", sorted(_functions()))
def test_function_handler_imports_from_the_built_artifacts_like_lambda(build_dir, runtime_dir, function_name):
    function = _functions()[function_name]
    handler = function["Properties"].get("Handler", "app.handler")
    task_root = build_dir / function_name
    layer = build_dir / "CommonLayer" / "python"
    env = {
        **_offline_env(),
        **_environment(function_name),
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "LAMBDA_TASK_ROOT": str(task_root),
        "_HANDLER": handler,
    }
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-c",
            IMPORT_CHECK,
            str(task_root),
            str(layer),
            str(runtime_dir),
            handler,
        ],
        cwd=task_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"{function_name} does not import in Lambda's layout:\n{result.stderr}"
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["callable"], f"{handler} is not a callable in {function_name}"
    # The library must come from the layer, not from a copy inside the function or the dev venv.
    assert report["bedrock_usage"].startswith(str(layer)), report["bedrock_usage"]
