"""The ``otel-serverless`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def _demo(args: argparse.Namespace) -> int:
    from otel_serverless import _sample

    return _sample.run()


def _layer_build(args: argparse.Namespace) -> int:
    from otel_serverless.layer import build_layer

    path = build_layer(python=args.python, arch=args.arch, output=Path(args.output))
    print(path)
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="otel-serverless", description="Open tracing for serverless applications.")
    commands = top.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="run the demo and print its traces as trees")
    demo.set_defaults(func=_demo)

    layer = commands.add_parser("layer", help="Lambda layer tools")
    layer_commands = layer.add_subparsers(dest="layer_command", required=True)
    build = layer_commands.add_parser("build", help="build a Lambda layer zip")
    build.add_argument("--python", default="3.12", help="Lambda Python runtime version (default 3.12)")
    build.add_argument("--arch", choices=("x86_64", "arm64"), default="x86_64")
    build.add_argument("--output", default="otel-serverless-layer.zip", help="zip file to write")
    build.set_defaults(func=_layer_build)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
