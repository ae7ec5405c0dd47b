"""OTLP/JSON ``ExportTraceServiceRequest`` → :class:`~otel_serverless.insights._model.Span`.

The encoding is the one the Collector's ``file`` exporter and our demo write: ids as
hex, enums as integers, 64-bit integers as strings (protobuf's JSON mapping).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from otel_serverless import attributes as attr
from otel_serverless.insights._model import SAMPLING_RATIO, WANTED, Span, weight_of

_STATUS_ERROR: Final = 2


class NotOtlp(ValueError):
    """The JSON is not an OTLP trace export request."""


def value_of(value: Mapping[str, Any]) -> Any:
    """One OTLP ``AnyValue`` as a Python value (arrays as lists)."""
    for key, found in value.items():
        if key in {"stringValue", "boolValue", "doubleValue"}:
            return found
        if key == "intValue":
            try:
                return int(found)
            except (TypeError, ValueError):
                return None
        if key == "arrayValue":
            values = found.get("values", []) if isinstance(found, dict) else []
            return [value_of(item) for item in values if isinstance(item, dict)]
    return None


def _wanted(attributes: Any) -> dict[str, Any]:
    """The attributes insights reads. A fast pass for well-formed input; a careful one otherwise."""
    kept: dict[str, Any] = {}
    try:
        for item in attributes:
            key = item["key"]
            if key in WANTED:
                ((kind, found),) = item["value"].items()
                if kind == "intValue":
                    found = int(found)
                elif kind == "arrayValue":
                    found = [value_of(one) for one in found.get("values", ())]
                kept[key] = found
    except (KeyError, TypeError, ValueError, AttributeError):
        return _wanted_carefully(attributes)
    return kept


def _wanted_carefully(attributes: Any) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    if not isinstance(attributes, list):
        return kept
    for item in attributes:
        if not isinstance(item, dict):
            continue
        key = item.get("key")
        if key in WANTED:
            value = item.get("value")
            if isinstance(value, dict):
                kept[key] = value_of(value)
    return kept


def spans_of(request: Any) -> Iterator[Span]:
    """Every span of one export request; :class:`NotOtlp` if it is not one."""
    if not isinstance(request, dict) or not isinstance(request.get("resourceSpans"), list):
        raise NotOtlp("not an OTLP/JSON trace export (no resourceSpans)")
    for resource_spans in request["resourceSpans"]:
        if not isinstance(resource_spans, dict):
            continue
        resource = resource_spans.get("resource")
        resource_attributes = _resource(resource.get("attributes") if isinstance(resource, dict) else None)
        service = str(resource_attributes.get(attr.FAAS_NAME) or resource_attributes.get(attr.SERVICE_NAME) or "?")
        ratio = resource_attributes.get(SAMPLING_RATIO)
        for scope_spans in resource_spans.get("scopeSpans") or ():
            if not isinstance(scope_spans, dict):
                continue
            scope = scope_spans.get("scope")
            scope_name = str(scope.get("name", "")) if isinstance(scope, dict) else ""
            for raw in scope_spans.get("spans") or ():
                span = _span(raw, service, scope_name, ratio)
                if span is not None:
                    yield span


def _resource(attributes: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if isinstance(attributes, list):
        for item in attributes:
            key = item.get("key") if isinstance(item, dict) else None
            if key in (attr.FAAS_NAME, attr.SERVICE_NAME, SAMPLING_RATIO) and isinstance(item.get("value"), dict):
                found[key] = value_of(item["value"])
    return found


def _span(raw: Any, service: str, scope: str, ratio: Any) -> Span | None:
    if not isinstance(raw, dict):
        return None
    try:
        trace_id = raw["traceId"]
        span_id = raw["spanId"]
        start = int(raw["startTimeUnixNano"])
        end = int(raw.get("endTimeUnixNano") or start)
    except (KeyError, TypeError, ValueError):
        return None
    attributes = _wanted(raw.get("attributes") or ())
    status = raw.get("status")
    links = raw.get("links")
    trace_state = raw.get("traceState")
    if trace_state or ratio is not None or SAMPLING_RATIO in attributes:
        weight = weight_of(trace_state, attributes.get(SAMPLING_RATIO, ratio))
    else:
        weight = 1.0
    kind = raw.get("kind")
    # Positional: this runs once per span read.
    return Span(
        trace_id if type(trace_id) is str else str(trace_id),
        span_id if type(span_id) is str else str(span_id),
        raw.get("parentSpanId") or None,
        name if type(name := raw.get("name")) is str else str(name or ""),
        service,
        scope,
        kind if type(kind) is int else 1,
        start,
        end,
        bool(status) and isinstance(status, dict) and status.get("code") == _STATUS_ERROR,
        attributes,
        [str(link["spanId"]) for link in links if isinstance(link, dict) and "spanId" in link]
        if links and isinstance(links, list)
        else [],
        weight,
    )
