"""The scale-out topology, natively: agents -> gateways -> Prometheus + Jaeger with SPM (issue #21).

Two agents (loadbalancing by trace id), two gateways (spanmetrics before tail sampling),
Prometheus (Debian's, remote-write receiver) and Jaeger reading its metrics, all started
by ``scripts/backends up --scale-out`` on free 127.0.0.1 ports.  Every dataflow sends its
producer's spans through one agent and its consumer's through the other, so a trace is only
complete in Jaeger if both agents routed it to the same gateway.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from otel_serverless.processors.cost import Prices
from tests.e2e import _scale_out as so
from tests.e2e._jaeger import get_json
from tests.e2e.conftest import BACKENDS_SCRIPT, COMMAND_TIMEOUT_S, parse_exports, run_backends
from tests.e2e.test_collector_config import COMPOSE, CONFIG_DIR, load_backends_script

pytestmark = pytest.mark.e2e

SAMPLING_PERCENTAGE = 25
#: The gateways' tail-sampling wait. After a gateway restart the two halves of a trace (producer
#: and consumer, through different agents) reach it as each agent reconnects and retries, up to a
#: few seconds apart after the short outage of test_a_gateway_killed_mid_run; the wait must
#: outlast that, or the gateway decides on the first half alone (README "When a gateway dies").
DECISION_WAIT_S = 5
#: 300 dataflows, 1,200 spans: 10 of each kind a policy keeps, the rest ordinary.
SPECIAL_PER_KIND = 10
ORDINARY = 250

UP_ARGS = ("--gateways", "2", "--agents", "2")

T = TypeVar("T")


# --- pins and files ----------------------------------------------------------------------------


def test_each_tier_is_built_on_one_release_train() -> None:
    script = load_backends_script()
    allowed = {
        f"v{script.SCALE_OUT_VERSION}",
        f"v{script.SCALE_OUT_CORE_VERSION}",
        f"v{script.SCALE_OUT_STABLE_VERSION}",
    }
    for manifest in ("agent-builder.yaml", "gateway-builder.yaml"):
        text = (CONFIG_DIR / manifest).read_text()
        assert set(re.findall(r"gomod:\s*\S+\s+(v\S+)", text)) <= allowed, manifest
        assert f"version: {script.SCALE_OUT_VERSION}" in text
    assert "loadbalancingexporter" in (CONFIG_DIR / "agent-builder.yaml").read_text()
    assert script.SCALE_OUT_IMAGE_TAG == script.SCALE_OUT_VERSION


def test_compose_scale_out_profile_mounts_the_same_files() -> None:
    text = COMPOSE.read_text()
    for name in ("agent.yaml", "gateway.yaml", "jaeger-spm.yaml", "prometheus.yaml"):
        assert f"../collector-config/{name}:" in text
        assert (CONFIG_DIR / name).is_file()
    assert text.count("--feature-gates=connector.spanmetrics.includeCollectorInstanceID") == 1  # both gateways
    assert load_backends_script().GATEWAY_FEATURE_GATES == "connector.spanmetrics.includeCollectorInstanceID"


def test_compose_prometheus_is_the_release_debian_installs() -> None:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("no prometheus binary")
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    assert f"version {load_backends_script().PROMETHEUS_IMAGE_TAG.lstrip('v')}" in version.stdout + version.stderr


def test_validate_checks_each_tier_with_its_own_binary(backends_built: None) -> None:
    result = run_backends("validate")
    assert result.returncode == 0, result.stderr
    for name, kind in (("agent.yaml", "agent"), ("gateway.yaml", "gateway"), ("jaeger-spm.yaml", "jaeger")):
        assert re.search(rf"ok\s+\S+/{re.escape(name)} \({kind}\)", result.stderr), result.stderr


def test_validate_rejects_a_gateway_config_its_distribution_cannot_run(backends_built: None, tmp_path: Path) -> None:
    broken = tmp_path / "gateway-broken.yaml"
    # groupbytrace is not in gateway-builder.yaml: the gateway binary must say so.
    broken.write_text((CONFIG_DIR / "gateway.yaml").read_text().replace("tail_sampling", "groupbytrace"))
    result = run_backends("validate", str(broken))
    assert result.returncode != 0
    assert "groupbytrace" in result.stderr


def test_up_without_prometheus_fails_with_a_clear_message_and_starts_nothing(
    backends_built: None, tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    result = subprocess.run(
        [sys.executable, str(BACKENDS_SCRIPT), "up", "--scale-out", "--state-dir", str(state_dir)],
        env={**os.environ, "PROMETHEUS_BIN": str(tmp_path / "no-such-prometheus")},
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 1
    assert "no `prometheus` binary" in result.stderr
    assert not (state_dir / "state.json").exists()


@dataclass(frozen=True)
class Topology:
    exports: dict[str, str]
    state_dir: Path

    @property
    def prometheus(self) -> str:
        return self.exports["PROMETHEUS_URL"]

    @property
    def jaeger(self) -> str:
        return self.exports["JAEGER_QUERY_URL"]

    def agent(self, index: int) -> str:
        return self.exports[f"AGENT_{index}_OTLP_ENDPOINT"]

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
            for path in sorted(self.state_dir.glob("*.log"))
        )


@pytest.fixture(scope="module")
def topology(backends_built: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    if shutil.which("prometheus") is None and "PROMETHEUS_BIN" not in os.environ:
        reason = "no prometheus binary (scripts/test installs Debian's prometheus package)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    state_dir = tmp_path_factory.mktemp("scale-out")
    env = {
        **os.environ,
        "GATEWAY_SAMPLING_PERCENTAGE": str(SAMPLING_PERCENTAGE),
        "GATEWAY_DECISION_WAIT": f"{DECISION_WAIT_S}s",
        "GATEWAY_METRICS_FLUSH_INTERVAL": "1s",
        "GATEWAY_LATENCY_THRESHOLD_MS": "3000",
        "GATEWAY_BATCH_TIMEOUT": "100ms",
        "AGENT_BATCH_TIMEOUT": "100ms",
    }
    try:
        result = subprocess.run(
            [sys.executable, str(BACKENDS_SCRIPT), "up", "--scale-out", *UP_ARGS, "--state-dir", str(state_dir)],
            env=env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(f"scripts/backends up --scale-out failed:\n{result.stderr}", pytrace=False)
        yield Topology(parse_exports(result.stdout), state_dir)
    finally:
        run_backends("down", "--state-dir", str(state_dir))


def eventually(probe: Callable[[], T], done: Callable[[T], bool], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still {value!r} after {timeout:.0f}s")
        time.sleep(0.5)


def jaeger_traces(topology: Topology, service: str) -> dict[str, dict[str, Any]]:
    body = get_json(topology.jaeger, "/api/traces", {"service": service, "limit": "5000", "lookback": "1h"})
    return {trace["traceID"].rjust(32, "0"): trace for trace in body.get("data") or []}


def invocation_totals(topology: Topology, selector: str = "") -> dict[str, float]:
    """Invocations per function from the span metrics, summed over the gateways' series."""
    query = f'sum by (service_name) (last_over_time(traces_span_metrics_calls_total{{faas_trigger!=""{selector}}}[1h]))'
    return so.prom_values(topology.prometheus, query, "service_name")


def gateway_processes(topology: Topology, gateway: str) -> set[str]:
    """The collector_instance_id of every process of `gateway` that wrote span metrics."""
    series = f'traces_span_metrics_calls_total{{instance="{gateway}"}}'
    query = f"count by (collector_instance_id) (last_over_time({series}[1h]))"
    return set(so.prom_values(topology.prometheus, query, "collector_instance_id"))


def settled_total(topology: Topology, function: str, at_least: float, quiet_s: float = 4) -> float:
    """The function's invocation total once it reached `at_least` and stopped moving for `quiet_s`."""
    deadline = time.monotonic() + 60
    last, since = -1.0, time.monotonic()
    while time.monotonic() < deadline:
        value = invocation_totals(topology).get(function, 0.0)
        if value != last:
            last, since = value, time.monotonic()
        elif value >= at_least and time.monotonic() - since >= quiet_s:
            return value
        time.sleep(0.5)
    raise AssertionError(f"invocations of {function} did not settle at >= {at_least} (last {last})")


# --- the run: one module-scoped burst, asserted from several sides ------------------------------


@dataclass(frozen=True)
class Run:
    flows: list[so.Flow]
    kept: dict[str, dict[str, Any]]  # trace id -> Jaeger trace, once settled


@pytest.fixture(scope="module")
def run(topology: Topology) -> Run:
    kinds = [kind for kind in so.KINDS if kind != "ordinary" for _ in range(SPECIAL_PER_KIND)]
    kinds += ["ordinary"] * ORDINARY
    # Mixed, so that both waves hold special traces and waiting for those waits for both.
    random.Random(21).shuffle(kinds)  # noqa: S311 - the order of test data, not a secret
    flows = so.new_flows(kinds)
    # Two waves some seconds apart: Jaeger's Monitor tab shows rates, which need two samples.
    half = len(flows) // 2
    so.send_flows(flows[:half], topology.agent(1), topology.agent(2))
    time.sleep(3)
    so.send_flows(flows[half:], topology.agent(1), topology.agent(2))
    special = {flow.trace_id for flow in flows if flow.kind != "ordinary"}

    def settled() -> dict[str, dict[str, Any]]:
        return jaeger_traces(topology, so.PRODUCER_FUNCTION)

    # Decision wait + batching: every special trace and all of its spans, then a little more for
    # the ordinary ones decided in the same round.
    eventually(
        settled,
        lambda traces: special <= traces.keys() and all(len(traces[t]["spans"]) == so.SPANS_PER_FLOW for t in special),
        timeout=60,
        what="special traces complete in Jaeger",
    )
    # The ordinary traces of the last decision round, exported a moment after the special ones.
    time.sleep(DECISION_WAIT_S + 1)
    return Run(flows, settled())


def test_every_kept_trace_is_complete_although_its_spans_came_through_two_agents(run: Run) -> None:
    sent = {flow.trace_id for flow in run.flows}
    assert run.kept.keys() <= sent
    incomplete = {t: len(trace["spans"]) for t, trace in run.kept.items() if len(trace["spans"]) != so.SPANS_PER_FLOW}
    assert not incomplete, f"traces split between gateways: {incomplete}"
    for trace in run.kept.values():
        services = {trace["processes"][span["processID"]]["serviceName"] for span in trace["spans"]}
        assert services == {so.PRODUCER_FUNCTION, so.CONSUMER_FUNCTION}


def test_errors_timeouts_cold_starts_retries_and_slow_traces_are_always_kept(run: Run) -> None:
    missing = Counter(flow.kind for flow in run.flows if flow.kind != "ordinary" and flow.trace_id not in run.kept)
    assert not missing, f"dropped by tail sampling: {dict(missing)}"


def test_ordinary_traces_are_kept_at_about_the_configured_rate(run: Run) -> None:
    ordinary = [flow for flow in run.flows if flow.kind == "ordinary"]
    kept = sum(flow.trace_id in run.kept for flow in ordinary)
    expected = len(ordinary) * SAMPLING_PERCENTAGE / 100
    # Binomial spread: 4.5 standard deviations either side (a false failure about once in 150,000 runs).
    spread = 4.5 * math.sqrt(len(ordinary) * SAMPLING_PERCENTAGE / 100 * (1 - SAMPLING_PERCENTAGE / 100))
    assert expected - spread <= kept <= expected + spread, f"kept {kept} of {len(ordinary)} ordinary traces"


def test_prometheus_counts_every_invocation_while_jaeger_holds_only_the_sampled_traces(
    topology: Topology, run: Run
) -> None:
    sent = len(run.flows)
    exact = {so.PRODUCER_FUNCTION: float(sent), so.CONSUMER_FUNCTION: float(sent)}
    totals = eventually(lambda: invocation_totals(topology), lambda v: v == exact, 30, "invocations in Prometheus")
    assert totals == exact
    by_kind = Counter(flow.kind for flow in run.flows)
    consumer = so.CONSUMER_FUNCTION
    expectations = {
        # Errors: the consumer's error and timeout invocations.
        ',status_code="STATUS_CODE_ERROR"': {consumer: by_kind["error"] + by_kind["timeout"]},
        ',serverless_timeout="true"': {consumer: by_kind["timeout"]},
        ',serverless_retry="true"': {consumer: by_kind["retry"]},
        ',faas_coldstart="true"': {so.PRODUCER_FUNCTION: by_kind["cold_start"]},
    }
    for selector, expected in expectations.items():
        assert invocation_totals(topology, selector) == {k: float(v) for k, v in expected.items()}, selector
    # Jaeger: the same traces, sampled.
    assert len(run.kept) < sent
    assert len(run.kept) >= sent - by_kind["ordinary"]


def test_span_metric_dimensions_are_bounded_and_carry_the_function_facts(topology: Topology, run: Run) -> None:
    series = so.prom_query(topology.prometheus, 'traces_span_metrics_calls_total{faas_trigger="http"}')
    assert series
    labels = series[0]["metric"]
    assert labels["faas_name"] == so.PRODUCER_FUNCTION
    assert labels["faas_max_memory"] == str(so.MEMORY_MB[so.PRODUCER_FUNCTION] * 1024 * 1024)
    # One series per gateway and outcome, not per invocation or sandbox.
    assert not any(name.startswith(("faas_instance", "faas_invocation")) for row in series for name in row["metric"])
    assert {row["metric"]["instance"] for row in series} == {"gateway-1", "gateway-2"}
    # ... and each gateway process its own series (the feature gate), so a restart never resets one.
    assert len({row["metric"]["collector_instance_id"] for row in series}) == 2
    buckets = so.prom_values(
        topology.prometheus,
        'sum by (le) (last_over_time(traces_span_metrics_duration_milliseconds_bucket{faas_trigger="pubsub"}[1h]))',
        "le",
    )
    # 4 s "slow" consumers and 120 ms others: the histogram has both, and every invocation in +Inf.
    assert buckets["+Inf"] == len(run.flows)
    assert buckets["250"] == len(run.flows) - SPECIAL_PER_KIND
    assert buckets["2500"] == buckets["250"]


def monitor_query(topology: Topology, what: str, service: str, span_kind: str, **extra: str) -> dict[str, Any]:
    """The query Jaeger's Monitor tab sends (jaeger-ui's MetricsReader), for the last 5 minutes."""
    now_ms = int(time.time() * 1000)
    params = {
        "service": service,
        "endTs": str(now_ms),
        "lookback": str(5 * 60_000),
        "step": "5000",
        "ratePer": str(60_000),
        "spanKind": span_kind,
        "groupByOperation": "true",
        **extra,
    }
    body: dict[str, Any] = get_json(topology.jaeger, f"/api/metrics/{what}", params)
    return body


def points(family: dict[str, Any], operation: str) -> list[float]:
    values: list[float] = []
    for metric in family.get("metrics") or []:
        labels = {label["name"]: label["value"] for label in metric["labels"]}
        if labels.get("operation") != operation:
            continue
        for point in metric["metricPoints"]:
            value = point.get("gaugeValue", {}).get("doubleValue")
            if isinstance(value, (int, float)) and not math.isnan(value):
                values.append(float(value))
    return values


def test_jaeger_monitor_tab_reads_the_same_prometheus(topology: Topology, run: Run) -> None:
    for quantile in ("0.5", "0.75", "0.95"):
        family = eventually(
            lambda q=quantile: monitor_query(topology, "latencies", so.PRODUCER_FUNCTION, "server", quantile=q),
            lambda f: bool(points(f, "POST /posts")),
            30,
            f"p{quantile} latencies",
        )
        # Every producer invocation took 40 ms: its bucket is (25, 50].
        assert all(25 <= value <= 50 for value in points(family, "POST /posts")), family
    calls = monitor_query(topology, "calls", so.PRODUCER_FUNCTION, "server")
    assert max(points(calls, "POST /posts")) > 0
    errors = eventually(
        lambda: monitor_query(topology, "errors", so.CONSUMER_FUNCTION, "consumer"),
        lambda f: bool(points(f, "post-uploaded process")),
        30,
        "error rates",
    )
    # 20 of 300 consumer invocations failed: the error rate is a share of the calls.
    assert 0 < max(points(errors, "post-uploaded process")) < 1
    # Without groupByOperation: one series for the service.
    whole = monitor_query(topology, "calls", so.PRODUCER_FUNCTION, "server", groupByOperation="false")
    assert [m["labels"] for m in whole["metrics"]] == [[{"name": "service_name", "value": so.PRODUCER_FUNCTION}]]


def test_insights_reads_the_exact_figures_from_prometheus(topology: Topology, run: Run) -> None:
    """`otel-serverless insights --prometheus`: every figure as sent, although Jaeger holds a sample."""
    cli = Path(sys.executable).with_name("otel-serverless")
    command = [str(cli), "insights", "--prometheus", topology.prometheus, "--jaeger", topology.jaeger]
    result = subprocess.run(
        [*command, "--since", "30m", "--json"], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    sent = len(run.flows)
    by_kind = Counter(flow.kind for flow in run.flows)
    functions = {row["name"]: row for row in report["functions"]}
    producer, consumer = functions[so.PRODUCER_FUNCTION], functions[so.CONSUMER_FUNCTION]
    assert (producer["invocations"], consumer["invocations"]) == (sent, sent)
    assert (producer["errors"], producer["cold_starts"]) == (0, by_kind["cold_start"])
    assert consumer["errors"] == by_kind["error"] + by_kind["timeout"]
    assert (consumer["timeouts"], consumer["retries"]) == (by_kind["timeout"], by_kind["retry"])
    assert report["invocations"] == 2 * sent
    assert report["health"] == pytest.approx(1 - (by_kind["error"] + by_kind["timeout"]) / (2 * sent))
    assert report["estimated"] is False
    assert sum(bucket["invocations"] for bucket in report["timeline"]) == 2 * sent
    assert sum(bucket["errors"] for bucket in report["timeline"]) == by_kind["error"] + by_kind["timeout"]
    # Every producer invocation took 40 ms, 10 consumers 4 s and the others 120 ms.
    assert 25 < producer["p50_ms"] <= 50
    assert 100 < consumer["p50_ms"] <= 150
    assert 2500 < consumer["p99_ms"] <= 5000
    assert sum(bucket["count"] for bucket in consumer["histogram"]) == sent
    assert (producer["memory_limit_mb"], producer["timeout_ms"]) == (512, 10_000)
    prices = Prices()
    cost = sent * 0.040 * 0.5 * prices.x86_64 + sent * prices.request
    assert producer["cost_usd"] == pytest.approx(cost, rel=1e-6)
    # The sampled traces still give the dataflows and the map, and the report says which is which.
    assert report["dataflows"]
    assert "Prometheus" in report["note"]
    assert any("Prometheus" in source for source in report["sources"])


# --- a gateway dies mid-run ----------------------------------------------------------------------


def test_a_gateway_killed_mid_run(topology: Topology, run: Run, record_property: Callable[[str, object], None]) -> None:
    """What happens to traces in flight: measured and reported, with the guarantees asserted.

    * Before the kill (decided and exported): in Jaeger, nothing lost.
    * In the killed gateway's tail-sampling buffer (sent, not yet decided): lost with the process;
      the other gateway's share of the same burst is untouched.
    * Sent while it is down: the agents keep its share in their queues and retry; after
      `scripts/backends restart gateway-2` all of it reaches Jaeger, whole, and Prometheus.
    """
    before = invocation_totals(topology)
    old_processes = gateway_processes(topology, "gateway-2")
    # Cold starts: every such trace is kept, so Jaeger shows exactly what was lost.
    in_flight = so.new_flows(["cold_start"] * 60)
    so.send_flows(in_flight, topology.agent(1), topology.agent(2))
    time.sleep(0.3)  # well inside the decision wait: the traces sit in the gateways' buffers
    os.kill(int(topology.exports["GATEWAY_2_PID"]), signal.SIGKILL)
    while_down = so.new_flows(["cold_start"] * 60)
    so.send_flows(while_down, topology.agent(1), topology.agent(2))
    # Long enough for the agents to batch these spans and fail their first export to gateway-2;
    # short on purpose: each agent's gRPC reconnect backoff grows with the outage (1 s, x1.6 per
    # failed attempt), and the restarted gateway gets each agent's half of a trace when that agent
    # reconnects, so a long outage spreads the halves beyond the decision wait (README).
    time.sleep(1)

    restarted = run_backends("restart", "gateway-2", "--state-dir", str(topology.state_dir))
    assert restarted.returncode == 0, restarted.stderr + topology.logs()
    # Whole: the restarted gateway's decision waits for both halves, which the two agents deliver
    # on their own schedules (a retry about every second once their connection is back).
    after = eventually(
        lambda: jaeger_traces(topology, so.PRODUCER_FUNCTION),
        lambda traces: all(
            flow.trace_id in traces and len(traces[flow.trace_id]["spans"]) == so.SPANS_PER_FLOW for flow in while_down
        ),
        90,
        "traces queued in the agents while gateway-2 was down",
    )
    assert all(len(after[flow.trace_id]["spans"]) == so.SPANS_PER_FLOW for flow in while_down)
    spans_of = {flow.trace_id: len(after[flow.trace_id]["spans"]) for flow in in_flight if flow.trace_id in after}
    complete = sum(count == so.SPANS_PER_FLOW for count in spans_of.values())
    partial = len(spans_of) - complete
    lost = len(in_flight) - len(spans_of)
    counted = settled_total(topology, so.PRODUCER_FUNCTION, at_least=before[so.PRODUCER_FUNCTION] + len(while_down))
    counted_in_flight = counted - before[so.PRODUCER_FUNCTION] - len(while_down)
    # The restarted process writes series of its own (a new collector_instance_id), from zero, and
    # nothing was sent after it started: what it counted waited in the agents while it was down.
    by_process = so.prom_values(
        topology.prometheus,
        "sum by (collector_instance_id) (last_over_time(traces_span_metrics_calls_total"
        f'{{instance="gateway-2",service_name="{so.PRODUCER_FUNCTION}",faas_trigger!=""}}[1h]))',
        "collector_instance_id",
    )
    held = sum(count for process, count in by_process.items() if process not in old_processes)
    report = {
        "in_flight_sent": len(in_flight),
        "in_flight_complete": complete,
        "in_flight_partial": partial,
        "in_flight_lost": lost,
        "in_flight_producer_invocations_counted": counted_in_flight,
        "sent_while_down": len(while_down),
        "held_in_agents_while_down": held,
        "delivered_after_restart": len(while_down),
    }
    record_property("gateway_kill", report)
    print(f"\ngateway-2 killed mid-run: {report}")
    # Nothing is duplicated; the survivor's share of the burst (about half, by trace id) is whole.
    assert all(count <= so.SPANS_PER_FLOW for count in spans_of.values()), report
    assert complete >= len(in_flight) * 0.15, report
    # Prometheus: the survivor counted its share; the dead one only what it flushed before dying.
    assert complete <= counted_in_flight <= len(in_flight), report
    # The dead gateway's share of what was sent while it was down waited in the agents.
    assert 0 < held <= len(while_down) + len(in_flight), report


def test_restart_refuses_a_running_process(topology: Topology) -> None:
    result = run_backends("restart", "gateway-1", "--state-dir", str(topology.state_dir))
    assert result.returncode != 0
    assert "still running" in result.stderr
