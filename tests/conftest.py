"""Shared fixtures: a real moto server, an in-memory span pipeline, and the hook-error seam.

* ``moto_server``: ``moto_server`` (moto in server mode) on a free 127.0.0.1 port for
  the whole session; boto3 reaches it through ``AWS_ENDPOINT_URL`` over real HTTP.
  ``aws`` resets its state before each test that uses it.
* ``spans``: the session's global tracer provider exports into memory; the
  fixture clears it and hands the exporter to the test.
* Every test fails if otel-serverless swallowed an internal error during it,
  unless the test is marked ``@pytest.mark.swallows`` (and then asserts on it).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_serverless import _guard, _settings

EVENTS = Path(__file__).parent / "events"

_EXPORTER = InMemorySpanExporter()
_PROVIDER = TracerProvider()
_PROVIDER.add_span_processor(SimpleSpanProcessor(_EXPORTER))
trace.set_tracer_provider(_PROVIDER)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except Exception as error:  # not up yet
            last = error
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s: {last}")


@pytest.fixture(autouse=True)
def _no_swallowed_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    _guard.reset_for_tests()
    # Settings read once per process: each test sees the variables it sets (monkeypatch).
    _settings.reset_for_tests()
    yield
    _settings.reset_for_tests()
    if request.node.get_closest_marker("swallows") is None and _guard.swallowed:
        errors = [f"{key}: {type(error).__name__}: {error}" for key, error in _guard.swallowed]
        _guard.reset_for_tests()
        pytest.fail("otel-serverless swallowed internal errors:\n" + "\n".join(errors))
    _guard.reset_for_tests()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """Start moto in server mode on 127.0.0.1; yield its endpoint URL."""
    port = free_port()
    executable = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or shutil.which("moto_server")
    command = [executable] if executable else [sys.executable, "-m", "moto.server"]
    process = subprocess.Popen(
        [*command, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{endpoint}/moto-api/", timeout=60)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def aws(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A clean moto state, and boto3 pointed at it through the standard variables."""
    request = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return moto_server


def pytest_configure(config: pytest.Config) -> None:
    # Credentials for boto3 must never come from the developer's machine.
    os.environ.setdefault("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    os.environ.setdefault("AWS_CONFIG_FILE", os.devnull)
