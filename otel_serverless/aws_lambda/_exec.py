"""The exec-wrapper entry: ``_HANDLER=otel_serverless.aws_lambda.handler``.

The wrapper script (``AWS_LAMBDA_EXEC_WRAPPER``) moves the user's ``_HANDLER`` to
``OTEL_SERVERLESS_ORIGINAL_HANDLER`` and points ``_HANDLER`` here. The runtime
imports :mod:`otel_serverless.aws_lambda` during init; that configures the
pipeline and imports the user's handler right away, so init work (and init
errors, reported as Lambda reports them) stay in the init phase.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import Any, Final

from otel_serverless import environment_variables as env
from otel_serverless._guard import guard

#: What ``_HANDLER`` says when the exec wrapper is in use.
ENTRY: Final = "otel_serverless.aws_lambda.handler"

_loaded: Callable[[Any, Any], Any] | None = None


def original() -> str:
    """The user's handler, ``path/to/module.function``."""
    name = os.environ.get(env.OTEL_SERVERLESS_ORIGINAL_HANDLER) or os.environ.get("ORIG_HANDLER")
    if not name or name == ENTRY or "." not in name:
        raise RuntimeError(
            "otel-serverless: OTEL_SERVERLESS_ORIGINAL_HANDLER must name the function's handler "
            "(module.function); the exec wrapper sets it from _HANDLER"
        )
    return name


def load() -> Callable[[Any, Any], Any]:
    """Import the user's handler (exactly as the Lambda runtime would) and wrap it."""
    global _loaded
    if _loaded is None:
        module_name, function_name = original().rsplit(".", 1)
        module = importlib.import_module(module_name.replace("/", "."))
        function = getattr(module, function_name)
        from otel_serverless.aws_lambda import traced

        _loaded = traced(function)
    return _loaded


def preload() -> None:
    """At init: the pipeline, then the user's handler (whose import errors are the user's)."""
    with guard("exec.configure"):
        from otel_serverless._configure import configure

        configure()
    load()
    # After the user's module is imported: a SIGTERM handler it installed is chained, not replaced.
    with guard("exec.shutdown"):
        from otel_serverless.aws_lambda import _shutdown

        _shutdown.install()


def handler(event: Any, context: Any) -> Any:
    """Run the user's handler inside an invocation span."""
    return load()(event, context)


def reset_for_tests() -> None:
    global _loaded
    _loaded = None


def main() -> None:
    """``otel-serverless-handler <runtime command…>``: the exec wrapper as a console script.

    For container images, where the package is pip-installed rather than a layer:
    ``AWS_LAMBDA_EXEC_WRAPPER=/usr/local/bin/otel-serverless-handler``. It does what
    the shell script in the layer does.
    """
    import sys

    if os.environ.get("_HANDLER") != ENTRY:
        os.environ[env.OTEL_SERVERLESS_ORIGINAL_HANDLER] = os.environ.get("_HANDLER", "")
    os.environ["_HANDLER"] = ENTRY
    if len(sys.argv) < 2:
        raise SystemExit("usage: otel-serverless-handler <runtime command> [args…]")
    os.execvp(sys.argv[1], runtime_command(sys.argv[1:]))  # noqa: S606  # replacing ourselves is the point


def runtime_command(command: list[str]) -> list[str]:
    """The runtime's command with the function's handler, when it is the last argument, made ours.

    The runtime interface client (``python -m awslambdaric <handler>``: container images, the
    runtime interface emulator) reads the handler from its last argument, not from ``_HANDLER``.
    """
    original_handler = os.environ.get(env.OTEL_SERVERLESS_ORIGINAL_HANDLER, "")
    if len(command) > 1 and original_handler and command[-1] == original_handler:
        return [*command[:-1], ENTRY]
    return list(command)
