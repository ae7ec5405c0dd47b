"""The demo against the real collector and Jaeger: every dataflow is one trace in Jaeger
covering every hop, with links (FOLLOWS_FROM) for batches, the faults' marks as tags,
and the service edges in /api/dependencies."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e._jaeger import get_json, wait_for_trace
from tests.e2e.conftest import Backends

HEADER = re.compile(r"^== (?P<name>.+): (?P<spans>\d+) spans in (?P<traces>\d+) trace\(s\)$")
TRACE = re.compile(r"^trace (?P<id>[0-9a-f]{32})$")


def _run_demo(backends: Backends, tmp_path: Path) -> dict[str, tuple[str, int]]:
    """Run the demo exporting to the collector; dataflow name → (trace id, span count)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AWS_"))}
    env = {**clean, "OTEL_EXPORTER_OTLP_ENDPOINT": backends.otlp_http_endpoint}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "otel_serverless.cli",
            "demo",
            "--check",
            "--rounds",
            "1",
            "--output",
            str(tmp_path / "t.jsonl"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    flows: dict[str, tuple[str, int]] = {}
    name, count = "", 0
    for line in result.stdout.splitlines():
        header = HEADER.match(line)
        if header:
            name, count = header["name"], int(header["spans"])
            assert header["traces"] == "1", line
            continue
        found = TRACE.match(line)
        if found and name:
            flows[name] = (found["id"], count)
            name = ""
    return flows


def _tags(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {tag["key"]: tag["value"] for tag in items}


def _services(trace: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    by_service: dict[str, list[dict[str, Any]]] = {}
    for span in trace["spans"]:
        service = trace["processes"][span["processID"]]["serviceName"]
        by_service.setdefault(service, []).append(span)
    return by_service


def _invocations(spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in spans if "faas.invocation_id" in _tags(s["tags"])]


@pytest.mark.e2e
def test_every_dataflow_is_one_trace_in_jaeger_with_its_faults(backends: Backends, tmp_path: Path) -> None:
    flows = _run_demo(backends, tmp_path)
    assert set(flows) == {
        "Posts Upload #1",
        "Read Blog Posts #1",
        "Posts Upload, legacy client (contract mismatch)",
        "Posts Analysis",
    }
    traces = {name: wait_for_trace(backends.jaeger_query_url, tid, count) for name, (tid, count) in flows.items()}
    for name, (_, count) in flows.items():
        assert len(traces[name]["spans"]) == count, name

    upload = _services(traces["Posts Upload #1"])
    assert set(upload) >= {
        "blog-web",
        "upload-post",
        "count-words",
        "score-sentiment",
        "aggregate-stats",
        "notify-analyzed",
        "publish-feed",
    }
    assert any(_tags(s["tags"]).get("faas.coldstart") is True for s in _invocations(upload["upload-post"]))
    assert any(_tags(s["tags"]).get("serverless.retry") is True for s in _invocations(upload["count-words"]))
    aggregate = _invocations(upload["aggregate-stats"])
    assert any(
        log_field["value"] == "serverless.memory.near_limit"
        for span in aggregate
        for log in span["logs"]
        for log_field in log["fields"]
        if log_field["key"] == "event"
    )
    # Batch consumers join the producer's trace through their link to it: Jaeger shows
    # FOLLOWS_FROM (it folds the parent into the link when both name the same producer).
    span_ids = {span["spanID"] for span in traces["Posts Upload #1"]["spans"]}
    for service in ("count-words", "score-sentiment", "aggregate-stats", "notify-analyzed"):
        for span in _invocations(upload[service]):
            follows = [r for r in span["references"] if r["refType"] == "FOLLOWS_FROM"]
            assert follows, (service, span["references"])
            assert any(r["spanID"] in span_ids for r in follows), (service, follows)

    read = _services(traces["Read Blog Posts #1"])
    (reader,) = _invocations(read["read-post"])
    reader_tags = _tags(reader["tags"])
    assert reader_tags["serverless.timeout"] is True
    assert reader_tags["error"] is True

    legacy = _services(traces["Posts Upload, legacy client (contract mismatch)"])
    sentiment = _invocations(legacy["score-sentiment"])
    assert all(_tags(s["tags"]).get("error") is True for s in sentiment)
    assert any(_tags(s["tags"]).get("serverless.retry") is True for s in sentiment)

    analysis = _services(traces["Posts Analysis"])
    assert set(analysis) >= {"schedule-analysis", "reanalyze-post", "collect-stats", "write-report"}

    edges = _dependencies(backends.jaeger_query_url)
    assert edges >= {
        ("blog-web", "upload-post"),
        ("upload-post", "count-words"),
        ("upload-post", "score-sentiment"),
        ("count-words", "aggregate-stats"),
        ("aggregate-stats", "notify-analyzed"),
        ("notify-analyzed", "publish-feed"),
        ("blog-web", "read-post"),
        ("schedule-analysis", "reanalyze-post"),
        ("reanalyze-post", "collect-stats"),
        ("reanalyze-post", "write-report"),
    }, edges


def _dependencies(query_url: str) -> set[tuple[str, str]]:
    params = {"endTs": str(int(time.time() * 1000)), "lookback": str(3600 * 1000)}
    body = get_json(query_url, "/api/dependencies", params)
    return {(edge["parent"], edge["child"]) for edge in body.get("data") or []}
