"""The CommonLayer `sam build` makes ships bytecode for python3.13, the same bytes on every build.

Lambda mounts a layer read-only at /opt, so a layer without .pyc files compiles every module it imports
from source on every cold start (boto3, Powertools, Jinja...). layers/common/Makefile compiles them with
unchecked-hash invalidation: no timestamps inside, nothing compared against the sources at import.
"""

from __future__ import annotations

import filecmp
import hashlib
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sam_build.test_sam_build import REPO_ROOT, TEMPLATE, VENV_BIN, _offline_env

pytestmark = pytest.mark.slow

# PEP 552 header flags: bit 0 set = hash-based pyc, bit 1 clear = the source is not checked at import.
UNCHECKED_HASH = 0b01


def _build(out: Path) -> Path:
    argv = [str(VENV_BIN / "sam"), "build", "CommonLayer", "--template-file", str(TEMPLATE)]
    argv += ["--build-dir", str(out / "build"), "--cache-dir", str(out / "cache")]
    result = subprocess.run(
        argv, cwd=REPO_ROOT, env=_offline_env(), capture_output=True, text=True, timeout=900, check=False
    )
    assert result.returncode == 0, f"sam build CommonLayer failed:\n{result.stdout}\n{result.stderr}"
    return out / "build" / "CommonLayer" / "python"


@pytest.fixture(scope="module")
def layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(tmp_path_factory.mktemp("layer-a"))


def test_every_module_has_unchecked_hash_bytecode_for_python313(layer: Path) -> None:
    sources = [p for p in layer.rglob("*.py") if "__pycache__" not in p.parts]
    assert len(sources) > 500  # boto3, botocore, Powertools... not just our package
    assert sys.version_info[:2] == (3, 13)  # the tests run on the Lambda runtime's Python
    magic = importlib.util.MAGIC_NUMBER
    missing, wrong = [], []
    for source in sources:
        pyc = source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
        if not pyc.is_file():
            missing.append(source)
            continue
        header = pyc.read_bytes()[:8]
        if header[:4] != magic or int.from_bytes(header[4:8], "little") != UNCHECKED_HASH:
            wrong.append(pyc)
    assert not missing, f"{len(missing)} modules without bytecode, e.g. {missing[:3]}"
    assert not wrong, f"{len(wrong)} pyc files not unchecked-hash for 3.13, e.g. {wrong[:3]}"
    assert not (layer / "bin").exists()  # console scripts: nothing in Lambda runs them


def test_a_second_build_is_byte_for_byte_the_same(layer: Path, tmp_path: Path) -> None:
    again = _build(tmp_path)

    def tree(root: Path) -> dict[str, str]:
        return {
            str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }

    first, second = tree(layer), tree(again)
    assert first.keys() == second.keys()
    differ = [name for name in first if first[name] != second[name]]
    assert not differ, f"{len(differ)} files differ between two builds, e.g. {differ[:5]}"
    assert filecmp.cmp(layer / "boto3" / "__init__.py", again / "boto3" / "__init__.py", shallow=False)


IMPORT_WITHOUT_COMPILING = """
import importlib._bootstrap_external as ext, json, sys
compiled = []
original = ext.SourceLoader.source_to_code
def source_to_code(self, data, path, **kw):
    compiled.append(path)
    return original(self, data, path, **kw)
ext.SourceLoader.source_to_code = source_to_code
import app
print(json.dumps(compiled))
"""


@pytest.mark.parametrize("function", ["alarm_router", "logging_setup", "report"])
def test_a_cold_start_compiles_nothing_from_the_layer(layer: Path, function: str) -> None:
    folder = REPO_ROOT / "functions" / function
    env = {
        **_offline_env(),
        "PYTHONPATH": f"{folder}{os.pathsep}{layer}",
        "PYTHONDONTWRITEBYTECODE": "1",  # as on /opt: nothing can be cached between cold starts
        "POWERTOOLS_TRACE_DISABLED": "1",
    }
    result = subprocess.run(
        [sys.executable, "-S", "-c", IMPORT_WITHOUT_COMPILING],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    compiled = result.stdout.strip().splitlines()[-1]
    assert str(layer) not in compiled, f"compiled from source at import: {compiled[:500]}"
