"""The Insights HTML view: figures, tables and the service map from a report dict with known values,
escaping of hostile trace strings, malformed and empty reports, and the page in headless Chromium."""

from __future__ import annotations

import copy
import itertools
import math
import struct
from pathlib import Path
from typing import Any

import pytest

from otel_serverless.insights import _html_layout
from otel_serverless.insights.html import render_html
from tests.insights import chromium
from tests.insights.html_dom import Element, parse
from tests.insights.html_reports import HOSTILE, empty_report, full_report, hostile_report


def _page(report: Any) -> Element:
    return parse(render_html(report))


def _card(page: Element, key: str) -> Element:
    return page.one("div", class_="card", data_key=key)


def _delta(card: Element) -> Element:
    return next(element for element in card.iter() if "delta" in element.classes())


def _sections(page: Element) -> list[str]:
    return [element.attrs["id"] for element in page.iter() if element.tag == "section" and "id" in element.attrs]


# --- figures --------------------------------------------------------------------------------------


def test_headline_cards_show_the_figures_and_the_change_against_the_previous_window() -> None:
    page = _page(full_report())
    expected = {
        "health": "93.0%",
        "invocations": "1,234",
        "errors": "86",
        "timeouts": "12",
        "cold_starts": "93",
        "retries": "31",
        "cost_usd": "$0.0012",
        "monthly_cost_usd": "$1.08",
    }
    for key, value in expected.items():
        assert value in _card(page, key).one(class_="card-value").text, key
    # Up is bad for errors and cost, good for health; traffic is neither.
    assert _delta(_card(page, "errors")).classes() == {"delta", "delta-bad"}
    assert "▲ 32%" in _delta(_card(page, "errors")).text
    assert _delta(_card(page, "health")).classes() == {"delta", "delta-bad"}
    assert "▼ 2.1%" in _delta(_card(page, "health")).text
    assert _delta(_card(page, "cold_starts")).classes() == {"delta", "delta-good"}
    assert "▼ 7.9%" in _delta(_card(page, "cold_starts")).text
    assert _delta(_card(page, "invocations")).classes() == {"delta", "delta-neutral"}
    assert "= 0%" in _delta(_card(page, "timeouts")).text
    assert "vs previous 24 h" in _delta(_card(page, "errors")).text
    assert _delta(_card(page, "errors")).attrs["title"] == "previous 24 h: 65"
    assert "7.5% of invocations · +212 ms each" in _card(page, "cold_starts").text
    assert "1 out of memory" in _card(page, "errors").text


def test_changes_are_computed_from_previous_when_the_report_gives_none() -> None:
    report = full_report()
    del report["changes"]
    page = _page(report)
    assert "▲ 32%" in _delta(_card(page, "invocations")).text  # 935 → 1,234
    assert "▲ 55%" in _delta(_card(page, "retries")).text  # 20 → 31
    report["previous"]["retries"] = 0  # no base to compare with: the previous figure is shown instead
    assert _delta(_card(_page(report), "retries")).text == "was 0"


def test_previous_null_says_there_is_no_previous_window() -> None:
    report = full_report()
    report["previous"] = None
    report["changes"] = dict.fromkeys(report["changes"])
    page = _page(report)
    for card in page.find_all("div", class_="card"):
        assert _delta(card).text == "no previous window"
    assert "▲" not in page.one("section", id="headline").text


def test_insight_sentences_come_first_with_their_names_as_code() -> None:
    page = _page(full_report())
    sections = _sections(page)
    assert sections.index("insights") < sections.index("headline") < sections.index("timeline")
    items = page.find_all("li", class_=lambda value: "insight" in value.split())
    assert [item.attrs["data-kind"] for item in items] == [
        "timeout",
        "near_timeout",
        "near_memory",
        "retries",
        "errors_rose",
    ]
    assert items[0].one(class_="message").text == "Function long-calculation timed out 12 times (30 s configured)"
    assert [code.text for code in items[0].find_all("code")] == ["long-calculation"]
    assert "sev-bad" in items[0].classes() and "sev-warn" in items[1].classes()


def test_functions_table_has_a_row_per_function_with_histogram_memory_and_timeout() -> None:
    report = full_report()
    page = _page(report)
    table = page.one("table", class_="functions")
    rows = table.find_all("tr", data_function=lambda _: True)
    assert [row.attrs["data-function"] for row in rows] == [function["name"] for function in report["functions"]]
    cells = [cell.text for cell in rows[2].find_all("td")]  # long-calculation
    assert cells[:9] == ["long-calculation", "40", "12", "12", "3", "0", "2.10 s", "29.00 s", "30.00 s"]
    assert cells[10] == "30.00 s" and cells[11] == "61 / 128 MB"
    # Its histogram draws one bar per non-empty bucket, and names each bucket's range.
    histogram = rows[2].one("svg", class_="histogram")
    assert len(histogram.find_all("rect", class_="hist-bar")) == 4
    titles = [title.text for title in histogram.find_all("title")]
    assert titles[0] == "up to 10 ms: 0" and titles[-1] == "over 5.00 s: 12"
    # p99 at the configured timeout: red; memory at 124 of 128 MB: amber.
    assert rows[2].find_all("div", class_="level level-bad")
    assert rows[4].find_all("div", class_="level level-warn")
    assert cells[2] == "12" and "alarm" in rows[2].find_all("td")[2].classes()


def test_dataflows_table_and_where_the_time_goes() -> None:
    page = _page(full_report())
    rows = page.one("table", class_="dataflows").find_all("tr", data_dataflow=lambda _: True)
    assert [[cell.text for cell in row.find_all("td")] for row in rows] == [
        ["POST /posts", "412", "840 ms", "2.90 s", "8.0%", "4"],
        ["GET /posts/{id}", "120", "45 ms", "390 ms", "0.0%", "1"],
        ["nightly-report", "1", "31.00 s", "31.00 s", "100.0%", "2"],
    ]
    time = page.one("section", id="time")
    split = time.find_all("div", class_="split")[0]  # upload-post: 9 s own, 14 s API
    assert split.attrs["title"] == "own code 9.00 s (39.1%) · API calls 14.00 s (60.9%)"
    assert "slowest hops: upload-post → post-uploaded 1.20 s" in time.text
    hops = time.one("table", class_="hops-table").find_all("tr", data_hop=lambda _: True)
    assert [row.attrs["data-hop"] for row in hops] == ["GET partner.example", "S3.PutObject", "DynamoDB.UpdateItem"]


def test_timeline_draws_a_bar_per_bucket_with_errors() -> None:
    page = _page(full_report())
    chart = page.one("svg", class_="chart timeline")
    assert len(chart.find_all("rect", class_="bar-inv")) == 48
    assert len(chart.find_all("rect", class_="bar-err")) == 6  # buckets 0, 11, 22, 28, 33, 44
    titles = [title.text for title in chart.find_all("title")]
    assert titles[28] == "2026-12-06 22:00 UTC: 28 invocations, 6 errors"
    assert [label.text for label in chart.find_all("text")][-1] == "time (UTC), per bucket"


def test_a_short_window_is_labelled_to_the_second() -> None:
    report = full_report()
    report["window"] = {"start": "2026-12-07T08:54:40Z", "end": "2026-12-07T08:54:56.5Z"}
    report["timeline"] = [
        {"start": f"2026-12-07T08:54:{40 + tick:02d}Z", "invocations": tick % 3, "errors": 0} for tick in range(16)
    ]
    page = _page(report)
    assert page.one(class_="window").text == "2026-12-07 08:54:40 → 2026-12-07 08:54:56 UTC (16 s)"
    texts = page.one("svg", class_="chart timeline").find_all("text", text_anchor="middle")
    labels = [text.text for text in texts]
    assert labels == ["08:54:40", "08:54:42", "08:54:44", "08:54:46", "08:54:48", "08:54:50", "08:54:52", "08:54:54"]


def test_service_map_draws_every_node_and_labels_edges_with_calls_and_errors() -> None:
    report = full_report()
    page = _page(report)
    svg = page.one("svg", class_="service-map")
    nodes = {node.attrs["data-node"]: node for node in svg.find_all("g", data_node=lambda _: True)}
    # analyse-sentiment is only named by an edge: it is drawn too, as a function.
    assert set(nodes) == {node["id"] for node in report["nodes"]} | {"analyse-sentiment"}
    assert nodes["analyse-sentiment"].attrs["data-kind"] == "function"
    assert nodes["sqs:analysis-words"].one(class_="node-kind").text == "SQS queue"
    assert nodes["sqs:analysis-words"].one(class_="node-name").text == "analysis-words"
    assert nodes["count-words"].one(class_="node-kind").text == "λ function · 380 inv"
    assert nodes["count-words"].one(class_="node-badge-text").text == "31"  # its errors
    edges = svg.find_all("g", class_=lambda value: "edge" in value.split())
    tags = svg.find_all("g", class_=lambda value: "edge-tag" in value.split())
    assert len(edges) == len(tags) == len(report["edges"])
    failing = next(tag for tag in tags if tag.attrs["data-target"] == "count-words" and "31" in tag.text)
    assert [text.text for text in failing.find_all("text")] == ["380 calls", "31 errors"]
    assert "edge-tag-error" in failing.classes()
    assert [edge.attrs["data-source"] for edge in edges if "edge-error" in edge.classes()] == [
        "states:post-report",
        "kinesis:post-stats",
        "sqs:analysis-words",
        "upload-post",
    ]  # the failing edges, drawn last (over the others), busiest on top
    # Calls flow left to right: a node sits after its callers, in a later column or band.
    position = {key: _translate(node) for key, node in nodes.items()}
    for edge in report["edges"]:
        if edge["source"] == "sqs:reanalysis":
            continue  # the one call back against the flow (a cycle)
        (x0, y0), (x1, y1) = position[edge["source"]], position[edge["target"]]
        assert x1 > x0 or y1 > y0, edge
    assert "edge-back" in next(edge for edge in edges if edge.attrs["data-source"] == "sqs:reanalysis").classes()


def _translate(node: Element) -> tuple[float, float]:
    inner = node.attrs["transform"].removeprefix("translate(").removesuffix(")")
    x, y = inner.split(",")
    return float(x), float(y)


def test_service_map_wraps_a_long_chain_into_bands_that_fit_the_page() -> None:
    chain = [f"step-{index}" for index in range(12)]
    report = empty_report(note="")
    report["invocations"] = 12
    report["nodes"] = [{"id": step, "kind": "function"} for step in chain]
    report["edges"] = [{"source": a, "target": b, "calls": 1, "errors": 0} for a, b in itertools.pairwise(chain)]
    svg = _page(report).one("svg", class_="service-map")
    assert float(svg.attrs["width"]) <= 1180
    rows = sorted({_translate(node)[1] for node in svg.find_all("g", data_node=lambda _: True)})
    assert len(rows) == 3  # 12 columns, 4 to a band


def test_an_edge_that_skips_a_column_passes_between_the_nodes_there() -> None:
    nodes = [{"id": name, "kind": "function"} for name in ("a", "b", "c", "d")]
    edges = [
        {"source": "a", "target": "b", "calls": 5, "errors": 0},
        {"source": "b", "target": "c", "calls": 5, "errors": 0},
        {"source": "a", "target": "d", "calls": 5, "errors": 0},
        {"source": "d", "target": "c", "calls": 5, "errors": 0},
        {"source": "a", "target": "c", "calls": 1, "errors": 0},
        {"source": "c", "target": "a", "calls": 1, "errors": 1},  # a cycle: drawn back against the flow
    ]
    drawn = _html_layout.layout(nodes, edges)
    by_id = {node.id: node for node in drawn.nodes}
    assert [by_id[key].column for key in "abcd"] == [0, 1, 2, 1]
    skip = next(edge for edge in drawn.edges if (edge.source.id, edge.target.id) == ("a", "c"))
    (waypoint,) = skip.waypoints
    assert waypoint.column == 1
    for other in (by_id["b"], by_id["d"]):  # the waypoint has a slot of its own in column 1
        assert waypoint.y + waypoint.height <= other.y or waypoint.y >= other.y + other.height
    back = next(edge for edge in drawn.edges if edge.source.id == "c")
    assert back.back and back.path.startswith(f"M{by_id['c'].x:.1f},")


# --- hostile and malformed input --------------------------------------------------------------------


def test_every_string_from_the_report_is_escaped() -> None:
    html = render_html(hostile_report())
    page = parse(html)
    assert "<script" not in html.lower()
    assert [element.tag for element in page.iter() if element.tag in {"script", "img", "iframe"}] == []
    handlers = [(element.tag, key) for element in page.iter() for key in element.attrs if key.startswith("on")]
    assert handlers == []
    # The hostile text is there, as text: in the note, the sources, a node, a table row, a sentence.
    assert page.one(id="note").text == HOSTILE
    assert HOSTILE in page.one(class_="sources").text
    assert page.find_all("g", data_node=HOSTILE)
    assert page.find_all("tr", data_function=HOSTILE + "upload-post")
    assert page.find_all("li", data_kind=lambda kind: kind.startswith(HOSTILE[:40]))
    assert page.one("head").one("title").text.startswith("Insights")
    # A kind that is not one we know never becomes a class name.
    assert page.one("g", data_node=HOSTILE).attrs["data-kind"] == "other"


def test_the_page_fetches_nothing_and_runs_no_script() -> None:
    html = render_html(full_report())
    page = parse(html)
    csp = page.one("meta", http_equiv="Content-Security-Policy").attrs["content"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert page.find_all("script") == []
    for element in page.iter():
        for key in ("src", "href"):
            assert element.attrs.get(key, "data:").startswith("data:"), element
    assert "http://" not in html and "https://" not in html


@pytest.mark.parametrize(
    "report",
    [
        {},
        {"invocations": "many", "functions": "none", "nodes": 3, "edges": [None, 1, "x"], "timeline": {}},
        {"invocations": float("nan"), "health": float("inf"), "previous": [], "changes": "up"},
        {
            "invocations": 5,
            "health": True,
            "window": {"start": "not a time", "end": 12},
            "functions": [{"name": None, "invocations": "5", "histogram": [{"le_ms": "x", "count": -3}, None]}],
            "dataflows": [{"name": {"a": 1}, "error_share": "all", "slowest_hops": "none"}],
            "slowest_hops": [{"total_ms": "long"}],
            "insights": [{"kind": 3, "message": None}, "text", {"message": "unpaired ` backtick"}],
            "nodes": [{"id": None, "kind": None}, {"id": "a"}],
            "edges": [{"source": "a", "target": "a", "calls": math.inf, "errors": -1}],
            "timeline": [{"start": None, "invocations": None}],
            "sources": "one.jsonl",
            "note": 42,
        },
        [],
    ],
    ids=["empty-dict", "wrong-containers", "non-finite", "wrong-values", "not-a-mapping"],
)
def test_a_malformed_report_still_renders(report: Any) -> None:
    html = render_html(report)
    page = parse(html)
    assert page.one("h1").text == "Insights"
    assert _card(page, "invocations").one(class_="card-value").text.strip() in {"—", "5"}


def test_the_report_is_not_changed() -> None:
    report = hostile_report()
    before = copy.deepcopy(report)
    render_html(report)
    assert report == before


def test_an_empty_report_shows_its_note_and_no_empty_sections() -> None:
    page = _page(empty_report(note="no spans in the window (2026-12-06 08:00 → 2026-12-07 08:00)"))
    state = page.one("section", id="note")
    assert state.one("h2").text == "No invocations in this window"
    assert state.one("p").text == "no spans in the window (2026-12-06 08:00 → 2026-12-07 08:00)"
    assert _sections(page) == ["note", "headline"]
    assert _card(page, "health").one(class_="card-value").text == "—"
    assert _card(page, "invocations").one(class_="card-value").text == "0"


def test_a_note_on_a_full_report_is_shown_above_the_figures() -> None:
    report = full_report()
    report["note"] = "3 truncated lines skipped in demo-traces.jsonl"
    report["estimated"] = True
    page = _page(report)
    assert page.one(id="note").text == "3 truncated lines skipped in demo-traces.jsonl"
    assert page.one("span", class_="badge badge-warn").text == "estimated from sampled traces"


def test_huge_reports_are_bounded() -> None:
    report = full_report()
    report["functions"] = [dict(report["functions"][0], name=f"f-{index}") for index in range(5000)]
    report["nodes"] = [{"id": f"f-{index}", "kind": "function"} for index in range(1000)]
    report["edges"] = [
        {"source": f"f-{index}", "target": f"f-{index + 1}", "calls": index, "errors": 0} for index in range(999)
    ]
    html = render_html(report)
    page = parse(html)
    assert len(page.one("table", class_="functions").find_all("tr", data_function=lambda _: True)) == 300
    assert "4700 more functions not shown." in page.text
    assert len(page.find_all("g", data_node=lambda _: True)) == 80
    assert "920 quieter nodes not drawn (the 80 busiest are)" in page.text
    assert len(html) < 3_000_000


# --- in a real browser ----------------------------------------------------------------------------------


def _png_size(png: Path) -> tuple[int, int]:
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def check_in_chromium(report: dict[str, Any], tmp_path: Path) -> Element:
    """Open the rendered report in headless Chromium: screenshot, no console message, and the DOM it built."""
    page = tmp_path / "insights.html"
    page.write_text(render_html(report), encoding="utf-8")
    png = tmp_path / "insights.png"
    shot = chromium.screenshot(page, png, tmp_path / "profile", height=3400)
    assert shot.console == []
    assert _png_size(png) == (1400, 3400)
    assert png.stat().st_size > 50_000  # a drawn page, not a blank one
    dumped = chromium.dump_dom(page, tmp_path / "profile")
    assert dumped.console == []
    return parse(dumped.stdout)


@pytest.mark.chromium
def test_the_console_check_sees_errors_and_blocked_fetches(tmp_path: Path) -> None:
    """The check the page passes is a real one: a page with a failing script and a fetch trips it."""
    page = tmp_path / "broken.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="img-src data:"></head>'
        '<body><img src="http://example.invalid/x.png"><script>missingFunction()</script></body></html>',
        encoding="utf-8",
    )
    console = chromium.dump_dom(page, tmp_path / "profile").console
    assert any("Uncaught ReferenceError: missingFunction" in line for line in console), console
    assert any("violates the following Content Security Policy" in line for line in console), console


@pytest.mark.chromium
def test_the_page_in_chromium(tmp_path: Path) -> None:
    report = full_report()
    dom = check_in_chromium(report, tmp_path)
    assert "1,234" in _card(dom, "invocations").text
    assert "93.0%" in _card(dom, "health").text
    assert "▲ 32%" in _card(dom, "errors").text
    functions = dom.one("table", class_="functions").find_all("tr", data_function=lambda _: True)
    assert [row.attrs["data-function"] for row in functions] == [function["name"] for function in report["functions"]]
    assert len(dom.one("table", class_="dataflows").find_all("tr", data_dataflow=lambda _: True)) == 3
    nodes = {
        node.attrs["data-node"] for node in dom.one("svg", class_="service-map").find_all("g", data_node=lambda _: True)
    }
    assert nodes == {node["id"] for node in report["nodes"]} | {"analyse-sentiment"}
    assert len(dom.find_all("li", class_=lambda value: "insight" in value.split())) == 5


@pytest.mark.chromium
def test_a_hostile_report_in_chromium_runs_nothing(tmp_path: Path) -> None:
    dom = check_in_chromium(hostile_report(), tmp_path)
    assert [element.tag for element in dom.iter() if element.tag in {"script", "img", "iframe"}] == []
    assert dom.one(id="note").text == HOSTILE


@pytest.mark.chromium
def test_an_empty_report_in_chromium(tmp_path: Path) -> None:
    page = tmp_path / "empty.html"
    page.write_text(render_html(empty_report()), encoding="utf-8")
    shot = chromium.screenshot(page, tmp_path / "empty.png", tmp_path / "profile", height=900)
    assert shot.console == []
    dom = parse(chromium.dump_dom(page, tmp_path / "profile").stdout)
    assert dom.one("section", id="note").one("p").text == "no spans in the window"
