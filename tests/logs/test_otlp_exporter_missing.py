"""OTEL_LOGS_EXPORTER=otlp without the OTLP log exporter installed (the default layer): one warning, traces go on."""

from __future__ import annotations

import json
import os
import subprocess
import sys

SCRIPT = """
import json, logging, sys
sys.modules["opentelemetry.exporter.otlp.proto.http._log_exporter"] = None  # as if not installed
import otel_serverless
telemetry = otel_serverless.configure()
logging.getLogger("orders").warning("still logged")
print(json.dumps({"configured": telemetry is not None, "logs": telemetry.logs is not None,
                  "flushed": otel_serverless.flush(500)}))
"""


def test_missing_log_exporter_warns_once_and_the_rest_works() -> None:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    environ.update({"OTEL_LOGS_EXPORTER": "otlp", "OTEL_TRACES_EXPORTER": "none"})
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=environ, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"configured": True, "logs": False, "flushed": True}
    warnings = [line for line in done.stderr.splitlines() if "OTEL_LOGS_EXPORTER=otlp" in line]
    assert len(warnings) == 1, done.stderr
    assert "install opentelemetry-exporter-otlp-proto-http" in warnings[0]
    assert "still logged" in done.stderr, "the application's own logging is untouched"
