"""Where the service map's nodes and edges go: a layered graph layout (geometry only, no markup).

Calls flow left to right: a node sits one column after the furthest of its callers (cycles are
broken where a depth-first walk meets them). An edge that skips columns gets a waypoint in each
column it crosses, so the nodes there make room for it instead of being drawn over, and within a
column nodes and waypoints are ordered by the mean row of their neighbours to keep edges from
crossing (barycentre sweeps). A long chain wraps like a line of text: the columns that do not fit
the page continue in a band below. An edge on to a later band, or back against the flow, runs
through the gaps between columns and bands.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from otel_serverless.insights._html_values import name, num

NODE_W, NODE_H, WAYPOINT_H = 190, 48, 10
COL_GAP, ROW_GAP, PAD, BAND_GAP = 120, 26, 24, 104
# The page's content is about 1,220 px wide: as many columns as fit it share a band.
MAX_WIDTH = 1180
COLUMNS_PER_BAND = max(1, (MAX_WIDTH - 2 * PAD + COL_GAP) // (NODE_W + COL_GAP))
# A map beyond this many nodes or edges is not readable: the busiest are drawn, the rest counted.
MAX_NODES = 80
MAX_EDGES = 300
# How much of a report's node and edge lists is read at all (a bound on work, not on the drawing).
READ_NODES = 5000
READ_EDGES = 20000

KINDS = ("function", "queue", "topic", "stream", "bus", "table", "bucket", "state_machine", "http", "other")

Point = tuple[float, float]


@dataclass(eq=False)
class Node:
    id: str
    kind: str  # one of KINDS, or "waypoint" for the place an edge crosses a column
    column: int = 0
    band: int = 0
    row: float = 0.0
    x: float = 0.0
    y: float = 0.0
    calls_in: float = 0.0
    calls_out: float = 0.0

    @property
    def height(self) -> float:
        return WAYPOINT_H if self.kind == "waypoint" else NODE_H

    @property
    def middle(self) -> float:
        return self.y + self.height / 2


@dataclass(eq=False)
class Edge:
    source: Node
    target: Node
    calls: float
    errors: float
    waypoints: list[Node] = field(default_factory=list)
    path: str = ""
    label_spots: list[Point] = field(default_factory=list)  # best first

    @property
    def back(self) -> bool:
        return self.source is not self.target and self.target.column <= self.source.column


@dataclass
class Layout:
    nodes: list[Node]  # the drawn nodes, without waypoints
    edges: list[Edge]
    width: float = 0.0
    height: float = 0.0
    hidden_nodes: int = 0
    hidden_edges: int = 0
    band_top: list[float] = field(default_factory=list)
    band_bottom: list[float] = field(default_factory=list)


def _kind(value: object) -> str:
    return value if isinstance(value, str) and value in KINDS else "other"


def _graph(nodes: Sequence[Mapping[str, Any]], edges: Sequence[Mapping[str, Any]]) -> Layout:
    """The nodes and edges to draw: duplicates merged, unknown endpoints added, the busiest kept."""
    found: dict[str, Node] = {}
    for row in nodes[:READ_NODES]:
        node_id = name(row.get("id"))
        found.setdefault(node_id, Node(node_id, _kind(row.get("kind"))))
    totals: dict[tuple[str, str], list[float]] = {}
    for row in edges[:READ_EDGES]:
        source, target = name(row.get("source")), name(row.get("target"))
        for endpoint in (source, target):
            # An edge may name a node the node list left out: draw it anyway, guessing its kind.
            found.setdefault(endpoint, Node(endpoint, "other" if ":" in endpoint else "function"))
        figures = totals.setdefault((source, target), [0.0, 0.0])
        figures[0] += max(0.0, num(row.get("calls")) or 0.0)
        figures[1] += max(0.0, num(row.get("errors")) or 0.0)
    for (source, target), (calls, _) in totals.items():
        found[source].calls_out += calls
        found[target].calls_in += calls
    layout = Layout([], [])
    if len(found) > MAX_NODES:
        busiest = sorted(found.values(), key=lambda node: -(node.calls_in + node.calls_out))[:MAX_NODES]
        kept = {node.id for node in busiest}
        layout.hidden_nodes = len(found) - MAX_NODES
        found = {key: node for key, node in found.items() if key in kept}
        totals = {key: value for key, value in totals.items() if key[0] in kept and key[1] in kept}
    if len(totals) > MAX_EDGES:
        layout.hidden_edges = len(totals) - MAX_EDGES
        totals = dict(sorted(totals.items(), key=lambda item: (-item[1][1], -item[1][0]))[:MAX_EDGES])
    layout.nodes = list(found.values())
    layout.edges = [
        Edge(found[source], found[target], calls, errors) for (source, target), (calls, errors) in totals.items()
    ]
    return layout


def _forward(layout: Layout) -> list[Edge]:
    """The edges left once a depth-first walk drops those that close a cycle (and self-loops)."""
    leaving: dict[Node, list[Edge]] = {node: [] for node in layout.nodes}
    for edge in layout.edges:
        if edge.source is not edge.target:
            leaving[edge.source].append(edge)
    state: dict[Node, int] = {}  # 1 = on the walk's path, 2 = done
    forward: list[Edge] = []
    for start in layout.nodes:
        if start in state:
            continue
        state[start] = 1
        stack: list[tuple[Node, int]] = [(start, 0)]
        while stack:
            current, index = stack[-1]
            if index == len(leaving[current]):
                state[current] = 2
                stack.pop()
                continue
            stack[-1] = (current, index + 1)
            edge = leaving[current][index]
            seen = state.get(edge.target)
            if seen == 1:
                continue  # closes a cycle: drawn as a back edge
            forward.append(edge)
            if seen is None:
                state[edge.target] = 1
                stack.append((edge.target, 0))
    return forward


def _columns(layout: Layout, forward: list[Edge]) -> None:
    """Longest path from the nodes nothing calls: each node one column after its furthest caller."""
    incoming: dict[Node, int] = dict.fromkeys(layout.nodes, 0)
    leaving: dict[Node, list[Node]] = {node: [] for node in layout.nodes}
    for edge in forward:
        incoming[edge.target] += 1
        leaving[edge.source].append(edge.target)
    ready = [node for node in layout.nodes if incoming[node] == 0]
    while ready:
        current = ready.pop()
        for following in leaving[current]:
            following.column = max(following.column, current.column + 1)
            incoming[following] -= 1
            if incoming[following] == 0:
                ready.append(following)
    for node in layout.nodes:
        node.band = node.column // COLUMNS_PER_BAND


def _waypoints(forward: list[Edge]) -> list[tuple[Node, Node]]:
    """Waypoints for edges that skip columns within a band; returns every link between neighbouring columns."""
    links: list[tuple[Node, Node]] = []
    for edge in forward:
        chain = [edge.source]
        if edge.source.band == edge.target.band:
            for column in range(edge.source.column + 1, edge.target.column):
                waypoint = Node(f"{edge.source.id} → {edge.target.id}", "waypoint", column, edge.source.band)
                edge.waypoints.append(waypoint)
                chain.append(waypoint)
        chain.append(edge.target)
        links.extend(itertools.pairwise(chain))
    return links


def _order(columns: dict[int, list[Node]], links: list[tuple[Node, Node]]) -> None:
    """Barycentre sweeps: each node moves to the mean row of its neighbours in the column swept before."""
    before: dict[Node, list[Node]] = {}
    after: dict[Node, list[Node]] = {}
    for left, right in links:
        before.setdefault(right, []).append(left)
        after.setdefault(left, []).append(right)
    for members in columns.values():
        for index, node in enumerate(members):
            node.row = index
    order = sorted(columns)
    for sweep in range(6):  # alternately from the left (callers) and from the right (callees)
        neighbours = before if sweep % 2 == 0 else after
        for column in order if sweep % 2 == 0 else reversed(order):
            members = columns[column]
            for node in members:
                rows = [other.row for other in neighbours.get(node, [])]
                node.row = sum(rows) / len(rows) if rows else node.row
            members.sort(key=lambda node: node.row)
            for index, node in enumerate(members):
                node.row = index


def _place(layout: Layout, columns: dict[int, list[Node]]) -> None:
    bands = max(columns) // COLUMNS_PER_BAND + 1
    top = float(PAD)
    for band in range(bands):
        members = [columns.get(band * COLUMNS_PER_BAND + index, []) for index in range(COLUMNS_PER_BAND)]
        heights = [sum(node.height for node in column) + ROW_GAP * max(0, len(column) - 1) for column in members]
        height = max(heights)
        for index, column in enumerate(members):
            y = top + (height - heights[index]) / 2
            for node in column:
                node.x = PAD + index * (NODE_W + COL_GAP)
                node.y = y
                y += node.height + ROW_GAP
        layout.band_top.append(top)
        layout.band_bottom.append(top + height)
        top += height + BAND_GAP
    across = min(max(columns) + 1, COLUMNS_PER_BAND)
    layout.width = PAD * 2 + across * NODE_W + (across - 1) * COL_GAP
    back_into_last = any(edge.back and edge.target.band == bands - 1 for edge in layout.edges)
    layout.height = layout.band_bottom[-1] + (BAND_GAP / 2 if back_into_last else 0) + PAD


def _cubic(start: Point, end: Point) -> tuple[str, list[Point]]:
    """An S-curve between two columns, and the points along it where a label may sit."""
    bend = (end[0] - start[0]) / 2
    one, two = (start[0] + bend, start[1]), (end[0] - bend, end[1])
    spots = []
    for t in (0.5, 0.35, 0.65, 0.2, 0.8):
        u = 1 - t
        spots.append(
            (
                u**3 * start[0] + 3 * u * u * t * one[0] + 3 * u * t * t * two[0] + t**3 * end[0],
                u**3 * start[1] + 3 * u * u * t * one[1] + 3 * u * t * t * two[1] + t**3 * end[1],
            )
        )
    path = f" C{one[0]:.1f},{one[1]:.1f} {two[0]:.1f},{two[1]:.1f} {end[0]:.1f},{end[1]:.1f}"
    return path, spots


def _rounded(points: list[Point], radius: float = 10.0) -> str:
    """A path through ``points`` (an orthogonal route) with its corners rounded."""
    path = f"M{points[0][0]:.1f},{points[0][1]:.1f}"
    for before, corner, after in zip(points, points[1:], points[2:], strict=False):
        room = min(radius, math.dist(before, corner) / 2, math.dist(corner, after) / 2)
        entry, leave = _toward(corner, before, room), _toward(corner, after, room)
        path += f" L{entry[0]:.1f},{entry[1]:.1f} Q{corner[0]:.1f},{corner[1]:.1f} {leave[0]:.1f},{leave[1]:.1f}"
    return path + f" L{points[-1][0]:.1f},{points[-1][1]:.1f}"


def _toward(point: Point, other: Point, distance: float) -> Point:
    length = math.dist(point, other)
    if length == 0:
        return point
    return point[0] + (other[0] - point[0]) * distance / length, point[1] + (other[1] - point[1]) * distance / length


def _along(y: float, start: float, end: float) -> list[Point]:
    """Label spots along a horizontal run, from near its ``end`` (where it turns into its target) back to its start:
    a label next to the node it leads to reads as that edge's."""
    direction = 1.0 if start > end else -1.0
    length = abs(start - end)
    spots = [(end + direction * offset, y) for offset in range(60, int(length) - 40, 70)]
    return spots or [((start + end) / 2, y)]


_LANES = (0, 8, -8, 16, -16, 24, -24)


def _route(layout: Layout, edge: Edge, lane: int) -> None:
    source, target = edge.source, edge.target
    if source is target:  # a function calling itself: a small loop over its top edge
        x0, y0 = source.x + NODE_W - 46, source.y
        edge.path = f"M{x0:.1f},{y0:.1f} C{x0:.1f},{y0 - 34:.1f} {x0 + 36:.1f},{y0 - 34:.1f} {x0 + 36:.1f},{y0:.1f}"
        edge.label_spots = [(x0 + 18, y0 - 30)]
        return
    if not edge.back and source.band == target.band:
        point = (source.x + NODE_W, source.middle)
        edge.path = f"M{point[0]:.1f},{point[1]:.1f}"
        for waypoint in [*edge.waypoints, target]:
            entry = (waypoint.x - (2 if waypoint is target else 0), waypoint.middle)
            curve, spots = _cubic(point, entry)
            edge.path += curve
            edge.label_spots += spots
            if waypoint is not target:
                point = (waypoint.x + NODE_W, waypoint.middle)
                edge.path += f" L{point[0]:.1f},{point[1]:.1f}"
                edge.label_spots.append((waypoint.x + NODE_W / 2, waypoint.middle))
        return
    if not edge.back:
        # On to a later band: out to the right, down the gap, along the band gap, into the target's left.
        lane_y = layout.band_top[target.band] - BAND_GAP * 0.45 + _LANES[lane % len(_LANES)]
        out_x, in_x = source.x + NODE_W + 14, target.x - 14 - (lane % 4) * 3
        points = [(source.x + NODE_W, source.middle), (out_x, source.middle)]
    else:
        # Against the flow: out to the left, down under the target's band, back up into its left.
        lane_y = layout.band_bottom[target.band] + BAND_GAP * 0.2 + abs(_LANES[lane % len(_LANES)])
        out_x, in_x = source.x - 20, target.x - 10
        points = [(source.x, source.middle), (out_x, source.middle)]
    points += [(out_x, lane_y), (in_x, lane_y), (in_x, target.middle), (target.x - 2, target.middle)]
    edge.path = _rounded(points)
    edge.label_spots = _along(lane_y, out_x, in_x)


def layout(nodes: Sequence[Mapping[str, Any]], edges: Sequence[Mapping[str, Any]]) -> Layout:
    """The laid-out map of a report's ``nodes`` and ``edges`` (both already lists of dicts)."""
    graph = _graph(nodes, edges)
    if not graph.nodes:
        return graph
    forward = _forward(graph)
    _columns(graph, forward)
    links = _waypoints(forward)
    columns: dict[int, list[Node]] = {}
    for node in graph.nodes:
        columns.setdefault(node.column, []).append(node)
    for edge in forward:
        for waypoint in edge.waypoints:
            columns[waypoint.column].append(waypoint)
    _order(columns, links)
    _place(graph, columns)
    lanes: dict[tuple[int, bool], int] = {}  # edges sharing a band gap get lanes of their own
    for edge in sorted(graph.edges, key=lambda edge: (-edge.errors, -edge.calls)):
        key = (edge.target.band, edge.back)
        lane = lanes.get(key, 0)
        if edge.back or edge.source.band != edge.target.band:
            lanes[key] = lane + 1
        _route(graph, edge, lane)
    return graph
