"""OTLP/JSON export requests built by hand with known values, for the insights core's tests.

Spans are written the way the demo's exporter and the Collector's ``file`` exporter
write them: ids as hex, kinds and status codes as integers, 64-bit integers as strings.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

T0_NS = 1_796_000_000 * 10**9  # 2026-11-30T00:53:20Z, the start of the tests' current window
HOUR_NS = 3600 * 10**9
MS = 1_000_000
WRAPPER = "otel_serverless.aws_lambda"
BOTOCORE = "opentelemetry.instrumentation.botocore"

_ids = itertools.count(1)


def new_trace() -> str:
    return f"{next(_ids):032x}"


def value(raw: Any) -> dict[str, Any]:
    if isinstance(raw, bool):
        return {"boolValue": raw}
    if isinstance(raw, int):
        return {"intValue": str(raw)}
    if isinstance(raw, float):
        return {"doubleValue": raw}
    if isinstance(raw, list | tuple):
        return {"arrayValue": {"values": [value(item) for item in raw]}}
    return {"stringValue": str(raw)}


@dataclass
class S:
    """One span: service (the function), times in ms from :data:`T0_NS` (or any base)."""

    service: str
    name: str
    start_ms: float
    duration_ms: float
    trace_id: str
    parent: S | None = None
    kind: int = 2
    scope: str = WRAPPER
    attributes: dict[str, Any] = field(default_factory=dict)
    error: bool = False
    links: list[S] = field(default_factory=list)
    trace_state: str | None = None
    base_ns: int = T0_NS
    span_id: str = field(default_factory=lambda: f"{next(_ids):016x}")

    def otlp(self) -> dict[str, Any]:
        start = self.base_ns + round(self.start_ms * MS)
        raw: dict[str, Any] = {
            "traceId": self.trace_id,
            "spanId": self.span_id,
            "name": self.name,
            "kind": self.kind,
            "startTimeUnixNano": str(start),
            "endTimeUnixNano": str(start + round(self.duration_ms * MS)),
            "attributes": [{"key": key, "value": value(item)} for key, item in self.attributes.items()],
            "status": {"code": 2, "message": "boom"} if self.error else {},
        }
        if self.parent is not None:
            raw["parentSpanId"] = self.parent.span_id
        if self.links:
            raw["links"] = [{"traceId": link.trace_id, "spanId": link.span_id} for link in self.links]
        if self.trace_state:
            raw["traceState"] = self.trace_state
        return raw


def invocation(
    function: str,
    start_ms: float,
    duration_ms: float,
    *,
    trace_id: str | None = None,
    parent: S | None = None,
    cold: bool = False,
    error: bool = False,
    timeout: bool = False,
    retry: bool = False,
    cost: float | None = None,
    peak_mb: float | None = None,
    limit_mb: int | None = None,
    timeout_ms: int | None = None,
    trigger: str = "other",
    extra: dict[str, Any] | None = None,
    base_ns: int = T0_NS,
    trace_state: str | None = None,
    links: list[S] | None = None,
) -> S:
    attributes: dict[str, Any] = {"faas.trigger": trigger, "faas.coldstart": cold, "serverless.retry": retry}
    if timeout:
        attributes["serverless.timeout"] = True
        error = True
    if cost is not None:
        attributes["serverless.cost.usd"] = cost
    if peak_mb is not None:
        attributes["serverless.memory.peak_mb"] = peak_mb
    if limit_mb is not None:
        attributes["serverless.memory.limit_mb"] = limit_mb
    if timeout_ms is not None:
        attributes["serverless.timeout.configured_ms"] = timeout_ms
    attributes.update(extra or {})
    return S(
        function,
        function,
        start_ms,
        duration_ms,
        trace_id or (parent.trace_id if parent else new_trace()),
        parent=parent,
        attributes=attributes,
        error=error,
        base_ns=base_ns,
        trace_state=trace_state,
        links=links or [],
    )


def call(
    parent: S, name: str, start_ms: float, duration_ms: float, *, kind: int = 3, error: bool = False, **attributes: Any
) -> S:
    """An AWS SDK call made inside *parent* (botocore's scope)."""
    return S(
        parent.service,
        name,
        start_ms,
        duration_ms,
        parent.trace_id,
        parent=parent,
        kind=kind,
        scope=BOTOCORE,
        attributes={"rpc.system": "aws-api", **{key.replace("__", "."): item for key, item in attributes.items()}},
        error=error,
        base_ns=parent.base_ns,
    )


def request(spans: Iterable[S], resource: dict[str, Any] | None = None) -> dict[str, Any]:
    """One ExportTraceServiceRequest: a resourceSpans per service."""
    by_service: dict[str, list[S]] = {}
    for span in spans:
        by_service.setdefault(span.service, []).append(span)
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [
                        {"key": "service.name", "value": value(service)},
                        *({"key": key, "value": value(item)} for key, item in (resource or {}).items()),
                    ]
                },
                "scopeSpans": _scopes(spans),
            }
            for service, spans in by_service.items()
        ]
    }


def _scopes(spans: list[S]) -> list[dict[str, Any]]:
    by_scope: dict[str, list[S]] = {}
    for span in spans:
        by_scope.setdefault(span.scope, []).append(span)
    return [{"scope": {"name": scope}, "spans": [span.otlp() for span in group]} for scope, group in by_scope.items()]


def write(path: Path, *batches: Iterable[S], resource: dict[str, Any] | None = None) -> Path:
    """One line per batch, as an exporter appends them."""
    with path.open("w", encoding="utf-8") as file:
        for batch in batches:
            file.write(json.dumps(request(batch, resource), separators=(",", ":")) + "\n")
    return path
