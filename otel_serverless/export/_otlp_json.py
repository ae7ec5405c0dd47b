"""An exporter that appends OTLP/JSON lines to a file: traces to keep, diff or replay.

Each export is one line holding an ``ExportTraceServiceRequest`` in the OTLP/JSON
encoding (the one the Collector's ``file`` exporter writes and its ``otlpjsonfile``
receiver reads): ids as lowercase hex, enums as integers. Encoding is the SDK's
own OTLP encoder; only the JSON spelling of ids differs from protobuf's defaults.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from otel_serverless._guard import guard

_ID_FIELDS = frozenset({"traceId", "spanId", "parentSpanId"})


def _hex_ids(node: Any) -> Any:
    """protobuf's JSON writes bytes as base64; OTLP/JSON wants trace and span ids as hex."""
    if isinstance(node, dict):
        return {
            key: base64.b64decode(value).hex() if key in _ID_FIELDS and isinstance(value, str) else _hex_ids(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_hex_ids(item) for item in node]
    return node


def to_otlp_json(spans: Sequence[ReadableSpan]) -> dict[str, Any]:
    from google.protobuf.json_format import MessageToDict
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    message = encode_spans(spans)
    return dict(_hex_ids(MessageToDict(message, use_integers_for_enums=True)))


class OtlpJsonFileExporter(SpanExporter):
    """Append one OTLP/JSON line per export to *path* (created with its folder)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if not spans:
            return SpanExportResult.SUCCESS
        with guard("export.otlp_json"):
            line = json.dumps(to_otlp_json(spans), separators=(",", ":"))
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as file:
                    file.write(line + "\n")
            return SpanExportResult.SUCCESS
        return SpanExportResult.FAILURE

    def shutdown(self) -> None:
        return None
