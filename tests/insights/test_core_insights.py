"""Each insight sentence at its threshold's edge: just at it (no sentence), just past it (the sentence)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from otel_serverless.insights import Window, build_report
from tests.insights.otlp_traces import HOUR_NS, T0_NS, S, invocation, write

CURRENT = Window(T0_NS, T0_NS + HOUR_NS)
EARLIER_MS = -HOUR_NS // 1_000_000


def insights(tmp_path: Path, *batches: list[S]) -> list[dict[str, Any]]:
    report = build_report(CURRENT, files=[str(write(tmp_path / "t.jsonl", *batches))])
    found: list[dict[str, Any]] = report["insights"]
    return found


def messages(tmp_path: Path, *batches: list[S]) -> list[str]:
    return [item["message"] for item in insights(tmp_path, *batches)]


@pytest.mark.parametrize(
    ("slowest_ms", "expected"),
    [
        (4800, []),  # p99 exactly 80 % of 6 s: not over
        (4801, ["Function `long-calculation-2` is close to its timeout (4.8 s used of 6 s)"]),
        (5000, ["Function `long-calculation-2` is close to its timeout (5.0 s used of 6 s)"]),
    ],
)
def test_near_timeout(tmp_path: Path, slowest_ms: float, expected: list[str]) -> None:
    # 100 invocations: the p99 is the 99th slowest, so two slow ones make it.
    durations = [100.0] * 98 + [slowest_ms, slowest_ms]
    spans = [invocation("long-calculation-2", i * 10, d, timeout_ms=6000) for i, d in enumerate(durations)]
    assert messages(tmp_path, spans) == expected


def test_a_function_that_timed_out_is_not_also_near_its_timeout(tmp_path: Path) -> None:
    spans = [invocation("long-calculation", i * 100, 29_990, timeout_ms=30_000, timeout=True) for i in range(12)]
    spans += [invocation("long-calculation", 5000, 100, timeout_ms=30_000)]
    found = insights(tmp_path, spans)
    assert found == [
        {
            "kind": "timeout",
            "function": "long-calculation",
            "message": "Function `long-calculation` timed out 12 times (30 s configured)",
        }
    ]


@pytest.mark.parametrize(
    ("peak_mb", "expected"),
    [
        (115.2, []),  # exactly 90 % of 128 MB
        (115.3, ["Function `massive-calculation-2` is close to its memory limit (115 MB used of 128 MB)"]),
        (124.0, ["Function `massive-calculation-2` is close to its memory limit (124 MB used of 128 MB)"]),
        (128.0, ["Function `massive-calculation-2` is close to its memory limit (128 MB used of 128 MB)"]),
        (130.0, ["Function `massive-calculation-2` is over its memory limit (130 MB used of 128 MB)"]),
    ],
)
def test_near_memory(tmp_path: Path, peak_mb: float, expected: list[str]) -> None:
    spans = [
        invocation("massive-calculation-2", 0, 10, peak_mb=50, limit_mb=128),
        invocation("massive-calculation-2", 100, 10, peak_mb=peak_mb, limit_mb=128),
    ]
    assert messages(tmp_path, spans) == expected


@pytest.mark.parametrize(
    ("retried", "expected"),
    [
        (0, []),
        (1, ["`count-words` was retried once"]),
        (2, ["`count-words` was retried twice"]),
        (31, ["`count-words` was retried 31 times"]),
    ],
)
def test_retries(tmp_path: Path, retried: int, expected: list[str]) -> None:
    spans = [invocation("count-words", i * 10, 5, retry=i < retried) for i in range(40)]
    assert messages(tmp_path, spans) == expected


@pytest.mark.parametrize(
    ("before", "now", "expected"),
    [
        (10, 11, [("errors_rose", "`aggregate-stats` errors rose 10%")]),  # exactly +10 %: said
        (20, 21, [("errors", "Function `aggregate-stats` failed 21 times (42% of its invocations)")]),  # +5 %
        (25, 33, [("errors_rose", "`aggregate-stats` errors rose 32%")]),
        (10, 10, [("errors", "Function `aggregate-stats` failed 10 times (20% of its invocations)")]),
        (0, 3, [("errors", "Function `aggregate-stats` failed 3 times (6% of its invocations)")]),  # no base
        (5, 0, []),
    ],
)
def test_errors_rose(tmp_path: Path, before: int, now: int, expected: list[tuple[str, str]]) -> None:
    earlier = [invocation("aggregate-stats", EARLIER_MS + i * 10, 5, error=i < before) for i in range(50)]
    current = [invocation("aggregate-stats", i * 10, 5, error=i < now) for i in range(50)]
    assert [(item["kind"], item["message"]) for item in insights(tmp_path, earlier, current)] == expected


@pytest.mark.parametrize(
    ("invocations", "cold", "expected"),
    [
        (12, 3, []),  # exactly 25 %
        (12, 4, ["Function `thumbnails` started cold in 33% of its invocations"]),
        (9, 9, []),  # too few invocations to call it a pattern
        (10, 10, ["Function `thumbnails` started cold in 100% of its invocations"]),
    ],
)
def test_cold_starts(tmp_path: Path, invocations: int, cold: int, expected: list[str]) -> None:
    spans = [invocation("thumbnails", i * 10, 5, cold=i < cold) for i in range(invocations)]
    assert messages(tmp_path, spans) == expected


def test_timeouts_without_a_known_configuration(tmp_path: Path) -> None:
    spans = [invocation("legacy", 0, 900, timeout=True)]
    assert messages(tmp_path, spans) == ["Function `legacy` timed out once"]


def test_order_most_severe_first(tmp_path: Path) -> None:
    spans = [
        invocation("a", 0, 5, retry=True),
        invocation("b", 10, 5, peak_mb=127, limit_mb=128),
        invocation("c", 20, 5, timeout=True, timeout_ms=1000),
        invocation("d", 30, 5, error=True),
    ]
    assert [item["kind"] for item in insights(tmp_path, spans)] == ["timeout", "errors", "near_memory", "retries"]
