"""Lambda handler wrapper, side by side with ``opentelemetry-instrumentation-aws-lambda``.

* ``lambda_warm_http`` / ``lambda_warm_sqs10``: warm invocation overhead of the
  wrapper alone — a handler that does nothing, spans handed to an exporter that
  drops them, the end-of-invocation flush included — for an API Gateway v2 event
  and a 10-record SQS batch. Ours runs the full serverless processor chain
  (cold start, retries, memory, cost, scrubbing), the timeout watchdog and the
  in-flight marker; the peer creates its span and force-flushes. Added time =
  median traced invocation − median bare call, in microseconds.
* ``lambda_cold_setup``: import + setup of the wrapper in a fresh interpreter
  (``import otel_serverless.aws_lambda`` + ``configure()`` + ``traced``, against
  SDK configuration + ``AwsLambdaInstrumentor().instrument()``), in milliseconds.

Not timed tests: figures, printed as ratios (ours / peer). G5 (``bench_invocation``)
measures the whole stack with a real AWS call and OTLP export.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "tests" / "events"
WARM_TARGET = "<= 1.0"  # per invocation we must not be slower than upstream
COLD_TARGET = "<= 1.5"


class _Context:
    aws_request_id = "bench"
    function_name = "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    memory_limit_in_mb = "512"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "stream"
    client_context = None
    identity = None

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def _result(what: str, ours: float, peer: float, unit: str, target: str) -> dict[str, Any]:
    try:
        from benchmarks._report import result

        found: dict[str, Any] = result(what, ours, peer, unit, target)
        return found
    except ImportError:  # run on its own, without the runner's package
        return {"what": what, "ours": ours, "peer": peer, "unit": unit, "ratio": ours / peer if peer else None}


def _null_provider() -> Any:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

    class Drop(SpanExporter):
        def export(self, spans: Sequence[Any]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    return provider, SimpleSpanProcessor(Drop())


def _time(call: Callable[[], Any], rounds: int, batch: int) -> float:
    """Median microseconds per call over *rounds* batches of *batch* calls."""
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(batch):
            call()
        samples.append((time.perf_counter() - started) / batch * 1e6)
    return statistics.median(samples)


def _peer_handler(directory: Path, provider: Any) -> Any:
    """The upstream instrumentor wraps ``_HANDLER`` (module.function) in place."""
    (directory / "bench_peer_handler.py").write_text("def handler(event, context):\n    return {'statusCode': 200}\n")
    sys.path.insert(0, str(directory))
    os.environ["_HANDLER"] = "bench_peer_handler.handler"
    os.environ.setdefault("AWS_LAMBDA_FUNCTION_NAME", "bench")  # the instrumentor does nothing otherwise
    from opentelemetry.instrumentation.aws_lambda import AwsLambdaInstrumentor

    AwsLambdaInstrumentor().instrument(tracer_provider=provider)
    import bench_peer_handler  # type: ignore[import-not-found]  # written just above

    return bench_peer_handler


def warm(smoke: bool) -> dict[str, dict[str, Any]]:
    from otel_serverless.aws_lambda import traced
    from otel_serverless.processors import export_chain, install

    rounds, batch = (3, 20) if smoke else (15, 400)
    state = tempfile.mkdtemp(prefix="otel-serverless-bench-state-")
    os.environ["OTEL_SERVERLESS_STATE_DIR"] = state

    ours_provider, leaf = _null_provider()
    install(ours_provider)
    ours_provider.add_span_processor(export_chain(leaf))
    peer_provider, peer_leaf = _null_provider()
    peer_provider.add_span_processor(peer_leaf)
    module = _peer_handler(Path(state), peer_provider)

    def bare(event: Any, context: Any) -> dict[str, int]:
        return {"statusCode": 200}

    ours = traced(bare, tracer_provider=ours_provider)
    context = _Context()
    found: dict[str, dict[str, Any]] = {}
    for key, name, what in (
        ("lambda_warm_http", "apiGatewayProxyV2Event", "wrapper overhead, API Gateway v2 event"),
        ("lambda_warm_sqs10", "sqsEvent", "wrapper overhead, 10-record SQS batch"),
    ):
        event = json.loads((EVENTS / f"{name}.json").read_text())
        if name == "sqsEvent":
            event["Records"] = [dict(event["Records"][i % 2], messageId=f"m-{i}") for i in range(10)]
        ours(event, context)  # the cold start is not what this measures
        module.handler(event, context)
        base = _time(lambda event=event: bare(event, context), rounds, batch)  # type: ignore[misc]
        mine = _time(lambda event=event: ours(event, context), rounds, batch)  # type: ignore[misc]
        theirs = _time(lambda event=event: module.handler(event, context), rounds, batch)  # type: ignore[misc]
        found[key] = _result(what, max(mine - base, 0.01), max(theirs - base, 0.01), "µs", WARM_TARGET)
    return found


_COLD_OURS = textwrap.dedent(
    """
    import time
    started = time.perf_counter()
    import otel_serverless
    otel_serverless.configure(instrument=False)
    from otel_serverless.aws_lambda import traced
    traced(lambda event, context: None)
    print((time.perf_counter() - started) * 1000)
    """
)
_COLD_PEER = textwrap.dedent(
    """
    import os, sys, time
    sys.path.insert(0, os.environ["BENCH_DIR"])
    started = time.perf_counter()
    from opentelemetry.sdk._configuration import _OTelSDKConfigurator
    _OTelSDKConfigurator().configure()
    from opentelemetry.instrumentation.aws_lambda import AwsLambdaInstrumentor
    AwsLambdaInstrumentor().instrument()
    print((time.perf_counter() - started) * 1000)
    """
)


def cold(smoke: bool) -> dict[str, dict[str, Any]]:
    runs = 2 if smoke else 9
    directory = Path(tempfile.mkdtemp(prefix="otel-serverless-bench-cold-"))
    (directory / "bench_cold_handler.py").write_text("def handler(event, context):\n    return 1\n")
    env = {
        **os.environ,
        "BENCH_DIR": str(directory),
        "_HANDLER": "bench_cold_handler.handler",
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_SERVERLESS_STATE_DIR": str(directory),
    }
    samples: dict[str, list[float]] = {"ours": [], "peer": []}
    for _ in range(runs):
        for side, script in (("ours", _COLD_OURS), ("peer", _COLD_PEER)):
            done = subprocess.run(
                [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True, timeout=120
            )
            samples[side].append(float(done.stdout.strip().splitlines()[-1]))
    return {
        "lambda_cold_setup": _result(
            "cold import + setup of the handler wrapper",
            statistics.median(samples["ours"]),
            statistics.median(samples["peer"]),
            "ms",
            COLD_TARGET,
        )
    }


def run(smoke: bool) -> dict[str, dict[str, Any]]:
    return {**warm(smoke), **cold(smoke)}


if __name__ == "__main__":
    print(json.dumps(run("--smoke" in sys.argv), indent=2))
