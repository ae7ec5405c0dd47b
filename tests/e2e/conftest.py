"""End-to-end fixtures: the real collector and Jaeger, built and started by scripts/backends.

* ``backends_built``: the binaries exist (``scripts/backends build``).  When they cannot be
  built the e2e tests are skipped on a developer machine without Go, but fail in CI
  (``CI=true``), where a silently skipped end-to-end suite would hide a broken pipeline.
* ``backends``: one collector -> Jaeger pair for the whole session on free ports, stopped
  (``scripts/backends down``) at the end whatever happened.

Read traces back with :func:`tests.e2e._jaeger.wait_for_trace`.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e._jaeger import wait_for_trace

__all__ = ["BACKENDS_SCRIPT", "Backends", "parse_exports", "run_backends", "wait_for_trace"]

REPO = Path(__file__).resolve().parents[2]
BACKENDS_SCRIPT = REPO / "scripts" / "backends"

# A cold build compiles the collector and Jaeger from source: minutes on two cores.
BUILD_TIMEOUT_S = 30 * 60
COMMAND_TIMEOUT_S = 180


@dataclass(frozen=True)
class Backends:
    otlp_http_endpoint: str  # http://127.0.0.1:<port>, the collector's OTLP/HTTP receiver
    otlp_grpc_endpoint: str  # http://127.0.0.1:<port>, the collector's OTLP/gRPC receiver
    jaeger_query_url: str  # http://127.0.0.1:<port>, Jaeger's query API (/api/traces/<id>, ...)
    state_dir: Path
    exports: dict[str, str]  # every variable `up` printed (health/metrics URLs, pids, ...)

    def env(self) -> dict[str, str]:
        """Environment for a subprocess that should export to this collector over OTLP/HTTP."""
        return {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": self.otlp_http_endpoint}

    def logs(self) -> str:
        """Both backends' logs, for failure messages."""
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')}" for path in sorted(self.state_dir.glob("*.log"))
        )


def run_backends(*args: str, timeout: float = COMMAND_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BACKENDS_SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def parse_exports(stdout: str) -> dict[str, str]:
    """`export KEY=value` lines (shell-quoted) as a dict."""
    exports: dict[str, str] = {}
    for line in stdout.splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            key, value = words[1].split("=", 1)
            exports[key] = value
    return exports


def from_exports(exports: dict[str, str], state_dir: Path) -> Backends:
    return Backends(
        otlp_http_endpoint=exports["OTEL_EXPORTER_OTLP_ENDPOINT"],
        otlp_grpc_endpoint=exports["OTEL_EXPORTER_OTLP_GRPC_ENDPOINT"],
        jaeger_query_url=exports["JAEGER_QUERY_URL"],
        state_dir=state_dir,
        exports=exports,
    )


@pytest.fixture(scope="session")
def backends_built() -> None:
    result = run_backends("build", timeout=BUILD_TIMEOUT_S)
    if result.returncode != 0:
        reason = f"scripts/backends build failed (exit {result.returncode}):\n{result.stderr[-4000:]}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def backends(backends_built: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backends]:
    state_dir = tmp_path_factory.mktemp("backends")
    try:
        result = run_backends("up", "--state-dir", str(state_dir))
        if result.returncode != 0:
            # The binaries exist, so this is a real failure (config, ports, crash), never a skip.
            pytest.fail(f"scripts/backends up failed (exit {result.returncode}):\n{result.stderr}", pytrace=False)
        yield from_exports(parse_exports(result.stdout), state_dir)
    finally:
        run_backends("down", "--state-dir", str(state_dir))
