"""Propagation cost per carrier: our inject + extract vs OTel's W3C propagator on a plain dict.

For every carrier, each round takes the same fresh span contexts and times, for
"ours", the producer setter (global propagator → one slot in the AWS shape, on a
user message built beforehand) plus the consumer getter on the shape Lambda delivers, and for the "peer",
``TraceContextTextMapPropagator().inject`` into a plain dict plus ``extract``.
Rounds alternate ours/peer with the same iteration counts; the median round is
reported in microseconds per inject+extract. What AWS does in between (turning
a request into the Lambda event: base64, attribute renaming) is not timed.

The global propagator is set to W3C Trace Context alone while measuring, so
both sides encode the same format and the ratio is the cost of the carrier.
Not a test: no timing is asserted anywhere. Run directly:
``python benchmarks/bench_propagation.py [--smoke]``.
"""

from __future__ import annotations

import base64
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, NamedTuple

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from otel_serverless.propagation import (
    _carrier,
    dynamodb,
    eventbridge,
    kinesis,
    lambda_invoke,
    s3,
    sns,
    sqs,
    stepfunctions,
)

# One carrier: the user's message before injection (built untimed), inject(message, ctx) -> the
# shape the consumer sees once `deliver` (AWS's part, untimed) is applied, and extract(shape).
Message = Callable[[], Any]
Inject = Callable[[Any, Context], Any]
Deliver = Callable[[Any], Any]
Extract = Callable[[Any], Any]


class Carrier(NamedTuple):
    message: Message
    inject: Inject
    deliver: Deliver
    extract: Extract


def _sqs_deliver(entry: Any) -> Any:
    return {
        "body": entry["MessageBody"],
        "attributes": {},
        "messageAttributes": {
            name: {"stringValue": value["StringValue"], "dataType": value["DataType"]}
            for name, value in entry["MessageAttributes"].items()
        },
    }


def _sns_deliver(entry: Any) -> Any:
    attributes = {name: {"Type": "String", "Value": v["StringValue"]} for name, v in entry["MessageAttributes"].items()}
    return {"Sns": {"Message": entry["Message"], "MessageAttributes": attributes}}


def _lambda_deliver(encoded: Any) -> Any:
    document = json.loads(base64.b64decode(encoded))
    return SimpleNamespace(custom=document["custom"], env=None, client=None)


# What the botocore hooks call: the inject lambdas use it directly (a wrapper here would be a
# frame the library never has, timed on our side only).
_fields = _carrier.inject_fields


CARRIERS: dict[str, Carrier] = {
    "sqs": Carrier(
        lambda: {"MessageBody": "order", "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "a"}}},
        lambda entry, ctx: sqs.inject_entry(entry, _fields(ctx), None)[0],
        _sqs_deliver,
        sqs.extract_lambda_record,
    ),
    "sns": Carrier(
        lambda: {"Message": "order"},
        lambda entry, ctx: sns.inject_entry(entry, _fields(ctx))[0],
        _sns_deliver,
        sns.extract_lambda_record,
    ),
    "eventbridge": Carrier(
        lambda: {"Source": "shop", "DetailType": "OrderPlaced", "Detail": '{"order": 1}'},
        lambda entry, ctx: eventbridge.inject_entry(entry, _fields(ctx), None)[0],
        lambda entry: {"detail": json.loads(entry["Detail"])},
        eventbridge.extract_event,
    ),
    "kinesis": Carrier(
        lambda: {"Data": b'{"order": 1}', "PartitionKey": "k"},
        lambda record, ctx: kinesis.inject_record(record, _fields(ctx))[0],
        lambda record: {"kinesis": {"data": base64.b64encode(record["Data"]).decode()}},
        kinesis.extract_record,
    ),
    "stepfunctions": Carrier(
        lambda: {"input": '{"order": 1}'},
        lambda params, ctx: stepfunctions.inject_input(params, _fields(ctx))[0],
        lambda params: json.loads(params["input"]),
        stepfunctions.extract_input,
    ),
    "lambda_invoke": Carrier(
        lambda: None,  # no ClientContext of the user's
        lambda client_context, ctx: lambda_invoke.inject_client_context(client_context, _fields(ctx))[0],
        _lambda_deliver,
        lambda_invoke.extract_client_context,
    ),
    "s3": Carrier(
        lambda: {"owner": "a"},
        lambda metadata, ctx: s3.inject_metadata(metadata, _fields(ctx))[0],
        lambda metadata: metadata,
        s3.extract_metadata,
    ),
    "dynamodb": Carrier(
        lambda: {"pk": {"S": "a"}},
        lambda item, ctx: dynamodb.inject_item(item, _fields(ctx))[0],
        lambda item: {"dynamodb": {"NewImage": item}},
        dynamodb.extract_stream_record,
    ),
}


def _contexts(count: int) -> list[Context]:
    rng = random.Random(7)  # noqa: S311  # reproducible ids for a benchmark, not secrets
    contexts = []
    for _ in range(count):
        span_context = trace.SpanContext(
            rng.getrandbits(128) | 1, rng.getrandbits(64) | 1, is_remote=False, trace_flags=trace.TraceFlags(1)
        )
        contexts.append(trace.set_span_in_context(trace.NonRecordingSpan(span_context), Context()))
    return contexts


def _ours(carrier: Carrier, contexts: list[Context]) -> float:
    messages = [carrier.message() for _ in contexts]  # the user's messages exist before the send: not timed
    inject = carrier.inject
    start = time.perf_counter()
    shapes = [inject(message, ctx) for message, ctx in zip(messages, contexts, strict=True)]
    injected = time.perf_counter() - start
    delivered = [carrier.deliver(shape) for shape in shapes]  # AWS's part: not timed
    extract = carrier.extract
    start = time.perf_counter()
    for event in delivered:
        if extract(event) is None:
            raise AssertionError("extraction failed during the benchmark")
    return injected + time.perf_counter() - start


def _peer(propagator: TraceContextTextMapPropagator, contexts: list[Context]) -> float:
    start = time.perf_counter()
    carriers = []
    for ctx in contexts:
        carrier: dict[str, str] = {}
        propagator.inject(carrier, context=ctx)
        carriers.append(carrier)
    for carrier in carriers:
        propagator.extract(carrier)
    return time.perf_counter() - start


def run(smoke: bool) -> dict[str, dict[str, Any]]:
    """µs per inject+extract for each carrier, ours vs the W3C propagator on a plain dict."""
    iterations, rounds = (50, 3) if smoke else (2000, 15)
    contexts = _contexts(iterations)
    peer = TraceContextTextMapPropagator()
    previous = propagate.get_global_textmap()
    propagate.set_global_textmap(TraceContextTextMapPropagator())
    results: dict[str, dict[str, Any]] = {}
    try:
        for name, carrier in CARRIERS.items():
            _ours(carrier, contexts[:10])  # warm up both paths
            _peer(peer, contexts[:10])
            ours_times, peer_times = [], []
            for _ in range(rounds):
                ours_times.append(_ours(carrier, contexts))
                peer_times.append(_peer(peer, contexts))
            ours_us = statistics.median(ours_times) / iterations * 1e6
            peer_us = statistics.median(peer_times) / iterations * 1e6
            results[name] = {
                "ours": round(ours_us, 3),
                "peer": round(peer_us, 3),
                "unit": "us",
                "ratio": round(ours_us / peer_us, 3),
            }
    finally:
        propagate.set_global_textmap(previous)
    return results


if __name__ == "__main__":
    measured = run(smoke="--smoke" in sys.argv)
    print(f"{'carrier':<14} {'ours µs':>9} {'peer µs':>9} {'ratio':>7}")
    for carrier_name, row in measured.items():
        print(f"{carrier_name:<14} {row['ours']:>9.2f} {row['peer']:>9.2f} {row['ratio']:>7.2f}")
