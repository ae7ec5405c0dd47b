"""The HTML view of the demo's own traces, as a user gets it (`demo --html`, `insights --html`), in headless
Chromium: every figure of the report is on the page, the tables have the report's rows, the map its nodes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from otel_serverless.insights._html_values import fmt_int, fmt_share, fmt_usd
from tests.insights import chromium
from tests.insights.html_dom import Element, parse

CLI = (sys.executable, "-m", "otel_serverless.cli")

pytestmark = pytest.mark.chromium


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AWS_"))}
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chromium.executable()  # skip (or fail in CI) before the demo's 20 s when there is no browser
    folder = tmp_path_factory.mktemp("demo-html")
    result = _cli("demo", "--output", str(folder / "traces.jsonl"), "--html", str(folder / "demo.html"))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return folder


def _in_chromium(page: Path) -> Element:
    shot = chromium.screenshot(page, page.with_suffix(".png"), page.parent / "profile", height=3600)
    assert shot.console == []
    assert page.with_suffix(".png").stat().st_size > 50_000
    dumped = chromium.dump_dom(page, page.parent / "profile")
    assert dumped.console == []
    return parse(dumped.stdout)


def _value(dom: Element, key: str) -> str:
    return dom.one("div", class_="card", data_key=key).one(class_="card-value").text.strip()


def test_insights_html_of_the_demo_traces_shows_every_figure_of_the_report(demo: Path) -> None:
    page = demo / "insights.html"
    result = _cli("insights", "--from", str(demo / "traces.jsonl"), "--since", "1h", "--json", "--html", str(page))
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    dom = _in_chromium(page)
    assert _value(dom, "health") == fmt_share(report["health"])
    for key in ("invocations", "errors", "timeouts", "cold_starts", "retries"):
        assert _value(dom, key) == fmt_int(report[key]), key
    assert _value(dom, "cost_usd") == fmt_usd(report["cost_usd"])
    assert _value(dom, "monthly_cost_usd") == fmt_usd(report["monthly_cost_usd"])
    assert report["timeouts"] == 2 and _value(dom, "timeouts") == "2"  # read-post's, from the demo's fault
    # The sentences, in the report's order, as text.
    sentences = [item.one(class_="message").text for item in dom.find_all("li", data_kind=lambda _: True)]
    assert sentences == [insight["message"].replace("`", "") for insight in report["insights"]]
    assert "Function read-post timed out twice (1 s configured)" in sentences
    # The tables' rows and the map's nodes.
    functions = dom.one("table", class_="functions").find_all("tr", data_function=lambda _: True)
    assert [row.attrs["data-function"] for row in functions] == [row["name"] for row in report["functions"]]
    flows = dom.one("table", class_="dataflows").find_all("tr", data_dataflow=lambda _: True)
    assert [row.attrs["data-dataflow"] for row in flows] == [row["name"] for row in report["dataflows"]]
    assert {"POST /posts", "GET /posts/{id}", "schedule nightly-analysis"} <= {
        row.attrs["data-dataflow"] for row in flows
    }
    drawn = dom.one("svg", class_="service-map").find_all("g", data_node=lambda _: True)
    expected = {node["id"] for node in report["nodes"]}
    expected |= {edge[end] for edge in report["edges"] for end in ("source", "target")}
    assert {node.attrs["data-node"] for node in drawn} == expected
    assert {"upload-post", "sqs:analysis-words", "kinesis:post-stats", "states:post-report"} <= expected
    tags = dom.one("svg", class_="service-map").find_all("g", class_=lambda value: "edge-tag" in value.split())
    assert len(tags) == len(report["edges"])
    bars = dom.one("svg", class_="chart timeline").find_all("rect", class_="bar-inv")
    assert len(bars) == len(report["timeline"])


def test_the_page_the_demo_writes_opens_in_chromium(demo: Path) -> None:
    dom = _in_chromium(demo / "demo.html")
    assert int(_value(dom, "invocations").replace(",", "")) > 0
    assert dom.find_all("g", data_node="upload-post")
    assert dom.one("table", class_="functions").find_all("tr", data_function="read-post")
