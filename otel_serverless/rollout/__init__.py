"""Roll the layer out to many functions: ``otel-serverless layer publish`` and ``rollout instrument|uninstrument``.

Modules, one concern each: ``publish`` (the layer into a region), ``_select`` (which
functions), ``_layers`` (which layer version fits a function), ``_plan`` (what to change,
or why not: pure), ``_record`` (what instrument replaced, kept in the function's tags),
``_run`` (apply plans to many functions, a few at a time), ``_aws`` (the client, its
retries and call counts), ``_report`` and ``_progress`` (what a person reads), ``_cli``.
None of it is on the Lambda path.
"""

from __future__ import annotations

from typing import Any

#: Public names and the module each lives in, imported on first use: every ``otel-serverless``
#: command builds its parser from ``_cli``, and none but rollout's needs the rest.
_EXPORTS = {
    "WRAPPER": "_plan",
    "Change": "_plan",
    "Desired": "_plan",
    "Skip": "_plan",
    "Record": "_record",
    "Outcome": "_run",
    "Report": "_run",
    "Rollout": "_run",
}
__all__ = ["WRAPPER", "Change", "Desired", "Outcome", "Record", "Report", "Rollout", "Skip"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
