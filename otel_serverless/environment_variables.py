"""Every ``OTEL_SERVERLESS_*`` setting, defined and documented once.

Standard OpenTelemetry variables (``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``,
``OTEL_PROPAGATORS``, ``OTEL_TRACES_EXPORTER``, ``OTEL_EXPORTER_OTLP_*``,
``OTEL_TRACES_SAMPLER``, ``OTEL_BSP_*`` …) keep their standard meaning and are not
repeated here. A setting given to :func:`otel_serverless.configure` as an argument
wins over its variable; a variable with a bad value logs one warning and the
default applies. The README's settings table is generated from this module
(``python -m otel_serverless.environment_variables``).
"""

from __future__ import annotations

# --- Foundation: configuration and export -------------------------------------------

OTEL_SERVERLESS_DISABLED = "OTEL_SERVERLESS_DISABLED"
"""
.. envvar:: OTEL_SERVERLESS_DISABLED

``true`` turns otel-serverless off entirely: no provider is configured, handlers and
AWS calls run untouched. Also honoured: the standard ``OTEL_SDK_DISABLED``.
Default: ``false``.
"""

OTEL_SERVERLESS_FLUSH_TIMEOUT_MS = "OTEL_SERVERLESS_FLUSH_TIMEOUT_MS"
"""
.. envvar:: OTEL_SERVERLESS_FLUSH_TIMEOUT_MS

Hard deadline, in milliseconds, for one flush (``force_flush``) of the span
pipeline. The caller is never held longer: a collector that is down, refuses the
connection or accepts it and never answers costs at most this. In Lambda the
flush deadline is further capped by the invocation's remaining time. Spans not
sent by the deadline stay queued and go with the next flush. Default: ``2000``
(range 1–60000).
"""

OTEL_SERVERLESS_MAX_QUEUE_SIZE = "OTEL_SERVERLESS_MAX_QUEUE_SIZE"
"""
.. envvar:: OTEL_SERVERLESS_MAX_QUEUE_SIZE

Most finished spans kept in memory awaiting export; further spans are dropped and
counted. Default: the standard ``OTEL_BSP_MAX_QUEUE_SIZE`` or ``2048``.
"""

OTEL_SERVERLESS_LOG_LEVEL = "OTEL_SERVERLESS_LOG_LEVEL"
"""
.. envvar:: OTEL_SERVERLESS_LOG_LEVEL

Level of otel-serverless's own logger ``otel_serverless`` (``debug``, ``info``,
``warning``, ``error``). Default: ``warning``.
"""

# --- Propagation (producer side) -----------------------------------------------------

# --- Lambda handler (consumer side) --------------------------------------------------

# --- Local runtime and demo ----------------------------------------------------------


def documented() -> dict[str, str]:
    """Name → documentation of every setting in this module, in definition order."""
    import ast
    import inspect
    import itertools
    import sys

    source = inspect.getsource(sys.modules[__name__])
    tree = ast.parse(source)
    docs: dict[str, str] = {}
    body = tree.body
    for node, following in itertools.pairwise(body):
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id.startswith("OTEL_SERVERLESS_")
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            text = inspect.cleandoc(following.value.value)
            lines = [line for line in text.splitlines() if not line.startswith(".. envvar::")]
            docs[node.targets[0].id] = " ".join(" ".join(lines).split())
    return docs


if __name__ == "__main__":
    print("| variable | meaning |\n|---|---|")
    for _name, _doc in documented().items():
        print(f"| `{_name}` | {_doc} |")
