"""What a dataflow's spans must show: one connected trace, every hop, the faults' marks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from opentelemetry.sdk.trace import ReadableSpan

from otel_serverless import attributes as attr
from otel_serverless._treeview import marks


def service(span: ReadableSpan) -> str:
    return str(span.resource.attributes.get(attr.SERVICE_NAME, "?"))


def is_invocation(span: ReadableSpan) -> bool:
    return attr.FAAS_INVOCATION_ID in (span.attributes or {})


@dataclass(frozen=True)
class Expectation:
    """What one dataflow must show."""

    #: Services that must have an invocation span (or, for a client, any span) in the trace.
    services: tuple[str, ...]
    #: (service, mark) pairs that must appear on that service's spans.
    marks: tuple[tuple[str, str], ...] = ()
    #: Services whose presence is only a client's, not an invocation.
    clients: tuple[str, ...] = ()


@dataclass
class Verdict:
    problems: list[str] = field(default_factory=list)
    trace_ids: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def components(spans: Sequence[ReadableSpan]) -> int:
    """How many pieces the spans form, joined by parent/child and by links."""
    return len(set(pieces_of(spans).values()))


def pieces_of(spans: Sequence[ReadableSpan]) -> dict[int, int]:
    """Span id → an id of the piece it belongs to (joined by parent/child and by links)."""
    ids = [s.context.span_id for s in spans if s.context is not None]
    parent_of = {span_id: span_id for span_id in ids}

    def root(span_id: int) -> int:
        while parent_of[span_id] != span_id:
            parent_of[span_id] = parent_of[parent_of[span_id]]
            span_id = parent_of[span_id]
        return span_id

    def join(a: int, b: int) -> None:
        if a in parent_of and b in parent_of:
            parent_of[root(a)] = root(b)

    for span in spans:
        if span.context is None:
            continue
        if span.parent is not None:
            join(span.context.span_id, span.parent.span_id)
        for link in span.links:
            join(span.context.span_id, link.context.span_id)
    return {span_id: root(span_id) for span_id in ids}


def check(spans: Sequence[ReadableSpan], expected: Expectation) -> Verdict:
    verdict = Verdict(trace_ids=sorted({s.context.trace_id for s in spans if s.context is not None}))
    if not spans:
        verdict.problems.append("no spans at all")
        return verdict
    pieces = components(spans)
    if pieces != 1:
        verdict.problems.append(f"the spans form {pieces} disconnected pieces, not one trace")
    present = {service(s) for s in spans if is_invocation(s) or service(s) in expected.clients}
    for name in expected.services:
        if name not in present:
            verdict.problems.append(f"no {name} invocation in the trace")
    shown = {(service(s), mark) for s in spans for mark in marks(s)}
    for name, mark in expected.marks:
        if (name, mark) not in shown:
            verdict.problems.append(f"{name} does not show its {mark} mark")
    return verdict


def unexpected_traces(spans: Iterable[ReadableSpan], known: set[int]) -> set[int]:
    return {s.context.trace_id for s in spans if s.context is not None} - known
