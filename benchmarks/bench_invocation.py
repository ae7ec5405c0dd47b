"""G5: warm invocation overhead, ours against the upstream stack.

The handler sends one SQS message (to ``moto_server`` on 127.0.0.1) and, traced,
flushes its spans to a loopback OTLP receiver before returning, as a Lambda
handler must before the freeze. Three long-lived processes invoke it warm:
untraced (the baseline), traced by us (``otel_serverless.configure()`` +
``@traced``), traced by the upstream stack (SDK + botocore instrumentation +
``AwsLambdaInstrumentor``, which force-flushes after each invocation). Rounds
alternate between them; each side's added time is its median invocation minus
the baseline's median.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from typing import Any

from benchmarks._lambda_env import EVENT, LambdaContext, environment, handler_dir
from benchmarks._loopback import ROOT, moto, otlp_receiver
from benchmarks._report import Result, median, result, unavailable

WHAT = "warm invocation overhead: handler sends one SQS message, flushes to loopback OTLP"
TARGET = "<= 0.5"
VARIANTS = ("baseline", "ours", "peer")


def _handler(variant: str) -> Any:
    import bench_handler  # type: ignore[import-not-found]  # the generated user module

    if variant == "ours":
        import otel_serverless
        from otel_serverless.aws_lambda import traced

        otel_serverless.configure()
        return traced(bench_handler.handler)
    if variant == "peer":
        from opentelemetry.instrumentation.aws_lambda import AwsLambdaInstrumentor
        from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
        from opentelemetry.sdk._configuration import _OTelSDKConfigurator

        _OTelSDKConfigurator().configure()  # type: ignore[no-untyped-call]  # untyped upstream
        BotocoreInstrumentor().instrument()  # type: ignore[no-untyped-call]  # untyped upstream
        AwsLambdaInstrumentor().instrument()
    return bench_handler.handler


def child(variant: str) -> None:
    """Serve timing requests on stdin: a count in, a JSON list of seconds out."""
    try:
        handler = _handler(variant)
        handler(dict(EVENT), LambdaContext())  # the cold invocation is not a warm one
    except Exception as error:  # reported to the parent, which reports "not available"
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}), flush=True)
        return
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        timings = []
        for _ in range(int(line)):
            event, context = dict(EVENT), LambdaContext()
            started = time.perf_counter()
            handler(event, context)
            timings.append(time.perf_counter() - started)
        print(json.dumps(timings), flush=True)


class _Worker:
    def __init__(self, variant: str, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.bench_invocation", variant],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        hello = json.loads(self._line())
        self.error: str | None = hello.get("error")

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("benchmark worker exited")
        return line

    def invoke(self, count: int) -> list[float]:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{count}\n")
        self.process.stdin.flush()
        timings: list[float] = json.loads(self._line())
        return timings

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _traced_available() -> str | None:
    try:
        from otel_serverless.aws_lambda import traced  # noqa: F401
    except Exception as error:
        return f"otel_serverless.aws_lambda.traced ({type(error).__name__})"
    return None


def run(smoke: bool = False) -> dict[str, Result]:
    missing = _traced_available()
    if missing:
        return {"G5": unavailable(WHAT, TARGET, missing)}
    per_round, rounds = (3, 2) if smoke else (25, 12)
    task_root = handler_dir()
    workers: dict[str, _Worker] = {}
    try:
        with moto() as aws, otlp_receiver() as otlp:
            import boto3

            sqs = boto3.client(
                "sqs",
                endpoint_url=aws,
                region_name="us-east-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",  # noqa: S106  # moto's fake credentials
            )
            queue = sqs.create_queue(QueueName="bench-orders")["QueueUrl"]
            env = environment(task_root, otlp, aws)
            env["BENCH_QUEUE_URL"] = queue
            for variant in VARIANTS:
                workers[variant] = _Worker(variant, env)
                if workers[variant].error:
                    return {"G5": unavailable(WHAT, TARGET, f"{variant}: {workers[variant].error}")}
            timings: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
            for _ in range(rounds):
                for variant in VARIANTS:
                    timings[variant] += workers[variant].invoke(per_round)
    finally:
        for worker in workers.values():
            worker.close()
        shutil.rmtree(task_root, ignore_errors=True)
    base = median(timings["baseline"])
    ours = (median(timings["ours"]) - base) * 1000
    peer = (median(timings["peer"]) - base) * 1000
    return {
        "G5": result(
            WHAT,
            ours,
            peer,
            "ms added",
            TARGET,
            note=f"untraced median {base * 1000:.2f} ms; {len(timings['ours'])} warm invocations each",
        )
    }


if __name__ == "__main__":
    os.environ.setdefault("OTEL_SERVERLESS_LOG_LEVEL", "error")
    child(sys.argv[1])
