from __future__ import annotations

import base64
import json
from pathlib import Path

from google.protobuf.json_format import ParseDict
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Link, SpanKind

from otel_serverless.export._otlp_json import OtlpJsonFileExporter


def test_lines_are_otlp_json_with_hex_ids(tmp_path: Path) -> None:
    path = tmp_path / "out" / "traces.jsonl"
    provider = TracerProvider(resource=Resource({"service.name": "blog"}))
    provider.add_span_processor(SimpleSpanProcessor(OtlpJsonFileExporter(path)))
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("parent", kind=SpanKind.PRODUCER) as parent:
        pass
    with tracer.start_as_current_span("child", links=[Link(parent.get_span_context(), {"k": 1})]):
        pass
    lines = path.read_text().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    span = first["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert span["traceId"] == format(parent.get_span_context().trace_id, "032x")
    assert span["spanId"] == format(parent.get_span_context().span_id, "016x")
    assert span["kind"] == 4  # enums as integers, as OTLP/JSON says
    link = second["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["links"][0]
    assert link["spanId"] == format(parent.get_span_context().span_id, "016x")
    # Round trip: with ids back in protobuf's base64 spelling, the document is a valid request.
    restored = ParseDict(_base64_ids(second), ExportTraceServiceRequest())
    decoded = restored.resource_spans[0].scope_spans[0].spans[0]
    assert decoded.name == "child"
    assert decoded.links[0].span_id == parent.get_span_context().span_id.to_bytes(8, "big")


def _base64_ids(node: object) -> object:
    if isinstance(node, dict):
        return {
            k: base64.b64encode(bytes.fromhex(v)).decode()
            if k in ("traceId", "spanId", "parentSpanId")
            else _base64_ids(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_base64_ids(v) for v in node]
    return node


def test_an_unwritable_path_fails_the_export_without_raising(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    exporter = OtlpJsonFileExporter(blocker / "traces.jsonl")
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    from otel_serverless import _guard

    with provider.get_tracer("t").start_as_current_span("s"):
        pass
    assert [key for key, _ in _guard.swallowed] == ["export.otlp_json"]
    _guard.reset_for_tests()
