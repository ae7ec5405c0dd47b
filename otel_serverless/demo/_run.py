"""``otel-serverless demo``: run the blog platform locally and show its traces.

The handlers are plain; everything traced comes from otel-serverless wiring:
``configure()`` (the pipeline, every call out and AWS propagation) and ``traced`` applied to each
function by the local runtime, the way the exec wrapper applies it in Lambda.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_serverless import _treeview
from otel_serverless.demo import _app
from otel_serverless.demo import resources as r
from otel_serverless.demo._check import check, pieces_of
from otel_serverless.demo._flows import IDLE_TIMEOUT_S, Demo, Flow, flows
from otel_serverless.demo._progress import Progress
from otel_serverless.demo._services import route_globally


def _prepare_environment(faults: Sequence[str], state_dir: str) -> None:
    os.environ[r.FAULTS_VARIABLE] = ",".join(faults)
    # The demo's DynamoDB stream consumer gets a parent, not only a link: opt in (see README).
    os.environ.setdefault("OTEL_SERVERLESS_DYNAMODB_ITEM_CONTEXT", "true")
    # Several execution environments share this process: keep kill markers out of /tmp.
    os.environ.setdefault("OTEL_SERVERLESS_STATE_DIR", state_dir)
    # An init span would measure this process's start (moto, deploy), not an instance's init.
    os.environ.setdefault("OTEL_SERVERLESS_INIT_SPAN", "false")
    os.environ.setdefault("OTEL_BSP_SCHEDULE_DELAY", "200")
    os.environ.setdefault("OTEL_SERVERLESS_FLUSH_TIMEOUT_MS", "5000")


def _exporters(memory: InMemorySpanExporter, output: Path) -> list[SpanExporter]:
    from otel_serverless.export._exporters import exporters_from_env
    from otel_serverless.export._otlp_json import OtlpJsonFileExporter

    chosen: list[SpanExporter] = [memory, OtlpJsonFileExporter(output)]
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        chosen.extend(exporters_from_env())
    return chosen


def run(
    *,
    faults: Sequence[str] = r.FAULTS,
    rounds: int = 2,
    output: Path,
    check_traces: bool = False,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    html: Path | None = None,
) -> int:
    """Run every dataflow, print its trace as a tree, then the run's insights (and, with *html*,
    write them as a page); with *check_traces*, 1 unless all pass."""
    from otel_serverless._configure import configure
    from otel_serverless.aws_lambda import traced
    from otel_serverless.local import LocalRuntime

    started = time.monotonic()
    started_ns = time.time_ns()
    state_dir = tempfile.mkdtemp(prefix="otel-serverless-demo-")
    _prepare_environment(faults, state_dir)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("")
    memory = InMemorySpanExporter()
    telemetry = configure(exporters=_exporters(memory, output), set_global=False)
    if telemetry is None:
        err.write("otel-serverless is disabled (OTEL_SERVERLESS_DISABLED / OTEL_SDK_DISABLED): nothing to show\n")
        return 1
    # Global, so that the instrumentors configure() armed (botocore, urllib for the partner API …)
    # trace through the router when they load, at their library's first call.
    route_globally(telemetry.provider)
    planned = flows(faults, rounds)
    progress = Progress(len(planned) + 1, err)
    progress.step("starting the local runtime (moto, Lambda API)")
    with _app.recommendations_api() as api_url, LocalRuntime(wrap=traced) as runtime:
        _app.deploy(runtime, api_url)
        progress.advance("deployed")
        demo = Demo(runtime, memory, lambda: telemetry.flush(5000))
        windows: list[tuple[int, int]] = []
        for flow in planned:
            progress.step(flow.name)
            opened = time.time_ns()
            flow.start(demo)
            demo.settle()
            windows.append((opened, time.time_ns()))
            progress.advance(flow.name)
        # An abandoned (timed-out) invocation's thread may still end spans after its flow settled.
        runtime.run_until_idle(timeout=IDLE_TIMEOUT_S)
        _wait_for_stragglers()
    telemetry.flush(5000)
    _assign(planned, windows, list(memory.get_finished_spans()))
    for flow in planned:
        flow.verdict = check(flow.spans, flow.expected)
    elapsed = time.monotonic() - started
    _report(planned, output, elapsed, out)
    _insights(output, started_ns, out, html)
    if check_traces:
        return _report_check(planned, out)
    return 0


def _insights(output: Path, started_ns: int, out: TextIO, html: Path | None) -> None:
    """The run's own insights, read back from the OTLP/JSON file it wrote (never fails the demo)."""
    import shutil

    from otel_serverless.insights import SourceError, Window, build_report
    from otel_serverless.insights._cli import write_html
    from otel_serverless.insights._terminal import summary

    try:
        report = build_report(Window(started_ns, time.time_ns() + 1_000_000_000), files=[str(output)], compare=False)
    except SourceError as error:
        out.write(f"\nInsights: {error}\n")
        return
    out.write(f"\n== Insights of this run (more: otel-serverless insights --from {output} --since 1h)\n")
    out.write(summary(report, shutil.get_terminal_size((100, 24)).columns))
    if html is not None:
        problem = write_html(report, html)
        out.write(f"Insights page not written: {problem}\n" if problem else f"Insights page written to {html}\n")


def _wait_for_stragglers() -> None:
    """Give threads of invocations the runtime abandoned at their timeout the time to finish."""
    deadline = time.monotonic() + _app.SLOW_API_SECONDS + 1.0
    # The local runtime names each invocation's thread ``lambda:<function>:<request>``.
    while time.monotonic() < deadline and any(
        thread.name.startswith("lambda:") and thread.is_alive() for thread in threading.enumerate()
    ):
        time.sleep(0.05)


def _assign(planned: Sequence[Flow], windows: Sequence[tuple[int, int]], spans: Sequence[ReadableSpan]) -> None:
    """Each flow gets every span connected (parent/child, links) to a span started while it ran.

    Flows run one after another, but a span may end later (an abandoned invocation's).
    """
    pieces = pieces_of(spans)
    for flow, (opened, closed) in zip(planned, windows, strict=True):
        seed = [s.context.span_id for s in spans if s.context and opened <= (s.start_time or 0) < closed]
        wanted = {pieces[span_id] for span_id in seed if span_id in pieces}
        flow.spans = [s for s in spans if s.context is not None and pieces.get(s.context.span_id) in wanted]


def _report(planned: Sequence[Flow], output: Path, elapsed: float, out: TextIO) -> None:
    for flow in planned:
        ids = flow.verdict.trace_ids if flow.verdict else []
        out.write(f"\n== {flow.name}: {len(flow.spans)} spans in {len(ids)} trace(s)\n")
        out.write(_treeview.render(flow.spans) + "\n")
    total = sum(len(flow.spans) for flow in planned)
    out.write(f"\n{total} spans in {elapsed:.1f} s; OTLP/JSON written to {output}\n")
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if endpoint:
        out.write(f"also exported over OTLP to {endpoint}\n")
    query = os.environ.get("JAEGER_QUERY_URL")
    if query:
        for flow in planned:
            for trace_id in flow.verdict.trace_ids if flow.verdict else []:
                out.write(f"  {flow.name}: {query}/trace/{trace_id:032x}\n")


def _report_check(planned: Sequence[Flow], out: TextIO) -> int:
    failed = [flow for flow in planned if flow.verdict is None or not flow.verdict.ok]
    out.write("\ncheck:\n")
    for flow in planned:
        verdict = flow.verdict
        if verdict is not None and verdict.ok:
            out.write(f"  ok    {flow.name}\n")
        else:
            problems = verdict.problems if verdict else ["not run"]
            out.write(f"  FAIL  {flow.name}: {'; '.join(problems)}\n")
    out.write(f"{len(planned) - len(failed)} of {len(planned)} dataflows as expected\n")
    return 1 if failed else 0
