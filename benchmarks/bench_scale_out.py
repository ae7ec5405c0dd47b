"""S1, S2: sizing the scale-out tiers (README "Scale-out", sizing).

S1  spans per CPU-second of a gateway running collector-config/gateway.yaml (span metrics on
    every span, tail sampling, the persistent queue, remote write) against the same binary
    with a plain ``batch`` → OTLP pipeline (benchmarks/scale_out_baseline.yaml): ratio
    ours / peer, the share of a plain collector's throughput a gateway keeps.
S2  the agent's CPU per span (loadbalancing by trace id) against that plain collector's:
    what the extra tier costs.

Everything is real: the distributions ``scripts/backends build`` compiles, Debian's
Prometheus, Jaeger; started on 127.0.0.1 by ``scripts/backends``' own functions.  The load is
serverless-shaped traces (4 spans, two functions, the attributes otel-serverless writes) sent
over OTLP/HTTP by 4 threads, requests of 400 spans.  CPU time comes from /proc (utime +
stime of the measured process, its idle rate subtracted), so a busy shared machine slows the
run but barely moves the figures; "per core" means per CPU-second.

Run alone: ``python -m benchmarks._one bench_scale_out`` (prints the JSON),
or ``python -m benchmarks.bench_scale_out`` for a table.
"""

from __future__ import annotations

import http.client
import importlib.util
import os
import secrets
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from importlib.machinery import SourceFileLoader
from pathlib import Path
from types import ModuleType

from benchmarks._loopback import ROOT
from benchmarks._report import Result, result, unavailable

BASELINE_CONFIG = Path(__file__).resolve().parent / "scale_out_baseline.yaml"
SPANS_PER_REQUEST = 400
THREADS = 4
DECISION_WAIT_S = 1


def _backends() -> ModuleType:
    loader = SourceFileLoader("otel_serverless_backends_script", str(ROOT / "scripts" / "backends"))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[loader.name] = module
    loader.exec_module(module)
    return module


# --- load ------------------------------------------------------------------------------------------


def _requests(total_spans: int) -> list[bytes]:
    """OTLP/HTTP bodies of serverless-shaped traces, every trace id new."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

    def kv(key: str, value: object) -> KeyValue:
        if isinstance(value, bool):
            return KeyValue(key=key, value=AnyValue(bool_value=value))
        if isinstance(value, int):
            return KeyValue(key=key, value=AnyValue(int_value=value))
        return KeyValue(key=key, value=AnyValue(string_value=str(value)))

    now = time.time_ns()
    bodies: list[bytes] = []
    flows_per_request = SPANS_PER_REQUEST // 4
    for request_index in range(max(1, total_spans // SPANS_PER_REQUEST)):
        request = ExportTraceServiceRequest()
        producer, consumer = request.resource_spans.add(), request.resource_spans.add()
        for resource, name, memory in ((producer, "upload-post", 512), (consumer, "process-post", 1024)):
            resource.resource.attributes.extend(
                [kv("service.name", name), kv("faas.name", name), kv("faas.max_memory", memory * 1024 * 1024)]
            )
            resource.scope_spans.add().scope.name = "otel_serverless"
        for flow in range(flows_per_request):
            trace = secrets.token_bytes(16)
            start = now + (request_index * flows_per_request + flow) * 1000
            ids = [secrets.token_bytes(8) for _ in range(4)]
            error = flow % 50 == 0  # 2 % of the flows fail: always kept
            cold = flow % 25 == 1  # 4 % cold starts: always kept
            spans = [
                (producer, ids[0], b"", "POST /posts", Span.SPAN_KIND_SERVER, 40, {"faas.trigger": "http"}, False),
                (producer, ids[1], ids[0], "post-uploaded send", Span.SPAN_KIND_PRODUCER, 8, {}, False),
                (consumer, ids[2], ids[1], "post-uploaded process", Span.SPAN_KIND_CONSUMER, 120, {}, error),
                (consumer, ids[3], ids[2], "DynamoDB.PutItem", Span.SPAN_KIND_CLIENT, 15, {}, False),
            ]
            for resource, span_id, parent, name, kind, ms, extra, failed in spans:
                attributes = dict(extra)
                if kind in (Span.SPAN_KIND_SERVER, Span.SPAN_KIND_CONSUMER):
                    attributes.setdefault("faas.trigger", "pubsub")
                    attributes["faas.coldstart"] = cold and kind == Span.SPAN_KIND_SERVER
                    attributes["faas.invocation_id"] = secrets.token_hex(16)
                span = resource.scope_spans[0].spans.add(
                    trace_id=trace,
                    span_id=span_id,
                    parent_span_id=parent,
                    name=name,
                    kind=kind,
                    start_time_unix_nano=start,
                    end_time_unix_nano=start + ms * 1_000_000,
                )
                span.attributes.extend(kv(key, value) for key, value in attributes.items())
                if failed:
                    span.status.code = Status.STATUS_CODE_ERROR
        bodies.append(request.SerializeToString())
    return bodies


def _send(port: int, bodies: Sequence[bytes]) -> float:
    """POST every body (THREADS keep-alive connections); the wall time it took."""
    chunks = [bodies[i::THREADS] for i in range(THREADS)]
    failures: list[str] = []

    def worker(chunk: Sequence[bytes]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            for body in chunk:
                for _ in range(20):  # memory_limiter or a full queue answers 429/503: retry as an SDK would
                    connection.request(
                        "POST", "/v1/traces", body=body, headers={"Content-Type": "application/x-protobuf"}
                    )
                    answer = connection.getresponse()
                    answer.read()
                    if answer.status == 200:
                        break
                    time.sleep(0.2)
                else:
                    failures.append(f"HTTP {answer.status}")
        finally:
            connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"{len(failures)} requests refused ({failures[0]})")
    return time.perf_counter() - started


# --- measuring ---------------------------------------------------------------------------------------


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _accepted(metrics_url: str) -> float:
    with urllib.request.urlopen(metrics_url, timeout=5) as answer:
        text = answer.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("otelcol_receiver_accepted_spans")
    )


def _measure(
    port: int, bodies: Sequence[bytes], watched: dict[str, int], metrics_url: str, settle_s: float
) -> tuple[float, dict[str, float]]:
    """Send *bodies* to *port*; CPU seconds each watched process spent on them (idle rate subtracted)."""
    idle_before = {name: _cpu_s(pid) for name, pid in watched.items()}
    time.sleep(2)
    idle_rate = {name: (_cpu_s(pid) - idle_before[name]) / 2 for name, pid in watched.items()}
    expected = _accepted(metrics_url) + len(bodies) * SPANS_PER_REQUEST
    before = {name: _cpu_s(pid) for name, pid in watched.items()}
    started = time.monotonic()
    wall = _send(port, bodies)
    deadline = time.monotonic() + 120
    while _accepted(metrics_url) < expected:
        if time.monotonic() > deadline:
            raise RuntimeError("the spans did not all arrive")
        time.sleep(0.2)
    time.sleep(settle_s)  # tail-sampling decisions, batches and flushes after the last span
    elapsed = time.monotonic() - started
    spent = {name: max(1e-6, _cpu_s(pid) - before[name] - idle_rate[name] * elapsed) for name, pid in watched.items()}
    return wall, spent


def run(smoke: bool) -> dict[str, Result]:
    try:
        backends = _backends()
        art = backends.artifacts()
        if not all(backends._is_executable(binary) for binary in (art.agent, art.gateway, art.jaeger)):
            raise RuntimeError("run scripts/backends build first")
        backends._prometheus_binary()
    except Exception as error:
        reason = str(error).splitlines()[0][:160]
        return {
            "S1": unavailable("gateway spans per CPU-second vs a plain collector", ">= 0.2", reason),
            "S2": unavailable("agent CPU per span vs a plain collector", "<= 1.5", reason),
        }
    total = 4_000 if smoke else 200_000
    bodies = _requests(total)
    sent = len(bodies) * SPANS_PER_REQUEST
    os.environ.update(
        {
            "GATEWAY_SAMPLING_PERCENTAGE": "10",
            "GATEWAY_DECISION_WAIT": f"{DECISION_WAIT_S}s",
            "GATEWAY_METRICS_FLUSH_INTERVAL": "5s",
            "OTELCOL_LOG_LEVEL": "warn",
        }
    )
    settle = DECISION_WAIT_S + 3.0
    with tempfile.TemporaryDirectory(prefix="bench-scale-out-") as tmp:
        state_dir = Path(tmp)
        state = backends.up(state_dir, backends.Topology(gateways=1, agents=1))
        try:
            exports = state.exports()
            pids = {proc.name: proc.pid for proc in state.procs}
            grpc, health, metrics = backends._free_ports(3)
            env = {
                "GATEWAY_HTTP_ENDPOINT": f"127.0.0.1:{grpc}",
                "GATEWAY_HEALTH_ENDPOINT": f"127.0.0.1:{health}",
                "GATEWAY_METRICS_PORT": str(metrics),
                "JAEGER_OTLP_GRPC_ENDPOINT": f"127.0.0.1:{state.jaeger_ports['otlp_grpc']}",
            }
            plain = backends._spawn(
                "baseline", art.gateway, BASELINE_CONFIG, env, state_dir, health=[f"http://127.0.0.1:{health}/"]
            )
            state.procs.append(plain)
            backends._write_state(state_dir, state)
            backends._wait_healthy(state, time.monotonic() + 60)
            gateway_port = state.scale_out["gateway-1"]["otlp_http"]
            agent_port = state.scale_out["agent-1"]["otlp_http"]
            gateway_metrics = exports["GATEWAY_1_METRICS_URL"]
            # Warm-up: connections, caches, the first flushes.
            warm = bodies[: max(1, len(bodies) // 20)]
            _measure(grpc, warm, {"baseline": plain.pid}, f"http://127.0.0.1:{metrics}/metrics", 1)
            _measure(gateway_port, warm, {"gateway": pids["gateway-1"]}, gateway_metrics, settle)
            plain_wall, plain_cpu = _measure(
                grpc, bodies, {"baseline": plain.pid}, f"http://127.0.0.1:{metrics}/metrics", 1
            )
            gateway_wall, gateway_cpu = _measure(
                gateway_port, bodies, {"gateway": pids["gateway-1"]}, gateway_metrics, settle
            )
            agent_wall, tiers_cpu = _measure(
                agent_port,
                bodies,
                {"agent": pids["agent-1"], "gateway": pids["gateway-1"]},
                gateway_metrics,
                settle,
            )
        finally:
            backends.stop(state_dir)
    plain_rate = sent / plain_cpu["baseline"]
    gateway_rate = sent / gateway_cpu["gateway"]
    agent_rate = sent / tiers_cpu["agent"]
    note = (
        f"{sent:,} spans; spans per CPU-second: gateway {gateway_rate:,.0f}, plain collector {plain_rate:,.0f}, "
        f"agent {agent_rate:,.0f}, gateway behind the agent {sent / tiers_cpu['gateway']:,.0f}; "
        f"wall: plain {sent / plain_wall:,.0f}/s, gateway {sent / gateway_wall:,.0f}/s, "
        f"through the agent {sent / agent_wall:,.0f}/s (one Python sender, 4 threads)"
    )
    return {
        "S1": result(
            "gateway spans per CPU-second vs a plain collector",
            gateway_rate,
            plain_rate,
            "spans/CPU-s",
            ">= 0.2",
            note=note,
        ),
        "S2": result(
            "agent CPU per span vs a plain collector",
            1e6 / agent_rate,
            1e6 / plain_rate,
            "CPU-s/M spans",
            # A plain collector's work plus splitting every batch by trace id and re-encoding
            # it per gateway: at most half as much again.
            "<= 1.5",
            note="loadbalancing by trace id to one gateway over OTLP/gRPC",
        ),
    }


def main() -> None:
    from benchmarks._report import table

    smoke = "--smoke" in sys.argv[1:]
    results = run(smoke)
    print(table(results))
    for key, item in results.items():
        print(f"{key}: {item.get('note', '')}")


if __name__ == "__main__":
    main()
