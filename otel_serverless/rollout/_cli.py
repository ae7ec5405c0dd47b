"""The ``layer publish`` and ``rollout instrument|uninstrument`` commands: arguments and output.

Exit codes: 0 every matched function is as asked (a dry run: would be), 1 some were
skipped or failed (the table says which and why), 2 the command itself was wrong
(bad arguments, no region, the listing or the layer lookup failed).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

_ENV_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
#: Variables Lambda reserves, and the one instrument owns.
_RESERVED = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
        "AWS_LAMBDA_EXEC_WRAPPER",
    }
)


def add_publish(layer_commands: Any) -> None:
    publish = layer_commands.add_parser(
        "publish",
        help="publish a built layer zip to a region; prints the layer version ARN",
        description="Publishes the zip as the next version of otel-serverless-python3XY-<arch> (one layer per "
        "Python version and architecture, read from the zip). A zip identical to the newest version is not "
        "published again.",
    )
    publish.add_argument("--zip", default="otel-serverless-layer.zip", help="the zip from layer build")
    publish.add_argument("--python", help="Python version the zip is for (default: read from the zip)")
    publish.add_argument("--arch", choices=("x86_64", "arm64"), help="default: read from the zip")
    publish.add_argument("--region", help="default: AWS_REGION / your AWS config")
    publish.add_argument("--layer-name-prefix", default="otel-serverless", help="layer names start with this")
    publish.add_argument("--s3-bucket", help="upload through this bucket (zips over 50 MiB need it)")
    publish.set_defaults(func=_publish)


def add_rollout(commands: Any) -> None:
    rollout = commands.add_parser(
        "rollout",
        help="add the layer to many functions, or take it off again",
        description="Instrument or uninstrument every function that matches the filters. What instrument "
        "replaces is recorded in tags on each function (otel-serverless:rollout), so uninstrument restores it "
        "from any machine.",
    )
    actions = rollout.add_subparsers(dest="rollout_command", required=True)
    instrument = actions.add_parser(
        "instrument",
        help="add the layer, the exec wrapper and the OTel variables",
        description="Adds the otel-serverless layer (other layers kept, in order), sets "
        "AWS_LAMBDA_EXEC_WRAPPER=/opt/otel-serverless-handler and the OTel variables; every other variable "
        "is kept. A function that cannot be changed safely is skipped with the reason.",
    )
    _filters(instrument)
    instrument.add_argument("--endpoint", help="OTEL_EXPORTER_OTLP_ENDPOINT for the functions")
    instrument.add_argument(
        "--service-name-from",
        choices=("function", "tag"),
        default="function",
        help="OTEL_SERVICE_NAME: the function's name, or the value of --service-name-tag",
    )
    instrument.add_argument("--service-name-tag", default="service", help="the tag for --service-name-from tag")
    instrument.add_argument("--env", action="append", default=[], metavar="K=V", help="one more variable to set")
    instrument.add_argument(
        "--layer-arn",
        action="append",
        default=[],
        help="layer version(s) to add instead of the newest otel-serverless-python3XY-<arch>; "
        "each function gets the one whose compatible runtimes and architectures fit",
    )
    instrument.set_defaults(func=_instrument)
    uninstrument = actions.add_parser(
        "uninstrument",
        help="restore the layers and variables instrument replaced",
        description="Restores the layer list and the variables instrument set to what they were, from the "
        "record instrument left in the function's tags, and removes the record.",
    )
    _filters(uninstrument)
    uninstrument.set_defaults(func=_uninstrument)


def _filters(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("which functions")
    group.add_argument("--function", action="append", default=[], metavar="NAME", help="a function name or ARN")
    group.add_argument("--all", action="store_true", help="every function in the region")
    group.add_argument("--tag", action="append", default=[], metavar="K=V", help="only functions with this tag")
    group.add_argument("--name-glob", action="append", default=[], metavar="GLOB", help="e.g. 'orders-*'")
    group.add_argument("--runtime", action="append", default=[], help="e.g. python3.12")
    how = parser.add_argument_group("how")
    how.add_argument("--dry-run", action="store_true", help="print each function's exact change, change nothing")
    how.add_argument("--region", help="default: AWS_REGION / your AWS config")
    how.add_argument("--layer-name-prefix", default="otel-serverless", help="names of our layers start with this")
    how.add_argument("--concurrency", type=int, default=4, choices=range(1, 33), metavar="1-32")
    how.add_argument(
        "--max-attempts",
        type=int,
        default=10,
        choices=range(1, 51),
        metavar="1-50",
        help="attempts per API call when throttled (adaptive backoff; default 10)",
    )


def _fail(command: str, message: str) -> int:
    print(f"otel-serverless {command}: {message}", file=sys.stderr)
    return 2


def _region(args: argparse.Namespace) -> str | None:
    if args.region:
        region: str = args.region
        return region
    import botocore.session

    found = botocore.session.get_session().get_config_variable("region")
    return str(found) if found else None


def _publish(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from otel_serverless.rollout import _aws
    from otel_serverless.rollout.publish import publish

    region = _region(args)
    if region is None:
        return _fail("layer publish", "no region: give --region or set AWS_REGION")
    calls = _aws.Calls()
    client = _aws.client(region, 10, calls)
    s3 = None
    if args.s3_bucket:
        import botocore.session

        s3 = botocore.session.get_session().create_client("s3", region_name=region)
    try:
        published = publish(
            client,
            Path(args.zip),
            args.python,
            args.arch,
            prefix=args.layer_name_prefix,
            s3_client=s3,
            s3_bucket=args.s3_bucket,
        )
    except (ValueError, OSError) as error:
        return _fail("layer publish", str(error))
    except (ClientError, BotoCoreError) as error:
        return _fail("layer publish", _aws.describe(error))
    if not published.new:
        print(f"otel-serverless layer publish: unchanged since version {published.version}", file=sys.stderr)
    print(published.arn)
    return 0


def _instrument(args: argparse.Namespace) -> int:
    from otel_serverless.rollout._plan import Desired
    from otel_serverless.rollout._select import parse_pairs

    try:
        extra = parse_pairs(args.env, "--env")
    except ValueError as error:
        return _fail("rollout instrument", str(error))
    for key in extra:
        if not _ENV_NAME.match(key) or key in _RESERVED:
            return _fail("rollout instrument", f"--env {key[:80]}: not a variable a function may set")
    desired = Desired(
        endpoint=args.endpoint,
        service_name_from=args.service_name_from,
        service_name_tag=args.service_name_tag,
        extra=extra,
    )
    return _execute("rollout instrument", args, desired)


def _uninstrument(args: argparse.Namespace) -> int:
    return _execute("rollout uninstrument", args, None)


def _execute(command: str, args: argparse.Namespace, desired: Any) -> int:
    """Select, run (instrument when *desired* is given, else uninstrument), print; the exit code."""
    from botocore.exceptions import BotoCoreError, ClientError

    from otel_serverless.rollout import _aws
    from otel_serverless.rollout._layers import Resolver
    from otel_serverless.rollout._report import describe_change, summary
    from otel_serverless.rollout._run import WOULD_CHANGE, Rollout
    from otel_serverless.rollout._select import Selector, parse_pairs

    try:
        selector = Selector(
            functions=args.function,
            all=args.all,
            tags=parse_pairs(args.tag, "--tag"),
            name_globs=args.name_glob,
            runtimes=args.runtime,
        )
        selector.check()
    except ValueError as error:
        return _fail(command, str(error))
    region = _region(args)
    if region is None:
        return _fail(command, "no region: give --region or set AWS_REGION")
    calls = _aws.Calls()
    client = _aws.client(region, args.max_attempts, calls, args.concurrency)
    resolver = Resolver(client, args.layer_name_prefix, getattr(args, "layer_arn", ()))
    rollout = Rollout(
        client, calls, selector, resolver, dry_run=args.dry_run, concurrency=args.concurrency, progress=sys.stderr
    )
    try:
        resolver.load_explicit()
        report = rollout.instrument(desired) if desired is not None else rollout.uninstrument()
    except KeyboardInterrupt:
        print(f"\notel-serverless {command}: interrupted; functions already done stay done, run again", file=sys.stderr)
        return 130
    except ValueError as error:
        return _fail(command, str(error))
    except (ClientError, BotoCoreError) as error:
        return _fail(command, _aws.describe(error))
    if args.dry_run:
        for outcome in report.outcomes:
            if outcome.status == WOULD_CHANGE and outcome.change is not None:
                print("\n".join(describe_change(outcome.function, outcome.change)))
        print()
    print("\n".join(summary(report, region)))
    return 0 if report.all_done else 1
