"""The demo's own traces: the run ends with its insights, and `insights --from` the file it wrote agrees."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

CLI = (sys.executable, "-m", "otel_serverless.cli")


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AWS_"))}
    result = subprocess.run(
        [*CLI, "demo", "--output", str(folder / "traces.jsonl"), "--html", str(folder / "report.html")],
        env={**env, "COLUMNS": "100"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return folder, result.stdout


def test_the_demo_ends_with_its_insights(demo_run: tuple[Path, str]) -> None:
    folder, out = demo_run
    summary = out.split("== Insights of this run", 1)[1]
    # The demo's faults, as a person reads them first.
    assert "Function `read-post` timed out twice (1 s configured)" in summary
    assert re.search(
        r"Function `aggregate-stats` is (close to|over) its memory limit \(\d+ MB used of 512 MB\)", summary
    )
    assert "`count-words` was retried" in summary
    assert "Health " in summary and "Invocations " in summary and "Cost $" in summary
    if (folder / "report.html").exists():  # the HTML view is another module; written when present
        assert "Insights page written to" in summary
        assert (folder / "report.html").read_text().lstrip().lower().startswith("<!doctype html")


def test_insights_from_the_demo_file(demo_run: tuple[Path, str]) -> None:
    folder, _ = demo_run
    result = subprocess.run(
        [*CLI, "insights", "--from", str(folder / "traces.jsonl"), "--since", "1h", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    functions = {row["name"]: row for row in report["functions"]}
    assert set(functions) == {
        "upload-post", "count-words", "score-sentiment", "aggregate-stats", "notify-analyzed", "publish-feed",
        "schedule-analysis", "reanalyze-post", "collect-stats", "write-report", "read-post",
    }  # fmt: skip
    # Two rounds of reads, each timing out at the configured 1 s (the wrapper records it).
    assert functions["read-post"]["timeouts"] == 2 and functions["read-post"]["timeout_ms"] == 1000
    assert functions["count-words"]["timeout_ms"] == 1000 and functions["upload-post"]["timeout_ms"] == 3000
    assert functions["aggregate-stats"]["memory_limit_mb"] == 512
    assert functions["aggregate-stats"]["max_memory_mb"] > 0.8 * 512  # the memory fault fills about 90 %
    assert report["timeouts"] == 2 and report["retries"] >= 3 and report["cost_usd"] > 0
    flows = {flow["name"]: flow for flow in report["dataflows"]}
    assert {"POST /posts", "GET /posts/{id}", "schedule nightly-analysis"} <= set(flows)
    assert flows["POST /posts"]["functions"] == 6 and flows["schedule nightly-analysis"]["functions"] == 4
    edges = {(edge["source"], edge["target"]) for edge in report["edges"]}
    assert {
        ("upload-post", "sns:post-uploaded"),
        ("sns:post-uploaded", "sqs:analysis-words"),
        ("sqs:analysis-words", "count-words"),
        ("count-words", "kinesis:post-stats"),
        ("kinesis:post-stats", "aggregate-stats"),
        ("dynamodb:blog-post-stats", "notify-analyzed"),
        ("notify-analyzed", "events:blog"),
        ("events:blog", "publish-feed"),
        ("reanalyze-post", "states:post-report"),
        ("states:post-report", "collect-stats"),
    } <= edges
