"""Whole traces → the figures of one time window, in bounded memory.

One :class:`Figures` per window (the report's and the previous one of the same
length). Every count is weighted by the span's sampling weight, so head-sampled
traces give estimates of the real totals. Durations go into :class:`Sketch`es;
the number of functions, dataflows, hops and edges kept is capped.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Final

from otel_serverless import attributes as attr
from otel_serverless.insights import _graph
from otel_serverless.insights._model import CLIENT, PRODUCER, Span
from otel_serverless.insights._sketch import Sketch

#: Upper bounds (ms) of the per-function duration histogram; the last bucket is +Inf.
HISTOGRAM_MS: Final = (10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 30000.0)
TIMELINE_BUCKETS: Final = 48
MAX_FUNCTIONS: Final = 2_000
MAX_DATAFLOWS: Final = 500
MAX_EDGES: Final = 5_000
MAX_HOPS: Final = 5_000
#: Producer spans remembered for links that cross traces (a batch's producers).
MAX_REMEMBERED: Final = 5_000
OTHER: Final = "(other)"
OUT_OF_MEMORY: Final = "out_of_memory"
#: Killed invocations whose own span was ended and exported in time (by the timeout watchdog, the
#: memory guard): the next environment's report of them is not another invocation.
_EXPORTED_WHEN_KILLED: Final = frozenset({"timeout", OUT_OF_MEMORY})


@dataclass
class FunctionStats:
    invocations: float = 0.0
    errors: float = 0.0
    timeouts: float = 0.0
    out_of_memory: float = 0.0
    cold_starts: float = 0.0
    retries: float = 0.0
    cost_usd: float = 0.0
    max_memory_mb: float | None = None
    memory_limit_mb: float | None = None
    timeout_ms: float | None = None
    own_ms: float = 0.0
    api_ms: float = 0.0
    durations: Sketch = field(default_factory=Sketch)
    cold: Sketch = field(default_factory=Sketch)
    warm: Sketch = field(default_factory=Sketch)
    init: Sketch = field(default_factory=Sketch)
    histogram: list[float] = field(default_factory=lambda: [0.0] * (len(HISTOGRAM_MS) + 1))


@dataclass
class DataflowStats:
    invocations: float = 0.0
    errors: float = 0.0
    functions: set[str] = field(default_factory=set)
    durations: Sketch = field(default_factory=Sketch)
    own_ms: float = 0.0
    api_ms: float = 0.0
    hops: dict[str, float] = field(default_factory=dict)


@dataclass
class Hop:
    function: str
    name: str
    kind: str
    calls: float = 0.0
    total_ms: float = 0.0


@dataclass
class Edge:
    calls: float = 0.0
    errors: float = 0.0


class Figures:
    """The figures of the window ``[start_ns, end_ns)``."""

    def __init__(self, start_ns: int, end_ns: int) -> None:
        self.start_ns = start_ns
        self.end_ns = end_ns
        self.functions: dict[str, FunctionStats] = {}
        self.dataflows: dict[str, DataflowStats] = {}
        self.hops: dict[tuple[str, str, str], Hop] = {}
        self.edges: dict[tuple[str, str], Edge] = {}
        self.timeline = [[0.0, 0.0] for _ in range(TIMELINE_BUCKETS)]
        self.estimated = False
        self.spans = 0

    def holds(self, time_ns: int) -> bool:
        return self.start_ns <= time_ns < self.end_ns

    def function(self, name: str) -> FunctionStats:
        stats = self.functions.get(name)
        if stats is None:
            if len(self.functions) >= MAX_FUNCTIONS:
                name = OTHER
            stats = self.functions.setdefault(name, FunctionStats())
        return stats

    def dataflow(self, name: str) -> DataflowStats:
        stats = self.dataflows.get(name)
        if stats is None:
            if len(self.dataflows) >= MAX_DATAFLOWS:
                name = OTHER
            stats = self.dataflows.setdefault(name, DataflowStats())
        return stats

    def edge(self, source: str, target: str, weight: float, error: bool) -> None:
        key = (source, target)
        found = self.edges.get(key)
        if found is None:
            if len(self.edges) >= MAX_EDGES:
                return
            found = self.edges[key] = Edge()
        found.calls += weight
        if error:
            found.errors += weight

    def hop(self, function: str, name: str, kind: str, weight: float, duration_ms: float) -> None:
        key = (function, name, kind)
        found = self.hops.get(key)
        if found is None:
            if len(self.hops) >= MAX_HOPS:
                return
            found = self.hops[key] = Hop(function, name, kind)
        found.calls += weight
        found.total_ms += duration_ms * weight

    def tick(self, time_ns: int, weight: float, error: bool) -> None:
        width = max(1, self.end_ns - self.start_ns)
        index = min(TIMELINE_BUCKETS - 1, max(0, (time_ns - self.start_ns) * TIMELINE_BUCKETS // width))
        self.timeline[index][0] += weight
        if error:
            self.timeline[index][1] += weight


def is_error(span: Span) -> bool:
    """An exception, a timeout or a 5xx answer (the wrapper marks all three with an error status)."""
    if span.error or span.attributes.get(attr.TIMEOUT) is True:
        return True
    status = span.attributes.get(attr.HTTP_RESPONSE_STATUS_CODE, span.attributes.get("http.status_code"))
    return isinstance(status, int) and not isinstance(status, bool) and status >= 500


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


class Aggregation:
    """Feeds each whole trace to the window its spans started in."""

    def __init__(self, current: Figures, previous: Figures | None) -> None:
        self.windows = [current] if previous is None else [current, previous]
        self.current = current
        self.previous = previous
        self.first_ns: int | None = None  # what the source held, for an empty window's note
        self.last_ns: int | None = None
        self.spans = 0
        self._producers: OrderedDict[str, str] = OrderedDict()
        self._labels: dict[tuple[str, str], str] = {}  # "function → resource", made once

    def _window(self, time_ns: int) -> Figures | None:
        current = self.current
        if current.start_ns <= time_ns < current.end_ns:
            return current
        previous = self.previous
        if previous is not None and previous.start_ns <= time_ns < previous.end_ns:
            return previous
        return None

    def add_trace(self, spans: list[Span]) -> None:
        self.spans += len(spans)
        first = spans[0].start_ns
        last = spans[0].end_ns
        by_id: dict[str, Span] = {}
        invocations: list[Span] = []
        calls: list[tuple[Span, str | None]] = []
        targets: dict[str, str | None] = {}
        trigger = attr.FAAS_TRIGGER
        producers = self._producers  # remembered for links from other traces (a batch's producers)
        for span in spans:
            by_id[span.span_id] = span
            if span.start_ns < first:  # noqa: PLR1730  # the hot path: no call
                first = span.start_ns
            if span.end_ns > last:  # noqa: PLR1730
                last = span.end_ns
            if trigger in span.attributes:
                invocations.append(span)
            elif span.kind == CLIENT or span.kind == PRODUCER:  # noqa: PLR1714  # the hot path: no tuple
                target = targets[span.span_id] = _graph.call_target(span)
                calls.append((span, target))
                if target is not None:
                    producers[span.span_id] = target
        while len(producers) > MAX_REMEMBERED:
            producers.popitem(last=False)
        if self.first_ns is None or first < self.first_ns:
            self.first_ns = first
        if self.last_ns is None or last > self.last_ns:
            self.last_ns = last
        api_by_invocation, flow_hops = self._calls(calls, by_id) if calls else ({}, [])
        if not invocations:
            return
        failed = False
        for invocation in invocations:
            failed = self._invocation(invocation, by_id, targets, api_by_invocation) or failed
        self._dataflow(spans, by_id, invocations, api_by_invocation, flow_hops, failed=failed, extent=(first, last))

    def _calls(
        self, calls: list[tuple[Span, str | None]], by_id: dict[str, Span]
    ) -> tuple[dict[str, float], list[tuple[str, float, float]]]:
        """Outgoing calls: hops, edges, and API time per invocation and per dataflow hop."""
        owner: dict[tuple[str, str], Span | None] = {}
        api_by_invocation: dict[str, float] = {}
        flow_hops: list[tuple[str, float, float]] = []
        labels = self._labels
        for call, target in calls:
            window = self._window(call.start_ns)
            if window is None:
                continue
            parent = by_id.get(call.parent_id) if call.parent_id else None
            if parent is not None and parent.service == call.service and attr.FAAS_TRIGGER in parent.attributes:
                invocation: Span | None = parent  # the usual case: called from the handler itself
            else:
                invocation = _owner(call, by_id, owner)
            function = invocation.service if invocation is not None else call.service
            window.spans += 1
            duration = max(0, call.end_ns - call.start_ns) / 1e6
            weight = call.weight
            if invocation is not None:
                api_by_invocation[invocation.span_id] = api_by_invocation.get(invocation.span_id, 0.0) + duration
            kind = _graph.call_kind(call)
            hop_name = call.name if kind == "aws" or target is None else target.partition(":")[2] or call.name
            window.hop(function, hop_name, kind, weight, duration)
            if weight != 1.0:
                window.estimated = True
            if target is not None:
                window.edge(function, target, weight, call.error)  # clients mark failures (and 5xx) so
                if invocation is not None:
                    label = labels.get((function, target))
                    if label is None:
                        label = f"{function} → {target.partition(':')[2] or target}"
                        if len(labels) < MAX_EDGES:
                            labels[(function, target)] = label
                    flow_hops.append((label, duration, weight))
        return api_by_invocation, flow_hops

    def _invocation(
        self, span: Span, by_id: dict[str, Span], targets: dict[str, str | None], api: dict[str, float]
    ) -> bool:
        """Count one invocation in its window; whether it failed."""
        error = is_error(span)
        window = self._window(span.start_ns)
        if window is None:
            return error
        window.spans += 1
        a = span.attributes
        get = a.get
        w = span.weight
        if w != 1.0:
            window.estimated = True
        stats = window.functions.get(span.service) or window.function(span.service)
        duration = (span.end_ns - span.start_ns) / 1e6 if span.end_ns > span.start_ns else 0.0
        stats.invocations += w
        if error:
            stats.errors += w
            if get(attr.TIMEOUT) is True:
                stats.timeouts += w
        if get(attr.FAAS_COLDSTART) is True:
            stats.cold_starts += w
            stats.cold.add(duration, w)
            init = _number(get(attr.INIT_DURATION_MS))
            if init is not None:
                stats.init.add(init, w)
        else:
            stats.warm.add(duration, w)
        if get(attr.RETRY) is True:
            stats.retries += w
        if error and get(attr.ERROR_TYPE) == OUT_OF_MEMORY:
            stats.out_of_memory += w  # the memory guard ended it just before the kill
        if get(attr.PREVIOUS_KILLED) is True and get(attr.PREVIOUS_REASON) not in _EXPORTED_WHEN_KILLED:
            # The killed invocation exported nothing: count it here, once, as a failed invocation.
            if get(attr.PREVIOUS_REASON) != "crash":
                stats.out_of_memory += w  # "unknown": a kill without warning, most often out of memory
            stats.invocations += w
            stats.errors += w
            window.tick(span.start_ns, w, True)
        _spent(stats, a, w)
        stats.durations.add(duration, w)
        stats.histogram[bisect.bisect_left(HISTOGRAM_MS, duration)] += w
        api_ms = min(api.get(span.span_id, 0.0), duration)
        stats.api_ms += api_ms * w
        stats.own_ms += (duration - api_ms) * w
        window.tick(span.start_ns, w, error)
        self._edges_into(window, span, by_id, targets, error)
        return error

    def _edges_into(
        self, window: Figures, span: Span, by_id: dict[str, Span], targets: dict[str, str | None], error: bool
    ) -> None:
        function = span.service
        source = _graph.trigger_source(span)
        callers: set[str] = set()
        for producer_id in (span.parent_id, *span.links) if span.links else (span.parent_id,):
            if not producer_id:
                continue
            producer = by_id.get(producer_id)
            caller: str | None
            if producer is not None:
                caller = targets.get(producer_id)
                if caller is None and producer.service != function:
                    caller = producer.service
            else:
                caller = self._producers.get(producer_id)
            if caller is not None and caller not in (source, function):
                callers.add(caller)
        if source is not None:
            for caller in callers:
                window.edge(caller, source, span.weight, False)
            window.edge(source, function, span.weight, error)
        else:
            for caller in callers:
                window.edge(caller, function, span.weight, error)

    def _dataflow(
        self,
        spans: list[Span],
        by_id: dict[str, Span],
        invocations: list[Span],
        api_by_invocation: dict[str, float],
        flow_hops: list[tuple[str, float, float]],
        *,
        failed: bool,
        extent: tuple[int, int],
    ) -> None:
        root = spans[0]
        for span in spans:
            if (not span.parent_id or span.parent_id not in by_id) and (
                span.start_ns < root.start_ns or (root.parent_id and root.parent_id in by_id)
            ):
                root = span
        window = self._window(root.start_ns)
        if window is None:
            return
        w = root.weight
        entry = None
        if not _graph.is_invocation(root):
            entry = next((span for span in invocations if span.parent_id == root.span_id), None)
        stats = window.dataflow(_graph.dataflow_name(root, entry))
        stats.invocations += w
        if failed or is_error(root):
            stats.errors += w
        functions = stats.functions
        own = api = 0.0
        for span in invocations:
            functions.add(span.service)
            duration = max(0, span.end_ns - span.start_ns) / 1e6
            spent = min(api_by_invocation.get(span.span_id, 0.0), duration)
            api += spent * span.weight
            own += (duration - spent) * span.weight
        stats.api_ms += api
        stats.own_ms += own
        stats.durations.add(max(0, extent[1] - extent[0]) / 1e6, w)
        hops = stats.hops
        for name, duration, weight in flow_hops:
            if name in hops:
                hops[name] += duration * weight
            elif len(hops) < 200:
                hops[name] = duration * weight


def _spent(stats: FunctionStats, attributes: dict[str, object], weight: float) -> None:
    """Cost, memory against its limit, the configured timeout."""
    get = attributes.get
    cost = _number(get(attr.COST_USD))
    if cost is not None:
        stats.cost_usd += cost * weight
    peak = _number(get(attr.MEMORY_PEAK_MB))
    if peak is not None and (stats.max_memory_mb is None or peak > stats.max_memory_mb):
        stats.max_memory_mb = peak
    limit = _number(get(attr.MEMORY_LIMIT_MB))
    if limit is not None:
        stats.memory_limit_mb = limit
    configured = _number(get(attr.TIMEOUT_CONFIGURED_MS))
    if configured is not None:
        stats.timeout_ms = configured


def _owner(span: Span, by_id: dict[str, Span], cache: dict[tuple[str, str], Span | None]) -> Span | None:
    """The invocation a call was made in: the nearest invocation ancestor of the same service."""
    seen: list[str] = []
    current: Span | None = span
    found: Span | None = None
    for _ in range(64):
        if current is None or current.parent_id is None:
            break
        key = (span.service, current.parent_id)
        if key in cache:
            found = cache[key]
            break
        parent = by_id.get(current.parent_id)
        seen.append(current.parent_id)
        if parent is None or parent.service != span.service:
            break
        if _graph.is_invocation(parent):
            found = parent
            break
        current = parent
    for span_id in seen:
        cache[(span.service, span_id)] = found
    return found
