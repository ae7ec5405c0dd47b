"""Render finished spans as one tree per trace, for a terminal."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from otel_serverless import attributes as attr

#: Marks as the tree and the demo's check name them, from what the span carries.
MARKS = ("cold start", "retry", "timeout", "memory", "error")


def marks(span: ReadableSpan) -> list[str]:
    """The serverless facts a reader looks for first, in :data:`MARKS` order."""
    values = span.attributes or {}
    found = []
    if values.get(attr.FAAS_COLDSTART) is True:
        found.append("cold start")
    if values.get(attr.RETRY) is True:
        found.append("retry")
    if values.get(attr.TIMEOUT) is True:
        found.append("timeout")
    if any(event.name == attr.MEMORY_NEAR_LIMIT_EVENT for event in span.events):
        found.append("memory")
    if span.status.status_code is StatusCode.ERROR:
        found.append("error")
    return found


def _service(span: ReadableSpan) -> str:
    value = span.resource.attributes.get(attr.SERVICE_NAME, "?")
    return str(value)


def _duration_ms(span: ReadableSpan) -> float:
    if span.start_time is None or span.end_time is None:
        return 0.0
    return (span.end_time - span.start_time) / 1e6


def render(spans: Iterable[ReadableSpan]) -> str:
    """One block per trace: service, operation, duration and marks, children indented.

    A span whose parent is not among *spans* is a root of its trace's block; a
    link to another span shown here is written as ``↳ follows <operation>``.
    """
    ordered = sorted(spans, key=lambda s: s.start_time or 0)
    by_id = {s.context.span_id: s for s in ordered if s.context is not None}
    children: dict[int, list[ReadableSpan]] = defaultdict(list)
    roots: dict[int, list[ReadableSpan]] = defaultdict(list)
    for span in ordered:
        if span.context is None:
            continue
        parent = span.parent.span_id if span.parent is not None else None
        if parent is not None and parent in by_id:
            children[parent].append(span)
        else:
            roots[span.context.trace_id].append(span)
    lines: list[str] = []
    for trace_id, trace_roots in roots.items():
        lines.append(f"trace {trace_id:032x}")
        for index, root in enumerate(trace_roots):
            _walk(root, children=children, by_id=by_id, prefix="", last=index == len(trace_roots) - 1, lines=lines)
    return "\n".join(lines)


def _walk(
    span: ReadableSpan,
    *,
    children: dict[int, list[ReadableSpan]],
    by_id: dict[int, ReadableSpan],
    prefix: str,
    last: bool,
    lines: list[str],
) -> None:
    branch = "└─ " if last else "├─ "
    found = marks(span)
    suffix = f"  [{', '.join(found)}]" if found else ""
    lines.append(f"{prefix}{branch}{_service(span)}: {span.name}  {_duration_ms(span):.1f} ms{suffix}")
    inner = prefix + ("   " if last else "│  ")
    for link in span.links:
        target = by_id.get(link.context.span_id)
        if target is not None:
            lines.append(f"{inner}↳ follows {_service(target)}: {target.name}")
    kids: Sequence[ReadableSpan] = children.get(span.context.span_id, []) if span.context else []
    for index, child in enumerate(kids):
        _walk(child, children=children, by_id=by_id, prefix=inner, last=index == len(kids) - 1, lines=lines)
