"""Activation without code: ``opentelemetry-instrument`` loads our instrumentor through its entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import json, boto3
from opentelemetry import trace
from otel_serverless.propagation import sqs
client = boto3.client("sqs")
url = client.create_queue(QueueName="zero-code")["QueueUrl"]
with trace.get_tracer("app").start_as_current_span("app") as span:
    client.send_message(QueueUrl=url, MessageBody="x")
message = client.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"][0]
ctx = sqs.extract_message(message)
remote = trace.get_current_span(ctx).get_span_context()
print(json.dumps({
    "attributes": sorted(message.get("MessageAttributes", {})),
    "same_trace": remote.trace_id == span.get_span_context().trace_id,
    "child_of_app": remote.span_id != span.get_span_context().span_id,
}))
"""


@pytest.mark.parametrize("disabled", ["", "botocore"])
def test_opentelemetry_instrument_activates_propagation(aws: str, tmp_path: Path, disabled: str) -> None:
    script = tmp_path / "app.py"
    script.write_text(SCRIPT)
    environ = {
        **os.environ,
        "OTEL_TRACES_EXPORTER": "none",
        "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": disabled,
    }
    bin_dir = Path(sys.executable).parent
    result = subprocess.run(
        [str(bin_dir / "opentelemetry-instrument"), sys.executable, str(script)],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    # With upstream botocore instrumentation active too (the default), still one slot and no per-field attributes.
    assert outcome == {"attributes": ["_otel"], "same_trace": True, "child_of_app": True}
