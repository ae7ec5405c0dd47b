"""Insights: is the system healthy, what does it cost, what should we optimize first.

Sources (OTLP/JSON files, Jaeger's query API) → whole traces in a bounded window
(:mod:`._assemble`) → the figures of the report's window and of the previous one
(:mod:`._aggregate`) → the report dict (:func:`build_report`, documented in the README)
→ views: the terminal (:mod:`._terminal`), ``--json``, and ``html.render_html``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TextIO

from otel_serverless.insights._errors import SourceError
from otel_serverless.insights._window import Window, choose

__all__ = ["SourceError", "Window", "build_report", "choose"]


def build_report(
    window: Window,
    *,
    files: Sequence[str] = (),
    jaeger: str | None = None,
    services: Sequence[str] = (),
    prometheus: str | None = None,
    compare: bool = True,
    progress: TextIO | None = None,
) -> dict[str, Any]:
    """The report of *window* from the sources (and of the window before it, when *compare*).

    With *prometheus* (the gateways' span metrics, README "Scale-out"), the per-function and
    system figures come from there, exact whatever the trace sampling; the rest from the traces.

    Raises :class:`SourceError` (one line) when a source cannot be read.
    """
    from otel_serverless.insights import _aggregate, _assemble, _files, _report

    current = _aggregate.Figures(window.start_ns, window.end_ns)
    previous = None
    if compare:
        before = window.previous
        previous = _aggregate.Figures(before.start_ns, before.end_ns)
    aggregation = _aggregate.Aggregation(current, previous)
    assembler = _assemble.Assembler(aggregation.add_trace)
    sources: list[str] = []
    notes: list[str] = []
    if files:
        paths = _files.expand(files)
        found = _files.FileReport()
        _files.read(paths, assembler.add_all, progress, found)
        sources.extend(str(path) for path in paths)
        if note := found.note():
            notes.append(note)
    if jaeger:
        from otel_serverless.insights import _jaeger

        start = previous.start_ns if previous is not None else current.start_ns
        read = _jaeger.read(jaeger, list(services), start, current.end_ns, assembler.add_trace, progress)
        sources.append(f"{jaeger.rstrip('/')} ({', '.join(read) if read else 'no services'})")
    assembler.close()
    report = _report.build(aggregation, sources=sources, notes=notes)
    if prometheus:
        from otel_serverless.insights import _prometheus

        report = _prometheus.overlay(report, prometheus, window, compare=compare)
    return report
