"""The three ways to switch it on without touching the calls: configure(), opentelemetry-instrument, the wrapper
(tested in test_calls_out). Libraries load only when the code imports them; disabled ones stay untouched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.instrumentation._servers import echo_server

SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    {activate}
    preloaded = sorted(name for name in ("requests", "httpx", "aiohttp", "wrapt") if name in sys.modules)
    import requests, httpx
    from opentelemetry import trace
    from otel_serverless import instrumentation
    with trace.get_tracer("app").start_as_current_span("app") as span:
        requests.get(os.environ["ECHO_URL"] + "/requests", timeout=10).raise_for_status()
        httpx.get(os.environ["ECHO_URL"] + "/httpx").raise_for_status()
    print(json.dumps({{
        "preloaded": preloaded,
        "trace_id": format(span.get_span_context().trace_id, "032x"),
        "span_id": format(span.get_span_context().span_id, "016x"),
        "loaded": sorted(instrumentation.loaded()),
    }}))
    """
)

ACTIVATIONS = {
    "configure": ["import otel_serverless", "otel_serverless.configure()"],
    "opentelemetry-instrument": [],
}


@pytest.mark.parametrize("disabled", ["", "requests,urllib3"])
@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_lazy_and_disabled(tmp_path: Path, activation: str, disabled: str) -> None:
    script = tmp_path / "app.py"
    script.write_text(SCRIPT.format(activate="\n".join(ACTIVATIONS[activation])))
    command = [sys.executable, str(script)]
    if activation == "opentelemetry-instrument":
        command = [str(Path(sys.executable).parent / "opentelemetry-instrument"), *command]
    with echo_server() as seen:
        environ = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
        environ.update(
            {
                "OTEL_TRACES_EXPORTER": "none",
                "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": disabled,
                "ECHO_URL": seen.url,
                # The dev environment has the upstream Lambda instrumentor (the benchmarks' peer): not ours to load.
                "OTEL_PYTHON_DISTRO": "otel_serverless",
                "OTEL_PYTHON_CONFIGURATOR": "otel_serverless",
            }
        )
        if activation == "opentelemetry-instrument":
            environ["OTEL_PYTHON_DISABLED_INSTRUMENTATIONS"] = ",".join(filter(None, [disabled, "aws-lambda"]))
        done = subprocess.run(command, env=environ, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr[-3000:]
        outcome = json.loads(done.stdout.strip().splitlines()[-1])
    # No library imported ahead of the code: an unused library costs nothing. With configure() not even
    # wrapt (opentelemetry-instrument's own start-up imports it).
    assert outcome["preloaded"] == ([] if activation == "configure" else ["wrapt"])
    httpx_parent = seen.headers("/httpx")["traceparent"].split("-")
    assert httpx_parent[1] == outcome["trace_id"] and httpx_parent[2] != outcome["span_id"], "a client span's context"
    if disabled:
        assert "traceparent" not in seen.headers("/requests")
        assert outcome["loaded"] == ["httpx"]
    else:
        requests_parent = seen.headers("/requests")["traceparent"].split("-")
        assert requests_parent[1] == outcome["trace_id"] and requests_parent[2] not in (
            outcome["span_id"],
            httpx_parent[2],
        )
        assert outcome["loaded"] == ["httpx", "requests", "urllib3"]


def test_an_uninstalled_instrumentation_leaves_its_library_alone(tmp_path: Path) -> None:
    script = tmp_path / "app.py"
    # As without the instrumentations extra: the module cannot be imported.
    activate = "\n".join(
        [
            'sys.modules["opentelemetry.instrumentation.requests"] = None',
            "import logging",
            "logging.basicConfig(level=logging.INFO)  # the note is at info level",
            *ACTIVATIONS["configure"],
        ]
    )
    script.write_text(SCRIPT.format(activate=activate))
    with echo_server() as seen:
        environ = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
        environ.update({"OTEL_TRACES_EXPORTER": "none", "OTEL_SERVERLESS_LOG_LEVEL": "info", "ECHO_URL": seen.url})
        done = subprocess.run(
            [sys.executable, str(script)], env=environ, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, done.stderr[-3000:]
        outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["loaded"] == ["httpx", "urllib3"], "urllib3 under requests is traced instead"
    # requests' call still went out, and urllib3's instrumentation (beneath requests) carried the context.
    assert seen.headers("/requests")["traceparent"].split("-")[1] == outcome["trace_id"]
    (line,) = [line for line in done.stderr.splitlines() if "requests calls are not traced" in line]
    assert "opentelemetry-instrumentation-requests" in line and "otel-serverless[instrumentations]" in line
