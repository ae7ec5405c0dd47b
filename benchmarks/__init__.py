"""Side-by-side benchmarks of otel-serverless against its peers: ``python -m benchmarks``.

Every figure is measured in the same run as its peer's and reported as a ratio
(ours / peer). Each benchmark module runs in a fresh interpreter, so that one
module's instrumentation (ours or the peer's patches to botocore) never leaks
into another's. Everything runs on 127.0.0.1: a loopback OTLP receiver and a
``moto_server`` stand in for the collector and AWS.

A module exposes ``run(smoke: bool) -> dict[str, Result]``; ``smoke`` means tiny
counts and no claims, so the test suite can run everything once and keep it
from rotting. ``bench_propagation`` (G4) and ``bench_lambda`` belong to the
propagation and Lambda handler work and are picked up when present.
"""

from __future__ import annotations

#: Modules run by ``python -m benchmarks``, in order; missing ones are skipped.
MODULES = (
    "bench_cold_start",  # G1, G2
    "bench_span",  # G3
    "bench_propagation",  # G4 (propagation work)
    "bench_invocation",  # G5
    "bench_calls_out",  # C1, C2 (warm traced HTTP call and GetItem)
    "bench_export",  # G6, G7
    "bench_lambda",  # extra entries from the Lambda handler work
    "bench_layer",  # L1, L2, L3 (the layer in the Lambda RIE with awslambdaric; its size)
    "bench_rollout",  # R1, R2 (rollout instrument over 1,000 moto functions)
    "bench_insights",  # I1, I2, I3 (insights over 100,000 spans from an OTLP/JSON file)
    "bench_scale_out",  # S1, S2 (gateway and agent spans per CPU-second vs a plain collector)
)
