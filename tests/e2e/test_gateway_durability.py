"""Gateway durability (issue #23, item 7): what a gateway acknowledged survives a SIGKILL.

The real gateway distribution runs collector-config/gateway-durable.yaml: OTLP in, OTLP out to
Jaeger with the sending queue on disk (file_storage).  The scenario, on free 127.0.0.1 ports:

1. the gateway starts, pointing at a Jaeger port where nothing listens yet;
2. 200 spans in 20 traces go to it through the SDK's OTLP/HTTP exporter, every export
   acknowledged, and its own metrics show them accepted and waiting in its queue;
3. the gateway is killed with SIGKILL and started again on the same storage directory;
4. Jaeger starts on the port the gateway exports to;
5. Jaeger's /api/traces counts what arrived.

The same run with the one line ``storage: file_storage/durable`` removed (an in-memory queue)
shows what persistence saves.
"""

from __future__ import annotations

import os
import secrets
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e._jaeger import get_json, wait_for_trace
from tests.e2e.test_collector_config import CONFIG_DIR, load_backends_script

pytestmark = pytest.mark.e2e

DURABLE_CONFIG = CONFIG_DIR / "gateway-durable.yaml"
STORAGE_LINE = "storage: file_storage/durable"
TRACES = 20
SPANS_PER_TRACE = 10
SENT = TRACES * SPANS_PER_TRACE
# Short retry intervals: the restarted gateway sends its queue within a second of Jaeger listening.
GATEWAY_SETTINGS = {
    "GATEWAY_RETRY_INITIAL_INTERVAL": "200ms",
    "GATEWAY_RETRY_MAX_INTERVAL": "1s",
    "GATEWAY_BATCH_TIMEOUT": "100ms",
    "GATEWAY_LOG_LEVEL": "warn",
}
START_TIMEOUT_S = 60.0
DELIVERY_TIMEOUT_S = 30.0


# --- processes, started the way scripts/backends starts them -----------------------------------


@dataclass
class Service:
    """One process of scripts/backends' kind (its Proc), and how to tell that it is ready."""

    script: ModuleType
    proc: Any  # scripts/backends' Proc
    ready: list[str]

    def log(self) -> str:
        return f"--- {self.proc.name}\n{self.script._tail(Path(self.proc.log), 40)}"


class Processes:
    """The test's gateway and Jaeger processes; all stopped at the end whatever happened."""

    def __init__(self, script: ModuleType, state_dir: Path) -> None:
        self.script = script
        self.state_dir = state_dir
        self.started: list[Service] = []

    def start(self, name: str, binary: Path, config: Path, env: dict[str, str], ready: list[str]) -> Service:
        proc = self.script._spawn(name, binary, config, env, self.state_dir)
        service = Service(self.script, proc, ready)
        self.started.append(service)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not all(self.script._http_ok(url) for url in ready):
            if not self.script._alive(proc.pid):
                pytest.fail(f"{name} exited during startup:\n{service.log()}", pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail(f"{name} not ready within {START_TIMEOUT_S:.0f}s:\n{service.log()}", pytrace=False)
            time.sleep(0.1)
        return service

    def kill(self, service: Service) -> None:
        os.kill(service.proc.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while self.script._alive(service.proc.pid):
            assert time.monotonic() < deadline, f"{service.proc.name} survived SIGKILL"
            time.sleep(0.05)

    def logs(self) -> str:
        return "\n".join(service.log() for service in self.started)

    def stop_all(self) -> None:
        self.script._terminate([service.proc for service in reversed(self.started)], self.script.STOP_TIMEOUT_S)


@pytest.fixture(scope="module")
def script(backends_built: None) -> ModuleType:
    return load_backends_script()


@pytest.fixture
def processes(script: ModuleType, tmp_path: Path) -> Iterator[Processes]:
    running = Processes(script, tmp_path)
    try:
        yield running
    finally:
        running.stop_all()


# --- what the gateway says about itself ----------------------------------------------------------


def own_metric(metrics_url: str, name: str, **labels: str) -> float:
    """The sum of a metric's samples (with these labels) in a collector's own Prometheus endpoint."""
    with urllib.request.urlopen(metrics_url, timeout=5) as response:
        text = response.read().decode()
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def eventually(probe: Callable[[], float], expected: float, timeout: float, what: str, logs: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    value = probe()
    while value != expected:
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: {value} after {timeout:.0f}s, expected {expected}\n{logs()}")
        time.sleep(0.2)
        value = probe()


# --- the spans ------------------------------------------------------------------------------------


def make_traces(service_name: str, count: int) -> list[list[ReadableSpan]]:
    """`count` traces of SPANS_PER_TRACE spans each (a root and its children), made by the real SDK."""
    recorder = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(SimpleSpanProcessor(recorder))
    tracer = provider.get_tracer("durability")
    traces: list[list[ReadableSpan]] = []
    for index in range(count):
        with tracer.start_as_current_span(f"invocation {index}"):
            for child in range(SPANS_PER_TRACE - 1):
                with tracer.start_as_current_span(f"call {child}"):
                    pass
        traces.append(list(recorder.get_finished_spans()))
        recorder.clear()
    provider.shutdown()
    return traces


def send(endpoint: str, traces: list[list[ReadableSpan]]) -> None:
    """One OTLP/HTTP export per trace through the SDK's exporter; each must be acknowledged."""
    exporter = OTLPSpanExporter(endpoint=endpoint, timeout=10)
    try:
        for spans in traces:
            assert exporter.export(spans) is SpanExportResult.SUCCESS, f"export to {endpoint} failed"
    finally:
        exporter.shutdown()


def span_ids(spans: list[ReadableSpan]) -> set[str]:
    return {format(span.context.span_id, "016x") for span in spans if span.context is not None}


def trace_id(spans: list[ReadableSpan]) -> str:
    context = spans[0].context
    assert context is not None
    return format(context.trace_id, "032x")


def spans_in_jaeger(query_url: str, trace_ids: list[str]) -> set[str]:
    found: set[str] = set()
    for tid in trace_ids:
        try:
            body = get_json(query_url, f"/api/traces/{tid}")
        except urllib.error.HTTPError as error:
            if error.code == 404:  # not a single span of it stored
                continue
            raise
        for trace in body.get("data") or []:
            found |= {span["spanID"].rjust(16, "0") for span in trace["spans"]}
    return found


# --- the scenario -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    sent: int
    accepted: int  # by the gateway's OTLP receiver, before the kill
    queued_before_kill: int  # spans in its sending queue (otelcol_exporter_queue_size, items)
    queued_after_restart: int
    in_jaeger: int

    @property
    def lost(self) -> int:
        return self.sent - self.in_jaeger


def kill_while_jaeger_is_down(processes: Processes, config: Path, label: str) -> Outcome:
    script = processes.script
    art = script.build()
    gateway_ports = dict(zip(("otlp_grpc", "otlp_http", "health", "metrics"), script._free_ports(4), strict=True))
    jaeger_keys = ("otlp_grpc", "otlp_http", "query_http", "query_grpc", "health", "metrics")
    j = dict(zip(jaeger_keys, script._free_ports(6), strict=True))
    gateway_env = {
        **GATEWAY_SETTINGS,
        "GATEWAY_GRPC_ENDPOINT": f"127.0.0.1:{gateway_ports['otlp_grpc']}",
        "GATEWAY_HTTP_ENDPOINT": f"127.0.0.1:{gateway_ports['otlp_http']}",
        "GATEWAY_HEALTH_ENDPOINT": f"127.0.0.1:{gateway_ports['health']}",
        "GATEWAY_METRICS_HOST": "127.0.0.1",
        "GATEWAY_METRICS_PORT": str(gateway_ports["metrics"]),
        "GATEWAY_STORAGE_DIR": str(processes.state_dir / f"{label}-queue"),
        # Nothing listens there until step 4.
        "JAEGER_OTLP_GRPC_ENDPOINT": f"127.0.0.1:{j['otlp_grpc']}",
    }
    gateway_ready = [f"http://127.0.0.1:{gateway_ports['health']}/"]
    metrics_url = f"http://127.0.0.1:{gateway_ports['metrics']}/metrics"
    otlp_endpoint = f"http://127.0.0.1:{gateway_ports['otlp_http']}/v1/traces"
    gateway = processes.start(f"{label}-gateway", art.gateway, config, gateway_env, gateway_ready)

    def queued() -> float:
        return own_metric(metrics_url, "otelcol_exporter_queue_size", exporter="otlp/jaeger")

    def accepted() -> float:
        return own_metric(metrics_url, "otelcol_receiver_accepted_spans_total", receiver="otlp")

    # 2. Every export acknowledged by the gateway (HTTP 200), as a function's flush sees it; the
    # gateway's own figures are read at once: an acknowledged span is already in the queue (a
    # buffer in front of the queue, like a batch processor, would show here as spans not queued).
    service_name = f"durability-{label}-{secrets.token_hex(4)}"
    traces = make_traces(service_name, TRACES)
    send(otlp_endpoint, traces)
    accepted_before, queued_before = int(accepted()), int(queued())

    # 3. The kill, and the same gateway (binary, config, ports, storage directory) again.
    processes.kill(gateway)
    processes.start(f"{label}-gateway-restarted", art.gateway, config, gateway_env, gateway_ready)
    queued_after = queued()

    # 4. Jaeger, on the port the gateway exports to.
    jaeger_env = {
        "JAEGER_OTLP_GRPC_LISTEN": f"127.0.0.1:{j['otlp_grpc']}",
        "JAEGER_OTLP_HTTP_LISTEN": f"127.0.0.1:{j['otlp_http']}",
        "JAEGER_QUERY_HTTP_ENDPOINT": f"127.0.0.1:{j['query_http']}",
        "JAEGER_QUERY_GRPC_ENDPOINT": f"127.0.0.1:{j['query_grpc']}",
        "JAEGER_HEALTH_ENDPOINT": f"127.0.0.1:{j['health']}",
        "JAEGER_METRICS_HOST": "127.0.0.1",
        "JAEGER_METRICS_PORT": str(j["metrics"]),
    }
    query_url = f"http://127.0.0.1:{j['query_http']}"
    jaeger_ready = [f"http://127.0.0.1:{j['health']}/status", f"{query_url}/api/services"]
    processes.start(f"{label}-jaeger", art.jaeger, script.JAEGER_CONFIG, jaeger_env, jaeger_ready)

    # 5. The queue drains (to Jaeger, or it was empty), and a marker sent now arrives: the
    # pipeline works, so whatever is missing was lost, not delayed.
    eventually(queued, 0, DELIVERY_TIMEOUT_S, "spans still in the restarted gateway's queue", processes.logs)
    marker = make_traces(f"{service_name}-marker", 1)[0]
    send(otlp_endpoint, [marker])
    wait_for_trace(query_url, trace_id(marker), SPANS_PER_TRACE, timeout=DELIVERY_TIMEOUT_S)

    sent_ids = set().union(*(span_ids(spans) for spans in traces))
    stored = spans_in_jaeger(query_url, [trace_id(spans) for spans in traces])
    assert stored <= sent_ids
    return Outcome(
        sent=len(sent_ids),
        accepted=accepted_before,
        queued_before_kill=queued_before,
        queued_after_restart=int(queued_after),
        in_jaeger=len(stored),
    )


def memory_queue_config(directory: Path) -> Path:
    """gateway-durable.yaml without its one `storage:` line: the same queue, in memory."""
    lines = DURABLE_CONFIG.read_text().splitlines(keepends=True)
    kept = [line for line in lines if line.strip() != STORAGE_LINE]
    assert len(kept) == len(lines) - 1, f"{DURABLE_CONFIG} has no single `{STORAGE_LINE}` line"
    path = directory / "gateway-memory-queue.yaml"
    path.write_text("".join(kept))
    return path


def batch_processor_config(directory: Path) -> Path:
    """gateway-durable.yaml with a batch processor in front of its disk queue (as many configs have)."""
    text = DURABLE_CONFIG.read_text()
    edits = {
        "processors:\n  # A refusal": "processors:\n  batch:\n    timeout: 1s\n  # A refusal",
        "processors: [memory_limiter]": "processors: [memory_limiter, batch]",
    }
    for old, new in edits.items():
        assert text.count(old) == 1, f"{DURABLE_CONFIG} changed: `{old}` not found once"
        text = text.replace(old, new)
    path = directory / "gateway-batch-processor.yaml"
    path.write_text(text)
    return path


def report(record_property: Callable[[str, object], None], name: str, outcome: Outcome) -> None:
    figures = {
        "sent": outcome.sent,
        "accepted": outcome.accepted,
        "queued_before_kill": outcome.queued_before_kill,
        "queued_after_restart": outcome.queued_after_restart,
        "in_jaeger": outcome.in_jaeger,
        "lost": outcome.lost,
    }
    record_property(name, figures)
    print(f"\n{name}: {figures}")


def test_persistent_queue_loses_no_span_across_a_sigkill_while_jaeger_is_down(
    processes: Processes, record_property: Callable[[str, object], None]
) -> None:
    outcome = kill_while_jaeger_is_down(processes, DURABLE_CONFIG, "persistent")
    report(record_property, "gateway_durability_persistent", outcome)
    assert (outcome.sent, outcome.accepted, outcome.queued_before_kill) == (SENT, SENT, SENT)
    # The restarted process found every span on disk ...
    assert outcome.queued_after_restart == SENT, processes.logs()
    # ... and Jaeger got every one of them.
    assert outcome.lost == 0, processes.logs()


def test_memory_queue_loses_what_it_held_when_killed(
    processes: Processes, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    outcome = kill_while_jaeger_is_down(processes, memory_queue_config(tmp_path), "memory")
    report(record_property, "gateway_durability_memory", outcome)
    assert (outcome.sent, outcome.accepted, outcome.queued_before_kill) == (SENT, SENT, SENT)
    # Acknowledged to the sender, then gone with the process: every span was still queued.
    assert outcome.queued_after_restart == 0
    assert outcome.lost == SENT, processes.logs()


def test_a_batch_processor_in_front_of_the_disk_queue_loses_what_it_held(
    processes: Processes, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    """Why gateway-durable.yaml has no batch processor: it answers the sender before the disk has it."""
    outcome = kill_while_jaeger_is_down(processes, batch_processor_config(tmp_path), "batch-processor")
    report(record_property, "gateway_durability_batch_processor", outcome)
    assert (outcome.sent, outcome.accepted) == (SENT, SENT)
    # Acknowledged, but still in the processor's memory when the kill came: not on disk, lost.
    assert outcome.queued_before_kill == 0
    assert outcome.lost == SENT, processes.logs()
