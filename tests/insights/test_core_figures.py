"""The insights core: exact figures from traces built with known values, read back from OTLP/JSON files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from otel_serverless.insights import Window, build_report
from tests.insights.otlp_traces import HOUR_NS, T0_NS, S, call, invocation, new_trace, write

CURRENT = Window(T0_NS, T0_NS + HOUR_NS)


def report_of(tmp_path: Path, *batches: list[S], window: Window = CURRENT, **options: Any) -> dict[str, Any]:
    return build_report(window, files=[str(write(tmp_path / "traces.jsonl", *batches, **options))])


def by_name(rows: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(row for row in rows if row["name"] == name)


def shop() -> list[S]:
    i1 = invocation("orders", 0, 100, cold=True, cost=0.001, peak_mb=60, limit_mb=128, timeout_ms=3000)
    i1.attributes["serverless.init.duration_ms"] = 250.0
    i2 = invocation("orders", 1000, 200, error=True, cost=0.002, peak_mb=70, limit_mb=128, timeout_ms=3000)
    i3 = invocation("orders", 2000, 300, retry=True, cost=0.003, peak_mb=80, limit_mb=128, timeout_ms=3000)
    put = call(i3, "DynamoDB.PutItem", 2100, 120, aws__dynamodb__table_names=["orders"])
    i4 = invocation("orders", 3000, 3000, timeout=True, cost=0.006, peak_mb=90, limit_mb=128, timeout_ms=3000)
    m1 = invocation("mailer", 0, 50, trigger="http", extra={"http.response.status_code": 503})
    m2 = invocation(
        "mailer",
        500,
        150,
        extra={"serverless.previous_invocation.killed": True, "serverless.previous_invocation.reason": "unknown"},
    )
    return [i1, i2, i3, put, i4, m1, m2]


def test_headline_figures(tmp_path: Path) -> None:
    report = report_of(tmp_path, shop())
    # 6 spans + 1 invocation killed before it could export (counted from the next one's report)
    assert report["invocations"] == 7
    # an exception, a timeout, a 503 answer, the killed one
    assert report["errors"] == 4
    assert report["health"] == pytest.approx(3 / 7, abs=1e-6)
    assert report["timeouts"] == 1
    assert report["out_of_memory"] == 1
    assert report["cold_starts"] == 1
    assert report["cold_start_share"] == pytest.approx(1 / 7, abs=1e-6)
    assert report["cold_start_added_ms"] == 250.0  # the measured init
    assert report["retries"] == 1
    assert report["cost_usd"] == pytest.approx(0.012)
    assert report["monthly_cost_usd"] == pytest.approx(0.012 * 24 * 30)  # a 1 h window scaled to 30 days
    assert report["window"] == {"start": "2026-11-30T00:53:20.000Z", "end": "2026-11-30T01:53:20.000Z"}
    assert report["estimated"] is False
    assert report["previous"] is None and report["changes"] is None  # nothing in the hour before
    assert report["note"] is None


def test_per_function_figures(tmp_path: Path) -> None:
    report = report_of(tmp_path, shop())
    orders = by_name(report["functions"], "orders")
    assert {key: orders[key] for key in ("invocations", "errors", "timeouts", "cold_starts", "retries")} == {
        "invocations": 4,
        "errors": 2,
        "timeouts": 1,
        "cold_starts": 1,
        "retries": 1,
    }
    # nearest rank over 100, 200, 300, 3000 ms
    assert (orders["p50_ms"], orders["p95_ms"], orders["p99_ms"]) == (200.0, 3000.0, 3000.0)
    assert (orders["max_memory_mb"], orders["memory_limit_mb"], orders["timeout_ms"]) == (90.0, 128.0, 3000.0)
    assert orders["cost_usd"] == pytest.approx(0.012)
    assert orders["api_ms"] == 120.0 and orders["own_ms"] == 3480.0
    counts = {row["le_ms"]: row["count"] for row in orders["histogram"]}
    assert counts[100.0] == 1 and counts[250.0] == 1 and counts[500.0] == 1 and counts[5000.0] == 1
    assert sum(counts.values()) == 4 and counts[None] == 0
    mailer = by_name(report["functions"], "mailer")
    assert (mailer["invocations"], mailer["errors"], mailer["out_of_memory"]) == (3, 2, 1)
    assert mailer["max_memory_mb"] is None and mailer["timeout_ms"] is None
    assert [row["name"] for row in report["functions"]] == ["orders", "mailer"]  # busiest first


def test_insight_sentences_of_the_shop(tmp_path: Path) -> None:
    report = report_of(tmp_path, shop())
    assert report["insights"] == [
        {"kind": "timeout", "function": "orders", "message": "Function `orders` timed out once (3 s configured)"},
        {"kind": "errors", "function": "orders", "message": "Function `orders` failed once (25% of its invocations)"},
        {"kind": "errors", "function": "mailer", "message": "Function `mailer` failed twice (67% of its invocations)"},
        {"kind": "retries", "function": "orders", "message": "`orders` was retried once"},
    ]


def test_edges_and_hops(tmp_path: Path) -> None:
    report = report_of(tmp_path, shop())
    assert report["edges"] == [{"source": "orders", "target": "dynamodb:orders", "calls": 1, "errors": 0}]
    assert {"id": "dynamodb:orders", "kind": "table"} in report["nodes"]
    assert {"id": "mailer", "kind": "function"} in report["nodes"]
    assert report["slowest_hops"] == [
        {"function": "orders", "name": "DynamoDB.PutItem", "kind": "aws", "calls": 1, "total_ms": 120.0}
    ]


def test_timeline_buckets(tmp_path: Path) -> None:
    report = report_of(tmp_path, shop())
    timeline = report["timeline"]
    assert len(timeline) == 48 and timeline[0]["start"] == "2026-11-30T00:53:20.000Z"
    assert timeline[1]["start"] == "2026-11-30T00:54:35.000Z"  # 75 s buckets over the hour
    assert timeline[0] == {"start": "2026-11-30T00:53:20.000Z", "invocations": 7, "errors": 4}
    assert sum(bucket["invocations"] for bucket in timeline) == 7


def test_previous_window_comparison(tmp_path: Path) -> None:
    before = -HOUR_NS // 1_000_000  # ms offsets into the previous hour
    earlier = [invocation("orders", before + i * 1000, 100, error=i < 2, cost=0.001, cold=i == 0) for i in range(10)]
    now = [invocation("orders", i * 1000, 100, error=i < 3, cost=0.002, cold=i < 2) for i in range(10)]
    report = report_of(tmp_path, earlier, now)
    assert report["previous"]["invocations"] == 10 and report["previous"]["errors"] == 2
    assert report["previous"]["health"] == 0.8 and report["health"] == 0.7
    changes = report["changes"]
    assert changes["invocations"] == 0.0
    assert changes["errors"] == 0.5
    assert changes["health"] == pytest.approx(-0.125)
    assert changes["cost_usd"] == pytest.approx(1.0)
    assert changes["cold_starts"] == 1.0
    assert changes["timeouts"] is None  # no base to compare with
    assert {"kind": "errors_rose", "function": "orders", "message": "`orders` errors rose 50%"} in report["insights"]


def test_a_dataflow_end_to_end_across_an_async_hop(tmp_path: Path) -> None:
    trace = new_trace()
    api = invocation(
        "upload",
        0,
        80,
        trace_id=trace,
        trigger="http",
        extra={"http.request.method": "POST", "http.route": "/posts", "serverless.trigger": "api_gateway_http"},
    )
    publish = call(
        api, "posts publish", 20, 30, kind=4, messaging__system="aws.sns", messaging__destination__name="posts"
    )
    worker = invocation(
        "count",
        500,
        100,
        parent=publish,
        trigger="pubsub",
        error=True,
        extra={"serverless.trigger": "sqs", "messaging.destination.name": "count-queue"},
    )
    second = new_trace()
    scheduled = invocation(
        "nightly",
        2000,
        40,
        trace_id=second,
        trigger="timer",
        extra={
            "serverless.trigger": "scheduled",
            "serverless.schedule.rule": "arn:aws:events:us-east-1:1:rule/nightly",
        },
    )
    report = report_of(tmp_path, [worker], [api, publish, scheduled])  # the consumer's spans come first
    flows = {flow["name"]: flow for flow in report["dataflows"]}
    assert set(flows) == {"POST /posts", "schedule nightly"}
    posts = flows["POST /posts"]
    assert (posts["invocations"], posts["p50_ms"], posts["p99_ms"]) == (1, 600.0, 600.0)  # 0 → 600 ms
    assert (posts["error_share"], posts["functions"]) == (1.0, 2)
    assert (posts["own_ms"], posts["api_ms"]) == (150.0, 30.0)
    assert posts["slowest_hops"] == [{"name": "upload → posts", "total_ms": 30.0}]
    assert flows["schedule nightly"]["error_share"] == 0.0
    edges = {(edge["source"], edge["target"]): (edge["calls"], edge["errors"]) for edge in report["edges"]}
    assert edges == {
        ("upload", "sns:posts"): (1, 0),
        ("sns:posts", "sqs:count-queue"): (1, 0),
        ("sqs:count-queue", "count"): (1, 1),
        ("schedule:nightly", "nightly"): (1, 0),
    }
    kinds = {node["id"]: node["kind"] for node in report["nodes"]}
    assert kinds["sns:posts"] == "topic" and kinds["sqs:count-queue"] == "queue" and kinds["count"] == "function"


@pytest.mark.parametrize(
    ("trace_state", "resource", "weight"),
    [
        ("ot=th:8", None, 2),  # rejection threshold 2^55 of 2^56: probability 1/2
        ("ot=th:c;rv:abcdef12345678", None, 4),  # 1/4, other sub-keys ignored
        ("vendor=x,ot=th:e", None, 8),
        ("ot=th:0", None, 1),  # always sampled
        (None, {"serverless.sampling.ratio": 0.1}, 10),  # the configured traceidratio on the resource
        (None, None, 1),
    ],
)
def test_sampling_weights(tmp_path: Path, trace_state: str | None, resource: Any, weight: int) -> None:
    spans = [invocation("orders", i * 10, 10, cost=0.001, error=i == 0, trace_state=trace_state) for i in range(3)]
    report = report_of(tmp_path, spans, resource=resource)
    assert report["invocations"] == pytest.approx(3 * weight)
    assert report["errors"] == pytest.approx(weight)
    assert report["cost_usd"] == pytest.approx(0.003 * weight)
    assert report["health"] == pytest.approx(2 / 3, abs=1e-6)
    assert report["estimated"] is (weight != 1)


def test_spans_outside_the_windows_are_left_out(tmp_path: Path) -> None:
    inside = invocation("orders", 10, 10)
    later = invocation("orders", HOUR_NS // 1_000_000 + 5, 10)  # just after the window's end
    report = report_of(tmp_path, [inside, later])
    assert report["invocations"] == 1


@pytest.mark.parametrize(
    ("reason", "invocations", "errors", "out_of_memory"),
    [
        ("unknown", 3, 1, 1),  # a kill without warning: the killed one exported nothing, counted here
        ("crash", 3, 1, 0),  # counted, but not as out of memory
        ("timeout", 3, 1, 0),  # the watchdog's span of it was exported already: not counted twice
        ("out_of_memory", 3, 1, 1),  # the memory guard's span of it was exported already
    ],
)
def test_killed_invocations_are_counted_once(
    tmp_path: Path, reason: str, invocations: int, errors: int, out_of_memory: int
) -> None:
    guarded = reason in ("timeout", "out_of_memory")
    extra: dict[str, Any] = {"error.type": reason}
    if reason == "timeout":
        extra["serverless.timeout"] = True
    first = invocation("resize", 0, 900, error=True, extra=extra) if guarded else None
    after = invocation(
        "resize",
        5000,
        20,
        cold=True,
        extra={"serverless.previous_invocation.killed": True, "serverless.previous_invocation.reason": reason},
    )
    report = report_of(
        tmp_path, [span for span in (first, after) if span is not None] + [invocation("resize", 9000, 5)]
    )
    assert (report["invocations"], report["errors"], report["out_of_memory"]) == (invocations, errors, out_of_memory)
