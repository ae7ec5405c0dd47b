"""The ``otel-serverless`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def _demo(args: argparse.Namespace) -> int:
    from otel_serverless.demo import resources
    from otel_serverless.demo._run import run

    faults = resources.FAULTS if args.faults is None else tuple(f for f in args.faults.split(",") if f)
    unknown = sorted(set(faults) - set(resources.FAULTS))
    if unknown:
        print(f"otel-serverless demo: unknown fault(s) {', '.join(unknown)}; choose from {', '.join(resources.FAULTS)}")
        return 2
    if args.jaeger:
        from otel_serverless.demo._backends import start_backends

        start_backends()
    return run(
        faults=faults,
        rounds=args.rounds,
        output=Path(args.output),
        check_traces=args.check,
        html=Path(args.html) if args.html else None,
    )


def _sample(args: argparse.Namespace) -> int:
    from otel_serverless import _sample as sample

    return sample.run()


def _insights(args: argparse.Namespace) -> int:
    from otel_serverless.insights import _cli

    return _cli.run(args)


def _layer_build(args: argparse.Namespace) -> int:
    from otel_serverless.layer import build_layer

    try:
        path = build_layer(
            python=args.python,
            arch=args.arch,
            output=Path(args.output),
            from_environment=args.from_environment,
            with_grpc=args.with_grpc,
            with_sdk_exporter=args.with_sdk_exporter,
        )
    except (ValueError, RuntimeError, OSError) as error:
        print(f"otel-serverless layer build: {error}", file=sys.stderr)
        return 2
    print(path)
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="otel-serverless", description="Open tracing for serverless applications.")
    commands = top.add_subparsers(dest="command", required=True)

    demo = commands.add_parser(
        "demo",
        help="run the demo blog platform locally and print its traces as trees",
        description="Runs an event-driven blog platform (API, S3, SNS, SQS, Kinesis, DynamoDB streams, "
        "EventBridge, Step Functions) on the local runtime against moto, with faults injected, and prints "
        "each dataflow's trace. Spans also go to an OTLP/JSON file, and to OTEL_EXPORTER_OTLP_ENDPOINT when set.",
    )
    demo.add_argument(
        "--check",
        action="store_true",
        help="exit 1 unless every dataflow is one connected trace with all its hops and the injected faults' marks",
    )
    demo.add_argument(
        "--jaeger",
        action="store_true",
        help="start the natively built collector and Jaeger (scripts/backends, needs Go) and export there",
    )
    demo.add_argument(
        "--faults",
        default=None,
        help="comma-separated faults to inject: contract, intermittent, timeout, memory (default: all; '' for none)",
    )
    demo.add_argument(
        "--rounds",
        type=int,
        default=2,
        choices=range(1, 11),
        metavar="1-10",
        help="upload/read rounds (the first is cold, later ones warm; default 2)",
    )
    demo.add_argument("--output", default=".otel-serverless/demo-traces.jsonl", help="OTLP/JSON lines file")
    demo.add_argument("--html", metavar="PATH", help="also write the run's insights as an HTML page")
    demo.set_defaults(func=_demo)

    sample = commands.add_parser("sample", help="emit a tiny trace and print it (no AWS emulation)")
    sample.set_defaults(func=_sample)

    from otel_serverless.insights import _cli as insights_cli  # argparse only; the reading imports lazily

    insights = commands.add_parser(
        "insights",
        help="health, cost and what to optimize first, from traces (OTLP/JSON files or Jaeger)",
        description="Reads traces (OTLP/JSON files, or Jaeger's query API) and reports, for a time window and "
        "against the previous one: health, invocations, errors, timeouts, cold starts, retries, cost, the "
        "insight sentences, per-function and per-dataflow figures, where the time goes, and the service map. "
        "Exit codes: 0 report, 1 empty window, 2 bad options, 3 unreadable source, 4 HTML not written.",
    )
    insights_cli.add_arguments(insights)
    insights.set_defaults(func=_insights)

    layer = commands.add_parser("layer", help="Lambda layer tools")
    layer_commands = layer.add_subparsers(dest="layer_command", required=True)
    build = layer_commands.add_parser("build", help="build a Lambda layer zip")
    build.add_argument("--python", default="3.12", help="Lambda Python runtime version (default 3.12)")
    build.add_argument("--arch", choices=("x86_64", "arm64"), default="x86_64")
    build.add_argument("--output", default="otel-serverless-layer.zip", help="zip file to write")
    build.add_argument(
        "--from-environment",
        action="store_true",
        help="copy the installed packages instead of downloading wheels (offline; this Python and arch only)",
    )
    build.add_argument(
        "--with-grpc",
        action="store_true",
        help="also ship OTLP/gRPC export (grpcio: +19 MB unpacked); without it the layer exports over OTLP/HTTP",
    )
    build.add_argument(
        "--with-sdk-exporter",
        action="store_true",
        help="also ship the SDK's OTLP/HTTP exporter (requests, protobuf: +7 MB) for OTEL_SERVERLESS_EXPORTER=sdk",
    )
    build.set_defaults(func=_layer_build)

    from otel_serverless.rollout import _cli as rollout_cli  # argparse only; the AWS work imports lazily

    rollout_cli.add_publish(layer_commands)
    rollout_cli.add_rollout(commands)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
