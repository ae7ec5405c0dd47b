"""The ``otel-serverless`` command as a user runs it."""

from __future__ import annotations

import platform
import subprocess
import sys
import zipfile
from pathlib import Path

CLI = [sys.executable, "-m", "otel_serverless.cli"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300, check=False)


def test_layer_build_from_the_environment(tmp_path: Path) -> None:
    output = tmp_path / "layer.zip"
    arch = "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    result = _run("layer", "build", "--python", version, "--arch", arch, "--output", str(output), "--from-environment")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(output)
    names = zipfile.ZipFile(output).namelist()
    assert "otel-serverless-handler" in names
    assert "python/otel_serverless/__init__.py" in names
    assert not [name for name in names if name.startswith("python/botocore/")]


def test_layer_build_refuses_a_bad_python_version_cleanly(tmp_path: Path) -> None:
    result = _run("layer", "build", "--python", "three", "--output", str(tmp_path / "x.zip"))
    assert result.returncode == 2
    assert "python must look like 3.12" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_sample_prints_a_trace_tree() -> None:
    result = subprocess.run(
        [*CLI, "sample"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "OTEL_TRACES_EXPORTER": "none"},
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("trace ")
    assert "POST /posts" in lines[1]
    assert any("posts-queue send" in line for line in lines)
