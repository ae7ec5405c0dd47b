"""C1 and C2: the warm cost of one traced call out — an HTTP GET with requests, a DynamoDB GetItem.

Three fresh processes per round: untraced (the baseline), traced by us
(``otel_serverless.configure()``: every call out covered) and by the upstream stack
(the SDK configured from the same variables, and the botocore, urllib3 and requests
instrumentors, as the OpenTelemetry Lambda layer loads them). Each process warms up,
then times a block of calls inside a parent span (as in an invocation) against a
loopback server that answers every request with ``200 {}`` (an HTTP API, and a
GetItem that found nothing). The figure is the time a traced call adds to the
untraced one, median over rounds; spans go to a batch processor whose exporter
never runs during the block (a long schedule delay).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap

from benchmarks._lambda_env import environment, handler_dir
from benchmarks._report import Result, median, result
from benchmarks.bench_cold_start import _http_api

FULL = {"rounds": 7, "calls": 300, "warmup": 50}
SMOKE = {"rounds": 1, "calls": 5, "warmup": 2}

CHILD = textwrap.dedent(
    """
    import json, os, sys, time

    variant, calls, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    import boto3, requests

    if variant == "ours":
        import otel_serverless

        otel_serverless.configure()
    elif variant == "peer":
        from opentelemetry.sdk._configuration import _OTelSDKConfigurator

        _OTelSDKConfigurator().configure()
        from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
        from opentelemetry.instrumentation.requests import RequestsInstrumentor
        from opentelemetry.instrumentation.urllib3 import URLLib3Instrumentor

        BotocoreInstrumentor().instrument()
        URLLib3Instrumentor().instrument()
        RequestsInstrumentor().instrument()
    from opentelemetry import trace

    url = os.environ["BENCH_HTTP_URL"]
    session = requests.Session()
    dynamodb = boto3.client("dynamodb", endpoint_url=url)
    calls_out = {
        "http": lambda: session.get(url, timeout=5),
        "getitem": lambda: dynamodb.get_item(TableName="t", Key={"id": {"S": "1"}}),
    }
    figures = {}
    tracer = trace.get_tracer("bench")
    for name, call in calls_out.items():
        for _ in range(warmup):
            call()
        with tracer.start_as_current_span("invocation"):
            started = time.perf_counter()
            for _ in range(calls):
                call()
            figures[name] = (time.perf_counter() - started) / calls
    print(json.dumps(figures))
    """
)


def _sample(variant: str, env: dict[str, str], counts: dict[str, int]) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, variant, str(counts["calls"]), str(counts["warmup"])],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{variant} calls out failed: {done.stderr[-2000:]}")
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def run(smoke: bool = False) -> dict[str, Result]:
    counts = SMOKE if smoke else FULL
    added: dict[str, dict[str, list[float]]] = {call: {"ours": [], "peer": []} for call in ("http", "getitem")}
    task_root = handler_dir()
    with _http_api() as url:
        env = {
            **environment(task_root, "http://127.0.0.1:9"),
            "BENCH_HTTP_URL": url,
            "OTEL_BSP_SCHEDULE_DELAY": "600000",  # no export during the block
        }
        for _ in range(counts["rounds"]):
            base = _sample("untraced", env, counts)
            for variant in ("ours", "peer"):
                traced = _sample(variant, env, counts)
                for call in added:
                    added[call][variant].append(traced[call] - base[call])
    shutil.rmtree(task_root, ignore_errors=True)
    notes = f"added per call to an untraced one, median of {counts['rounds']} rounds of {counts['calls']} calls"
    return {
        "C1": result(
            "warm traced HTTP GET (requests) vs the upstream stack",
            median(added["http"]["ours"]) * 1e6,
            median(added["http"]["peer"]) * 1e6,
            "µs",
            "<= 1.1",
            note=notes,
        ),
        "C2": result(
            "warm traced DynamoDB GetItem vs the upstream stack",
            median(added["getitem"]["ours"]) * 1e6,
            median(added["getitem"]["peer"]) * 1e6,
            "µs",
            "<= 1.5",
            note=notes,
        ),
    }
