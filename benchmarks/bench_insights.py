"""Insights over a large OTLP/JSON file: time and peak memory against merely parsing it.

The file holds 100,000 spans the way the demo and the Collector's ``file`` exporter write
them (one ``ExportTraceServiceRequest`` per line, 60 spans a line): traces of an HTTP or
SQS-triggered invocation with its AWS SDK calls, some with an asynchronous hop to a second
function, one trace a second over about nine hours, with the attributes the wrapper writes.

- I1: ``build_report`` over the file (read, assemble traces, aggregate,
  report) against the peer, ``json.loads`` of every line of the same file (the least any
  reader does). CPU seconds, median of alternating rounds.
- I2: the peak of Python allocations (``tracemalloc``) while doing each.
- I3: our peak at 100,000 spans over our peak at 10,000 (flat: the
  traces are held in a bounded window by time and the percentiles are sketches).

Not a test: no timing is asserted anywhere. Run alone: ``python -m benchmarks._one bench_insights``.
"""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks._report import Result, result
from otel_serverless.insights import Window, build_report

SPANS_PER_LINE = 60
T0_NS = 1_796_000_000 * 10**9
FUNCTIONS = ("upload-post", "count-words", "aggregate-stats", "read-post", "notify-analyzed", "publish-feed")


def _value(raw: Any) -> dict[str, Any]:
    if isinstance(raw, bool):
        return {"boolValue": raw}
    if isinstance(raw, int):
        return {"intValue": str(raw)}
    if isinstance(raw, float):
        return {"doubleValue": raw}
    return {"stringValue": str(raw)}


def _attributes(values: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": key, "value": _value(item)} for key, item in values.items()]


def _span(trace: str, span: str, parent: str | None, name: str, start: int, ms: float, kind: int, attrs: Any) -> Any:  # noqa: PLR0917  # one span's fields
    raw = {
        "traceId": trace,
        "spanId": span,
        "name": name,
        "kind": kind,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(start + int(ms * 1e6)),
        "attributes": _attributes(attrs),
        "status": {},
    }
    if parent:
        raw["parentSpanId"] = parent
    return raw


def _invocation(rng: random.Random, function: str, number: int, http: bool) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "faas.trigger": "http" if http else "pubsub",
        "serverless.trigger": "api_gateway_http" if http else "sqs",
        "faas.invocation_id": f"{number:08x}-2c1e-4bd5-8f43-0e2cbe0f8c11",
        "cloud.resource_id": f"arn:aws:lambda:us-east-1:123456789012:function:{function}",
        "faas.coldstart": rng.random() < 0.05,
        "serverless.retry.attempt": 1,
        "serverless.retry": rng.random() < 0.02,
        "serverless.timeout.configured_ms": 3000,
        "serverless.memory.peak_mb": round(rng.uniform(60, 120), 1),
        "serverless.memory.limit_mb": 128,
        "serverless.memory.utilization": 0.6,
        "serverless.cost.architecture": "x86_64",
        "serverless.cost.billed_duration_ms": 120,
        "serverless.cost.gb_seconds": 0.015,
        "serverless.cost.compute_usd": 2.5e-7,
        "serverless.cost.request_usd": 2e-7,
        "serverless.cost.usd": 4.5e-7,
    }
    if http:
        attrs.update({"http.request.method": "POST", "http.route": "/posts", "http.response.status_code": 201})
    else:
        attrs.update({"messaging.system": "aws_sqs", "messaging.destination.name": "analysis-words"})
    return attrs


def _trace(rng: random.Random, number: int) -> list[tuple[str, Any]]:
    """One trace: an invocation, its SDK calls, sometimes an async hop: (service, span)."""
    trace = f"{number:032x}"
    start = T0_NS + number * 10**9
    first = FUNCTIONS[number % 3]
    spans: list[tuple[str, Any]] = []
    root = f"{number:08x}00000001"
    duration = rng.lognormvariate(4.0, 0.6)
    spans.append((first, _span(trace, root, None, first, start, duration, 2, _invocation(rng, first, number, True))))
    send = f"{number:08x}00000002"
    sdk = {"rpc.system": "aws-api", "rpc.service": "SQS", "rpc.method": "SendMessage", "server.address": "sqs"}
    sdk.update({"messaging.system": "aws_sqs", "messaging.destination.name": "analysis-words"})
    spans.append((first, _span(trace, send, root, "analysis-words send", start + 1_000_000, duration / 3, 4, sdk)))
    put = {"rpc.system": "aws-api", "rpc.service": "DynamoDB", "rpc.method": "PutItem", "db.system": "dynamodb"}
    put["aws.dynamodb.table_names"] = "blog-posts"
    spans.append((first, _span(trace, f"{number:08x}00000003", root, "DynamoDB.PutItem", start, duration / 4, 3, put)))
    if number % 3 == 0:
        second = FUNCTIONS[3 + number % 3]
        hop = f"{number:08x}00000004"
        attrs = _invocation(rng, second, number, False)
        spans.append((second, _span(trace, hop, send, second, start + 50_000_000, duration, 5, attrs)))
        get = {"rpc.system": "aws-api", "rpc.service": "S3", "rpc.method": "GetObject", "aws.s3.bucket": "blog"}
        spans.append(
            (second, _span(trace, f"{number:08x}00000005", hop, "S3.GetObject", start + 51_000_000, 5, 3, get))
        )
    return spans


def write_file(path: Path, spans: int, seed: int = 7) -> int:
    """*spans* spans (a little over) in lines of ~60; the number written."""
    rng = random.Random(seed)  # noqa: S311  # reproducible test data, not secrets
    written = 0
    number = 0
    batch: list[tuple[str, Any]] = []
    with path.open("w", encoding="utf-8") as file:
        while written < spans:
            batch.extend(_trace(rng, number))
            number += 1
            if len(batch) >= SPANS_PER_LINE or written + len(batch) >= spans:
                file.write(json.dumps(_request(batch), separators=(",", ":")) + "\n")
                written += len(batch)
                batch = []
    return written


def _request(batch: list[tuple[str, Any]]) -> dict[str, Any]:
    by_service: dict[str, list[Any]] = {}
    for service, span in batch:
        by_service.setdefault(service, []).append(span)
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": _attributes({"service.name": service, "cloud.provider": "aws"})},
                "scopeSpans": [{"scope": {"name": "otel_serverless.aws_lambda"}, "spans": spans}],
            }
            for service, spans in by_service.items()
        ]
    }


def ours(path: Path) -> None:
    report = build_report(Window(T0_NS - 10**9, T0_NS + 400 * 24 * 3600 * 10**9), files=[str(path)], compare=False)
    assert report["invocations"] > 0


def peer(path: Path) -> None:
    with path.open("rb") as file:
        for line in file:
            json.loads(line)


def _seconds(job: Callable[[Path], None], path: Path) -> float:
    """CPU seconds of the process: the machine is shared, and both sides only compute."""
    started = time.process_time()
    job(path)
    return time.process_time() - started


def _peak(job: Callable[[Path], None], path: Path) -> float:
    tracemalloc.start()
    try:
        job(path)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def run(smoke: bool = False) -> dict[str, Result]:
    large, small = (2_000, 200) if smoke else (100_000, 10_000)
    rounds = 1 if smoke else 5
    with tempfile.TemporaryDirectory(prefix="bench-insights-") as folder:
        big = Path(folder) / "large.jsonl"
        little = Path(folder) / "small.jsonl"
        count = write_file(big, large)
        write_file(little, small)
        ours(big)  # warm: imports, the page cache
        times_ours, times_peer = [], []
        for _ in range(rounds):
            times_peer.append(_seconds(peer, big))
            times_ours.append(_seconds(ours, big))
        peak_ours, peak_peer, peak_small = _peak(ours, big), _peak(peer, big), _peak(ours, little)
        size = big.stat().st_size / 2**20
    spans = f"{count:,} spans, {size:.0f} MiB"
    return {
        "I1": result(
            f"insights over an OTLP/JSON file ({spans}) vs json.loads of each line",
            statistics.median(times_ours),
            statistics.median(times_peer),
            "s",
            "<= 2.0",
        ),
        "I2": {
            **result("peak Python memory of the same (tracemalloc)", peak_ours, peak_peer, "MiB", "<= 1e9"),
            "target": None,  # informational: the goal is that ours stays flat (I3)
            "pass": None,
        },
        "I3": result(
            f"our peak memory at {large:,} spans vs at {small:,}",
            peak_ours,
            peak_small,
            "MiB",
            "<= 1.25",
            note="flat: traces held in a bounded window by time",
        ),
    }


if __name__ == "__main__":
    print(json.dumps(run(smoke="--smoke" in __import__("sys").argv), indent=2))
