"""G1 and G2: what tracing adds to a cold start, after ``import boto3``.

Each sample is a fresh interpreter in a Lambda-like environment that imports
boto3 and the user's handler module (a cold start's fixed part), then sets up
tracing, timing that and reading the resident memory (RSS) before and after.
Ours: ``otel_serverless.configure()`` and ``traced(handler)``. The peer, as the
OpenTelemetry Lambda layer sets it up: the SDK configured from the same
variables (OTLP/HTTP exporter, batch processor), botocore instrumentation and
``AwsLambdaInstrumentor`` wrapping ``_HANDLER``. The layer finds these through
entry-point auto-discovery, which costs more; here they are called directly,
which favours the peer. Processes alternate ours / peer; figures are medians.

Both sides load compiled bytecode, as in a Lambda package built by pip: the
installed peer has it, and our package is compiled first (an editable install
run with ``PYTHONDONTWRITEBYTECODE`` would otherwise recompile it every time).
"""

from __future__ import annotations

import compileall
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from benchmarks._lambda_env import environment, handler_dir
from benchmarks._report import Result, median, result

FULL_SAMPLES = 21
SMOKE_SAMPLES = 2

CHILD = textwrap.dedent(
    """
    import json, os, sys, time

    def rss():
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    import boto3
    import bench_handler

    before_rss = rss()
    started = time.perf_counter()
    if sys.argv[1] == "ours":
        import otel_serverless

        otel_serverless.configure()
        try:
            from otel_serverless.aws_lambda import traced
        except ImportError:
            traced = None
        handler = traced(bench_handler.handler) if traced else bench_handler.handler
    else:
        from opentelemetry.sdk._configuration import _OTelSDKConfigurator

        _OTelSDKConfigurator().configure()
        from opentelemetry.instrumentation.botocore import BotocoreInstrumentor

        BotocoreInstrumentor().instrument()
        from opentelemetry.instrumentation.aws_lambda import AwsLambdaInstrumentor

        AwsLambdaInstrumentor().instrument()
        handler = bench_handler.handler
    elapsed = time.perf_counter() - started
    added_rss = rss() - before_rss
    print(json.dumps({"seconds": elapsed, "rss": added_rss, "modules": len(sys.modules)}))
    """
)


def sample(variant: str, env: dict[str, str]) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, variant], env=env, capture_output=True, text=True, check=False, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(f"{variant} cold start failed: {done.stderr[-2000:]}")
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def compile_ours(task_root: Path) -> None:
    import otel_serverless

    for directory in (Path(otel_serverless.__file__).parent, task_root):
        compileall.compile_dir(str(directory), quiet=1)


def run(smoke: bool = False) -> dict[str, Result]:
    task_root = handler_dir()
    compile_ours(task_root)
    try:
        # The endpoint is never contacted: no span is made during setup.
        env = environment(task_root, "http://127.0.0.1:9")
        samples: dict[str, list[dict[str, float]]] = {"ours": [], "peer": []}
        for _ in range(SMOKE_SAMPLES if smoke else FULL_SAMPLES):
            for variant in ("ours", "peer"):  # alternating: drift hits both alike
                samples[variant].append(sample(variant, env))
    finally:
        shutil.rmtree(task_root, ignore_errors=True)
    ms = {variant: median([s["seconds"] for s in found]) * 1000 for variant, found in samples.items()}
    mib = {variant: median([s["rss"] for s in found]) / 2**20 for variant, found in samples.items()}
    count = len(samples["ours"])
    return {
        "G1": result(
            "import + setup added to a cold start, after import boto3",
            ms["ours"],
            ms["peer"],
            "ms",
            "<= 0.25",
            note=f"median of {count} fresh processes each",
        ),
        "G2": result(
            "memory (RSS) added by that",
            mib["ours"],
            mib["peer"],
            "MiB",
            "<= 0.4",
            note=f"median of {count} fresh processes each",
        ),
    }
