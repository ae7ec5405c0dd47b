"""Figures → the report dict (the contract in the README's "Insights" section)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Final

from otel_serverless.insights import _graph, _insights
from otel_serverless.insights._aggregate import HISTOGRAM_MS, TIMELINE_BUCKETS, Aggregation, Figures, FunctionStats
from otel_serverless.insights._sketch import Sketch

_MONTH_NS: Final = 30 * 24 * 3600 * 10**9
HEADLINE: Final = (
    "health",
    "invocations",
    "errors",
    "timeouts",
    "out_of_memory",
    "cold_starts",
    "cold_start_share",
    "cold_start_added_ms",
    "retries",
    "cost_usd",
    "monthly_cost_usd",
)
TOP_HOPS: Final = 10


def iso(time_ns: int) -> str:
    moment = datetime.fromtimestamp(time_ns / 1e9, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _n(value: float) -> float | int:
    """A weighted count: an int when whole (unsampled), else two decimals (an estimate)."""
    return int(value) if float(value).is_integer() else round(value, 2)


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _usd(value: float) -> float:
    return round(value, 10)


def _headline(figures: Figures) -> dict[str, Any]:
    functions = figures.functions.values()
    invocations = sum(f.invocations for f in functions)
    errors = sum(f.errors for f in functions)
    cold = sum(f.cold_starts for f in functions)
    cost = sum(f.cost_usd for f in functions)
    length = max(1, figures.end_ns - figures.start_ns)
    return {
        "health": None if invocations == 0 else round(1 - errors / invocations, 6),
        "invocations": _n(invocations),
        "errors": _n(errors),
        "timeouts": _n(sum(f.timeouts for f in functions)),
        "out_of_memory": _n(sum(f.out_of_memory for f in functions)),
        "cold_starts": _n(cold),
        "cold_start_share": None if invocations == 0 else round(cold / invocations, 6),
        "cold_start_added_ms": _ms(_cold_added(list(functions))),
        "retries": _n(sum(f.retries for f in functions)),
        "cost_usd": _usd(cost),
        "monthly_cost_usd": _usd(cost * _MONTH_NS / length),
    }


def _cold_added(functions: list[FunctionStats]) -> float | None:
    """The init's median duration when measured, else the cold invocations' median over the warm ones'."""
    init, cold, warm = Sketch(), Sketch(), Sketch()
    for f in functions:
        init.merge(f.init)
        cold.merge(f.cold)
        warm.merge(f.warm)
    measured = init.quantile(0.5)
    if measured is not None:
        return measured
    cold_median, warm_median = cold.quantile(0.5), warm.quantile(0.5)
    if cold_median is None or warm_median is None:
        return None
    return max(0.0, cold_median - warm_median)


def _change(now: Any, before: Any) -> float | None:
    if not isinstance(now, int | float) or not isinstance(before, int | float) or before == 0:
        return None
    return round((now - before) / before, 6)


def _function(name: str, f: FunctionStats) -> dict[str, Any]:
    counts = [*f.histogram]
    return {
        "name": name,
        "invocations": _n(f.invocations),
        "errors": _n(f.errors),
        "timeouts": _n(f.timeouts),
        "out_of_memory": _n(f.out_of_memory),
        "cold_starts": _n(f.cold_starts),
        "retries": _n(f.retries),
        "p50_ms": _ms(f.durations.quantile(0.5)),
        "p95_ms": _ms(f.durations.quantile(0.95)),
        "p99_ms": _ms(f.durations.quantile(0.99)),
        "max_memory_mb": f.max_memory_mb,
        "memory_limit_mb": f.memory_limit_mb,
        "timeout_ms": f.timeout_ms,
        "cost_usd": _usd(f.cost_usd),
        "own_ms": _ms(f.own_ms),
        "api_ms": _ms(f.api_ms),
        "histogram": [
            {"le_ms": bound, "count": _n(count)} for bound, count in zip([*HISTOGRAM_MS, None], counts, strict=True)
        ],
    }


def build(
    aggregation: Aggregation, *, sources: list[str], notes: list[str], with_previous: bool = True
) -> dict[str, Any]:
    current = aggregation.current
    headline = _headline(current)
    previous = aggregation.previous
    before = _headline(previous) if previous is not None and previous.functions and with_previous else None
    functions = [
        _function(name, stats)
        for name, stats in sorted(current.functions.items(), key=lambda item: (-item[1].invocations, item[0]))
    ]
    previous_functions = (
        {name: _function(name, stats) for name, stats in previous.functions.items()}
        if previous is not None and before is not None
        else None
    )
    function_names = set(current.functions)
    nodes: dict[str, str] = {}
    edges = []
    for (source, target), edge in sorted(current.edges.items(), key=lambda item: (-item[1].calls, item[0])):
        if source not in function_names and target not in function_names and ":" not in source:
            continue  # between two outside services: not this application's map
        for node in (source, target):
            nodes.setdefault(node, _graph.kind_of(node, function_names))
        edges.append({"source": source, "target": target, "calls": _n(edge.calls), "errors": _n(edge.errors)})
    for name in function_names:
        nodes.setdefault(name, "function")
    hops = sorted(
        (hop for hop in current.hops.values() if hop.function in function_names), key=lambda hop: -hop.total_ms
    )
    step = (current.end_ns - current.start_ns) / TIMELINE_BUCKETS
    if not functions:
        notes = [*notes, _empty_note(aggregation)]
    return {
        "window": {"start": iso(current.start_ns), "end": iso(current.end_ns)},
        "estimated": current.estimated or (previous is not None and previous.estimated),
        "sources": sources,
        **headline,
        "previous": before,
        "changes": {key: _change(headline[key], before[key]) for key in HEADLINE} if before else None,
        "insights": _insights.sentences(functions, previous_functions),
        "functions": functions,
        "dataflows": [
            {
                "name": name,
                "invocations": _n(flow.invocations),
                "p50_ms": _ms(flow.durations.quantile(0.5)),
                "p99_ms": _ms(flow.durations.quantile(0.99)),
                "error_share": round(flow.errors / flow.invocations, 6) if flow.invocations else None,
                "functions": len(flow.functions),
                "own_ms": _ms(flow.own_ms),
                "api_ms": _ms(flow.api_ms),
                "slowest_hops": [
                    {"name": hop, "total_ms": _ms(total)}
                    for hop, total in sorted(flow.hops.items(), key=lambda item: -item[1])[:5]
                ],
            }
            for name, flow in sorted(current.dataflows.items(), key=lambda item: (-item[1].invocations, item[0]))
        ],
        "slowest_hops": [
            {
                "function": hop.function,
                "name": hop.name,
                "kind": hop.kind,
                "calls": _n(hop.calls),
                "total_ms": _ms(hop.total_ms),
            }
            for hop in hops[:TOP_HOPS]
        ],
        "nodes": [{"id": node, "kind": kind} for node, kind in sorted(nodes.items())],
        "edges": edges,
        "timeline": [
            {"start": iso(int(current.start_ns + index * step)), "invocations": _n(bucket[0]), "errors": _n(bucket[1])}
            for index, bucket in enumerate(current.timeline)
        ],
        "note": "; ".join(notes) if notes else None,
    }


def _empty_note(aggregation: Aggregation) -> str:
    if aggregation.spans == 0:
        return "no spans were read"
    if aggregation.first_ns is None or aggregation.last_ns is None:
        return "no invocation spans in the window"
    current = aggregation.current
    if aggregation.first_ns < current.end_ns and aggregation.last_ns >= current.start_ns:
        return (
            f"none of the {aggregation.spans:,} spans read is a function's invocation in the window "
            "(an invocation span has faas.trigger: are these traces from otel-serverless's wrapper?)"
        )
    return (
        f"no invocations in the window; the source's {aggregation.spans:,} spans run from "
        f"{iso(aggregation.first_ns)} to {iso(aggregation.last_ns)} (choose --since, or --start/--end)"
    )
