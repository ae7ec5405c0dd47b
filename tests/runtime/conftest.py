"""The layer in the real Lambda runtime: the AWS Lambda RIE running ``python -m awslambdaric``.

* ``rie``: the emulator binary, built by ``scripts/backends build`` (cached with the collector
  and Jaeger). When it cannot be built the tests skip on a developer machine, and fail in CI.
* ``layer_zip`` / ``opt``: the layer built by ``otel-serverless layer build --from-environment``
  (the default, OTLP/HTTP-only layer) and unpacked as Lambda unpacks it into ``/opt``.
* ``runtime_site``: what the Lambda Python runtime provides (awslambdaric, boto3), copied
  from this environment; the interpreter runs with ``-S``, so nothing else is importable.
* ``start``: start a function (with or without the layer) in its own emulator on a free
  127.0.0.1 port; every emulator is stopped at the end of the test.
* ``backends``: the real collector and Jaeger (tests/e2e), for the tests marked e2e.
"""

from __future__ import annotations

import os
import platform
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from otel_serverless.layer import build_layer
from otel_serverless.local.rie import Function, copy_runtime, unpack_layer
from tests.e2e.conftest import backends, backends_built, run_backends

__all__ = ["APP", "Start", "backends", "backends_built", "local_target"]

#: The function under test: plain code, no tracing in it.
APP = textwrap.dedent(
    """
    import time


    def handler(event, context):
        if event.get("sleep"):
            time.sleep(event["sleep"])
        if event.get("fail"):
            raise KeyError(event["fail"])
        if "echo" in event:
            return event["echo"]
        return {"statusCode": 200, "body": event.get("body"), "request": context.aws_request_id}
    """
)

Start = Callable[..., Function]


def local_target() -> tuple[str, str]:
    """This machine's Python version and Lambda architecture (what --from-environment builds for)."""
    arch = "arm64" if platform.machine().lower() in ("aarch64", "arm64") else "x86_64"
    return f"{sys.version_info.major}.{sys.version_info.minor}", arch


@pytest.fixture(scope="session")
def rie() -> Path:
    built = run_backends("build", timeout=30 * 60)
    paths = run_backends("paths")
    found = dict(line.split("=", 1) for line in paths.stdout.splitlines() if "=" in line)
    binary = Path(found.get("RIE_BIN", ""))
    if built.returncode != 0 or paths.returncode != 0 or not os.access(binary, os.X_OK):
        reason = f"the Lambda RIE could not be built (scripts/backends build):\n{built.stderr[-4000:]}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return binary


@pytest.fixture(scope="session")
def layer_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    python, arch = local_target()
    return build_layer(python, arch, tmp_path_factory.mktemp("layer") / "layer.zip", from_environment=True)


@pytest.fixture(scope="session")
def opt(layer_zip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return unpack_layer(layer_zip, tmp_path_factory.mktemp("opt"))


@pytest.fixture(scope="session")
def runtime_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_runtime(tmp_path_factory.mktemp("runtime"))


@pytest.fixture
def task(tmp_path: Path) -> Path:
    root = tmp_path / "task"
    root.mkdir()
    (root / "app.py").write_text(APP)
    return root


@pytest.fixture
def start(rie: Path, opt: Path, runtime_site: Path, task: Path) -> Iterator[Start]:
    started: list[Function] = []

    def start_function(
        *, layer: Path | None = opt, env: Mapping[str, str] | None = None, handler: str = "app.handler"
    ) -> Function:
        function = Function(rie, task, runtime_site, handler=handler, opt=layer, env=env)
        started.append(function)
        return function.start()

    yield start_function
    for function in started:
        function.stop()
        # Shown by pytest only when the test failed.
        print(f"--- {function.log_path}\n{function.log()[-6000:]}")
        function.close()
