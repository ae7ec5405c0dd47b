"""Source: the gateways' span metrics in Prometheus — exact figures whatever the trace sampling.

The gateway tier (collector-config/gateway.yaml) counts every span before tail sampling with
the spanmetrics connector and writes cumulative counters to Prometheus: calls and a duration
histogram per function, trigger, outcome, cold start, timeout, retry and memory size, one
series per gateway process.  Invocations are the spans with a ``faas.trigger``.

A window's count is, per series, its last value at the window's end minus its last value at
the start, both looked back over the window's length plus an hour: a series born inside
the window counts from zero, one whose gateway stopped inside the window counts up to its
last write, and one that ended before the window cancels out.  Gateways restart with a new
instance id (new series), so no series ever goes back to zero.  Counts are exact to the
gateways' flush interval at the window's edges; quantiles are interpolated inside the
histogram's buckets; cost is estimated from the duration sum × memory (as billed, less
Lambda's rounding up to the millisecond).
"""

from __future__ import annotations

import json
import math
import re
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from otel_serverless import attributes as attr
from otel_serverless.insights._errors import SourceError
from otel_serverless.insights._window import Window

TIMEOUT_S: Final = 15.0
CALLS: Final = "traces_span_metrics_calls_total"
BUCKETS: Final = "traces_span_metrics_duration_milliseconds_bucket"
DURATION_SUM: Final = "traces_span_metrics_duration_milliseconds_sum"
ERROR_STATUS: Final = "STATUS_CODE_ERROR"
#: Looked back beyond the window's length: longer than any gateway's flush interval.
SLACK_S: Final = 3600
_MIB: Final = 1024 * 1024
_GIB: Final = 1024 * 1024 * 1024


def label(attribute: str) -> str:
    """The Prometheus label an attribute becomes through remote write (``faas.trigger`` → ``faas_trigger``)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", attribute)


SERVICE: Final = label(attr.SERVICE_NAME)
STATUS: Final = "status_code"
COLD: Final = label(attr.FAAS_COLDSTART)
TIMEOUT: Final = label(attr.TIMEOUT)
RETRY: Final = label(attr.RETRY)
MEMORY: Final = label(attr.FAAS_MAX_MEMORY)
ARCH: Final = label(attr.COST_ARCHITECTURE)
TIMEOUT_CONFIGURED: Final = label(attr.TIMEOUT_CONFIGURED_MS)
INVOCATIONS: Final = f'{label(attr.FAAS_TRIGGER)}!=""'
CALL_LABELS: Final = (SERVICE, STATUS, COLD, TIMEOUT, RETRY, MEMORY, ARCH, TIMEOUT_CONFIGURED)
BUCKET_LABELS: Final = (SERVICE, COLD, "le")
SUM_LABELS: Final = (SERVICE, MEMORY, ARCH)

Key = tuple[str, ...]


@dataclass
class Counts:
    """Cumulative values at an instant, or the increase over a window (``end.minus(start)``)."""

    calls: dict[Key, float] = field(default_factory=dict)
    buckets: dict[Key, float] = field(default_factory=dict)
    sums: dict[Key, float] = field(default_factory=dict)

    def minus(self, earlier: Counts) -> Counts:
        def diff(now: dict[Key, float], before: dict[Key, float]) -> dict[Key, float]:
            # Never below zero: a series cannot lose counts (only a broken store could say so).
            return {key: max(0.0, value - before.get(key, 0.0)) for key, value in now.items()}

        return Counts(
            diff(self.calls, earlier.calls), diff(self.buckets, earlier.buckets), diff(self.sums, earlier.sums)
        )


class Client:
    """Prometheus' HTTP query API (``/api/v1/query``, ``/api/v1/query_range``)."""

    def __init__(self, base: str) -> None:
        if not base.startswith(("http://", "https://")):
            raise SourceError(f"--prometheus {base}: not an http(s) URL")
        self.base = base.rstrip("/")

    def _get(self, path: str, params: Mapping[str, str]) -> Any:
        url = f"{self.base}{path}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT_S) as answer:  # noqa: S310  # http(s) only, checked
                body = answer.read()
        except urllib.error.HTTPError as error:
            raise SourceError(f"Prometheus at {self.base} answered HTTP {error.code} to {path}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", None) or error
            raise SourceError(f"Prometheus at {self.base} is unreachable ({reason})") from None
        try:
            decoded = json.loads(body)
        except ValueError:
            raise SourceError(f"Prometheus at {self.base}: {path} did not answer JSON (is this Prometheus?)") from None
        if not isinstance(decoded, dict) or decoded.get("status") != "success":
            raise SourceError(f"Prometheus at {self.base}: unexpected answer to {path}")
        data = decoded.get("data")
        if not isinstance(data, dict) or not isinstance(data.get("result"), list):
            raise SourceError(f"Prometheus at {self.base}: unexpected answer to {path}")
        return data["result"]

    def instant(self, query: str, at_s: float) -> list[tuple[dict[str, str], float]]:
        rows = self._get("/api/v1/query", {"query": query, "time": f"{at_s:.3f}"})
        return [(row.get("metric") or {}, _number(row.get("value"))) for row in rows if isinstance(row, dict)]

    def range(self, query: str, start_s: float, end_s: float, step_s: float) -> dict[float, float]:
        """One series' values by timestamp (the query must sum to one series)."""
        params = {"query": query, "start": f"{start_s:.3f}", "end": f"{end_s:.3f}", "step": f"{step_s:.3f}"}
        rows = self._get("/api/v1/query_range", params)
        values: dict[float, float] = {}
        for row in rows:
            for point in (row.get("values") or []) if isinstance(row, dict) else []:
                values[round(float(point[0]), 3)] = _number(point)
        return values


def _number(pair: object) -> float:
    if not isinstance(pair, list | tuple) or len(pair) != 2:
        return 0.0
    try:
        value = float(pair[1])
    except (TypeError, ValueError):
        return 0.0
    return value if math.isfinite(value) else 0.0


def _lookback(window: Window) -> str:
    return f"{math.ceil((window.end_ns - window.start_ns) / 1e9) + SLACK_S}s"


def _grouped(client: Client, metric: str, labels: Sequence[str], lookback: str, at_s: float) -> dict[Key, float]:
    query = f"sum by ({', '.join(labels)}) (last_over_time({metric}{{{INVOCATIONS}}}[{lookback}]))"
    grouped: dict[Key, float] = {}
    for metric_labels, value in client.instant(query, at_s):
        grouped[tuple(metric_labels.get(name, "") for name in labels)] = value
    return grouped


def totals(client: Client, at_ns: int, lookback: str) -> Counts:
    at_s = at_ns / 1e9
    return Counts(
        calls=_grouped(client, CALLS, CALL_LABELS, lookback, at_s),
        buckets=_grouped(client, BUCKETS, BUCKET_LABELS, lookback, at_s),
        sums=_grouped(client, DURATION_SUM, SUM_LABELS, lookback, at_s),
    )


# --- figures ------------------------------------------------------------------------------------


@dataclass
class Function:
    invocations: float = 0.0
    errors: float = 0.0
    timeouts: float = 0.0
    cold_starts: float = 0.0
    retries: float = 0.0
    memory_bytes: float | None = None
    timeout_ms: float | None = None
    cost_usd: float = 0.0
    #: Cumulative counts by upper bound (ms; inf last), split by cold start ("true"/"false"/"").
    buckets: dict[str, dict[float, float]] = field(default_factory=lambda: defaultdict(dict))

    def cumulative(self, cold: str | None = None) -> list[tuple[float, float]]:
        merged: dict[float, float] = defaultdict(float)
        for which, by_bound in self.buckets.items():
            if cold is None or which == cold:
                for bound, count in by_bound.items():
                    merged[bound] += count
        return sorted(merged.items())


def functions(counts: Counts, prices: Any = None) -> dict[str, Function]:
    """Per-function figures of a window's counts (prices: :class:`~otel_serverless.processors.cost.Prices`)."""
    if prices is None:
        from otel_serverless.processors.cost import Prices

        prices = Prices.from_env()
    found: dict[str, Function] = defaultdict(Function)
    for key, value in counts.calls.items():
        labels = dict(zip(CALL_LABELS, key, strict=True))
        if value <= 0:
            continue
        f = found[labels[SERVICE]]
        f.invocations += value
        timed_out = labels[TIMEOUT] == "true"
        if labels[STATUS] == ERROR_STATUS or timed_out:
            f.errors += value
        f.timeouts += value if timed_out else 0.0
        f.cold_starts += value if labels[COLD] == "true" else 0.0
        f.retries += value if labels[RETRY] == "true" else 0.0
        memory = _float(labels[MEMORY])
        if memory is not None:
            f.memory_bytes = max(f.memory_bytes or 0.0, memory)
        configured = _float(labels[TIMEOUT_CONFIGURED])
        if configured is not None:
            f.timeout_ms = max(f.timeout_ms or 0.0, configured)
    for key, value in counts.buckets.items():
        service, cold, bound = key
        upper = _float(bound)
        if service in found and upper is not None:
            found[service].buckets[cold][upper] = value
    for key, value in counts.sums.items():
        service, memory_label, arch = key
        memory_bytes = _float(memory_label)
        if service in found and memory_bytes is not None:
            found[service].cost_usd += value / 1000 * memory_bytes / _GIB * prices.per_gb_second(arch)
    for f in found.values():
        f.cost_usd += f.invocations * prices.request
    return dict(found)


def _float(text: str) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if not math.isnan(value) else None


def quantile(q: float, cumulative: Sequence[tuple[float, float]]) -> float | None:
    """The q-quantile of a cumulative histogram, interpolated in its bucket (as PromQL's histogram_quantile)."""
    if not cumulative or cumulative[-1][1] <= 0:
        return None
    total = cumulative[-1][1]
    rank = q * total
    lower, below = 0.0, 0.0
    for bound, count in cumulative:
        if count >= rank:
            if math.isinf(bound):
                return lower  # beyond the last finite bound: the bound is all we know
            if count == below:
                return bound
            return lower + (bound - lower) * (rank - below) / (count - below)
        lower, below = bound, count
    return lower


def histogram(cumulative: Sequence[tuple[float, float]], bounds: Iterable[float]) -> list[dict[str, Any]]:
    """Per-bucket counts at the report's bounds (each one of the gateway's bounds), +Inf last."""
    at = dict(cumulative)
    total = cumulative[-1][1] if cumulative else 0.0
    rows: list[dict[str, Any]] = []
    previous = 0.0
    for bound in bounds:
        reached = at.get(bound, previous)
        rows.append({"le_ms": bound, "count": _n(reached - previous)})
        previous = reached
    rows.append({"le_ms": None, "count": _n(total - previous)})
    return rows


def _n(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 2)


# --- the report ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Read:
    current: dict[str, Function]
    previous: dict[str, Function] | None
    timeline: list[tuple[int, float, float]]  # (bucket start ns, invocations, errors)


def read(base: str, window: Window, *, compare: bool = True, buckets: int = 48, prices: Any = None) -> Read:
    """The window's (and the previous window's) per-function figures and timeline."""
    client = Client(base)
    lookback = _lookback(window)
    end, start = totals(client, window.end_ns, lookback), totals(client, window.start_ns, lookback)
    previous = None
    if compare:
        before = totals(client, window.previous.start_ns, lookback)
        previous = functions(start.minus(before), prices)
    return Read(functions(end.minus(start), prices), previous, _timeline(client, window, lookback, buckets))


def _timeline(client: Client, window: Window, lookback: str, buckets: int) -> list[tuple[int, float, float]]:
    step_s = (window.end_ns - window.start_ns) / 1e9 / buckets
    start_s, end_s = window.start_ns / 1e9, window.end_ns / 1e9
    calls = f"sum(last_over_time({CALLS}{{{INVOCATIONS}}}[{lookback}]))"
    # Errors: an error status or a timeout, i.e. every invocation but the others.
    others = f'{CALLS}{{{INVOCATIONS}, {STATUS}!="{ERROR_STATUS}", {TIMEOUT}!="true"}}'
    errors = f"{calls} - (sum(last_over_time({others}[{lookback}])) or vector(0))"
    call_totals = client.range(calls, start_s, end_s, step_s)
    error_totals = client.range(errors, start_s, end_s, step_s)
    rows: list[tuple[int, float, float]] = []
    for index in range(buckets):
        at, after = round(start_s + index * step_s, 3), round(start_s + (index + 1) * step_s, 3)
        rows.append(
            (
                int(window.start_ns + index * step_s * 1e9),
                max(0.0, _near(call_totals, after) - _near(call_totals, at)),
                max(0.0, _near(error_totals, after) - _near(error_totals, at)),
            )
        )
    return rows


def _near(values: Mapping[float, float], at: float) -> float:
    """The value at a step's timestamp (Prometheus rounds them to the millisecond); 0 when absent."""
    if at in values:
        return values[at]
    close = [t for t in values if abs(t - at) < 0.002]
    return values[close[0]] if close else 0.0


def function_row(name: str, f: Function, traced: Mapping[str, Any] | None, bounds: Sequence[float]) -> dict[str, Any]:
    """A report ``functions`` row: counts, quantiles, cost from the metrics; the rest from kept traces."""
    cumulative = f.cumulative()

    def q(value: float) -> float | None:
        found = quantile(value, cumulative)
        return None if found is None else round(found, 3)

    return {
        "name": name,
        "invocations": _n(f.invocations),
        "errors": _n(f.errors),
        "timeouts": _n(f.timeouts),
        # Not in the span metrics (the killed invocation exports nothing): from the kept traces.
        "out_of_memory": traced.get("out_of_memory", 0) if traced else 0,
        "cold_starts": _n(f.cold_starts),
        "retries": _n(f.retries),
        "p50_ms": q(0.5),
        "p95_ms": q(0.95),
        "p99_ms": q(0.99),
        "max_memory_mb": traced.get("max_memory_mb") if traced else None,
        "memory_limit_mb": None if f.memory_bytes is None else round(f.memory_bytes / _MIB, 3),
        "timeout_ms": f.timeout_ms if f.timeout_ms is not None else (traced.get("timeout_ms") if traced else None),
        "cost_usd": round(f.cost_usd, 10),
        "own_ms": traced.get("own_ms") if traced else None,
        "api_ms": traced.get("api_ms") if traced else None,
        "histogram": histogram(cumulative, bounds),
    }


NOTE: Final = (
    "invocations, errors, timeouts, cold starts, retries, durations and cost come from the gateways' span "
    "metrics in Prometheus, which count every span before sampling (exact at any trace sampling; p50/p95/p99 "
    "interpolated in histogram buckets; cost from duration × memory); dataflows, hops, the service map, "
    "memory peaks and out-of-memory kills come from the kept traces"
)


def overlay(report: Mapping[str, Any], base: str, window: Window, *, compare: bool = True) -> dict[str, Any]:
    """*report* (built from traces, or empty) with its figures replaced by the exact ones from Prometheus."""
    from otel_serverless.insights import _insights
    from otel_serverless.insights._aggregate import HISTOGRAM_MS, TIMELINE_BUCKETS
    from otel_serverless.insights._report import HEADLINE, iso

    found = read(base, window, compare=compare, buckets=TIMELINE_BUCKETS)
    traced = {row["name"]: row for row in report.get("functions") or [] if isinstance(row, dict)}

    def rows(figures: Mapping[str, Function]) -> list[dict[str, Any]]:
        ordered = sorted(figures.items(), key=lambda item: (-item[1].invocations, item[0]))
        return [function_row(name, f, traced.get(name), HISTOGRAM_MS) for name, f in ordered]

    current = rows(found.current)
    previous = rows(found.previous) if found.previous else None
    headline = _headline(current, found.current, window)
    before = _headline(previous, found.previous or {}, window.previous) if previous else None
    notes = [NOTE]
    if not current:
        notes.append("no invocations in Prometheus' span metrics for the window (are the gateways writing to it?)")
    if report.get("note") and report.get("functions"):
        notes.append(str(report["note"]))
    merged = dict(report)
    merged.update(headline)
    merged.update(
        {
            "estimated": False,
            "figures_source": "prometheus",
            "sources": [*(report.get("sources") or []), f"{base.rstrip('/')} (Prometheus span metrics)"],
            "previous": before,
            "changes": {key: _change(headline[key], before[key]) for key in HEADLINE} if before else None,
            "insights": _insights.sentences(current, {row["name"]: row for row in previous} if previous else None),
            "functions": current,
            "timeline": [
                {"start": iso(start), "invocations": _n(calls), "errors": _n(errors)}
                for start, calls, errors in found.timeline
            ],
            "note": "; ".join(notes),
        }
    )
    names = {row["name"] for row in current}
    nodes = {node["id"]: node for node in report.get("nodes") or [] if isinstance(node, dict)}
    for name in names - nodes.keys():
        nodes[name] = {"id": name, "kind": "function"}
    merged["nodes"] = [nodes[key] for key in sorted(nodes)]
    return merged


def _headline(rows: Sequence[Mapping[str, Any]], figures: Mapping[str, Function], window: Window) -> dict[str, Any]:
    invocations = sum(f.invocations for f in figures.values())
    errors = sum(f.errors for f in figures.values())
    cold = sum(f.cold_starts for f in figures.values())
    cost = sum(f.cost_usd for f in figures.values())
    length = max(1, window.end_ns - window.start_ns)
    month_ns = 30 * 24 * 3600 * 10**9
    return {
        "health": None if invocations == 0 else round(1 - errors / invocations, 6),
        "invocations": _n(invocations),
        "errors": _n(errors),
        "timeouts": _n(sum(f.timeouts for f in figures.values())),
        "out_of_memory": sum(row.get("out_of_memory") or 0 for row in rows),
        "cold_starts": _n(cold),
        "cold_start_share": None if invocations == 0 else round(cold / invocations, 6),
        "cold_start_added_ms": _cold_added(figures.values()),
        "retries": _n(sum(f.retries for f in figures.values())),
        "cost_usd": round(cost, 10),
        "monthly_cost_usd": round(cost * month_ns / length, 10),
    }


def _cold_added(figures: Iterable[Function]) -> float | None:
    """The cold invocations' median duration over the warm ones' (all functions together)."""
    cold: dict[float, float] = defaultdict(float)
    warm: dict[float, float] = defaultdict(float)
    for f in figures:
        for bound, count in f.cumulative("true"):
            cold[bound] += count
        for bound, count in f.cumulative("false"):
            warm[bound] += count
    cold_median = quantile(0.5, sorted(cold.items()))
    warm_median = quantile(0.5, sorted(warm.items()))
    if cold_median is None or warm_median is None:
        return None
    return round(max(0.0, cold_median - warm_median), 3)


def _change(now: Any, before: Any) -> float | None:
    if not isinstance(now, int | float) or not isinstance(before, int | float) or before == 0:
        return None
    return round((now - before) / before, 6)
