"""Every carrier shape gives what the general path gives.

Each shape (a slot, our slot among message attributes, a payload whose context is
its last member — read from the tail without parsing a large document —, a
ClientContext) is checked against the general path (parse everything, merge every
field, hand them to the propagator) on a corpus of valid, invalid and hostile
inputs, under both default propagator configurations and a non-default one.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from otel_serverless.propagation import _carrier, _payload, kinesis, lambda_invoke, sqs, stepfunctions
from otel_serverless.propagation._carrier import RESERVED_KEY
from tests.propagation.conftest import DEFAULT_PROPAGATORS, global_propagator
from tests.propagation.test_w3c_through_carriers import TRACEPARENTS, _facts

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"
VALID = f"00-{TRACE}-{SPAN}-01"


class _Upper(TraceContextTextMapPropagator):
    """Not the default: the shortcuts must step aside and let the propagator decide."""


@pytest.fixture(params=[*DEFAULT_PROPAGATORS, "other"])
def propagator(request: pytest.FixtureRequest) -> Iterator[TextMapPropagator]:
    chosen = _Upper() if request.param == "other" else DEFAULT_PROPAGATORS[request.param]()
    with global_propagator(chosen):
        yield chosen


def facts(ctx: Context | None) -> tuple[object, ...] | None:
    """What a consumer can see of an extracted context; None for none."""
    if ctx is None:
        return None
    span_context = trace.get_current_span(ctx).get_span_context()
    # Also the whole tuple and its type, as SpanContext() builds them: the shortcut builds it directly.
    return (*_facts(ctx), tuple(span_context), type(span_context))


def general(fields: dict[str, str]) -> tuple[object, ...] | None:
    return facts(_carrier.extract(fields))


SLOTS: list[Any] = [
    *(_carrier.encode({"traceparent": value}) for value in TRACEPARENTS),
    *({"traceparent": value} for value in TRACEPARENTS),
    _carrier.encode({"traceparent": VALID, "tracestate": "rojo=1"}),
    _carrier.encode({"traceparent": VALID, "baggage": "tenant=acme"}),
    {"traceparent": VALID, "tracestate": "rojo=1"},
    {"TraceParent": VALID},
    f'{{"traceparent": "{VALID}"}}',  # spaced JSON
    f'{{"traceparent":"{VALID}"}} ',
    f'{{"traceparent":"{VALID.upper()}"}}',
    VALID.encode(),
    _carrier.encode({"traceparent": VALID}).encode(),
    None,
    42,
    ["traceparent", VALID],
    "",
]


def test_a_slot_gives_what_the_general_path_gives(propagator: TextMapPropagator) -> None:
    for value in SLOTS:
        assert facts(_carrier.extract_slot(value)) == general(_carrier.decode(value)), value


def _remote_parent() -> Context:
    span_context = trace.SpanContext(int(TRACE, 16), int(SPAN, 16), False, trace.TraceFlags(1))
    return trace.set_span_in_context(trace.NonRecordingSpan(span_context), Context())


# -- message attributes: our slot alone, or merged with what other tools wrote ----------


def _attribute(value: str) -> dict[str, str]:
    return {"stringValue": value, "dataType": "String"}


ATTRIBUTES: list[Any] = [
    {RESERVED_KEY: _attribute(_carrier.encode({"traceparent": VALID}))},
    {RESERVED_KEY: _attribute(_carrier.encode({"traceparent": VALID})), "tracestate": _attribute("rojo=1")},
    {RESERVED_KEY: _attribute(_carrier.encode({"traceparent": VALID})), "baggage": _attribute("tenant=acme")},
    {RESERVED_KEY: _attribute(_carrier.encode({"traceparent": VALID})), "traceparent": _attribute(VALID[:-1] + "0")},
    {RESERVED_KEY: _attribute(_carrier.encode({"traceparent": f"00-{'0' * 32}-{SPAN}-01"}))},
    {
        RESERVED_KEY: _attribute(_carrier.encode({"traceparent": f"00-{'0' * 32}-{SPAN}-01"})),
        "_datadog": _attribute(json.dumps({"x-datadog-trace-id": "123", "x-datadog-parent-id": "456"})),
    },
    {RESERVED_KEY: {"Type": "String", "Value": _carrier.encode({"traceparent": VALID})}},
    {RESERVED_KEY: {"Type": "Binary", "Value": base64.b64encode(_carrier.encode({"traceparent": VALID}).encode())}},
    {RESERVED_KEY: _attribute("not json")},
    {RESERVED_KEY: "not an attribute"},
    {"traceparent": _attribute(VALID)},
    {},
]


def test_attributes_give_what_merging_every_field_gives(propagator: TextMapPropagator) -> None:
    for attributes in ATTRIBUTES:
        fields = _carrier.fields_from_attributes(attributes)
        expected = general(fields)
        if expected is None and "x-datadog-trace-id" in fields:
            from otel_serverless.propagation import _datadog

            expected = facts(_datadog.context(fields))
        assert facts(_carrier.extract_attributes(attributes)) == expected, attributes


def test_an_upstream_tracestate_attribute_is_still_merged() -> None:
    attributes = {RESERVED_KEY: _attribute(_carrier.encode({"traceparent": VALID})), "tracestate": _attribute("rojo=1")}
    found = sqs.extract_lambda_record({"messageAttributes": attributes, "body": "x"})
    assert found is not None
    assert trace.get_current_span(found).get_span_context().trace_state.get("rojo") == "1"


# -- payloads: the context read from the document's end --------------------------------

SLOT = _carrier.encode({"traceparent": VALID})
ZERO_SLOT = _carrier.encode({"traceparent": f"00-{'0' * 32}-{SPAN}-01"})
OTHER = f"00-{'1' * 32}-{'2' * 16}-01"
DOCUMENTS = [
    f'{{"order":1,"_otel":{SLOT}}}',
    f'{{"_otel":{SLOT}}}',
    f'{{"order":1,"_otel":{SLOT}}}\n  ',
    f'  {{"order":1,"_otel":{SLOT}}}',
    f'{{"a":{{"_otel":{SLOT}}}}}',  # nested: not the top level's
    f'{{"a":{{"_otel":{SLOT}}},"b":1}}',
    f'{{"_otel":{SLOT},"order":1}}',  # first, not last: parsed
    f'{{"_otel":{_carrier.encode({"traceparent": VALID[:-1] + "0"})},"_otel":{SLOT}}}',  # duplicate: last wins
    f'{{"_otel":{SLOT},"_otel":{{"traceparent":"{OTHER}"}}}}',
    '{"text":"\\"_otel\\":' + SLOT.replace('"', '\\"') + '}"}',  # inside a string
    f'{{"text":"caf\u00e9","_otel":{SLOT}}}',
    f'{{"order":1,"_otel":{_carrier.encode({"traceparent": VALID, "tracestate": "rojo=1"})}}}',
    f'{{"order":1,"_otel":{{"traceparent": "{VALID}"}}}}',
    f'{{"order":1,"_otel":{ZERO_SLOT}}}',
    f'{{"order":1,"_otel":{{"traceparent":"{VALID[:36]}{"0" * 16}{VALID[52:]}"}}}}',  # all-zero span id
    f'{{"order":1,"_otel":{{"traceparent":"{VALID.upper()}"}}}}',  # upper-case hex: not what W3C allows
    f'{{"order":1,"_otel":{SLOT}}}x',
    f'["_otel",{SLOT}]',
    '{"order":1}',
    "{}",
    "",
]


def _parsed_path(document: str) -> tuple[object, ...] | None:
    try:
        parsed = json.loads(document)
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None
    return general(_carrier.decode(parsed.get(RESERVED_KEY)))


@pytest.mark.parametrize("document", DOCUMENTS)
def test_payload_readers_give_what_parsing_gives(document: str) -> None:
    expected = _parsed_path(document)
    if document.endswith("x"):  # not JSON: the tail reader may still find the context, and only ours
        assert facts(kinesis.extract_data(document)) in (None, general({"traceparent": VALID}))
        return
    assert facts(kinesis.extract_data(document)) == expected
    assert facts(kinesis.extract_data(document.encode())) == expected
    assert facts(stepfunctions.extract_input(document)) == expected
    data = base64.b64encode(document.encode()).decode()
    assert facts(kinesis.extract_record({"kinesis": {"data": data}})) == expected


def test_the_tail_shortcut_is_taken_for_what_embed_writes() -> None:
    fields = _carrier.inject_fields(_remote_parent())
    for document in ('{"order": 1}', b'{"order": 1}', "{}", ' {"a": [1, {"b": "}"}]}\n'):
        embedded, reason = _payload.embed(document, fields, 10_000)
        assert reason is None and embedded is not None
        assert _payload.from_tail(embedded) is not None
    big = json.dumps({"rows": ["x" * 100] * 2_000})
    embedded, _ = _payload.embed(big, fields, 1_000_000)
    assert isinstance(embedded, str) and _payload.from_tail(embedded) is not None


# -- embed: the user's bytes kept, only JSON objects, only UTF-8 ------------------------


@pytest.mark.parametrize(
    "document",
    ['{"order": 1}', b'{"order": 1}', bytearray(b'{"a": "caf\xc3\xa9"}'), '{"a":"caf\u00e9"}', " {}", "{}\n"],
)
def test_embed_keeps_the_user_bytes(document: str | bytes | bytearray) -> None:
    fields = {"traceparent": VALID}
    embedded, reason = _payload.embed(document, fields, 10_000)
    assert reason is None and embedded is not None
    assert type(embedded) is (str if isinstance(document, str) else bytes)
    original = document if isinstance(document, str) else bytes(document).decode()
    text = embedded if isinstance(embedded, str) else embedded.decode()
    assert json.loads(text) == {**json.loads(original), RESERVED_KEY: fields}
    end = original.rindex("}")
    assert text.startswith(original[:end]) and text.endswith(original[end:])


@pytest.mark.parametrize(
    "document",
    [
        '{"order": 1}'.encode("utf-16"),
        '{"order": 1}'.encode("utf-16-le"),
        '{"order": 1}'.encode("utf-32-be"),
        b'{"a": "\xff"}',  # not UTF-8
        b'{"a": 1}{"b": 2}',  # two documents (JSON lines)
        b"[1, 2]",
        "not json",
        '{"a": 1',
    ],
)
def test_embed_leaves_anything_else_alone(document: str | bytes) -> None:
    assert _payload.embed(document, {"traceparent": VALID}, 10_000) == (None, _payload.NOT_JSON_OBJECT)


def test_embed_replaces_a_stale_context_and_respects_the_limit() -> None:
    stale = f'{{"order":1,"_otel":{_carrier.encode({"traceparent": VALID[:-1] + "0"})}}}'
    embedded, _ = _payload.embed(stale, {"traceparent": VALID}, 10_000)
    assert isinstance(embedded, str) and json.loads(embedded)[RESERVED_KEY] == {"traceparent": VALID}
    assert embedded.count(RESERVED_KEY) == 1
    small = '{"a":"' + "\u00e9" * 10 + '"}'
    assert _payload.embed(small, {"traceparent": VALID}, len(small) + 60) == (None, _payload.TOO_LARGE)


# -- encoding: the slot the injection just wrote, and any other fields -------------------


def test_encode_matches_json_for_the_slot_just_injected_and_for_any_other() -> None:
    fields = _carrier.inject_fields(_remote_parent())
    assert _carrier.encode(fields) == json.dumps(fields, separators=(",", ":"))
    other = {"traceparent": f"00-{'1' * 32}-{'2' * 16}-01"}
    assert _carrier.encode(other) == json.dumps(other, separators=(",", ":"))
    equal_not_same = {"traceparent": "".join(fields["traceparent"])}
    assert _carrier.encode(equal_not_same) == json.dumps(fields, separators=(",", ":"))
    quoted = {"traceparent": 'x"y'}
    assert _carrier.encode(quoted) == json.dumps(quoted, separators=(",", ":"))


def test_lambda_client_context_of_our_own_is_the_json_document() -> None:
    fields = {"traceparent": VALID, "tracestate": "rojo=1"}
    encoded, outcome = lambda_invoke.inject_client_context(None, fields)
    assert outcome.injected and encoded is not None
    assert base64.b64decode(encoded).decode() == json.dumps({"custom": fields}, separators=(",", ":"))
    bare, _ = lambda_invoke.inject_client_context(None, {"traceparent": VALID})
    assert bare is not None
    custom = json.loads(base64.b64decode(bare))["custom"]
    assert facts(lambda_invoke.extract_client_context({"custom": custom})) == general({"traceparent": VALID})
    for custom in ({"TRACEPARENT": VALID}, {"traceparent": VALID.upper()}, {"traceparent": 1}):
        assert facts(lambda_invoke.extract_client_context({"custom": custom})) == general(
            _carrier.lowered(custom.items())
        )


def test_attribute_size_counts_list_values() -> None:
    attribute = {"DataType": "String.Array", "StringListValues": ["ab", "\u00e9"], "BinaryListValues": [b"xyz"]}
    assert _carrier.attribute_size("name", attribute) == 4 + 12 + 2 + 2 + 3
    assert _carrier.attributes_size({"name": attribute, "k": {"DataType": "String", "StringValue": "v"}}) == 23 + 8


PARSE_CORPUS: list[str | bytes] = [
    '{"a": 1}',
    ' \t\n{"a": [1, 2, {"b": null}]}\r\n',
    "{}",
    '{"a": 1} x',
    '{"a": 1}{"b": 2}',
    '{"a": 1,}',
    '{"a": NaN}',
    '{"a": "\\ud800"}',
    '{"a": 1e400}',
    "[1]",
    '"text"',
    "",
    "{",
    "\u00a0{}",  # not JSON whitespace
    "\ufeff{}",
    "{" * 100_000 + "}" * 100_000,  # deeper than the recursion limit
    b'{"a": "caf\xc3\xa9"}',
    b'{"a": "\xff"}',
    '{"a": 1}'.encode("utf-16-le"),
    b"\xef\xbb\xbf{}",
    b'  {"a": 1}  ',
]


@pytest.mark.parametrize("document", PARSE_CORPUS, ids=range(len(PARSE_CORPUS)))
def test_parse_object_accepts_what_json_loads_accepts_as_a_utf8_object(document: str | bytes) -> None:
    try:
        text = document.decode("utf-8") if isinstance(document, bytes) else document
        expected = json.loads(text)
    except (ValueError, RecursionError):
        expected = None
    if not isinstance(expected, dict):
        expected = None
    assert _payload.parse_object(document) == expected


@pytest.mark.parametrize("size", [0, 100, 10_000])
def test_kinesis_reads_a_large_record_from_its_last_bytes(size: int) -> None:
    fields = {"traceparent": VALID}
    for document in (json.dumps({"rows": "x" * size}), json.dumps({"rows": "x" * size, "n": [1] * (size % 7)})):
        embedded, _ = _payload.embed(document.encode(), fields, 10_000_000)
        assert isinstance(embedded, bytes)
        for padding in (b"", b" ", b"  "):  # every base64 padding length
            data = base64.b64encode(embedded + padding).decode()
            assert facts(kinesis.extract_record({"kinesis": {"data": data}})) == general(fields)
    first = f'{{"_otel":{SLOT},"rows":"{"x" * size}"}}'  # not at the end: the whole record is read
    data = base64.b64encode(first.encode()).decode()
    assert facts(kinesis.extract_record({"kinesis": {"data": data}})) == general(fields)
    assert kinesis.extract_record({"kinesis": {"data": data[:-1]}}) is None  # not base64
