"""Through our carriers, W3C context is exactly what the OpenTelemetry propagators make of it.

The format belongs to the globally configured propagator; the carriers only move
its fields. The corpus follows the W3C Trace Context test suite's edge cases
(version ff, all-zero ids, uppercase hex, extra fields for future versions,
whitespace, over-long and malformed values — the SDK's own rules for those change
between releases, and our carriers must follow whichever SDK is installed) plus
tracestate and baggage variants. Each value goes through a slot (encode, then
extract) and is compared with the propagator's own extraction, under both default
configurations and others.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from opentelemetry import baggage, trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.context import Context
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.trace.span import TraceState

from otel_serverless.propagation import _carrier
from tests.propagation.conftest import DEFAULT_PROPAGATORS, global_propagator

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"

TRACEPARENTS = [
    f"00-{TRACE}-{SPAN}-01",
    f"00-{TRACE}-{SPAN}-00",
    f"00-{TRACE}-{SPAN}-ff",
    f"00-{TRACE}-{SPAN}-09",
    f"ff-{TRACE}-{SPAN}-01",  # version ff is invalid
    f"01-{TRACE}-{SPAN}-01",  # a future version
    f"01-{TRACE}-{SPAN}-01-extra-fields",  # future versions may add fields
    f"00-{TRACE}-{SPAN}-01-extra",  # version 00 may not
    f"cc-{TRACE}-{SPAN}-01-what-the-future-holds",
    f"00-{'0' * 32}-{SPAN}-01",  # all-zero trace id
    f"00-{TRACE}-{'0' * 16}-01",  # all-zero span id
    f"00-{TRACE.upper()}-{SPAN}-01",  # uppercase hex is invalid
    f"00-{TRACE}-{SPAN.upper()}-01",
    f"0A-{TRACE}-{SPAN}-01",
    f"00-{TRACE}-{SPAN}-0A",
    f" 00-{TRACE}-{SPAN}-01",  # surrounding whitespace (OWS) is allowed
    f"\t00-{TRACE}-{SPAN}-01 \t",
    f"00-{TRACE}-{SPAN}-01\n",
    f"00-{TRACE[:-1]}-{SPAN}-01",  # short ids
    f"00-{TRACE}-{SPAN[:-1]}-01",
    f"00-{TRACE}0-{SPAN}-01",  # long ids
    f"00-{TRACE}-{SPAN}0-01",
    f"00-{TRACE}-{SPAN}-1",
    f"00-{TRACE}-{SPAN}-001",
    f"00_{TRACE}_{SPAN}_01",
    f"00-{TRACE}-{SPAN}-01" + "x" * 10_000,  # over-long
    f"01-{TRACE}-{SPAN}-01-" + "x" * 10_000,
    f"00-{TRACE}-{SPAN}-0g",
    f"00-{TRACE.replace('4', 'g')}-{SPAN}-01",
    "",
    " ",
    "00",
    "garbage",
    "😀-{TRACE}-{SPAN}-01",
]
TRACESTATES: list[str | None] = [
    None,
    "",
    "rojo=00f067aa0ba902b7",
    "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
    "congo=t61rcWkgMzE, rojo=00f067aa0ba902b7 ",
    "a@b=1,tenant@vendor=2",
    "invalid",
    "=novalue",
    "k=v,k=w",  # duplicate keys
    ",".join(f"k{i}=v" for i in range(40)),  # more members than allowed
    "k=" + "v" * 600,  # over the 512-character limit
    "UPPER=1",
]
BAGGAGES: list[str | None] = [
    None,
    "",
    "tenant=acme",
    "tenant=acme,region=eu%20west;prop=1",
    "bad baggage",
    "k=" + "v" * 9000,
]


@pytest.fixture(params=list(DEFAULT_PROPAGATORS))
def default_propagator(request: pytest.FixtureRequest) -> Iterator[TextMapPropagator]:
    with global_propagator(DEFAULT_PROPAGATORS[request.param]()) as chosen:
        yield chosen


def _facts(ctx: Context) -> tuple[object, ...]:
    span_context = trace.get_current_span(ctx).get_span_context()
    return (
        span_context.trace_id,
        span_context.span_id,
        span_context.is_remote,
        int(span_context.trace_flags),
        tuple(span_context.trace_state.items()),
        span_context.is_valid,
        tuple(baggage.get_all(ctx).items()),
        sorted(ctx.keys()),
    )


def _cases() -> Iterator[dict[str, str]]:
    for traceparent in TRACEPARENTS:
        for tracestate in TRACESTATES:
            fields = {"traceparent": traceparent}
            if tracestate is not None:
                fields["tracestate"] = tracestate
            yield fields
    for value in BAGGAGES:
        for traceparent in (TRACEPARENTS[0], TRACEPARENTS[4]):
            yield {"traceparent": traceparent} if value is None else {"traceparent": traceparent, "baggage": value}
    yield {}
    yield {"baggage": "tenant=acme"}
    yield {"tracestate": "rojo=1"}


def _through_a_slot(fields: dict[str, str]) -> Context | None:
    return _carrier.extract_slot(_carrier.encode(fields))


def test_extract_matches_the_otel_propagator(default_propagator: TextMapPropagator) -> None:
    checked = 0
    for fields in _cases():
        ours = _through_a_slot(fields)
        theirs = default_propagator.extract(fields, context=Context(), getter=_carrier.fields_getter)
        if trace.get_current_span(theirs).get_span_context().is_valid:
            assert ours is not None, fields
            assert _facts(ours) == _facts(theirs), fields
        else:
            assert ours is None, fields  # no valid remote parent: nothing to continue
        checked += 1
    assert checked > len(TRACEPARENTS) * len(TRACESTATES)


def test_a_traceparent_the_sdk_rejects_is_rejected() -> None:
    over_long = f"00-{TRACE}-{SPAN}-01" + "x" * 10_000
    expected = TraceContextTextMapPropagator().extract({"traceparent": over_long})
    assert not trace.get_current_span(expected).get_span_context().is_valid
    assert _through_a_slot({"traceparent": over_long}) is None


def _contexts() -> Iterator[Context]:
    trace_ids = [int(TRACE, 16), 1, 2**128 - 1, 0]
    span_ids = [int(SPAN, 16), 1, 2**64 - 1, 0]
    states = [TraceState(), TraceState([("rojo", "00f067aa0ba902b7"), ("congo", "t61rcWkgMzE")])]
    for trace_id in trace_ids:
        for span_id in span_ids:
            for flags in (0, 1, 0xFF):
                for state in states:
                    span_context = trace.SpanContext(
                        trace_id, span_id, is_remote=False, trace_flags=trace.TraceFlags(flags), trace_state=state
                    )
                    ctx = trace.set_span_in_context(trace.NonRecordingSpan(span_context), Context())
                    yield ctx
                    yield baggage.set_baggage("region", "eu west", baggage.set_baggage("tenant", "acme", ctx))
    yield Context()
    yield baggage.set_baggage("tenant", "acme", Context())
    yield trace.set_span_in_context(trace.INVALID_SPAN, Context())


def test_inject_is_the_otel_propagator(default_propagator: TextMapPropagator) -> None:
    for ctx in _contexts():
        expected: dict[str, str] = {}
        default_propagator.inject(expected, context=ctx)
        assert list(_carrier.inject_fields(ctx).items()) == list(expected.items())


def test_inject_without_a_context_uses_the_current_one(default_propagator: TextMapPropagator) -> None:
    from opentelemetry.sdk.trace import TracerProvider

    with TracerProvider().get_tracer("t").start_as_current_span("producer"):
        expected: dict[str, str] = {}
        default_propagator.inject(expected)
        assert _carrier.inject_fields() == expected
        assert expected["traceparent"]


class _Subclass(TraceContextTextMapPropagator):
    pass


@pytest.mark.parametrize(
    "propagator",
    [
        CompositePropagator([W3CBaggagePropagator(), TraceContextTextMapPropagator()]),
        CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator(), W3CBaggagePropagator()]),
        CompositePropagator([W3CBaggagePropagator()]),
        W3CBaggagePropagator(),
        _Subclass(),
    ],
    ids=["baggage-first", "three", "baggage-only", "bare-baggage", "subclass"],
)
def test_any_other_configuration_goes_through_the_configured_propagator(propagator: TextMapPropagator) -> None:
    with global_propagator(propagator):
        carrier = {"traceparent": f"00-{TRACE}-{SPAN}-01", "baggage": "k=v"}
        ctx = _carrier.extract(carrier)
        expected = propagator.extract(carrier, context=Context(), getter=_carrier.fields_getter)
        if trace.get_current_span(expected).get_span_context().is_valid:
            assert ctx is not None and _facts(ctx) == _facts(expected)
        else:
            assert ctx is None


ENCODED = [
    {"traceparent": f"00-{TRACE}-{SPAN}-01"},
    {"traceparent": f"00-{TRACE}-{SPAN}-01", "tracestate": "rojo=1,congo=2", "baggage": "k=v;p=1"},
    {},
    {"quote": 'a"b'},
    {"backslash": "a\\b"},
    {"unicode": "caf\u00e9"},
    {"control": "a\nb\tc"},
    {"del": "a\x7fb"},
    {"key with space": "value with space"},
    {"k": "}{,:"},
]


@pytest.mark.parametrize("fields", ENCODED)
def test_encode_is_json(fields: dict[str, str]) -> None:
    encoded = _carrier.encode(fields)
    assert encoded == json.dumps(fields, separators=(",", ":"))
    assert _carrier.decode(encoded) == _carrier.lowered(json.loads(encoded).items())


DECODED = [
    '{"traceparent":"x"}',
    '{"a":"1","a":"2"}',  # duplicate keys: the last wins, as in json
    '{"A":"1","a":"2"}',
    '{"a":"1",}',  # trailing comma: invalid JSON
    '{"a":"1""b":"2"}',
    '{"a":1}',
    '{"a":"1", "b":"2"}',
    ' {"a":"1"}',
    '{"a":"\\u0041"}',
    '{"a":"1"}x',
    "{}",
    "{",
    '{"a":["1"]}',
    "{" + ",".join(f'"k{i}":"v"' for i in range(40)) + "}",  # more than MAX_FIELDS
    "{" + ",".join(f'"k{i}":"v"' for i in range(40)) + ',"k0":"last"}',
]


@pytest.mark.parametrize("text", DECODED)
def test_decode_matches_json(text: str) -> None:
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    expected = _carrier.lowered(parsed.items()) if isinstance(parsed, dict) else {}
    assert _carrier.decode(text) == expected
