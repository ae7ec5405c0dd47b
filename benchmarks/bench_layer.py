"""L1–L3: the layer in the AWS Lambda RIE with awslambdaric, against the upstream OpenTelemetry stack.

Three variants of one function (``benchmarks._lambda_env``'s handler: ``import boto3``,
answer), each in its own emulator (``otel_serverless.local.rie``): the runtime's own
packages (awslambdaric, boto3) and nothing else on ``sys.path`` besides the variant's
``/opt``, an OTLP/HTTP loopback receiver in its own process as the collector.

* **bare**: no layer.
* **ours**: the layer ``otel-serverless layer build --from-environment`` writes (OTLP/HTTP
  only), started as ``aws-lambda-rie /opt/otel-serverless-handler python -m awslambdaric``.
* **upstream**: the OpenTelemetry Lambda layer's stack for the same features, built the
  same way from this environment (distro, SDK, OTLP/HTTP exporter, AWS Lambda and botocore
  instrumentations, X-Ray propagator; same bytecode), and started as its ``otel-instrument``
  wrapper does: the handler moved to ``ORIG_HANDLER``, auto-instrumentation initialised
  (distro, configurator and instrumentors from entry points), ``AwsLambdaInstrumentor``
  wrapping the handler. The upstream layer's ``sitecustomize`` cannot run under ``-S``,
  so a small entry module calls the same public ``initialize()``.

L1 is the cold start as a caller sees it: the first Invoke's round trip on a fresh
emulator (runtime process start, imports, init, the first invocation and its flush).
L2 is a warm Invoke's round trip (median per emulator, then across emulators). Variants
alternate, medians of fresh emulators each. The ``-bare`` rows put ours against no
layer at all: what tracing costs, not a contest. L3 is the unpacked size: our default
layer against the upstream set of packages for the same features, with the same library
instrumentations as ours (the published upstream layer carries a few dozen more, for
libraries this comparison leaves out).
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from benchmarks._lambda_env import HANDLER_MODULE, HANDLER_SOURCE
from benchmarks._loopback import ROOT, otlp_receiver
from benchmarks._report import Result, median, result, unavailable

FULL_COLD = 11
FULL_WARM = 40
SMOKE_COLD = 1
SMOKE_WARM = 2
VARIANTS = ("ours", "upstream", "bare")

#: The upstream OpenTelemetry Python Lambda layer's packages for what our layer does.
UPSTREAM = (
    "opentelemetry-distro",  # its configurator sets the SDK up from the OTEL_* variables
    "opentelemetry-sdk",
    "opentelemetry-exporter-otlp-proto-http",
    "opentelemetry-instrumentation",
    "opentelemetry-instrumentation-aws-lambda",
    "opentelemetry-instrumentation-botocore",
    "opentelemetry-propagator-aws-xray",
)
UPSTREAM_WRAPPER = "otel-instrument"
UPSTREAM_ENTRY = "upstream_entry"

#: Upstream's exec wrapper, as its layer's otel-instrument script does it (handler moved aside).
WRAPPER_SOURCE = textwrap.dedent(
    """\
    #!/bin/sh
    export ORIG_HANDLER="$_HANDLER"
    export _HANDLER="upstream_entry.handler"
    count=$#
    index=0
    for arg do
        index=$((index + 1))
        shift
        if [ "$index" -eq "$count" ] && [ "$arg" = "$ORIG_HANDLER" ]; then arg="$_HANDLER"; fi
        set -- "$@" "$arg"
    done
    exec "$@"
    """
)

#: What upstream's sitecustomize and handler wrapper module do, written for -S.
ENTRY_SOURCE = textwrap.dedent(
    """\
    import importlib
    import os

    from opentelemetry.instrumentation.auto_instrumentation import initialize

    initialize()

    from opentelemetry.instrumentation.aws_lambda import AwsLambdaInstrumentor

    AwsLambdaInstrumentor().instrument()
    _module, _name = os.environ["ORIG_HANDLER"].rsplit(".", 1)
    handler = getattr(importlib.import_module(_module.replace("/", ".")), _name)
    """
)


def _rie() -> Path:
    backends = [sys.executable, str(ROOT / "scripts" / "backends")]
    built = subprocess.run([*backends, "build"], capture_output=True, text=True, check=False, timeout=1800)
    if built.returncode != 0:
        raise RuntimeError(f"scripts/backends build failed: {built.stderr.strip().splitlines()[-1:]}")
    paths = subprocess.run([*backends, "paths"], capture_output=True, text=True, check=False)
    found = dict(line.split("=", 1) for line in paths.stdout.splitlines() if "=" in line)
    return Path(found["RIE_BIN"])


def _local() -> tuple[str, str]:
    arch = "arm64" if platform.machine().lower() in ("aarch64", "arm64") else "x86_64"
    return f"{sys.version_info.major}.{sys.version_info.minor}", arch


def _size(root: Path) -> int:
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file())


def _instrumentations(site: Path) -> list[str]:
    """The library instrumentations a layer carries (the upstream set gets the same ones)."""
    infos = site.glob("opentelemetry_instrumentation_*.dist-info")
    return sorted(info.name.removesuffix(".dist-info").rsplit("-", 1)[0] for info in infos)


def _upstream_opt(opt: Path, instrumentations: list[str]) -> Path:
    from otel_serverless.layer import _compile, _drop_bytecode, copy_distributions

    site = opt / "python"
    site.mkdir(parents=True)
    copy_distributions([*UPSTREAM, *instrumentations], site)
    _drop_bytecode(site)
    (site / f"{UPSTREAM_ENTRY}.py").write_text(ENTRY_SOURCE)
    _compile(site)  # as our layer: unchecked-hash bytecode for this interpreter
    wrapper = opt / UPSTREAM_WRAPPER
    wrapper.write_text(WRAPPER_SOURCE)
    wrapper.chmod(0o755)
    return opt


def _prepare(scratch: Path) -> dict[str, Any]:
    from otel_serverless.layer import build_layer
    from otel_serverless.local.rie import copy_runtime, unpack_layer

    python, arch = _local()
    layer = build_layer(python, arch, scratch / "layer.zip", from_environment=True)
    task = scratch / "task"
    task.mkdir()
    (task / f"{HANDLER_MODULE}.py").write_text(HANDLER_SOURCE)
    ours = unpack_layer(layer, scratch / "opt-ours")
    return {
        "task": task,
        "runtime": copy_runtime(scratch / "runtime"),
        "ours": ours,
        "upstream": _upstream_opt(scratch / "opt-upstream", _instrumentations(ours / "python")),
        "layer_zip": layer,
    }


def _environment(endpoint: str) -> dict[str, str]:
    return {
        "OTEL_SERVICE_NAME": "bench-fn",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        # The SDK would otherwise also set up metrics and logs exporters for the peer.
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_PROPAGATORS": "tracecontext,baggage",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_LAMBDA_FUNCTION_TIMEOUT": "30",
    }


def _sample(rie: Path, setup: dict[str, Any], variant: str, env: dict[str, str], warm: int) -> tuple[float, float]:
    """One fresh emulator: (cold round trip, median warm round trip), in seconds."""
    from otel_serverless.local.rie import Function

    opt = None if variant == "bare" else setup[variant]
    wrapper = UPSTREAM_WRAPPER if variant == "upstream" else "otel-serverless-handler"
    function = Function(
        rie, setup["task"], setup["runtime"], handler=f"{HANDLER_MODULE}.handler", opt=opt, wrapper=wrapper, env=env
    )
    event = {"path": "/bench", "headers": {}}
    try:
        function.start()
        cold = function.invoke(event)
        warms = [function.invoke(event) for _ in range(warm)]
        for response in (cold, *warms):
            if response.status != 200 or b"errorType" in response.body:
                raise RuntimeError(f"{variant}: {response.body[:300]!r}\n{function.log()[-2000:]}")
        return cold.seconds, median([response.seconds for response in warms])
    finally:
        function.close()


def run(smoke: bool = False) -> dict[str, Result]:
    try:
        rie = _rie()
    except (RuntimeError, OSError, KeyError, subprocess.SubprocessError) as error:
        reason = f"the Lambda RIE is not built ({error})"
        return {key: unavailable(key, "<= 1.0", reason) for key in ("L1", "L2", "L3")}
    scratch = Path(tempfile.mkdtemp(prefix="otel-serverless-bench-layer-"))
    try:
        setup = _prepare(scratch)
        cold: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
        warm: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
        rounds, count = (SMOKE_COLD, SMOKE_WARM) if smoke else (FULL_COLD, FULL_WARM)
        with otlp_receiver() as endpoint:
            env = _environment(endpoint)
            for _ in range(rounds):
                for variant in VARIANTS:  # alternating: drift hits every variant alike
                    first, rest = _sample(rie, setup, variant, env, count)
                    cold[variant].append(first)
                    warm[variant].append(rest)
        sizes = {"ours": _size(setup["ours"] / "python"), "upstream": _size(setup["upstream"] / "python")}
        zipped = os.path.getsize(setup["layer_zip"])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    ms = {variant: median(found) * 1000 for variant, found in cold.items()}
    warm_ms = {variant: median(found) * 1000 for variant, found in warm.items()}
    note = f"median of {rounds} fresh emulators each"
    return {
        "L1": result("RIE cold start: init + first invocation", ms["ours"], ms["upstream"], "ms", "<= 1.0", note=note),
        "L1-bare": _informational(result("  the same, ours against no layer", ms["ours"], ms["bare"], "ms", "<= 1.0")),
        "L2": result(
            "RIE warm invocation (round trip)",
            warm_ms["ours"],
            warm_ms["upstream"],
            "ms",
            "<= 1.0",
            note=f"{note}, {count} warm invocations each",
        ),
        "L2-bare": _informational(
            result("  the same, ours against no layer", warm_ms["ours"], warm_ms["bare"], "ms", "<= 1.0")
        ),
        "L3": result(
            "layer unpacked, against upstream's packages",
            sizes["ours"] / 1e6,
            sizes["upstream"] / 1e6,
            "MB",
            "<= 1.0",
            note=f"our zip {zipped / 1e6:.1f} MB; OTLP/HTTP only",
        ),
    }


def _informational(item: Result) -> Result:
    """A ratio to show, not a target: what tracing adds to a function without any."""
    return {**item, "target": None, "pass": None}
