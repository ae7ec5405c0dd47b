"""What goes into the layer: OTLP/HTTP by default, gRPC on request, no development tools."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from otel_serverless.aws_lambda import _exec
from otel_serverless.layer import build_layer
from tests.runtime.conftest import local_target

GRPC_EXPORTER = "python/opentelemetry/exporter/otlp/proto/grpc/trace_exporter/__init__.py"
SDK_EXPORTER = "python/opentelemetry/exporter/otlp/proto/http/trace_exporter/__init__.py"


def _names(layer: Path) -> set[str]:
    with zipfile.ZipFile(layer) as archive:
        return set(archive.namelist())


def test_the_default_layer_holds_our_otlp_http_exporter_only(layer_zip: Path) -> None:
    names = _names(layer_zip)
    assert "python/otel_serverless/export/_otlp_http.py" in names
    assert not any(name.startswith(("python/grpc/", "python/grpcio")) for name in names)
    assert GRPC_EXPORTER not in names
    # The SDK's exporter stack: only OTEL_SERVERLESS_EXPORTER=sdk would use it.
    for left_out in ("python/opentelemetry/exporter/otlp/proto/http/", "python/requests/", "python/google/protobuf/"):
        assert not any(name.startswith(left_out) for name in names), left_out


def test_with_sdk_exporter_adds_the_sdk_exporter_stack(tmp_path: Path) -> None:
    python, arch = local_target()
    names = _names(build_layer(python, arch, tmp_path / "sdk.zip", from_environment=True, with_sdk_exporter=True))
    assert SDK_EXPORTER in names
    assert "python/requests/__init__.py" in names and "python/google/protobuf/__init__.py" in names


def test_with_grpc_adds_grpc_and_its_exporter(tmp_path: Path, layer_zip: Path) -> None:
    output = tmp_path / "grpc.zip"
    python, arch = local_target()
    command = [
        str(Path(sys.executable).parent / "otel-serverless"),
        "layer",
        "build",
        "--python",
        python,
        "--arch",
        arch,
    ]
    done = subprocess.run(
        [*command, "--from-environment", "--with-grpc", "--output", str(output)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    names = _names(output)
    assert "python/grpc/__init__.py" in names and GRPC_EXPORTER in names
    assert "python/google/protobuf/__init__.py" in names  # the gRPC exporter's messages
    assert _names(layer_zip) < names
    # gRPC is the larger part of such a layer, unpacked.
    with zipfile.ZipFile(output) as archive:
        sizes = {info.filename: info.file_size for info in archive.infolist()}
    grpc = sum(
        size
        for name, size in sizes.items()
        if name.startswith(("python/grpc/", "python/opentelemetry/exporter/otlp/proto/grpc/"))
    )
    assert grpc > sum(sizes.values()) / 2


def test_development_tools_stay_out_of_the_layer(layer_zip: Path) -> None:
    names = _names(layer_zip)
    for tool in ("demo", "local", "insights", "rollout"):
        assert not any(name.startswith(f"python/otel_serverless/{tool}/") for name in names), tool
    assert "python/otel_serverless/cli.py" not in names
    assert "python/otel_serverless/aws_lambda/_exec.py" in names


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["python", "-m", "awslambdaric", "app.handler"], ["python", "-m", "awslambdaric", _exec.ENTRY]),
        (["python", "/var/runtime/bootstrap.py"], ["python", "/var/runtime/bootstrap.py"]),
        (["app.handler"], ["app.handler"]),  # a lone word is the program, never the handler
        (["python", "-m", "awslambdaric", "other.handler"], ["python", "-m", "awslambdaric", "other.handler"]),
    ],
)
def test_the_console_wrapper_swaps_a_trailing_handler_only(
    command: list[str], expected: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_SERVERLESS_ORIGINAL_HANDLER", "app.handler")
    original = list(command)
    assert _exec.runtime_command(command) == expected
    assert command == original


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["a  b", "-m", "awslambdaric", "app.handler"], ["a  b", "-m", "awslambdaric", _exec.ENTRY]),
        (["a  b", "bootstrap.py"], ["a  b", "bootstrap.py"]),  # the managed runtime: _HANDLER only
        (["*", "other.handler"], ["*", "other.handler"]),
    ],
)
def test_the_layer_wrapper_swaps_a_trailing_handler_only(arguments: list[str], expected: list[str], opt: Path) -> None:
    show = 'printf "%s\\n" "$_HANDLER" "$OTEL_SERVERLESS_ORIGINAL_HANDLER" "$@"'
    done = subprocess.run(
        [str(opt / "otel-serverless-handler"), "sh", "-c", show, "sh", *arguments],
        env={"PATH": "/usr/bin:/bin", "_HANDLER": "app.handler"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.splitlines() == [_exec.ENTRY, "app.handler", *expected]
