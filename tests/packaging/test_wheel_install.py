"""``pip install otel-serverless`` as a user runs it: a built wheel, a fresh venv, old and new pip.

The pip a Python bundles is what a newcomer has. Python 3.10 bundles pip 23.0.1 and 3.11
bundles 23.2.1, and both resolvers give up on backtracks that a current pip (25.1 and later)
gets through, so a dependency change that only resolves with a current pip fails here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

#: ``None`` keeps the pip the interpreter's ``venv`` bundles; a string installs that pip first.
PIPS: dict[str, str | None] = {"bundled": None, "newest": "pip>=25.1"}
if sys.version_info < (3, 12):  # pip 23.0 predates Python 3.12 and does not run on it
    PIPS["python-3.10-bundled"] = "pip==23.0.1"


def _run(*command: str | Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("OTEL_", "VIRTUAL_ENV"))}
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, timeout=timeout, check=False, env=env
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    built = _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", out, REPO)
    assert built.returncode == 0, built.stderr
    (path,) = out.glob("otel_serverless-*.whl")
    return path


@pytest.mark.parametrize("pip", list(PIPS))
def test_the_wheel_installs_and_the_sample_prints_a_trace(wheel: Path, tmp_path: Path, pip: str) -> None:
    venv = tmp_path / "venv"
    made = _run(sys.executable, "-m", "venv", venv)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    wanted = PIPS[pip]
    if wanted is not None:
        changed = _run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wanted)
        assert changed.returncode == 0, changed.stderr
    version = _run(python, "-m", "pip", "--version").stdout.split()[1]

    installed = _run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel)
    assert installed.returncode == 0, f"pip {version} could not install the wheel:\n{installed.stderr[-3000:]}"
    consistent = _run(python, "-m", "pip", "check")
    assert consistent.returncode == 0, consistent.stdout

    sample = _run(venv / "bin" / "otel-serverless", "sample", timeout=120)
    assert sample.returncode == 0, sample.stderr
    lines = sample.stdout.splitlines()
    assert lines[0].startswith("trace ") and len(lines[0].split()[1]) == 32
    assert "POST /posts" in lines[1]
    assert any("posts-queue send" in line for line in lines[2:])
    assert "Traceback" not in sample.stderr
    # OTLP/HTTP needs no gRPC: grpcio (the largest dependency by far) comes with the grpc extra only.
    assert _run(python, "-c", "import grpc").returncode != 0


def test_the_wheel_carries_the_licence_as_an_spdx_expression(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
        fields = archive.read(metadata).decode().split("\n\n", 1)[0].splitlines()
    assert "License-Expression: Apache-2.0" in fields


def test_grpc_is_an_extra(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
        lines = archive.read(metadata).decode().split("\n\n", 1)[0].splitlines()
    assert "Provides-Extra: grpc" in lines
    grpc = [line for line in lines if line.startswith("Requires-Dist:") and "grpc" in line]
    assert all("; extra == " in line for line in grpc), grpc  # never a plain requirement
    assert len([line for line in grpc if line.endswith('extra == "grpc"')]) == 2, grpc
