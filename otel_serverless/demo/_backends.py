"""``demo --jaeger``: the natively built collector and Jaeger (scripts/backends, a repo checkout)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "backends"


def start_backends() -> None:
    """Start (building if needed) the collector and Jaeger; point this process's export at them."""
    if not _SCRIPT.exists():
        raise SystemExit(
            "otel-serverless demo --jaeger needs a checkout of the repository (scripts/backends); "
            "otherwise run a collector yourself and set OTEL_EXPORTER_OTLP_ENDPOINT"
        )
    print("building or reusing the collector and Jaeger (first build: several minutes)…", file=sys.stderr)
    result = subprocess.run(  # noqa: S603 - our own script, run with this interpreter
        [sys.executable, str(_SCRIPT), "up"], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"scripts/backends up failed:\n{result.stderr[-2000:]}")
    for line in result.stdout.splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            key, value = words[1].split("=", 1)
            os.environ[key] = value
    print(
        f"collector: {os.environ.get('OTEL_EXPORTER_OTLP_ENDPOINT')}; Jaeger query API: "
        f"{os.environ.get('JAEGER_QUERY_URL')} (stop both with: python3 {_SCRIPT} down)",
        file=sys.stderr,
    )
