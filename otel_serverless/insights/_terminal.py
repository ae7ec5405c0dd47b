"""The report in a terminal: headline figures with ▲/▼, the insight sentences, and tables
that fit the terminal's width (long names are cut, then the least needed columns go)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

MIN_NAME: Final = 12
#: Service-map edges shown in the terminal (all of them are in --json and --html).
MAX_EDGES: Final = 25


def _count(value: Any) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _ms(value: Any) -> str:
    if value is None:
        return "—"
    if value >= 10_000:
        return f"{value / 1000:.1f} s"
    return f"{value:,.0f} ms" if value >= 10 else f"{value:.1f} ms"


def _usd(value: Any) -> str:
    if value is None:
        return "—"
    if value == 0:
        return "$0"
    return f"${value:,.2f}" if value >= 1 else f"${value:.6f}".rstrip("0")


def _share(value: Any) -> str:
    return "—" if value is None else f"{value:.1%}".replace(".0%", "%")


def _change(value: Any) -> str:
    if value is None:
        return ""
    if value == 0:
        return " ="
    arrow = "▲" if value > 0 else "▼"
    return f" {arrow}{abs(value):.0%}"


def _memory(row: Mapping[str, Any]) -> str:
    peak, limit = row.get("max_memory_mb"), row.get("memory_limit_mb")
    if peak is None:
        return "—"
    return f"{peak:,.0f}/{limit:,.0f} MB" if limit else f"{peak:,.0f} MB"


def _api_share(row: Mapping[str, Any]) -> str:
    """The share of the time spent waiting on AWS SDK and HTTP calls (the rest is own code)."""
    total = (row.get("own_ms") or 0) + (row.get("api_ms") or 0)
    return _share(row["api_ms"] / total) if total else "—"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


def table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], width: int, drop_order: Sequence[int] = ()
) -> list[str]:
    """Columns fitted to *width*: the first (name) column is cut down to :data:`MIN_NAME`,
    then the columns in *drop_order* are left out one by one until the table fits."""
    columns = list(range(len(headers)))

    def widths(kept: list[int]) -> list[int]:
        return [max(len(headers[c]), *(len(row[c]) for row in rows)) if rows else len(headers[c]) for c in kept]

    def total(sizes: list[int]) -> int:
        return sum(sizes) + 2 * (len(sizes) - 1)

    drops = list(drop_order)
    sizes = widths(columns)
    while True:
        over = total(sizes) - width
        if over <= 0:
            break
        if sizes[0] - over >= MIN_NAME:
            sizes[0] -= over
            break
        if not drops:
            sizes[0] = max(MIN_NAME, sizes[0] - over)
            break
        columns.remove(drops.pop(0))
        sizes = widths(columns)
    lines = []
    for number, row in enumerate([headers, *rows]):
        cells = []
        for place, (column, size) in enumerate(zip(columns, sizes, strict=True)):
            text = _cut(row[column], size)
            cells.append(text.ljust(size) if place == 0 else text.rjust(size))
        lines.append("  ".join(cells).rstrip())
        if number == 0:
            lines.append("  ".join("─" * size for size in sizes))
    return lines


def _flow(items: Sequence[str], width: int, indent: str = "  ") -> list[str]:
    """Headline items on as few lines as fit."""
    lines: list[str] = []
    current = indent
    for item in items:
        candidate = item if current == indent else "   " + item
        if current != indent and len(current) + len(candidate) > width:
            lines.append(current)
            current = indent + item
        else:
            current += candidate
    if current.strip():
        lines.append(current)
    return lines


def _sentences(insights: Sequence[Mapping[str, Any]], width: int) -> list[str]:
    lines: list[str] = []
    for found in insights:
        lines.extend(textwrap.wrap(found["message"], width, initial_indent="  • ", subsequent_indent="    "))
    return lines


def summary(report: Mapping[str, Any], width: int = 100, *, most: int = 6) -> str:
    """The headline figures and the first insight sentences (the demo's closing words)."""
    lines = _headline(report, max(40, width))
    insights = report.get("insights") or []
    lines.extend(_sentences(insights[:most], max(40, width)))
    if len(insights) > most:
        lines.append(f"    … and {len(insights) - most} more")
    return "\n".join(lines) + "\n"


def _headline(report: Mapping[str, Any], width: int) -> list[str]:
    changes: Mapping[str, Any] = report.get("changes") or {}
    cold = report.get("cold_start_added_ms")
    cold_extra = f", +{_ms(cold)} each" if cold is not None else ""

    def item(label: str, key: str, show: Callable[[Any], str] = _count) -> str:
        return f"{label} {show(report.get(key))}{_change(changes.get(key))}"

    return _flow(
        [
            item("Health", "health", _share),
            item("Invocations", "invocations"),
            item("Errors", "errors"),
            item("Timeouts", "timeouts"),
            *([item("Out of memory", "out_of_memory")] if report.get("out_of_memory") else []),
            f"Cold starts {_count(report.get('cold_starts'))} ({_share(report.get('cold_start_share'))}"
            f"{cold_extra}){_change(changes.get('cold_starts'))}",
            item("Retries", "retries"),
            item("Cost", "cost_usd", _usd),
            item("Monthly", "monthly_cost_usd", _usd),
        ],
        width,
    )


def render(report: Mapping[str, Any], width: int = 100) -> str:
    width = max(40, width)
    out: list[str] = []
    window = report["window"]
    out.append(f"Insights  {window['start'][:16].replace('T', ' ')} → {window['end'][:16].replace('T', ' ')} UTC")
    if report.get("sources"):
        out.append(_cut("from " + ", ".join(report["sources"]), width))
    if report.get("estimated"):
        out.append("Figures are estimates: head-sampled spans were counted with their sampling weight.")
    if report.get("note"):
        out.append(f"Note: {report['note']}")
    out.append("")
    out.extend(_headline(report, width))
    if report.get("previous") is None:
        out.append("  (no previous window to compare with)")
    insights = report.get("insights") or []
    if insights:
        out += ["", "What to look at first"]
        out.extend(_sentences(insights, width))
    functions = report.get("functions") or []
    if functions:
        out += ["", "Functions"]
        rows = [
            [
                f["name"],
                _count(f["invocations"]),
                _count(f["errors"]),
                _count(f["timeouts"]),
                _count(f["cold_starts"]),
                _count(f["retries"]),
                _ms(f["p50_ms"]),
                _ms(f["p95_ms"]),
                _ms(f["p99_ms"]),
                _memory(f),
                _usd(f["cost_usd"]),
                _api_share(f),
            ]
            for f in functions
        ]
        headers = [
            "function", "calls", "errors", "timeouts", "cold", "retries", "p50", "p95", "p99", "memory", "cost",
            "in API calls",
        ]  # fmt: skip
        out.extend(table(headers, rows, width, drop_order=(11, 7, 5, 3, 10, 4, 9)))
    flows = report.get("dataflows") or []
    if flows:
        out += ["", "Dataflows (end to end, across every hop)"]
        rows = [
            [
                d["name"],
                _count(d["invocations"]),
                _ms(d["p50_ms"]),
                _ms(d["p99_ms"]),
                _share(d["error_share"]),
                _count(d["functions"]),
                _api_share(d),
            ]
            for d in flows
        ]
        out.extend(
            table(["dataflow", "runs", "p50", "p99", "errors", "functions", "in API calls"], rows, width, (6, 5))
        )
    hops = report.get("slowest_hops") or []
    if hops:
        out += ["", "Where the time goes: slowest calls (total)"]
        rows = [[f"{h['function']}: {h['name']}", h["kind"], _count(h["calls"]), _ms(h["total_ms"])] for h in hops]
        out.extend(table(["call", "kind", "calls", "total"], rows, width, (1,)))
    edges = report.get("edges") or []
    if edges:
        out += ["", "Service map"]
        rows = [[f"{e['source']} → {e['target']}", _count(e["calls"]), _count(e["errors"])] for e in edges]
        out.extend(table(["edge", "calls", "errors"], rows[:MAX_EDGES], width))
        if len(rows) > MAX_EDGES:
            out.append(f"… and {len(rows) - MAX_EDGES} more edges (--json or --html for all)")
    return "\n".join(out) + "\n"
