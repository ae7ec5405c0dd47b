"""Reading traces back from Jaeger's HTTP query API (the one its UI uses) in end-to-end tests."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any


def get_json(query_url: str, path: str, params: dict[str, str] | None = None) -> Any:
    """GET `query_url + path` and decode the JSON body; HTTP errors propagate as HTTPError."""
    url = query_url.rstrip("/") + path
    if params:
        url += "?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def wait_for_trace(query_url: str, trace_id_hex: str, expected_span_count: int, timeout: float = 30) -> dict[str, Any]:
    """Poll `GET /api/traces/<id>` until the trace has at least `expected_span_count` spans.

    Returns the trace, i.e. the API's `data[0]`: ``{"traceID", "spans": [...], "processes": {...}}``.
    Spans travel SDK -> collector (batch) -> Jaeger (batch) and a trace's spans may arrive in
    several exports, so a trace that is found but still short is polled again.  Callers that
    care about an exact count assert on ``len(trace["spans"])`` themselves.
    """
    trace_id = trace_id_hex.lower().rjust(32, "0")
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    last_error = "no answer yet"
    while True:
        try:
            body = get_json(query_url, f"/api/traces/{trace_id}")
        except urllib.error.HTTPError as error:
            # 404 until the first span of the trace is stored.
            last_error = f"HTTP {error.code}"
        except (urllib.error.URLError, OSError) as error:
            last_error = str(error)
        else:
            data = body.get("data") or []
            if data:
                trace: dict[str, Any] = data[0]
                seen = [span["operationName"] for span in trace.get("spans", [])]
                if len(seen) >= expected_span_count:
                    return trace
                last_error = f"{len(seen)} of {expected_span_count} spans"
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"trace {trace_id} did not reach {expected_span_count} spans in Jaeger within {timeout}s "
                f"({last_error}; spans seen: {sorted(seen)})"
            )
        time.sleep(0.2)
