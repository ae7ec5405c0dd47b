"""What a cold start's setup leaves for later: work only unusual input or settings need.

Setup (``configure()`` and ``traced(handler)``) compiles none of the scrubbing rules that
only text which may hold a secret reaches, and loads the OTLP logs pipeline only when
``OTEL_LOGS_EXPORTER`` asks for it. Later, the first such text compiles them and is
scrubbed as before. Run in a fresh interpreter: another test may have compiled them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

SCRIPT = """
import json, sys
import otel_serverless
from otel_serverless._text import pattern

otel_serverless.configure()
from otel_serverless.aws_lambda import traced
traced(lambda event, context: None)
at_setup = {"compiled": pattern.cache_info().currsize, "logs_otlp": "otel_serverless.logs.otlp" in sys.modules}

from otel_serverless._scrub import rules
token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl"
scrubbed = rules().text(f"sent Bearer {token} to https://user:hunter2@example.com/x?a=1")
print(json.dumps({**at_setup, "compiled_later": pattern.cache_info().currsize, "scrubbed": scrubbed}))
"""


def _run(**variables: str) -> dict[str, object]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    environ.update({"OTEL_TRACES_EXPORTER": "none", **variables})
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=environ, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_setup_compiles_no_secret_shape_rule_and_the_first_secret_still_is_scrubbed() -> None:
    found = _run()
    assert found["compiled"] == 0
    assert isinstance(found["compiled_later"], int) and found["compiled_later"] > 0
    scrubbed = str(found["scrubbed"])
    assert "hunter2" not in scrubbed and "eyJhbGci" not in scrubbed, scrubbed
    assert "[REDACTED]" in scrubbed and "example.com" in scrubbed


def test_the_logs_pipeline_module_loads_only_when_asked_for() -> None:
    assert _run()["logs_otlp"] is False
    assert _run(OTEL_LOGS_EXPORTER="otlp")["logs_otlp"] is True
