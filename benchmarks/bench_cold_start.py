"""G1 and G2: what tracing adds to a cold start, after the handler's own imports.

Each sample is a fresh interpreter in a Lambda-like environment that imports the
user's handler module (a cold start's fixed part: boto3, and for the ``-http`` rows
requests and httpx too), then sets up tracing, timing that and reading the resident
memory (RSS) before and after. Ours: ``otel_serverless.configure()`` (which covers
every call out: botocore, urllib, urllib3, requests, httpx, aiohttp) and
``traced(handler)``. The peer, as the OpenTelemetry Lambda layer sets it up with the
same instrumentations: the SDK configured from the same variables (OTLP/HTTP exporter,
batch processor), the botocore, urllib and urllib3 instrumentors (and requests and
httpx for a handler that imports them: the layer loads an instrumentor when its
library is installed) and ``AwsLambdaInstrumentor`` wrapping ``_HANDLER``. The layer
finds these through entry-point auto-discovery, which costs more; here they are
called directly, which favours the peer. Processes alternate ours / peer; figures
are medians.

Ours loads an upstream instrumentor at its library's first call, not at setup, so
the ``-first-calls`` row measures setup *and* the first requests, httpx and
DynamoDB GetItem call (to a loopback server), where that cost lands; the peer does
the same calls.

Both sides load compiled bytecode, as in a Lambda package built by pip: the
installed peer has it, and our package is compiled first (an editable install
run with ``PYTHONDONTWRITEBYTECODE`` would otherwise recompile it every time).
"""

from __future__ import annotations

import compileall
import json
import shutil
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

from benchmarks._lambda_env import environment, handler_dir
from benchmarks._report import Result, median, result

FULL_SAMPLES = 21
SMOKE_SAMPLES = 1  # three rows of fresh processes: one each is enough to prove they run

#: A handler that calls out over HTTP too: what the ``-http`` rows import.
HTTP_HANDLER_SOURCE = textwrap.dedent(
    '''
    """The user's handler: an HTTP API with requests and httpx, and DynamoDB."""
    import os

    import boto3
    import httpx
    import requests


    def handler(event, context):
        url = os.environ["BENCH_HTTP_URL"]
        requests.get(url, timeout=5)
        httpx.get(url)
        boto3.client("dynamodb", endpoint_url=url).get_item(TableName="t", Key={"id": {"S": "1"}})
        return {"statusCode": 200, "body": "ok"}
    '''
)

CHILD = textwrap.dedent(
    """
    import json, os, sys, time

    def rss():
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    variant, module_name, first_calls = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
    import boto3
    handler_module = __import__(module_name)

    before_rss = rss()
    started = time.perf_counter()
    if variant == "ours":
        import otel_serverless

        otel_serverless.configure()
        try:
            from otel_serverless.aws_lambda import traced
        except ImportError:
            traced = None
        handler = traced(handler_module.handler) if traced else handler_module.handler
    else:
        from opentelemetry.sdk._configuration import _OTelSDKConfigurator

        _OTelSDKConfigurator().configure()
        from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
        from opentelemetry.instrumentation.urllib import URLLibInstrumentor
        from opentelemetry.instrumentation.urllib3 import URLLib3Instrumentor

        BotocoreInstrumentor().instrument()
        URLLibInstrumentor().instrument()
        URLLib3Instrumentor().instrument()
        if "requests" in sys.modules:
            from opentelemetry.instrumentation.requests import RequestsInstrumentor

            RequestsInstrumentor().instrument()
        if "httpx" in sys.modules:
            from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

            HTTPXClientInstrumentor().instrument()
        from opentelemetry.instrumentation.aws_lambda import AwsLambdaInstrumentor

        AwsLambdaInstrumentor().instrument()
        handler = handler_module.handler
    if first_calls:
        # The handler's calls, each the first of its library in this process (no invocation span:
        # that is the wrapper's cost, measured by lambda_cold_setup; here only the calls out).
        handler_module.handler({}, None)
    elapsed = time.perf_counter() - started
    added_rss = rss() - before_rss
    print(json.dumps({"seconds": elapsed, "rss": added_rss, "modules": len(sys.modules)}))
    """
)


class _Answer(BaseHTTPRequestHandler):
    """200 with an empty JSON object: an HTTP API, and a DynamoDB GetItem that found nothing."""

    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as two writes: without this, Nagle holds the body until the
        # client's delayed ACK (40 ms) of the headers, in every call.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        return


@contextmanager
def _http_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    server.daemon_threads = True
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def sample(variant: str, module: str, first_calls: bool, env: dict[str, str]) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, variant, module, "1" if first_calls else "0"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{variant} cold start failed: {done.stderr[-2000:]}")
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def compile_ours(task_root: Path) -> None:
    import otel_serverless

    for directory in (Path(otel_serverless.__file__).parent, task_root):
        compileall.compile_dir(str(directory), quiet=1)


#: Row id → (handler module, make the first calls too).
ROWS = {
    "G1": ("bench_handler", False),
    "G1-http": ("bench_http_handler", False),
    "G1-first-calls": ("bench_http_handler", True),
}


def run(smoke: bool = False) -> dict[str, Result]:
    task_root = handler_dir()
    (task_root / "bench_http_handler.py").write_text(HTTP_HANDLER_SOURCE, encoding="utf-8")
    compile_ours(task_root)
    samples: dict[str, dict[str, list[dict[str, float]]]] = {row: {"ours": [], "peer": []} for row in ROWS}
    try:
        with _http_api() as url:
            # The endpoint is never contacted during setup; spans of the first calls stay queued.
            env = {**environment(task_root, "http://127.0.0.1:9"), "BENCH_HTTP_URL": url}
            for _ in range(SMOKE_SAMPLES if smoke else FULL_SAMPLES):
                for row, (module, first_calls) in ROWS.items():
                    for variant in ("ours", "peer"):  # alternating: drift hits both alike
                        samples[row][variant].append(sample(variant, module, first_calls, env))
    finally:
        shutil.rmtree(task_root, ignore_errors=True)
    results: dict[str, Result] = {}
    for row in ROWS:
        found = samples[row]
        ms = {variant: median([s["seconds"] for s in runs]) * 1000 for variant, runs in found.items()}
        mib = {variant: median([s["rss"] for s in runs]) / 2**20 for variant, runs in found.items()}
        note = f"median of {len(found['ours'])} fresh processes each"
        what = {
            "G1": "import + setup added to a cold start, after import boto3",
            "G1-http": "the same, for a handler that imports boto3, requests and httpx",
            "G1-first-calls": "that setup and the handler's first requests, httpx and GetItem calls",
        }[row]
        # The first calls are where ours loads what the peer loads at setup: the line is the peer's total.
        first = row == "G1-first-calls"
        results[row] = result(what, ms["ours"], ms["peer"], "ms", "<= 1.0" if first else "<= 0.25", note=note)
        memory = "G2" + row.removeprefix("G1")
        results[memory] = result(
            "memory (RSS) added by that", mib["ours"], mib["peer"], "MiB", "<= 1.0" if first else "<= 0.4", note=note
        )
    return results
