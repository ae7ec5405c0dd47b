"""Insights from the real Jaeger: the demo's traces, exported through the real collector, give the
same figures read back from Jaeger's query API as from the OTLP/JSON file the demo wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from otel_serverless.insights import Window, _jaeger, build_report
from tests.e2e.conftest import Backends

CLI = (sys.executable, "-m", "otel_serverless.cli")
COUNTS = ("invocations", "errors", "timeouts", "out_of_memory", "cold_starts", "retries")


def _same_figures(from_file: dict[str, Any], from_jaeger: dict[str, Any]) -> list[str]:
    """What differs (Jaeger keeps microseconds: durations may differ by one)."""
    problems = []
    for key in (*COUNTS, "health", "cold_start_share"):
        # Weighted (sampled) counts are float sums: the two sources add them in different orders.
        if from_file[key] != pytest.approx(from_jaeger[key], rel=1e-6):
            problems.append(f"{key}: {from_file[key]} != {from_jaeger[key]}")
    if from_file["cost_usd"] != pytest.approx(from_jaeger["cost_usd"], rel=1e-9):
        problems.append(f"cost_usd: {from_file['cost_usd']} != {from_jaeger['cost_usd']}")
    file_functions = {row["name"]: row for row in from_file["functions"]}
    jaeger_functions = {row["name"]: row for row in from_jaeger["functions"]}
    if set(file_functions) != set(jaeger_functions):
        return [*problems, f"functions: {sorted(file_functions)} != {sorted(jaeger_functions)}"]
    for name, row in file_functions.items():
        problems.extend(_function_differences(name, row, jaeger_functions[name]))
    flows = {
        (f["name"], round(f["invocations"], 1), f["functions"], round(f["error_share"], 4))
        for f in from_file["dataflows"]
    }
    other_flows = {
        (f["name"], round(f["invocations"], 1), f["functions"], round(f["error_share"], 4))
        for f in from_jaeger["dataflows"]
    }
    if flows != other_flows:
        problems.append(f"dataflows: {sorted(flows)} != {sorted(other_flows)}")
    edges = {(e["source"], e["target"], round(e["calls"], 1), round(e["errors"], 1)) for e in from_file["edges"]}
    other_edges = {
        (e["source"], e["target"], round(e["calls"], 1), round(e["errors"], 1)) for e in from_jaeger["edges"]
    }
    if edges != other_edges:
        problems.append(
            f"edges only in the file: {sorted(edges - other_edges)}; only in Jaeger: {sorted(other_edges - edges)}"
        )
    if [i["message"] for i in from_file["insights"]] != [i["message"] for i in from_jaeger["insights"]]:
        problems.append(f"insights: {from_file['insights']} != {from_jaeger['insights']}")
    return problems


def _function_differences(name: str, row: dict[str, Any], other: dict[str, Any]) -> list[str]:
    problems = []
    for key in (*COUNTS, "memory_limit_mb", "timeout_ms"):
        if row[key] != pytest.approx(other[key], rel=1e-6):
            problems.append(f"{name}.{key}: {row[key]} != {other[key]}")
    # The memory stage runs in each exporter's chain, reading the process's peak as that chain
    # meets the span: the file's and the collector's copies may differ by a fraction of a MB.
    if row["max_memory_mb"] != pytest.approx(other["max_memory_mb"], abs=1.0):
        problems.append(f"{name}.max_memory_mb: {row['max_memory_mb']} != {other['max_memory_mb']}")
    for key in ("p50_ms", "p95_ms", "p99_ms"):
        if row[key] != pytest.approx(other[key], abs=0.002):
            problems.append(f"{name}.{key}: {row[key]} != {other[key]}")
    return problems


@pytest.mark.e2e
def test_the_same_figures_from_the_file_and_from_jaeger(
    backends: Backends, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AWS_"))}
    started = time.time_ns()
    result = subprocess.run(
        [sys.executable, "-m", "otel_serverless.cli", "demo", "--rounds", "1", "--output", str(tmp_path / "t.jsonl")],
        env={**clean, "OTEL_EXPORTER_OTLP_ENDPOINT": backends.otlp_http_endpoint},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    window = Window(started, time.time_ns() + 1_000_000_000)
    from_file = build_report(window, files=[str(tmp_path / "t.jsonl")], compare=False)
    assert from_file["invocations"] > 0 and from_file["timeouts"] == 1
    # Spans reach Jaeger through the collector's batches: poll until the figures agree (or time runs out).
    deadline = time.monotonic() + 60
    while True:
        from_jaeger = build_report(window, jaeger=backends.jaeger_query_url, compare=False)
        problems = _same_figures(from_file, from_jaeger)
        if not problems or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert not problems, "\n".join(problems) + "\n" + backends.logs()[-2000:]
    assert from_jaeger["sources"][0].startswith(backends.jaeger_query_url)
    # Paged: two traces a query, the same figures.
    monkeypatch.setattr(_jaeger, "PAGE", 2)
    paged = build_report(window, jaeger=backends.jaeger_query_url, compare=False)
    assert not _same_figures(from_file, paged)


@pytest.mark.e2e
def test_the_command_reads_jaeger_with_a_service_filter(backends: Backends, tmp_path: Path) -> None:
    # Whatever is in Jaeger from this session: the command answers, one service at a time, as JSON.
    result = subprocess.run(
        [*CLI, "insights", "--jaeger", backends.jaeger_query_url, "--service", "read-post", "--since", "1h", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    assert report["sources"] == [f"{backends.jaeger_query_url.rstrip('/')} (read-post)"]
    assert "reading traces from Jaeger" in result.stderr  # the progress line, on stderr


@pytest.mark.e2e
def test_head_sampled_traces_give_the_same_estimates_from_jaeger(backends: Backends, tmp_path: Path) -> None:
    # The pipeline records the ratio on the resource; Jaeger keeps it as a process tag.
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AWS_"))}
    sampled = {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.75"}
    started = time.time_ns()
    result = subprocess.run(
        [*CLI, "demo", "--rounds", "1", "--output", str(tmp_path / "t.jsonl")],
        env={**clean, **sampled, "OTEL_EXPORTER_OTLP_ENDPOINT": backends.otlp_http_endpoint},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    window = Window(started, time.time_ns() + 1_000_000_000)
    from_file = build_report(window, files=[str(tmp_path / "t.jsonl")], compare=False)
    assert from_file["estimated"] is True and from_file["invocations"] > 0
    kept = sum(line.count('"faas.trigger"') for line in (tmp_path / "t.jsonl").read_text().splitlines())
    assert from_file["invocations"] == pytest.approx(kept / 0.75, abs=0.01)  # each kept one stands for 4/3
    deadline = time.monotonic() + 60
    while True:
        from_jaeger = build_report(window, jaeger=backends.jaeger_query_url, compare=False)
        problems = _same_figures(from_file, from_jaeger)
        if not problems or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert not problems, "\n".join(problems)
    assert from_jaeger["estimated"] is True
