"""Small charts for the HTML view, drawn as inline SVG (no script, nothing fetched at view time).

Colours come from CSS classes defined by the page, so a chart follows the page's light or dark
theme. Numbers written into markup are formatted here from checked floats; every string that
came from the report goes through ``esc``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from otel_serverless.insights._html_values import (
    esc,
    fmt_int,
    fmt_ms,
    fmt_ms_short,
    fmt_share,
    fmt_time,
    num,
    parse_time,
)


def nice_ceiling(value: float, ticks: int = 4) -> tuple[float, float]:
    """An axis top at or above ``value`` and its tick step (1, 2, 2.5 or 5 times a power of ten, at least 1:
    the axes count invocations)."""
    if value <= 0:
        return 1.0, 1.0
    raw = value / ticks
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(factor * power for factor in (1, 2, 2.5, 5, 10) if factor * power * ticks >= value)
    step = max(1.0, step)
    return step * math.ceil(value / step), step


def _axis_label(value: float) -> str:
    if value >= 1000 and value == int(value):
        return f"{value / 1000:g}k" if value % 1000 == 0 else f"{int(value):,}"
    return f"{value:g}"


def timeline_svg(buckets: Sequence[Mapping[str, Any]]) -> str:
    """Invocations per time bucket as bars, the errors among them in red at the foot of each bar."""
    width, height = 1000, 240
    left, right, top, bottom = 52, 16, 14, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    points: list[tuple[datetime | None, float, float]] = []
    for bucket in buckets:
        invocations = max(0.0, num(bucket.get("invocations")) or 0.0)
        errors = max(0.0, num(bucket.get("errors")) or 0.0)
        points.append((parse_time(bucket.get("start")), invocations, errors))
    top_value, step = nice_ceiling(max((max(inv, err) for _, inv, err in points), default=0.0))
    parts = [
        f'<svg class="chart timeline" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="Invocations and errors over time">'
    ]
    tick = 0.0
    while tick <= top_value + step / 2:
        y = top + plot_h - plot_h * tick / top_value
        parts.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="axis" x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{_axis_label(tick)}</text>')
        tick += step
    slot = plot_w / max(1, len(points))
    bar_w = min(48.0, max(1.0, slot * 0.78))
    times = [moment for moment, _, _ in points if moment is not None]
    spread = (max(times) - min(times)).total_seconds() if times else 0.0
    with_date, with_seconds = spread > 86_400, spread < 600
    label_every = max(1, math.ceil(len(points) / 8))
    for index, (moment, invocations, errors) in enumerate(points):
        x = left + slot * index + (slot - bar_w) / 2
        inv_h = plot_h * min(invocations, top_value) / top_value
        err_h = plot_h * min(errors, invocations or errors, top_value) / top_value
        when = fmt_time(moment, True, with_seconds) + " UTC" if moment else "bucket " + str(index + 1)
        tip = f"{when}: {fmt_int(invocations)} invocations, {fmt_int(errors)} errors"
        parts.append(f"<g><title>{esc(tip)}</title>")
        parts.append(
            f'<rect class="bar-inv" x="{x:.1f}" y="{top + plot_h - inv_h:.1f}" width="{bar_w:.1f}" '
            f'height="{inv_h:.1f}" rx="{min(3.0, bar_w / 4):.1f}"/>'
        )
        if err_h > 0:
            parts.append(
                f'<rect class="bar-err" x="{x:.1f}" y="{top + plot_h - err_h:.1f}" width="{bar_w:.1f}" '
                f'height="{err_h:.1f}"/>'
            )
        parts.append("</g>")
        if moment is not None and index % label_every == 0:
            parts.append(
                f'<text class="axis" x="{x + bar_w / 2:.1f}" y="{top + plot_h + 18}" text-anchor="middle">'
                f"{esc(fmt_time(moment, with_date, with_seconds))}</text>"
            )
    parts.append(f'<line class="baseline" x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}"/>')
    parts.append(
        f'<text class="axis" x="{width - right}" y="{height - 4}" text-anchor="end">time (UTC), per bucket</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def histogram_svg(buckets: Sequence[Mapping[str, Any]]) -> str:
    """A function's duration histogram as a small bar chart; each bar's tooltip names its range."""
    counts: list[tuple[float | None, float]] = []
    for bucket in buckets:
        counts.append((num(bucket.get("le_ms")), max(0.0, num(bucket.get("count")) or 0.0)))
    if not counts:
        return '<span class="muted">—</span>'
    width, height, base = 132, 40, 30
    highest = max(count for _, count in counts) or 1.0
    slot = width / len(counts)
    parts = [
        f'<svg class="histogram" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="Duration histogram">'
    ]
    lower: float | None = 0.0
    for index, (bound, count) in enumerate(counts):
        bar_h = (base - 2) * count / highest
        if bound is None:
            label = f"over {fmt_ms(lower)}" if lower is not None else "rest"
        else:
            label = f"{fmt_ms(lower)}–{fmt_ms(bound)}" if lower else f"up to {fmt_ms(bound)}"
        x = index * slot + 0.5
        parts.append(f"<g><title>{esc(label)}: {esc(fmt_int(count))}</title>")
        parts.append(f'<rect class="hist-slot" x="{x:.1f}" y="0" width="{max(1.0, slot - 1):.1f}" height="{base}"/>')
        if count > 0:
            parts.append(
                f'<rect class="hist-bar" x="{x:.1f}" y="{base - max(bar_h, 1.5):.1f}" '
                f'width="{max(1.0, slot - 1):.1f}" height="{max(bar_h, 1.5):.1f}"/>'
            )
        parts.append("</g>")
        lower = bound
    finite = [bound for bound, _ in counts if bound is not None]
    if finite:
        # The axis from 0 to the last finite bound; a +Inf bucket reads as "and more".
        last_label = fmt_ms_short(finite[-1]) + ("+" if counts[-1][0] is None else "")
        parts.append(f'<text class="axis small" x="0" y="{height - 1}">0</text>')
        parts.append(
            f'<text class="axis small" x="{width}" y="{height - 1}" text-anchor="end">{esc(last_label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def health_ring_svg(health: float | None) -> str:
    """The healthy share as a ring: green from 99%, amber from 95%, red below."""
    radius, stroke = 26, 8
    circumference = 2 * math.pi * radius
    level = "unknown" if health is None else "good" if health >= 0.99 else "warn" if health >= 0.95 else "bad"
    share = 0.0 if health is None else min(1.0, max(0.0, health))
    value = (
        f'<circle class="ring-value" cx="32" cy="32" r="{radius}" stroke-width="{stroke}" fill="none" '
        f'stroke-dasharray="{circumference * share:.2f} {circumference:.2f}" transform="rotate(-90 32 32)" '
        f'stroke-linecap="round"/>'
        if share > 0
        else ""  # a round cap would draw a dot for nothing
    )
    return (
        f'<svg class="ring ring-{level}" viewBox="0 0 64 64" width="64" height="64" aria-hidden="true">'
        f'<circle class="ring-track" cx="32" cy="32" r="{radius}" stroke-width="{stroke}" fill="none"/>'
        f"{value}</svg>"
    )


def split_bar(own_ms: float | None, api_ms: float | None) -> str:
    """Own code against API calls as one stacked bar, with both shares in its tooltip."""
    own, api = max(0.0, own_ms or 0.0), max(0.0, api_ms or 0.0)
    total = own + api
    if total <= 0:
        return '<div class="split empty" title="no timing"></div>'
    own_share = own / total
    tip = f"own code {fmt_ms(own)} ({fmt_share(own_share)}) · API calls {fmt_ms(api)} ({fmt_share(1 - own_share)})"
    return (
        f'<div class="split" title="{esc(tip)}">'
        f'<span class="own" style="width:{own_share * 100:.2f}%"></span>'
        f'<span class="api" style="width:{(1 - own_share) * 100:.2f}%"></span></div>'
    )


def level_bar(used: float | None, limit: float | None, warn_at: float) -> str:
    """How much of a limit was used (memory, timeout), amber from ``warn_at`` of it, red when over."""
    if used is None or limit is None or limit <= 0:
        return ""
    share = used / limit
    level = "bad" if share >= 1 else "warn" if share >= warn_at else "good"
    return (
        f'<div class="level level-{level}" title="{esc(fmt_share(share))} of the limit">'
        f'<span style="width:{min(1.0, max(0.0, share)) * 100:.1f}%"></span></div>'
    )


def scale_bar(value: float, highest: float) -> str:
    share = 0.0 if highest <= 0 else min(1.0, max(0.0, value / highest))
    return f'<div class="scale"><span style="width:{share * 100:.1f}%"></span></div>'
