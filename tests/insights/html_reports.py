"""Report dicts for the HTML view's tests, built by hand with known figures (the contract's keys)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Any

WINDOW_END = datetime(2026, 12, 7, 8, 0, tzinfo=timezone.utc)
WINDOW_START = WINDOW_END - timedelta(hours=24)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _timeline() -> list[dict[str, Any]]:
    buckets = []
    for index in range(48):
        # A day's traffic: quiet at night, a bump in the afternoon, a burst of errors at 14:00.
        invocations = round(20 + 18 * math.sin(index / 48 * 2 * math.pi - 1.2) ** 2 + index % 3)
        errors = 6 if index == 28 else 1 if index % 11 == 0 else 0
        buckets.append(
            {
                "start": _iso(WINDOW_START + timedelta(minutes=30 * index)),
                "invocations": invocations,
                "errors": errors,
            }
        )
    return buckets


def _histogram(counts: list[int]) -> list[dict[str, Any]]:
    bounds: list[float | None] = [10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, None]
    return [{"le_ms": bound, "count": count} for bound, count in zip(bounds, counts, strict=True)]


def _function(name: str, **figures: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": name,
        "invocations": 100,
        "errors": 0,
        "timeouts": 0,
        "cold_starts": 3,
        "retries": 0,
        "p50_ms": 42.0,
        "p95_ms": 120.0,
        "p99_ms": 180.0,
        "max_memory_mb": 61.0,
        "memory_limit_mb": 128.0,
        "timeout_ms": 6000.0,
        "cost_usd": 0.000021,
        "own_ms": 3000.0,
        "api_ms": 1200.0,
        "histogram": _histogram([0, 10, 40, 30, 15, 5, 0, 0, 0, 0]),
    }
    row.update(figures)
    return row


def full_report() -> dict[str, Any]:
    """A day of the demo's blog platform, with every section filled and known figures."""
    return {
        "window": {"start": _iso(WINDOW_START), "end": _iso(WINDOW_END)},
        "estimated": False,
        "sources": [".otel-serverless/demo-traces.jsonl"],
        "health": 0.93,
        "invocations": 1234,
        "errors": 86,
        "timeouts": 12,
        "out_of_memory": 1,
        "cold_starts": 93,
        "cold_start_share": 0.0754,
        "cold_start_added_ms": 212.0,
        "retries": 31,
        "cost_usd": 0.0012,
        "monthly_cost_usd": 1.08,
        "previous": {
            "health": 0.95,
            "invocations": 935,
            "errors": 65,
            "timeouts": 12,
            "out_of_memory": 0,
            "cold_starts": 101,
            "cold_start_share": 0.108,
            "cold_start_added_ms": 230.0,
            "retries": 20,
            "cost_usd": 0.0010,
            "monthly_cost_usd": 0.9,
        },
        "changes": {
            "health": -0.021,
            "invocations": 0.32,
            "errors": 0.323,
            "timeouts": 0.0,
            "out_of_memory": None,
            "cold_starts": -0.079,
            "retries": 0.55,
            "cost_usd": 0.2,
            "monthly_cost_usd": 0.2,
        },
        "insights": [
            {
                "kind": "timeout",
                "function": "long-calculation",
                "message": "Function `long-calculation` timed out 12 times (30 s configured)",
            },
            {
                "kind": "near_timeout",
                "function": "long-calculation-2",
                "message": "Function `long-calculation-2` is close to its timeout (5.0 s used of 6 s)",
            },
            {
                "kind": "near_memory",
                "function": "massive-calculation-2",
                "message": "Function `massive-calculation-2` is close to its memory limit (124 MB used of 128 MB)",
            },
            {"kind": "retries", "function": "count-words", "message": "`count-words` was retried 31 times"},
            {"kind": "errors_rose", "function": "aggregate-stats", "message": "`aggregate-stats` errors rose 32%"},
        ],
        "functions": [
            _function(
                "upload-post",
                invocations=412,
                errors=3,
                cold_starts=12,
                p50_ms=38.0,
                p95_ms=96.0,
                p99_ms=140.0,
                cost_usd=0.00031,
                own_ms=9000.0,
                api_ms=14000.0,
            ),
            _function(
                "count-words",
                invocations=380,
                errors=31,
                retries=31,
                p50_ms=22.0,
                p95_ms=61.0,
                p99_ms=88.0,
                histogram=_histogram([40, 160, 120, 40, 15, 5, 0, 0, 0, 0]),
            ),
            _function(
                "long-calculation",
                invocations=40,
                errors=12,
                timeouts=12,
                p50_ms=2100.0,
                p95_ms=29000.0,
                p99_ms=30000.0,
                timeout_ms=30000.0,
                cost_usd=0.00052,
                own_ms=310000.0,
                api_ms=2000.0,
                histogram=_histogram([0, 0, 0, 0, 0, 0, 2, 14, 12, 12]),
            ),
            _function(
                "long-calculation-2",
                invocations=52,
                p50_ms=3100.0,
                p95_ms=4700.0,
                p99_ms=5000.0,
                cost_usd=0.00017,
                own_ms=150000.0,
                api_ms=9000.0,
                histogram=_histogram([0, 0, 0, 0, 0, 0, 0, 6, 40, 6]),
            ),
            _function(
                "massive-calculation-2",
                invocations=30,
                errors=1,
                max_memory_mb=124.0,
                p50_ms=800.0,
                p95_ms=1400.0,
                p99_ms=1600.0,
                histogram=_histogram([0, 0, 0, 0, 1, 6, 15, 8, 0, 0]),
            ),
            _function("aggregate-stats", invocations=320, errors=39, max_memory_mb=None, memory_limit_mb=None),
        ],
        "dataflows": [
            {
                "name": "POST /posts",
                "invocations": 412,
                "p50_ms": 840.0,
                "p99_ms": 2900.0,
                "error_share": 0.08,
                "functions": 4,
                "own_ms": 40000.0,
                "api_ms": 22000.0,
                "slowest_hops": [
                    {"name": "upload-post → post-uploaded", "total_ms": 1200.0},
                    {"name": "post-uploaded → count-words", "total_ms": 800.0},
                ],
            },
            {
                "name": "GET /posts/{id}",
                "invocations": 120,
                "p50_ms": 45.0,
                "p99_ms": 390.0,
                "error_share": 0.0,
                "functions": 1,
                "own_ms": 2000.0,
                "api_ms": 4400.0,
                "slowest_hops": [],
            },
            {
                "name": "nightly-report",
                "invocations": 1,
                "p50_ms": 31000.0,
                "p99_ms": 31000.0,
                "error_share": 1.0,
                "functions": 2,
                "own_ms": 30000.0,
                "api_ms": 400.0,
            },
        ],
        "slowest_hops": [
            {"function": "read-post", "name": "GET partner.example", "kind": "http", "calls": 3, "total_ms": 900.0},
            {"function": "upload-post", "name": "S3.PutObject", "kind": "aws", "calls": 412, "total_ms": 6100.0},
            {"function": "count-words", "name": "DynamoDB.UpdateItem", "kind": "aws", "calls": 380, "total_ms": 2300.0},
        ],
        "nodes": [
            {"id": "upload-post", "kind": "function"},
            {"id": "s3:blog-posts", "kind": "bucket"},
            {"id": "sns:post-uploaded", "kind": "topic"},
            {"id": "sqs:analysis-words", "kind": "queue"},
            {"id": "sqs:analysis-sentiment", "kind": "queue"},
            {"id": "count-words", "kind": "function"},
            {"id": "aggregate-stats", "kind": "function"},
            {"id": "kinesis:post-stats", "kind": "stream"},
            {"id": "dynamodb:blog-post-stats", "kind": "table"},
            {"id": "events:blog", "kind": "bus"},
            {"id": "states:post-report", "kind": "state_machine"},
            {"id": "long-calculation", "kind": "function"},
            {"id": "sqs:reanalysis", "kind": "queue"},
        ],
        "edges": [
            {"source": "upload-post", "target": "s3:blog-posts", "calls": 412, "errors": 0},
            {"source": "upload-post", "target": "sns:post-uploaded", "calls": 409, "errors": 3},
            {"source": "sns:post-uploaded", "target": "sqs:analysis-words", "calls": 409, "errors": 0},
            {"source": "sns:post-uploaded", "target": "sqs:analysis-sentiment", "calls": 409, "errors": 0},
            {"source": "sqs:analysis-words", "target": "count-words", "calls": 380, "errors": 31},
            {"source": "sqs:analysis-sentiment", "target": "analyse-sentiment", "calls": 370, "errors": 0},
            {"source": "count-words", "target": "kinesis:post-stats", "calls": 349, "errors": 0},
            {"source": "kinesis:post-stats", "target": "aggregate-stats", "calls": 320, "errors": 39},
            {"source": "aggregate-stats", "target": "dynamodb:blog-post-stats", "calls": 281, "errors": 0},
            {"source": "aggregate-stats", "target": "events:blog", "calls": 40, "errors": 0},
            {"source": "events:blog", "target": "states:post-report", "calls": 40, "errors": 0},
            {"source": "states:post-report", "target": "long-calculation", "calls": 40, "errors": 12},
            {"source": "long-calculation", "target": "sqs:reanalysis", "calls": 5, "errors": 0},
            {"source": "sqs:reanalysis", "target": "count-words", "calls": 5, "errors": 0},
        ],
        "timeline": _timeline(),
        "note": None,
    }


def empty_report(note: str = "no spans in the window") -> dict[str, Any]:
    return {
        "window": {"start": _iso(WINDOW_START), "end": _iso(WINDOW_END)},
        "estimated": False,
        "sources": ["empty.jsonl"],
        "health": None,
        "invocations": 0,
        "errors": 0,
        "timeouts": 0,
        "out_of_memory": 0,
        "cold_starts": 0,
        "cold_start_share": None,
        "cold_start_added_ms": None,
        "retries": 0,
        "cost_usd": 0.0,
        "monthly_cost_usd": 0.0,
        "previous": None,
        "changes": {},
        "insights": [],
        "functions": [],
        "dataflows": [],
        "slowest_hops": [],
        "nodes": [],
        "edges": [],
        "timeline": [],
        "note": note,
    }


HOSTILE = '</title><script>alert("x")</script><img src=x onerror=alert(1)>"\'&`'


def hostile_report() -> dict[str, Any]:
    """Every string the traces can set, set to markup that would run if it were not escaped."""
    report = full_report()
    report["sources"] = [HOSTILE]
    report["note"] = HOSTILE
    report["estimated"] = True
    report["window"] = {"start": HOSTILE, "end": HOSTILE}
    report["insights"] = [{"kind": HOSTILE, "function": HOSTILE, "message": f"Function `{HOSTILE}` timed out"}]
    for function in report["functions"]:
        function["name"] = HOSTILE + function["name"]
    report["dataflows"][0]["name"] = HOSTILE
    report["dataflows"][0]["slowest_hops"] = [{"name": HOSTILE, "total_ms": 3.0}]
    report["slowest_hops"] = [{"function": HOSTILE, "name": HOSTILE, "kind": HOSTILE, "calls": 1, "total_ms": 2.0}]
    report["nodes"].append({"id": HOSTILE, "kind": HOSTILE})
    report["edges"].append({"source": "upload-post", "target": HOSTILE, "calls": 1, "errors": 1})
    report["timeline"][0]["start"] = HOSTILE
    return report
