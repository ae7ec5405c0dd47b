"""Every call out from a built layer: only the layer, the runtime's libraries and the function's own on the path."""

from __future__ import annotations

import os
import sys
import zipfile
from pathlib import Path

from otel_serverless.layer import WRAPPER_NAME, build_layer, copy_distributions
from tests.aws_lambda.test_exec_wrapper_and_layer import runtime_provided
from tests.instrumentation._servers import Proxy, Seen
from tests.instrumentation.test_calls_out import check_calls_out, run_handler


def test_every_call_out_from_the_layer(tmp_path: Path, servers: tuple[Seen, Proxy, str]) -> None:
    local = f"{sys.version_info.major}.{sys.version_info.minor}"
    arch = "arm64" if os.uname().machine in ("aarch64", "arm64") else "x86_64"
    zip_path = build_layer(local, arch, tmp_path / "layer.zip", from_environment=True)
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
        archive.extractall(tmp_path / "opt")
    for module in ("urllib", "urllib3", "requests", "httpx", "aiohttp_client", "botocore"):
        assert f"python/opentelemetry/instrumentation/{module}/__init__.py" in names, module
    # The libraries themselves are the function's (requests is in the layer already: the SDK's OTLP exporter needs it).
    assert not any(name.startswith(("python/httpx/", "python/aiohttp/", "python/urllib3/")) for name in names)
    opt = tmp_path / "opt"
    (opt / WRAPPER_NAME).chmod(0o755)
    runtime = runtime_provided(tmp_path / "var-runtime")
    # The function's deployment package as pip builds it (with metadata), the runtime's libraries left out.
    function = tmp_path / "function"
    copy_distributions(["requests", "httpx", "aiohttp"], function)
    # -S: no site-packages; only the layer, the runtime's libraries and the function's own.
    path = [opt / "python", runtime, function]
    spans = run_handler(opt / WRAPPER_NAME, [sys.executable, "-S"], path, tmp_path, servers)
    check_calls_out(spans, servers[0], servers[1])
