"""Our OTLP encoder's bytes, decoded by the generated OTLP classes, equal the SDK encoder's message.

Spans are made by a real SDK TracerProvider; the reference is
``opentelemetry.exporter.otlp.proto.common.trace_encoder.encode_spans``. The one
intended difference: links carry their ``trace_state`` (the SDK encoder drops it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from google.protobuf.message import Message
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as sdk_encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.trace.span import TraceState

from otel_serverless.export import _encode
from otel_serverless.export._encode import encode_spans

RICH_ATTRIBUTES: dict[str, Any] = {
    "str": "value",
    "str.empty": "",
    "str.unicode": "héllo wörld — 日本語 🚀 e\u0301",
    "bool.true": True,
    "bool.false": False,
    "int.zero": 0,
    "int.small": 7,
    "int.multibyte": 300,
    "int.negative": -1,
    "int.max": 2**63 - 1,
    "int.min": -(2**63),
    "float": 1.5,
    "float.negative": -2.25e-300,
    "float.zero": 0.0,
    "float.inf": float("inf"),
    "bytes": b"\x00\xff\x10",
    "bytes.empty": b"",
    "array.str": ("a", "", "ü"),
    "array.int": (1, -2, 3_000_000_000),
    "array.float": (0.5, -1.0),
    "array.bool": (True, False),
    "array.empty": (),
    "array.with_none": ("a", None, "b"),
    "array.nested": (("x", 1), {"k": "v"}),
    "map": {"inner": "v", "n": 2, "deeper": {"flag": True, "list": [1, 2]}},
    "map.empty": {},
    "long": "x" * 300,  # a length that takes a two-byte varint
}


def _provider(resource: Resource, limits: SpanLimits | None = None) -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=resource, span_limits=limits)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def _remote_parent(trace_state: TraceState | None = None) -> otel_context.Context:
    parent = SpanContext(
        trace_id=0x0AF7651916CD43DD8448EB211C80319C,
        span_id=0xB7AD6B7169203331,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
        trace_state=trace_state,
    )
    return trace.set_span_in_context(NonRecordingSpan(parent))


def _rich_spans() -> list[ReadableSpan]:
    resource_a = Resource({"service.name": "alpha", "faas.name": "fn-a", "cloud.region": "us-east-1"})
    resource_b = Resource(
        {"service.name": "βeta", "numbers": (1, 2)}, schema_url="https://opentelemetry.io/schemas/1.26.0"
    )
    provider_a, exporter_a = _provider(resource_a)
    provider_b, exporter_b = _provider(resource_b)
    tracer = provider_a.get_tracer("scope.one", "1.2.3", schema_url="https://example.com/s", attributes={"sa": 1})
    other_scope = provider_a.get_tracer("scope.two")
    tracer_b = provider_b.get_tracer("scope.b", "0.1")

    remote_state = TraceState([("vendor", "opaque"), ("rojo", "00f067aa0ba902b7")])
    linked_local = SpanContext(0x1, 0x2, is_remote=False, trace_flags=TraceFlags(TraceFlags.SAMPLED))
    linked_remote = SpanContext(
        0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF, 0xFFFFFFFFFFFFFFFF, is_remote=True, trace_state=remote_state
    )
    with tracer.start_as_current_span(
        "invocation 🚀",
        context=_remote_parent(remote_state),
        kind=SpanKind.SERVER,
        attributes=RICH_ATTRIBUTES,
        links=[Link(linked_local, {"link.kind": "batch", "i": 1}), Link(linked_remote)],
    ) as root:
        root.add_event("event.with.attributes", {"k": "v", "n": (1, 2)}, timestamp=1_700_000_000_123_456_789)
        root.add_event("")
        root.set_status(Status(StatusCode.ERROR, "boom — failed"))
        for kind in SpanKind:
            with tracer.start_as_current_span(f"kind-{kind.name}", kind=kind) as child:
                child.set_status(Status(StatusCode.OK))
        with other_scope.start_as_current_span("other scope"):
            pass
        with tracer_b.start_as_current_span("", kind=SpanKind.CONSUMER, attributes={"": "dropped by the SDK"}):
            pass
    return [*exporter_a.get_finished_spans(), *exporter_b.get_finished_spans()]


def _assert_same(ours: Message, theirs: Message, path: str = "request") -> None:
    """Field by field, naming the first path that differs."""
    our_fields = {field.name: value for field, value in ours.ListFields()}
    their_fields = {field.name: value for field, value in theirs.ListFields()}
    assert sorted(our_fields) == sorted(their_fields), f"{path}: fields differ"
    for name, value in our_fields.items():
        other = their_fields[name]
        here = f"{path}.{name}"
        if isinstance(value, Message):
            _assert_same(value, other, here)
        elif isinstance(value, float):  # by repr: NaN is NaN, and -0.0 is not 0.0
            assert repr(value) == repr(other), f"{here}: {value!r} != {other!r}"
        elif isinstance(value, str | bytes | int | bool):
            assert value == other, f"{here}: {value!r} != {other!r}"
        else:  # repeated
            assert len(value) == len(other), f"{here}: {len(value)} items != {len(other)}"
            for index, (item, other_item) in enumerate(zip(value, other, strict=True)):
                if isinstance(item, Message):
                    _assert_same(item, other_item, f"{here}[{index}]")
                else:
                    assert item == other_item, f"{here}[{index}]"


def _links(request: ExportTraceServiceRequest) -> Iterator[Any]:
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield from span.links


def _decode_and_compare(spans: Sequence[ReadableSpan]) -> ExportTraceServiceRequest:
    ours = ExportTraceServiceRequest.FromString(encode_spans(spans))
    theirs = sdk_encode_spans(spans)
    # The one intended difference: our links carry trace_state; the SDK's leave it out.
    for link in _links(ours):
        link.ClearField("trace_state")
    _assert_same(ours, theirs)
    return ExportTraceServiceRequest.FromString(encode_spans(spans))


def test_rich_spans_decode_to_the_sdk_encoders_message() -> None:
    spans = _rich_spans()
    request = _decode_and_compare(spans)
    # The request really holds what was made: two resources, three scopes, every span.
    assert len(request.resource_spans) == 2
    assert sum(len(r.scope_spans) for r in request.resource_spans) == 3
    assert sum(len(s.spans) for r in request.resource_spans for s in r.scope_spans) == len(spans) == 8


def test_the_bytes_are_canonical_protobuf() -> None:
    encoded = encode_spans(_rich_spans())
    # Re-serializing what protobuf decoded gives the same bytes: no unknown or duplicate fields.
    assert ExportTraceServiceRequest.FromString(encoded).SerializeToString() == encoded


def test_values_survive_the_round_trip() -> None:
    request = ExportTraceServiceRequest.FromString(encode_spans(_rich_spans()))
    root = next(
        s for r in request.resource_spans for ss in r.scope_spans for s in ss.spans if s.name == "invocation 🚀"
    )
    values = {kv.key: kv.value for kv in root.attributes}
    assert values["str.unicode"].string_value == RICH_ATTRIBUTES["str.unicode"]
    assert values["int.min"].int_value == -(2**63)
    assert values["bytes"].bytes_value == b"\x00\xff\x10"
    assert [v.WhichOneof("value") for v in values["array.with_none"].array_value.values] == [
        "string_value",
        None,
        "string_value",
    ]
    deeper = {kv.key: kv.value for kv in values["map"].kvlist_value.values}["deeper"]
    assert [kv.key for kv in deeper.kvlist_value.values] == ["flag", "list"]
    assert root.flags == 0x300  # has-is-remote + is-remote: the parent came from another process
    assert root.parent_span_id == (0xB7AD6B7169203331).to_bytes(8, "big")
    assert root.trace_state == "vendor=opaque,rojo=00f067aa0ba902b7"
    assert root.status.code == 2 and root.status.message == "boom — failed"
    links = list(root.links)
    assert [link.flags for link in links] == [0x100, 0x300]
    assert links[1].trace_state == "vendor=opaque,rojo=00f067aa0ba902b7"
    assert links[1].trace_id == b"\xff" * 16


def test_dropped_counts_are_sent() -> None:
    limits = SpanLimits(max_span_attributes=2, max_events=1, max_links=1, max_event_attributes=1, max_link_attributes=1)
    provider, exporter = _provider(Resource({"service.name": "limits"}), limits)
    link = SpanContext(0x5, 0x6, is_remote=True)
    with provider.get_tracer("t").start_as_current_span(
        "limited",
        attributes={"a": 1, "b": 2, "c": 3},
        links=[Link(link), Link(link, {"x": 1, "y": 2})],  # the newest link is kept
    ) as span:
        span.add_event("first")
        span.add_event("second", {"p": 1, "q": 2})  # the newest event is the one kept
    spans = exporter.get_finished_spans()
    request = _decode_and_compare(spans)
    encoded = request.resource_spans[0].scope_spans[0].spans[0]
    assert (encoded.dropped_attributes_count, encoded.dropped_events_count, encoded.dropped_links_count) == (1, 1, 1)
    assert encoded.events[0].dropped_attributes_count == 1
    assert encoded.links[0].dropped_attributes_count == 1


def test_equal_resources_from_different_providers_are_one_group() -> None:
    first, first_spans = _provider(Resource({"service.name": "same"}))
    second, second_spans = _provider(Resource({"service.name": "same"}))
    for provider in (first, second):
        with provider.get_tracer("scope").start_as_current_span("s"):
            pass
    spans = [*first_spans.get_finished_spans(), *second_spans.get_finished_spans()]
    request = _decode_and_compare(spans)
    assert len(request.resource_spans) == 1
    assert len(request.resource_spans[0].scope_spans) == 1
    assert len(request.resource_spans[0].scope_spans[0].spans) == 2


def test_resources_and_scopes_encoded_once_stay_correct_across_many_of_them() -> None:
    # Encoded forms are kept per resource/scope object: new ones, past the bound, must not mix up.
    for index in range(_encode._ENCODED_LIMIT + 10):
        provider, exporter = _provider(Resource({"service.name": f"svc-{index}", "n": index}))
        with provider.get_tracer(f"scope-{index}", f"1.{index}").start_as_current_span("s"):
            pass
        request = _decode_and_compare(exporter.get_finished_spans())
        assert request.resource_spans[0].scope_spans[0].scope.name == f"scope-{index}"
    assert len(_encode._encoded) <= _encode._ENCODED_LIMIT


def test_equal_values_of_different_types_each_keep_their_own_type() -> None:
    # True == 1 == 1.0 and -0.0 == 0.0, yet each is sent as what it is, span after span.
    provider, exporter = _provider(Resource({}))
    tracer = provider.get_tracer("t")
    values: list[Any] = [
        *("a", "a", "b", True, 1, 1, False, 0, -0.0, 0.0, 0.0, "x" * 300, "x" * 300, 7),
        *(1.5, 1.5, 1, 1.0, 1.0, True, float("nan"), float("nan"), -0.0, -0.0, 0.0, "é", "é"),
        *(("a", "b"), ("a", "b"), (1, 2), (True, 2), (1.0, 2.0), (-0.0,), (0.0,), ("a", 1), ("a", 1), ("a", "b")),
    ]
    for value in values:
        with tracer.start_as_current_span("s", attributes={"k": value}):
            pass
        spans = exporter.get_finished_spans()[-1:]  # one export per span, as per invocation
        request = _decode_and_compare(spans)
        sent = request.resource_spans[0].scope_spans[0].spans[0].attributes[0].value
        assert sent.WhichOneof("value") == {
            str: "string_value",
            bool: "bool_value",
            int: "int_value",
            float: "double_value",
        }.get(type(value), "array_value")
        if isinstance(value, tuple):
            items = [getattr(item, item.WhichOneof("value")) for item in sent.array_value.values]
            assert repr(items) == repr(list(value))
            assert [type(item) for item in items] == [type(item) for item in value]
        else:
            assert repr(getattr(sent, sent.WhichOneof("value"))) == repr(value)


def test_an_empty_batch_is_an_empty_request() -> None:
    assert encode_spans([]) == sdk_encode_spans([]).SerializeToString() == b""


def test_many_distinct_keys_stay_correct_past_the_key_cache_bound() -> None:
    provider, exporter = _provider(Resource({}))
    count = _encode._KEY_CACHE_LIMIT + 50
    tracer = provider.get_tracer("t")
    for start in range(0, count, 500):
        with tracer.start_as_current_span("keys", attributes={f"k{i}": i for i in range(start, start + 500)}):
            pass
    _decode_and_compare(exporter.get_finished_spans())
    assert len(_encode._keys) <= _encode._KEY_CACHE_LIMIT


def test_out_of_range_integer_is_left_out_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    provider, exporter = _provider(Resource({}))
    with provider.get_tracer("t").start_as_current_span("big", attributes={"ok": 1, "huge": 2**64, "tiny": -(2**70)}):
        pass
    spans = exporter.get_finished_spans()
    with caplog.at_level(logging.WARNING, logger="otel_serverless"):
        request = ExportTraceServiceRequest.FromString(encode_spans(spans))
    span = request.resource_spans[0].scope_spans[0].spans[0]
    assert [kv.key for kv in span.attributes] == ["ok"]
    ours = [r for r in caplog.records if r.name == "otel_serverless"]
    assert len(ours) == 1 and "huge" in ours[0].getMessage()


def test_a_lone_surrogate_still_makes_valid_utf8() -> None:
    # Text decoded from hostile JSON can hold lone surrogates; the request must stay decodable.
    provider, exporter = _provider(Resource({}))
    with provider.get_tracer("t").start_as_current_span("bad\ud800name", attributes={"v": "x\udfffy"}):
        pass
    request = ExportTraceServiceRequest.FromString(encode_spans(exporter.get_finished_spans()))
    span = request.resource_spans[0].scope_spans[0].spans[0]
    assert span.name == "bad?name"
    assert span.attributes[0].value.string_value == "x?y"
