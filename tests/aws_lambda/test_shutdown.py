"""SIGTERM (the runtime's shutdown): spans still queued are flushed, then the signal goes on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.otlp_receiver import Receiver, otlp_receiver

RUNTIME = textwrap.dedent(
    """
    import sys, time
    from otel_serverless.aws_lambda import _exec

    class Context:
        aws_request_id = "shutdown-1"
        function_name = "orders"
        function_version = "$LATEST"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:orders"
        memory_limit_in_mb = "128"
        log_group_name = "/aws/lambda/orders"
        log_stream_name = "stream"
        client_context = None
        identity = None
        def get_remaining_time_in_millis(self):
            return 1500

    _exec.preload()
    print("RESULT", _exec.handler({"order": 7}, Context()), flush=True)
    print("READY", flush=True)
    time.sleep(60)
    """
)

APP = textwrap.dedent(
    """
    import os, signal, sys

    def handler(event, context):
        return event["order"]

    if "--own-handler" in sys.argv:
        def on_term(signum, frame):  # ends at once: no atexit flush to fall back on
            print("USER HANDLER", flush=True)
            os._exit(3)
        signal.signal(signal.SIGTERM, on_term)
    """
)


def start(tmp_path: Path, receiver: Receiver, *extra: str) -> subprocess.Popen[str]:
    (tmp_path / "app.py").write_text(APP)
    env = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    env.update(
        {
            "PYTHONPATH": f"{tmp_path}{os.pathsep}{Path(__file__).resolve().parents[2]}",
            "OTEL_SERVERLESS_ORIGINAL_HANDLER": "app.handler",
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
            "OTEL_SERVERLESS_STATE_DIR": str(tmp_path),
            "OTEL_SERVERLESS_FLUSH_TIMEOUT_MS": "300",
            # Longer than the exporter's longest backoff (2 s, +20 % jitter): however long the
            # collector answered 503 before the shutdown, its next attempt falls inside the budget.
            "OTEL_SERVERLESS_SHUTDOWN_FLUSH_MS": "2500",
            "AWS_LAMBDA_FUNCTION_NAME": "orders",
            "AWS_REGION": "us-east-1",
        }
    )
    process = subprocess.Popen(
        [sys.executable, "-c", RUNTIME, *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    assert process.stdout is not None
    lines = [process.stdout.readline() for _ in range(2)]
    assert lines == ["RESULT 7\n", "READY\n"], (lines, process.stderr.read() if process.poll() is not None else "")
    return process


def invocation_spans(receiver: Receiver) -> list[object]:
    return [span for _, span in receiver.spans() if span.name == "orders"]


@pytest.mark.parametrize("own_handler", [False, True])
def test_sigterm_flushes_what_the_invocation_could_not_send(tmp_path: Path, own_handler: bool) -> None:
    with otlp_receiver() as receiver:
        receiver.status = 503  # the collector is down during the invocation: its flush cannot send
        process = start(tmp_path, receiver, *(["--own-handler"] if own_handler else []))
        assert invocation_spans(receiver) == []
        receiver.status = 200  # back before the shutdown
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
        elapsed = time.monotonic() - started
        assert len(invocation_spans(receiver)) == 1, err
    assert elapsed < 4
    if own_handler:
        assert "USER HANDLER" in out and process.returncode == 3  # the user's handler still ran, after ours
    else:
        assert process.returncode == -signal.SIGTERM  # and the default ended the process, as without us
    assert "Traceback" not in err
