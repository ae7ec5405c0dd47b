"""SnapStart (#23 item 4c): clones restored from one snapshot do not share an environment's identity.

The snapshot is taken after init, here with a priming invocation in it (a common SnapStart
practice); two clones are restored from it — two processes forked from the one that
primed, each then invoked in its own environment (its own log stream), as Lambda does.
Each clone's first invocation is a cold start, its ``service.instance.id`` (and
``faas.instance``) its own, and the priming invocation's request id is not taken for a
retry there.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_serverless.aws_lambda import traced
from otel_serverless.export._resource import build_resource
from otel_serverless.processors import export_chain, install
from tests.aws_lambda.conftest import LambdaContext

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="clones are forked processes")


def _context(request_id: str, stream: str) -> LambdaContext:
    context = LambdaContext(request_id)
    context.log_stream_name = stream
    return context


def _invocation(exporter: InMemorySpanExporter) -> Any:
    (span,) = [s for s in exporter.get_finished_spans() if "faas.invocation_id" in (s.attributes or {})]
    return span


def _clone(read: int, write: int, handler: Any, exporter: InMemorySpanExporter, stream: str) -> int:
    pid = os.fork()
    if pid:
        return pid
    try:  # the restored clone: one invocation in its own environment, then report and leave
        os.close(read)
        exporter.clear()
        handler({}, _context("prime-1", stream))
        span = _invocation(exporter)
        found = {
            "instance": span.resource.attributes["service.instance.id"],
            "faas_instance": span.resource.attributes.get("faas.instance"),
            "cold": span.attributes["faas.coldstart"],
            "attempt": span.attributes["serverless.retry.attempt"],
        }
        os.write(write, json.dumps(found).encode() + b"\n")
    finally:
        os._exit(0)


def test_restored_clones_have_identities_of_their_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "orders")
    monkeypatch.setenv("AWS_LAMBDA_LOG_STREAM_NAME", "2026/12/07/[$LATEST]snapshot")
    _, exporter, handler = _pipeline()
    handler({}, _context("prime-1", "2026/12/07/[$LATEST]snapshot"))  # priming, before the snapshot
    primed = _invocation(exporter).resource.attributes["service.instance.id"]

    read, write = os.pipe()
    pids = [_clone(read, write, handler, exporter, f"2026/12/07/[$LATEST]clone-{n}") for n in "ab"]
    os.close(write)
    for pid in pids:
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    with os.fdopen(read) as lines:
        clones = [json.loads(line) for line in lines]
    assert len(clones) == 2
    a, b = clones
    assert len({primed, a["instance"], b["instance"]}) == 3  # renewed in each clone
    assert {a["faas_instance"], b["faas_instance"]} == {"2026/12/07/[$LATEST]clone-a", "2026/12/07/[$LATEST]clone-b"}
    assert a["cold"] is True and b["cold"] is True  # each clone's first invocation is a cold start
    assert a["attempt"] == 1 and b["attempt"] == 1  # the priming request id is not a retry there


def _pipeline() -> tuple[TracerProvider, InMemorySpanExporter, Any]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=build_resource())
    install(provider)
    provider.add_span_processor(export_chain(SimpleSpanProcessor(exporter)))
    return provider, exporter, traced(lambda event, context: "ok", tracer_provider=provider)


def test_a_restore_renews_the_identity_in_the_process(monkeypatch: pytest.MonkeyPatch) -> None:
    # No fork here (the SDK gives a forked child an instance id of its own): the restore alone.
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "orders")
    monkeypatch.setenv("AWS_LAMBDA_LOG_STREAM_NAME", "snapshot")
    _, exporter, handler = _pipeline()
    handler({}, _context("prime-1", "snapshot"))
    primed = _invocation(exporter)
    exporter.clear()
    handler({}, _context("prime-1", "restored"))  # the clone's first invocation
    restored = _invocation(exporter)
    assert restored.resource.attributes["service.instance.id"] != primed.resource.attributes["service.instance.id"]
    assert restored.resource.attributes["faas.instance"] == "restored"
    assert restored.attributes["faas.coldstart"] is True
    assert restored.attributes["serverless.retry.attempt"] == 1
    exporter.clear()
    handler({}, _context("req-2", "restored"))  # a warm invocation of the same clone: the same identity
    warm = _invocation(exporter)
    assert warm.resource.attributes["service.instance.id"] == restored.resource.attributes["service.instance.id"]
    assert warm.attributes["faas.coldstart"] is False


def test_on_demand_environments_keep_their_instance_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "orders")
    _, exporter, handler = _pipeline()
    ids = set()
    for index in range(3):
        handler({}, _context(f"req-{index}", "stream"))
        ids.add(_invocation(exporter).resource.attributes["service.instance.id"])
        exporter.clear()
    assert len(ids) == 1
