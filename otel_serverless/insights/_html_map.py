"""The service map as an inline SVG graph: functions and the AWS resources between them.

Geometry comes from :mod:`._html_layout`; this module writes the markup: nodes as cards with their
kind and name, edges as arrows, and a label per edge with its call and error counts, set where it
covers neither a node nor another label. Every string from the report is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from otel_serverless.insights._html_layout import MAX_EDGES, MAX_NODES, NODE_H, NODE_W, Edge, Layout, Node, layout
from otel_serverless.insights._html_values import esc, fmt_int

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
    "sqs": "SQS queue",
    "sns": "SNS topic",
    "kinesis": "Kinesis stream",
    "events": "EventBridge bus",
    "eventbridge": "EventBridge bus",
    "schedule": "EventBridge schedule",
    "dynamodb": "DynamoDB table",
    "s3": "S3 bucket",
    "states": "Step Functions",
    "stepfunctions": "Step Functions",
    "lambda": "λ function",
    "http": "HTTP",
    "https": "HTTPS",
}

Rect = tuple[float, float, float, float]


def _label(node: Node) -> tuple[str, str]:
    """(kind line, name line): ``sqs:post-uploaded`` reads as ``SQS queue`` / ``post-uploaded``."""
    prefix, colon, rest = node.id.partition(":")
    if colon and rest and prefix.lower() in SERVICES:
        return SERVICES[prefix.lower()], rest
    return KINDS.get(node.kind, "other"), node.id


def _fit(text: str, width: float, char_w: float) -> str:
    room = max(4, int(width / char_w))
    return text if len(text) <= room else text[: room - 1] + "…"


def _node_svg(node: Node, stats: Mapping[str, tuple[float, float]]) -> str:
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


def _edge_lines(edge: Edge) -> list[str]:
    lines = [f"{fmt_int(edge.calls)} call" + ("" if edge.calls == 1 else "s")]
    if edge.errors:
        lines.append(f"{fmt_int(edge.errors)} error" + ("" if edge.errors == 1 else "s"))
    return lines


def _overlaps(one: Rect, other: Rect) -> bool:
    return one[0] < other[2] and other[0] < one[2] and one[1] < other[3] and other[1] < one[3]


def _edge_svg(edge: Edge) -> str:
    width = 1.4 + min(4.0, math.log10(edge.calls + 1) * 1.6)
    css = "edge edge-error" if edge.errors else "edge"
    if edge.back:
        css += " edge-back"
    marker = "arrow-error" if edge.errors else "arrow"
    tip = f"{edge.source.id} → {edge.target.id}: {', '.join(_edge_lines(edge))}"
    return (
        f'<g class="{css}" data-source="{esc(edge.source.id)}" data-target="{esc(edge.target.id)}">'
        f'<title>{esc(tip)}</title><path d="{edge.path}" stroke-width="{width:.2f}" fill="none" '
        f'marker-end="url(#{marker})"/></g>'
    )


def _tag_svg(edge: Edge, taken: list[Rect], width: float) -> str:
    """The edge's label, at the first of its spots that covers no node and no label set before it."""
    lines = _edge_lines(edge)
    pill_w, pill_h = max(len(line) for line in lines) * 6.4 + 14, 16 * len(lines) + 4
    spots = edge.label_spots or [(edge.source.x, edge.source.y)]
    chosen = spots[0]
    for spot in spots:
        rect = (spot[0] - pill_w / 2 - 2, spot[1] - pill_h / 2 - 2, spot[0] + pill_w / 2 + 2, spot[1] + pill_h / 2 + 2)
        if not any(_overlaps(rect, other) for other in taken):
            chosen = spot
            break
    x = min(max(chosen[0], pill_w / 2 + 1), width - pill_w / 2 - 1)  # inside the drawing
    y = chosen[1]
    taken.append((x - pill_w / 2, y - pill_h / 2, x + pill_w / 2, y + pill_h / 2))
    texts = "".join(
        f'<text class="edge-label{" edge-label-error" if index else ""}" x="{x:.1f}" '
        f'y="{y - pill_h / 2 + 14 + 16 * index:.1f}" text-anchor="middle">{esc(line)}</text>'
        for index, line in enumerate(lines)
    )
    css = "edge-tag edge-tag-error" if edge.errors else "edge-tag"
    return (
        f'<g class="{css}" data-source="{esc(edge.source.id)}" data-target="{esc(edge.target.id)}">'
        f'<rect class="edge-pill" x="{x - pill_w / 2:.1f}" y="{y - pill_h / 2:.1f}" width="{pill_w:.1f}" '
        f'height="{pill_h}" rx="9"/>{texts}</g>'
    )


_MARKERS = "".join(
    f'<marker id="{marker}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" markerHeight="9" '
    f'markerUnits="userSpaceOnUse" orient="auto"><path class="{css}" d="M0,0 L10,5 L0,10 z"/></marker>'
    for marker, css in (("arrow", "arrow-head"), ("arrow-error", "arrow-head-error"))
)


def _legend(drawn: Layout) -> str:
    legend = "".join(
        f'<span class="legend-item"><span class="swatch swatch-{kind}"></span>{esc(KINDS[kind])}</span>'
        for kind in KINDS
        if any(node.kind == kind for node in drawn.nodes)
    )
    if drawn.hidden_nodes:
        legend += (
            f'<span class="legend-item muted">{drawn.hidden_nodes} quieter nodes not drawn '
            f"(the {MAX_NODES} busiest are)</span>"
        )
    if drawn.hidden_edges:
        legend += (
            f'<span class="legend-item muted">{drawn.hidden_edges} quieter edges not drawn '
            f"(the {MAX_EDGES} busiest are)</span>"
        )
    return f'<div class="legend">{legend}</div>'


def service_map_svg(
    nodes: Sequence[Mapping[str, Any]],
    edges: Sequence[Mapping[str, Any]],
    function_stats: Mapping[str, tuple[float, float]],
) -> str:
    """The map, or a sentence saying there is nothing to draw. ``function_stats``: name → (invocations, errors)."""
    drawn = layout(nodes, edges)
    if not drawn.nodes:
        return '<p class="empty">No calls between functions and resources in this window.</p>'
    height = drawn.height + 14
    parts = [
        f'<svg class="service-map" viewBox="0 -14 {drawn.width:.0f} {height:.0f}" width="{drawn.width:.0f}" '
        f'height="{height:.0f}" role="img" aria-label="Service map"><defs>{_MARKERS}</defs>'
    ]
    # Quiet edges first, so the busy and failing ones are drawn over them; labels over every edge,
    # placed busiest and failing first so they get the best spots.
    by_weight = sorted(drawn.edges, key=lambda edge: (edge.errors > 0, edge.calls))
    parts.extend(_edge_svg(edge) for edge in by_weight)
    parts.extend(_node_svg(node, function_stats) for node in drawn.nodes)
    taken: list[Rect] = [(node.x - 2, node.y - 2, node.x + NODE_W + 2, node.y + NODE_H + 2) for node in drawn.nodes]
    parts.extend(_tag_svg(edge, taken, drawn.width) for edge in reversed(by_weight))
    parts.append("</svg>")
    return f'<div class="map-scroll">{"".join(parts)}</div>{_legend(drawn)}'
