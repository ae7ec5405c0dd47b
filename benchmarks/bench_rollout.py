"""R1, R2: ``rollout instrument`` over 1,000 functions in moto, against the loop a team would write.

The fleet is the test suite's mix (``tests/rollout/fleet.py``: Python 3.11–3.13 on both
architectures, other layers, variables, and the functions that must be skipped —
Node, Java, Python 3.9, container images, a foreign exec wrapper, 5 layers, a full
environment, 50 tags), scaled to 1,000. Every call goes through the test suite's
loopback proxy, which pages ``ListFunctions`` 50 at a time as Lambda does (moto
answers in one page); its emulation of Lambda's revision check is off here.

Ours: ``Rollout.instrument`` as the command runs it (4 workers, adaptive retries),
which checks each function, records what it replaces (tags) and skips the unsafe.
The peer: a plain boto3 loop over the paginator that, for each function we
instrument, reads its configuration and updates layers and variables (no checks, no
record, one at a time) — what a script without the command would do. R1 is wall
time per function instrumented, R2 API calls per function instrumented; the note
gives the idempotent rerun and ``uninstrument``. R1-rtt repeats R1 with 20 ms added to
every call by the proxy: against moto on loopback a call costs a few milliseconds of
CPU, against the real API mostly waiting, which the workers overlap.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks._loopback import moto
from benchmarks._report import Result, result

FUNCTIONS = 1000
SMOKE_FUNCTIONS = 40
ENDPOINT = "http://collector.internal:4318"
#: Added to every call for R1-rtt: Lambda's control plane answers in tens of milliseconds.
ROUND_TRIP = 0.02


def _kinds(total: int) -> tuple[Any, ...]:
    from dataclasses import replace

    from tests.rollout import fleet

    base = sum(kind.count for kind in fleet.KINDS)
    kinds = [replace(kind, count=max(1, kind.count * total // base)) for kind in fleet.KINDS]
    short = total - sum(kind.count for kind in kinds)
    kinds[0] = replace(kinds[0], count=kinds[0].count + short)  # the rest are plain Python 3.12
    return tuple(kinds)


def _deploy(endpoint: str, total: int) -> tuple[Any, list[str]]:
    import boto3

    from tests.rollout import fleet
    from tests.rollout.conftest import publish_ours

    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=30).close()
    lam = boto3.client("lambda", endpoint_url=endpoint)
    kinds = _kinds(total)
    fleet.deploy(lam, boto3.client("iam", endpoint_url=endpoint), kinds)
    publish_ours(lam, Path(tempfile.mkdtemp(prefix="bench-rollout-")))
    wanted = [fleet.function_name(kind, i) for kind in kinds if kind.skip is None for i in range(kind.count)]
    return lam, wanted


def _ours() -> tuple[Any, Any]:
    """The rollout as the command builds it (the client reads AWS_ENDPOINT_URL: the proxy)."""
    from otel_serverless.rollout import _aws
    from otel_serverless.rollout._layers import Resolver
    from otel_serverless.rollout._run import Rollout
    from otel_serverless.rollout._select import Selector

    calls = _aws.Calls()
    client = _aws.client("us-east-1", 10, calls, 4)
    return Rollout(client, calls, Selector(all=True), Resolver(client), concurrency=4), calls


def _timed(action: Any, calls: Any) -> tuple[Any, float, int]:
    calls.operations.clear()
    calls.attempts.clear()
    started = time.perf_counter()
    report = action()
    return report, time.perf_counter() - started, calls.total


def _peer(proxy_endpoint: str, wanted: list[str], layers: dict[tuple[str, str], str]) -> tuple[float, int]:
    import boto3

    lam = boto3.client("lambda", endpoint_url=proxy_endpoint, region_name="us-east-1")
    count = 0

    def counted(**_: Any) -> None:
        nonlocal count
        count += 1

    lam.meta.events.register("before-call.lambda", counted)
    todo = set(wanted)
    started = time.perf_counter()
    for page in lam.get_paginator("list_functions").paginate():
        for listed in page["Functions"]:
            if listed["FunctionName"] not in todo:
                continue
            config = lam.get_function_configuration(FunctionName=listed["FunctionName"])
            runtime = config["Runtime"].removeprefix("python")
            layer = layers[runtime, config["Architectures"][0]]
            env = config.get("Environment", {}).get("Variables", {})
            lam.update_function_configuration(
                FunctionName=config["FunctionName"],
                Layers=[item["Arn"] for item in config.get("Layers", [])] + [layer],
                Environment={
                    "Variables": {
                        **env,
                        "AWS_LAMBDA_EXEC_WRAPPER": "/opt/otel-serverless-handler",
                        "OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT,
                        "OTEL_SERVICE_NAME": config["FunctionName"],
                    }
                },
            )
    return time.perf_counter() - started, count


def _pair(endpoint: str, proxy: Any, total: int) -> dict[str, Any]:
    """The loop, then ours, each on a fresh fleet through *proxy*; ours again (rerun), then uninstrument."""
    from otel_serverless.rollout._plan import Desired
    from otel_serverless.rollout._run import INSTRUMENTED
    from tests.rollout import fleet

    lam, wanted = _deploy(endpoint, total)
    layers = {
        (python, arch): lam.list_layer_versions(LayerName=f"otel-serverless-python{python.replace('.', '')}-{arch}")[
            "LayerVersions"
        ][0]["LayerVersionArn"]
        for python, arch in fleet.OUR_LAYERS
    }
    peer_seconds, peer_calls = _peer(proxy.endpoint, wanted, layers)
    lam, wanted = _deploy(endpoint, total)
    rollout, counted = _ours()
    desired = Desired(endpoint=ENDPOINT)
    report, seconds, calls = _timed(lambda: rollout.instrument(desired), counted)
    done = sum(1 for outcome in report.outcomes if outcome.status == INSTRUMENTED)
    if done != len(wanted):
        raise RuntimeError(f"ours instrumented {done} of {len(wanted)} instrumentable functions")
    again, rerun_seconds, rerun_calls = _timed(lambda: rollout.instrument(desired), counted)
    if any(outcome.status == INSTRUMENTED for outcome in again.outcomes):
        raise RuntimeError("the second instrument changed a function")
    _, undo_seconds, undo_calls = _timed(rollout.uninstrument, counted)
    return {
        "done": done,
        "seconds": seconds,
        "calls": calls,
        "peer_seconds": peer_seconds,
        "peer_calls": peer_calls,
        "rerun_seconds": rerun_seconds,
        "rerun_calls": rerun_calls,
        "undo_seconds": undo_seconds,
        "undo_calls": undo_calls,
    }


def _note(total: int, figures: dict[str, Any]) -> str:
    return (
        f"{total} functions, {figures['done']} instrumented, {total - figures['done']} skipped with reasons; "
        f"ours {figures['seconds']:.1f} s / {figures['calls']} calls, the loop {figures['peer_seconds']:.1f} s / "
        f"{figures['peer_calls']} calls; rerun (idempotent) {figures['rerun_seconds']:.1f} s / "
        f"{figures['rerun_calls']} calls; uninstrument {figures['undo_seconds']:.1f} s / {figures['undo_calls']} calls"
    )


def run(smoke: bool) -> dict[str, Result]:
    from tests.rollout.lambda_proxy import running

    total = SMOKE_FUNCTIONS if smoke else FUNCTIONS
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",  # moto's; never a real credential
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_CONFIG_FILE": os.devnull,
        }
    )
    # Without the proxy's emulated revision check: Lambda does it server-side; here it would cost
    # ours (which sends RevisionId) an extra call to moto that the loop never pays.
    with moto() as endpoint, running(endpoint, revisions=False) as proxy:
        os.environ["AWS_ENDPOINT_URL"] = proxy.endpoint
        local = _pair(endpoint, proxy, total)
        # The same with a round trip like the real API's added to every call.
        proxy.delay = ROUND_TRIP
        remote = _pair(endpoint, proxy, total)
    done = local["done"]
    return {
        "R1": result(
            f"rollout instrument over {total} moto functions, wall time per function instrumented",
            1000 * local["seconds"] / done,
            1000 * local["peer_seconds"] / done,
            "ms",
            "<= 1.5",
            note=_note(total, local),
        ),
        "R1-rtt": result(
            f"  the same with {ROUND_TRIP * 1000:.0f} ms added to every call (a real API's round trip)",
            1000 * remote["seconds"] / done,
            1000 * remote["peer_seconds"] / done,
            "ms",
            "<= 1.0",
            note=_note(total, remote),
        ),
        "R2": result(
            "rollout instrument: API calls per function instrumented (listing included)",
            local["calls"] / done,
            local["peer_calls"] / done,
            "calls",
            "<= 1.6",
            note="ours reads the tags and writes the record (for uninstrument): 3 calls a function, the loop 2",
        ),
    }


if __name__ == "__main__":
    print(json.dumps(run(smoke=True), indent=2))
