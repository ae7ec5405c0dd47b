"""Out of memory and kills (#23 item 3), with real allocations and real processes.

* The memory high-water mark is the invocation's own: a light invocation after a heavy
  one reports its own peak, and the near-limit event is not repeated.
* The memory guard ends and flushes the invocation span when the resident set crosses
  its threshold, before the platform's kill; the handler's answer still comes back.
* A process killed by SIGKILL after the guard fired (as Lambda kills for memory) is
  reported by the next process's first invocation as ``out_of_memory``, linked to the
  killed invocation's span, with a report span in the killed invocation's trace.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from otel_serverless._memory import reset_high_water, resident_mb
from otel_serverless.aws_lambda import traced
from tests.aws_lambda.conftest import LambdaContext, Pipeline
from tests.otlp_receiver import Receiver, otlp_receiver

MB = 1024 * 1024

pytestmark = pytest.mark.skipif(not reset_high_water(), reason="needs Linux /proc/self/clear_refs")


def _allocate(megabytes: int) -> list[bytearray]:
    # Pages written, so they are resident (a zero-filled bytearray may not be).
    return [bytearray(b"\x01") * MB for _ in range(megabytes)]


def test_the_peak_is_the_invocations_own_and_the_event_is_not_repeated(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = resident_mb()
    assert base is not None
    limit = int(base + 150)
    monkeypatch.setenv("OTEL_SERVERLESS_MEMORY_GUARD_RATIO", "0")  # this test is about the mark only
    monkeypatch.setenv("OTEL_SERVERLESS_MEMORY_WARN_RATIO", str(round((base + 60) / limit, 4)))

    @traced(tracer_provider=pipeline.provider)
    def handler(event: Any, context: Any) -> int:
        held = _allocate(event["mb"])
        return len(held)

    peaks = []
    for index, megabytes in enumerate((120, 1, 1)):
        assert handler({"mb": megabytes}, LambdaContext(f"req-{index}", memory=str(limit))) == megabytes
        span = pipeline.invocation()
        peaks.append((span.attributes["serverless.memory.peak_mb"], [e.name for e in span.events]))
        pipeline.exporter.clear()
    (heavy, heavy_events), (light, light_events), (again, again_events) = peaks
    assert heavy >= base + 100
    assert "serverless.memory.near_limit" in heavy_events
    assert light < base + 50 and again < base + 50  # not the process's peak
    assert "serverless.memory.near_limit" not in light_events + again_events


def test_the_guard_is_off_outside_a_lambda_sandbox(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    base = resident_mb()
    assert base is not None
    monkeypatch.delenv("AWS_LAMBDA_RUNTIME_API", raising=False)

    @traced(tracer_provider=pipeline.provider)
    def handler(event: Any, context: Any) -> str:
        time.sleep(0.1)  # four samples' time, already over the threshold
        return "ok"

    assert handler({}, LambdaContext(memory=str(int(base / 2)))) == "ok"
    assert "error.type" not in pipeline.invocation().attributes


def test_the_guard_ends_and_flushes_the_span_before_the_limit(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = resident_mb()
    assert base is not None
    limit = int(base + 80)
    monkeypatch.setenv("OTEL_SERVERLESS_MEMORY_GUARD_RATIO", "0.95")
    monkeypatch.setenv("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")  # the guard runs in a Lambda sandbox only
    seen_during: list[bool] = []

    @traced(tracer_provider=pipeline.provider)
    def handler(event: Any, context: Any) -> str:
        held: list[bytearray] = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(
            "faas.invocation_id" in span.attributes for span in pipeline.spans()
        ):
            held += _allocate(4)  # climbing towards the limit, as a leak does
            time.sleep(0.01)
        seen_during.append(bool(pipeline.spans()))
        return f"survived with {len(held)} MB more"

    answer = handler({}, LambdaContext(memory=str(limit), timeout_ms=20_000))
    assert answer.startswith("survived")  # the handler's answer, unchanged
    assert seen_during == [True]  # exported while the handler still ran
    span = pipeline.invocation()
    assert span.attributes["error.type"] == "out_of_memory"
    (event,) = [e for e in span.events if e.name == "serverless.memory.near_kill"]
    assert event.attributes["serverless.memory.resident_mb"] >= 0.95 * limit
    assert span.status.status_code.name == "ERROR"


KILLED = textwrap.dedent(
    """
    import os, signal, sys, time
    import otel_serverless
    from otel_serverless.aws_lambda import traced

    otel_serverless.configure()
    sys.path.insert(0, os.environ["TESTS_ROOT"])
    from otel_serverless._memory import resident_mb

    class Context:
        aws_request_id = sys.argv[1]
        function_name = "orders"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:orders"
        memory_limit_in_mb = str(int(resident_mb() + 80))
        log_stream_name = "stream"
        def get_remaining_time_in_millis(self):
            return 20000

    @traced
    def handler(event, context):
        held = []
        if event["mode"] == "memory":
            while True:  # until the platform's kill (here: the test's, once the guard has flushed)
                held.append(bytearray(b"\\x01") * (4 << 20))
                time.sleep(0.01)
        if event["mode"] == "crash":
            os.kill(os.getpid(), signal.SIGKILL)
        return "ok"

    print("RESULT", handler({"mode": sys.argv[2]}, Context()), flush=True)
    """
)


def _run(tmp_path: Path, receiver: Receiver, request_id: str, mode: str) -> subprocess.Popen[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("OTEL_", "AWS_LAMBDA"))}
    env.update(
        OTEL_SERVERLESS_STATE_DIR=str(tmp_path),
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
        AWS_LAMBDA_FUNCTION_NAME="orders",
        AWS_LAMBDA_RUNTIME_API="127.0.0.1:9001",  # a Lambda sandbox (where the guard runs)
        TESTS_ROOT=str(Path(__file__).parent.parent.parent),
    )
    return subprocess.Popen(
        [sys.executable, "-c", KILLED, request_id, mode],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _spans(receiver: Receiver) -> list[Any]:
    return [span for _, span in receiver.spans()]


def _text(span: Any, key: str) -> str | None:
    for kv in span.attributes:
        if kv.key == key:
            return kv.value.string_value
    return None


@pytest.mark.parametrize(("mode", "reason"), [("memory", "out_of_memory"), ("crash", "crash")])
def test_a_killed_invocation_is_reported_in_its_own_trace(tmp_path: Path, mode: str, reason: str) -> None:
    with otlp_receiver() as receiver:
        first = _run(tmp_path, receiver, "killed-1", mode)
        if mode == "memory":
            # The platform kills the sandbox once it is over its memory: here, once the guard flushed.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not any(_text(s, "faas.invocation_id") for s in _spans(receiver)):
                time.sleep(0.02)
            first.send_signal(signal.SIGKILL)
        first.wait(30)
        assert first.returncode == -signal.SIGKILL, first.stderr.read() if first.stderr else ""
        killed = [span for span in _spans(receiver) if _text(span, "faas.invocation_id") == "killed-1"]
        if mode == "memory":  # the guard's flush: the killed invocation's span is there, marked
            (span,) = killed
            assert _text(span, "error.type") == "out_of_memory"
        else:
            assert killed == []  # nothing saw a crash coming: only the report will tell
        receiver.requests.clear()

        second = _run(tmp_path, receiver, "next-1", "ok")
        out, err = second.communicate(timeout=60)
        assert "RESULT ok" in out, err
    spans = _spans(receiver)
    (invocation,) = [span for span in spans if _text(span, "faas.invocation_id") == "next-1"]
    assert _text(invocation, "serverless.previous_invocation.reason") == reason
    assert _text(invocation, "serverless.previous_invocation.request_id") == "killed-1"
    (link,) = list(invocation.links)
    (report,) = [span for span in spans if span.name == "orders killed"]
    assert report.trace_id == link.trace_id != invocation.trace_id
    assert report.parent_span_id == link.span_id
    assert _text(report, "error.type") == reason
