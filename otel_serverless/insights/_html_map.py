"""The service map as an inline SVG graph: functions and the AWS resources between them.

Layout is layered, left to right in the direction calls flow: a node sits one column after the
furthest of its callers (cycles are broken where a depth-first walk meets them), and within a
column nodes are ordered by the mean row of their neighbours to keep edges from crossing. A long
chain wraps like a line of text: the columns that do not fit the page's width continue in a band
below, so the map stays readable at its natural size. Edges are curves between neighbouring
columns; an edge that goes on to the next band, or back against the flow, runs through the gaps
between columns and bands. Every edge is labelled with its call and error counts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from otel_serverless.insights._html_values import esc, fmt_int, name, num

# A map beyond this many nodes or edges is not readable: the busiest are drawn, the rest counted.
MAX_NODES = 80
MAX_EDGES = 300
# How much of a report's node and edge lists is read at all (a bound on work, not on the drawing).
READ_NODES = 5000
READ_EDGES = 20000

NODE_W, NODE_H = 190, 48
COL_GAP, ROW_GAP, PAD = 120, 28, 24
BAND_GAP = 104
# The page's content is about 1,220 px wide: as many columns as fit it share a band.
MAX_WIDTH = 1180
COLUMNS_PER_BAND = max(1, (MAX_WIDTH - 2 * PAD + COL_GAP) // (NODE_W + COL_GAP))

KINDS = {
    "function": "λ function",
    "queue": "queue",
    "topic": "topic",
    "stream": "stream",
    "bus": "event bus",
    "table": "table",
    "bucket": "bucket",
    "state_machine": "state machine",
    "http": "HTTP",
    "other": "other",
}
# Service prefixes of resource ids ("sqs:post-uploaded"), said the way AWS spells them.
SERVICES = {
    "sqs": "SQS",
    "sns": "SNS",
    "kinesis": "Kinesis",
    "events": "EventBridge",
    "eventbridge": "EventBridge",
    "dynamodb": "DynamoDB",
    "s3": "S3",
    "states": "Step Functions",
    "stepfunctions": "Step Functions",
    "lambda": "Lambda",
    "http": "HTTP",
    "https": "HTTPS",
}


@dataclass
class _Node:
    id: str
    kind: str
    column: int = 0
    band: int = 0
    row: float = 0.0
    x: float = 0.0
    y: float = 0.0
    calls_in: float = 0.0
    calls_out: float = 0.0


@dataclass
class _Graph:
    nodes: dict[str, _Node] = field(default_factory=dict)
    edges: dict[tuple[str, str], list[float]] = field(default_factory=dict)  # (source, target) -> [calls, errors]
    hidden_nodes: int = 0
    hidden_edges: int = 0
    band_top: list[float] = field(default_factory=list)
    band_bottom: list[float] = field(default_factory=list)


def _kind(value: object) -> str:
    return value if isinstance(value, str) and value in KINDS else "other"


def _build(nodes: Sequence[Mapping[str, Any]], edges: Sequence[Mapping[str, Any]]) -> _Graph:
    graph = _Graph()
    for row in nodes[:READ_NODES]:
        node_id = name(row.get("id"))
        graph.nodes.setdefault(node_id, _Node(node_id, _kind(row.get("kind"))))
    for row in edges[:READ_EDGES]:
        source, target = name(row.get("source")), name(row.get("target"))
        calls = max(0.0, num(row.get("calls")) or 0.0)
        errors = max(0.0, num(row.get("errors")) or 0.0)
        for endpoint in (source, target):
            # An edge may name a node the node list left out: draw it anyway, guessing its kind.
            graph.nodes.setdefault(endpoint, _Node(endpoint, "other" if ":" in endpoint else "function"))
        totals = graph.edges.setdefault((source, target), [0.0, 0.0])
        totals[0] += calls
        totals[1] += errors
    for (source, target), (calls, _) in graph.edges.items():
        graph.nodes[source].calls_out += calls
        graph.nodes[target].calls_in += calls
    if len(graph.nodes) > MAX_NODES:
        busiest = sorted(graph.nodes.values(), key=lambda node: -(node.calls_in + node.calls_out))[:MAX_NODES]
        kept = {node.id for node in busiest}
        graph.hidden_nodes = len(graph.nodes) - len(kept)
        graph.nodes = {key: node for key, node in graph.nodes.items() if key in kept}
        graph.edges = {key: value for key, value in graph.edges.items() if key[0] in kept and key[1] in kept}
    if len(graph.edges) > MAX_EDGES:
        busiest_edges = sorted(graph.edges.items(), key=lambda item: (-item[1][1], -item[1][0]))[:MAX_EDGES]
        graph.hidden_edges = len(graph.edges) - MAX_EDGES
        graph.edges = dict(busiest_edges)
    return graph


def _forward_edges(graph: _Graph) -> list[tuple[str, str]]:
    """The edges left once a depth-first walk drops those that close a cycle (and self-loops)."""
    successors: dict[str, list[str]] = {key: [] for key in graph.nodes}
    for source, target in graph.edges:
        if source != target:
            successors[source].append(target)
    state: dict[str, int] = {}  # 1 = on the walk's path, 2 = done
    forward: list[tuple[str, str]] = []
    for start in graph.nodes:
        if start in state:
            continue
        state[start] = 1
        stack: list[tuple[str, int]] = [(start, 0)]
        while stack:
            current, index = stack[-1]
            if index < len(successors[current]):
                stack[-1] = (current, index + 1)
                following = successors[current][index]
                seen = state.get(following)
                if seen == 1:
                    continue  # closes a cycle: drawn as a back edge
                forward.append((current, following))
                if seen is None:
                    state[following] = 1
                    stack.append((following, 0))
            else:
                state[current] = 2
                stack.pop()
    return forward


def _assign_columns(graph: _Graph) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Each node one column after the furthest of its callers; returns (predecessors, successors)."""
    incoming: dict[str, int] = dict.fromkeys(graph.nodes, 0)
    successors: dict[str, list[str]] = {key: [] for key in graph.nodes}
    predecessors: dict[str, list[str]] = {key: [] for key in graph.nodes}
    for source, target in _forward_edges(graph):
        incoming[target] += 1
        successors[source].append(target)
        predecessors[target].append(source)
    ready = [key for key in graph.nodes if incoming[key] == 0]
    while ready:  # longest path from a node nothing calls
        current = ready.pop(0)
        for following in successors[current]:
            graph.nodes[following].column = max(graph.nodes[following].column, graph.nodes[current].column + 1)
            incoming[following] -= 1
            if incoming[following] == 0:
                ready.append(following)
    return predecessors, successors


def _order_rows(graph: _Graph, columns: dict[int, list[_Node]], neighbours: list[dict[str, list[str]]]) -> None:
    """Barycentre sweeps: each node moves to the mean row of its neighbours in the column swept before."""
    for members in columns.values():
        for index, node in enumerate(members):
            node.row = index
    order = sorted(columns)
    for sweep in range(4):  # alternately from the left (callers) and from the right (callees)
        for column in order if sweep % 2 == 0 else reversed(order):
            members = columns[column]
            for node in members:
                rows = [graph.nodes[other].row for other in neighbours[sweep % 2][node.id]]
                node.row = sum(rows) / len(rows) if rows else node.row
            members.sort(key=lambda node: node.row)
            for index, node in enumerate(members):
                node.row = index


def _layout(graph: _Graph) -> tuple[float, float]:
    """Place every node, band by band; returns the drawing's width and height."""
    predecessors, successors = _assign_columns(graph)
    columns: dict[int, list[_Node]] = {}
    for node in graph.nodes.values():
        node.band = node.column // COLUMNS_PER_BAND
        columns.setdefault(node.column, []).append(node)
    _order_rows(graph, columns, [predecessors, successors])
    bands = max(columns) // COLUMNS_PER_BAND + 1
    top = float(PAD)
    for band in range(bands):
        members = [columns.get(band * COLUMNS_PER_BAND + index, []) for index in range(COLUMNS_PER_BAND)]
        tallest = max(len(column) for column in members)
        height = tallest * (NODE_H + ROW_GAP) - ROW_GAP
        for index, column in enumerate(members):
            offset = (height - (len(column) * (NODE_H + ROW_GAP) - ROW_GAP)) / 2
            for node in column:
                node.x = PAD + index * (NODE_W + COL_GAP)
                node.y = top + offset + node.row * (NODE_H + ROW_GAP)
        graph.band_top.append(top)
        graph.band_bottom.append(top + height)
        top += height + BAND_GAP
    across = min(len(columns), COLUMNS_PER_BAND)
    width = PAD * 2 + across * NODE_W + (across - 1) * COL_GAP
    back_into_last = any(
        graph.nodes[target].column <= graph.nodes[source].column and graph.nodes[target].band == bands - 1
        for source, target in graph.edges
    )
    return width, graph.band_bottom[-1] + (BAND_GAP / 2 if back_into_last else 0) + PAD


def _label(node: _Node) -> tuple[str, str]:
    """(kind line, name line): ``sqs:post-uploaded`` reads as ``SQS queue`` / ``post-uploaded``."""
    kind = KINDS[node.kind]
    prefix, colon, rest = node.id.partition(":")
    if colon and rest and prefix.lower() in SERVICES:
        return f"{SERVICES[prefix.lower()]} {kind}" if node.kind != "other" else SERVICES[prefix.lower()], rest
    return kind, node.id


def _fit(text: str, width: float, char_w: float) -> str:
    room = max(4, int(width / char_w))
    return text if len(text) <= room else text[: room - 1] + "…"


def _edge_label(calls: float, errors: float) -> list[str]:
    lines = [f"{fmt_int(calls)} call" + ("" if calls == 1 else "s")]
    if errors:
        lines.append(f"{fmt_int(errors)} error" + ("" if errors == 1 else "s"))
    return lines


def _rounded(points: list[tuple[float, float]], radius: float = 10.0) -> str:
    """A path through ``points`` (an orthogonal route) with its corners rounded."""
    path = f"M{points[0][0]:.1f},{points[0][1]:.1f}"
    for before, corner, after in zip(points, points[1:], points[2:], strict=False):
        room = min(radius, math.dist(before, corner) / 2, math.dist(corner, after) / 2)
        entry = _toward(corner, before, room)
        leave = _toward(corner, after, room)
        path += f" L{entry[0]:.1f},{entry[1]:.1f} Q{corner[0]:.1f},{corner[1]:.1f} {leave[0]:.1f},{leave[1]:.1f}"
    return path + f" L{points[-1][0]:.1f},{points[-1][1]:.1f}"


def _toward(point: tuple[float, float], other: tuple[float, float], distance: float) -> tuple[float, float]:
    length = math.dist(point, other)
    if length == 0:
        return point
    return point[0] + (other[0] - point[0]) * distance / length, point[1] + (other[1] - point[1]) * distance / length


def _route(graph: _Graph, source: _Node, target: _Node, lane: int) -> tuple[str, float, float]:
    """The edge's path and where its label goes. ``lane`` spreads edges that share a gap."""
    source_y, target_y = source.y + NODE_H / 2, target.y + NODE_H / 2
    if source is target:  # a function calling itself: a small loop over its top edge
        x0, y0 = source.x + NODE_W - 46, source.y
        path = f"M{x0:.1f},{y0:.1f} C{x0:.1f},{y0 - 34:.1f} {x0 + 36:.1f},{y0 - 34:.1f} {x0 + 36:.1f},{y0:.1f}"
        return path, x0 + 18, y0 - 30
    if target.column > source.column and target.band == source.band:
        x0, x1 = source.x + NODE_W, target.x - 2
        bend = (x1 - x0) / 2
        path = (
            f"M{x0:.1f},{source_y:.1f} C{x0 + bend:.1f},{source_y:.1f} {x1 - bend:.1f},{target_y:.1f} "
            f"{x1:.1f},{target_y:.1f}"
        )
        return path, (x0 + x1) / 2, (source_y + target_y) / 2
    if target.column > source.column:
        # On to a later band: out to the right, down the gap, along the band gap, into the target's left.
        lane_y = graph.band_top[target.band] - BAND_GAP * 0.3 + lane * 7
        out_x, in_x = source.x + NODE_W + 14, target.x - 14 - lane * 4
        points = [(source.x + NODE_W, source_y), (out_x, source_y), (out_x, lane_y), (in_x, lane_y)]
    else:
        # Against the flow: out to the left, down under the target's band, back up into its left.
        lane_y = graph.band_bottom[target.band] + BAND_GAP * 0.22 + lane * 7
        out_x, in_x = source.x - 20, target.x - 10
        points = [(source.x, source_y), (out_x, source_y), (out_x, lane_y), (in_x, lane_y)]
    points += [(in_x, target_y), (target.x - 2, target_y)]
    return _rounded(points), (out_x + in_x) / 2, lane_y


def _edge_svg(graph: _Graph, source: _Node, target: _Node, figures: Sequence[float], lane: int) -> str:
    calls, errors = figures
    width = 1.4 + min(4.0, math.log10(calls + 1) * 1.6)
    css = "edge edge-error" if errors else "edge"
    if target.column <= source.column and source is not target:
        css += " edge-back"
    marker = "arrow-error" if errors else "arrow"
    path, label_x, label_y = _route(graph, source, target, lane)
    lines = _edge_label(calls, errors)
    pill_w = max(len(line) for line in lines) * 6.4 + 14
    pill_h = 16 * len(lines) + 4
    texts = "".join(
        f'<text class="edge-label{" edge-label-error" if index else ""}" x="{label_x:.1f}" '
        f'y="{label_y - pill_h / 2 + 14 + 16 * index:.1f}" text-anchor="middle">{esc(line)}</text>'
        for index, line in enumerate(lines)
    )
    tip = f"{source.id} → {target.id}: {', '.join(lines)}"
    return (
        f'<g class="{css}" data-source="{esc(source.id)}" data-target="{esc(target.id)}">'
        f"<title>{esc(tip)}</title>"
        f'<path d="{path}" stroke-width="{width:.2f}" fill="none" marker-end="url(#{marker})"/>'
        f'<rect class="edge-pill" x="{label_x - pill_w / 2:.1f}" y="{label_y - pill_h / 2:.1f}" '
        f'width="{pill_w:.1f}" height="{pill_h}" rx="9"/>{texts}</g>'
    )


def _node_svg(node: _Node, stats: Mapping[str, tuple[float, float]]) -> str:
    kind_line, name_line = _label(node)
    invocations, errors = stats.get(node.id, (0.0, 0.0)) if node.kind == "function" else (0.0, 0.0)
    if invocations:
        kind_line += f" · {fmt_int(invocations)} inv"
    failing = " node-failing" if errors else ""
    tip = f"{node.id} ({KINDS[node.kind]}): {fmt_int(node.calls_in)} calls in, {fmt_int(node.calls_out)} calls out"
    if errors:
        tip += f", {fmt_int(errors)} errors"
    badge = ""
    if errors:
        badge_text = fmt_int(errors)
        badge_w = len(badge_text) * 7 + 12
        badge = (
            f'<rect class="node-badge" x="{NODE_W - badge_w / 2 - 4:.1f}" y="-9" width="{badge_w:.1f}" height="18" '
            f'rx="9"/><text class="node-badge-text" x="{NODE_W - 4:.1f}" y="4" text-anchor="middle">'
            f"{esc(badge_text)}</text>"
        )
    return (
        f'<g class="node node-{node.kind}{failing}" data-node="{esc(node.id)}" data-kind="{node.kind}" '
        f'transform="translate({node.x:.1f},{node.y:.1f})">'
        f"<title>{esc(tip)}</title>"
        f'<rect class="node-box" width="{NODE_W}" height="{NODE_H}" rx="10"/>'
        f'<rect class="node-stripe" width="7" height="{NODE_H}" rx="3"/>'
        f'<text class="node-kind" x="18" y="18">{esc(_fit(kind_line, NODE_W - 26, 6.2))}</text>'
        f'<text class="node-name" x="18" y="36">{esc(_fit(name_line, NODE_W - 26, 7.6))}</text>'
        f"{badge}</g>"
    )


def service_map_svg(
    nodes: Sequence[Mapping[str, Any]],
    edges: Sequence[Mapping[str, Any]],
    function_stats: Mapping[str, tuple[float, float]],
) -> str:
    """The map, or a sentence saying there is nothing to draw. ``function_stats``: name → (invocations, errors)."""
    graph = _build(nodes, edges)
    if not graph.nodes:
        return '<p class="empty">No calls between functions and resources in this window.</p>'
    width, height = _layout(graph)
    parts = [
        f'<svg class="service-map" viewBox="0 -14 {width:.0f} {height + 14:.0f}" width="{width:.0f}" '
        f'height="{height + 14:.0f}" role="img" aria-label="Service map">'
        "<defs>"
        '<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" markerHeight="9" '
        'markerUnits="userSpaceOnUse" orient="auto"><path class="arrow-head" d="M0,0 L10,5 L0,10 z"/></marker>'
        '<marker id="arrow-error" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" markerHeight="9" '
        'markerUnits="userSpaceOnUse" orient="auto"><path class="arrow-head-error" d="M0,0 L10,5 L0,10 z"/></marker>'
        "</defs>"
    ]
    # Quiet edges first, so the busy and failing ones are drawn on top of them.
    ordered = sorted(graph.edges.items(), key=lambda item: (item[1][1] > 0, item[1][0]))
    lanes: dict[tuple[int, bool], int] = {}  # edges sharing a band gap get lanes of their own
    for (source_id, target_id), figures in ordered:
        source, target = graph.nodes[source_id], graph.nodes[target_id]
        key = (target.band, target.column <= source.column)
        lane = lanes.get(key, 0)
        if source is not target and (target.band != source.band or target.column <= source.column):
            lanes[key] = lane + 1
        parts.append(_edge_svg(graph, source, target, figures, lane % 6))
    parts.extend(_node_svg(node, function_stats) for node in graph.nodes.values())
    parts.append("</svg>")
    legend_kinds = [kind for kind in KINDS if any(node.kind == kind for node in graph.nodes.values())]
    legend = "".join(
        f'<span class="legend-item"><span class="swatch swatch-{kind}"></span>{esc(KINDS[kind])}</span>'
        for kind in legend_kinds
    )
    hidden = ""
    if graph.hidden_nodes:
        hidden += (
            f'<span class="legend-item muted">{graph.hidden_nodes} quieter nodes not drawn '
            f"(the {MAX_NODES} busiest are)</span>"
        )
    if graph.hidden_edges:
        hidden += (
            f'<span class="legend-item muted">{graph.hidden_edges} quieter edges not drawn '
            f"(the {MAX_EDGES} busiest are)</span>"
        )
    return f'<div class="map-scroll">{"".join(parts)}</div><div class="legend">{legend}{hidden}</div>'
