"""Source: Jaeger's query API (``/api/services``, ``/api/traces``), paged and time-windowed.

Jaeger answers at most ``limit`` whole traces per query (the most recent first), with no
cursor: when a page is full, the next one asks for the same service with the window's
end moved to the earliest start of that service's spans in the page (inclusive: a trace
met twice is read once), until a page comes back short. A trace found through several
services is read once.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any, Final, TextIO

from otel_serverless import attributes as attr
from otel_serverless.insights._errors import SourceError
from otel_serverless.insights._model import (
    CLIENT,
    CONSUMER,
    INTERNAL,
    JAEGER_TRACESTATE,
    PRODUCER,
    SAMPLING_RATIO,
    SERVER,
    WANTED,
    Span,
    weight_of,
)
from otel_serverless.insights._progress import Progress

PAGE: Final = 200
TIMEOUT_S: Final = 15.0
_KINDS: Final = {"client": CLIENT, "server": SERVER, "producer": PRODUCER, "consumer": CONSUMER, "internal": INTERNAL}
#: Jaeger's own services, when it traces itself.
_OWN: Final = ("jaeger",)


def _get(base: str, path: str, query: dict[str, Any] | None = None) -> Any:
    url = base.rstrip("/") + path + ("?" + urllib.parse.urlencode(query) if query else "")
    if not url.startswith(("http://", "https://")):
        raise SourceError(f"--jaeger {base}: not an http(s) URL")
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as answer:  # noqa: S310  # http(s) only, checked above
            body = answer.read()
    except urllib.error.HTTPError as error:
        raise SourceError(f"Jaeger at {base} answered HTTP {error.code} to {path}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", None) or error
        raise SourceError(f"Jaeger at {base} is unreachable ({reason})") from None
    try:
        decoded = json.loads(body)
    except ValueError:
        raise SourceError(f"Jaeger at {base}: {path} did not answer JSON (is this Jaeger's query port?)") from None
    if not isinstance(decoded, dict) or not isinstance(decoded.get("data"), list | type(None)):
        raise SourceError(f"Jaeger at {base}: unexpected answer to {path}")
    return decoded.get("data") or []


def services(base: str) -> list[str]:
    return sorted(
        str(name) for name in _get(base, "/api/services") if isinstance(name, str) and not name.startswith(_OWN)
    )


def read(  # noqa: PLR0917  # the source's one entry point, called once
    base: str,
    wanted: list[str],
    start_ns: int,
    end_ns: int,
    add_trace: Callable[[list[Span]], None],
    progress_stream: TextIO | None,
) -> list[str]:
    """Every trace of *wanted* services (all but Jaeger's own when empty) in the window; the services read."""
    names = wanted or services(base)
    seen: set[str] = set()
    progress = Progress(progress_stream, len(names), "reading traces from Jaeger", always=True, unit="services")
    spans = 0
    for index, service in enumerate(names):
        for trace in _pages(base, service, start_ns, end_ns):
            trace_id = str(trace.get("traceID", ""))
            if trace_id in seen:
                continue
            seen.add(trace_id)
            converted = list(spans_of(trace))
            spans += len(converted)
            add_trace(converted)
        progress.update(index + 1, spans)
    progress.done(spans)
    return names


def _pages(base: str, service: str, start_ns: int, end_ns: int) -> Iterator[dict[str, Any]]:
    start_us, end_us = start_ns // 1000, end_ns // 1000
    while end_us > start_us:
        page = [
            trace
            for trace in _get(
                base, "/api/traces", {"service": service, "start": start_us, "end": end_us, "limit": PAGE}
            )
            if isinstance(trace, dict)
        ]
        yield from page
        if len(page) < PAGE:
            return
        oldest = min((_service_start_us(trace, service) for trace in page), default=end_us)
        # Every trace of the service after *oldest* was in this page: ask again up to it.
        end_us = oldest if oldest < end_us else end_us - 1


def _service_start_us(trace: dict[str, Any], service: str) -> int:
    """The earliest start of *service*'s spans in *trace* (of any span, if it has none)."""
    processes = trace.get("processes") if isinstance(trace.get("processes"), dict) else {}
    starts: list[int] = []
    every: list[int] = []
    for span in trace.get("spans") or ():
        start = span.get("startTime") if isinstance(span, dict) else None
        if not isinstance(start, int):
            continue
        every.append(start)
        process = processes.get(span.get("processID"), {}) if isinstance(processes, dict) else {}
        if isinstance(process, dict) and process.get("serviceName") == service:
            starts.append(start)
    return min(starts or every or [0])


def _tag_value(tag: dict[str, Any]) -> Any:
    value = tag.get("value")
    if isinstance(value, str) and value.startswith("[") and value.endswith("]"):
        try:  # OTLP arrays reach Jaeger as JSON text
            parsed = json.loads(value)
        except ValueError:
            return value
        return parsed if isinstance(parsed, list) else value
    return value


def _tags(tags: Any, keep: frozenset[str] | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for tag in tags if isinstance(tags, list) else ():
        if isinstance(tag, dict) and isinstance(tag.get("key"), str) and (keep is None or tag["key"] in keep):
            found[tag["key"]] = _tag_value(tag)
    return found


_SPAN_TAGS: Final = WANTED | {"span.kind", "otel.status_code", "error", "otel.scope.name", "otel.library.name"}


def spans_of(trace: dict[str, Any]) -> Iterator[Span]:
    """One Jaeger trace (``/api/traces`` JSON) as spans."""
    processes = trace.get("processes") if isinstance(trace.get("processes"), dict) else {}
    for raw in trace.get("spans") or ():
        if not isinstance(raw, dict):
            continue
        try:
            start_us = int(raw["startTime"])
            duration_us = int(raw.get("duration") or 0)
            trace_id = str(raw["traceID"]).lower().zfill(32)
            span_id = str(raw["spanID"]).lower().zfill(16)
        except (KeyError, TypeError, ValueError):
            continue
        process = processes.get(raw.get("processID"), {}) if isinstance(processes, dict) else {}
        process_tags = _tags(process.get("tags") if isinstance(process, dict) else None)
        service = str(
            process_tags.get(attr.FAAS_NAME)
            or (process.get("serviceName") if isinstance(process, dict) else None)
            or "?"
        )
        tags = _tags(raw.get("tags"), _SPAN_TAGS)
        parent: str | None = None
        links: list[str] = []
        for reference in raw.get("references") or ():
            if not isinstance(reference, dict) or "spanID" not in reference:
                continue
            other = str(reference["spanID"]).lower().zfill(16)
            if reference.get("refType") == "CHILD_OF" and parent is None:
                parent = other
            else:
                links.append(other)
        kind = _KINDS.get(str(tags.pop("span.kind", "internal")), INTERNAL)
        error = tags.pop("otel.status_code", None) == "ERROR" or tags.pop("error", None) is True
        scope = str(tags.pop("otel.scope.name", None) or tags.pop("otel.library.name", None) or "")
        start_ns = start_us * 1000
        yield Span(
            trace_id=trace_id,
            span_id=span_id,
            parent_id=parent,
            name=str(raw.get("operationName", "")),
            service=service,
            scope=scope,
            kind=kind,
            start_ns=start_ns,
            end_ns=start_ns + duration_us * 1000,
            error=error,
            attributes=tags,
            links=links,
            weight=weight_of(tags.get(JAEGER_TRACESTATE), tags.get(SAMPLING_RATIO, process_tags.get(SAMPLING_RATIO))),
        )
