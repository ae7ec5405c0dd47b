"""Calls into the carrier getters of :mod:`otel_serverless.propagation`, defensively.

The getters own the carrier shapes (where the fields ride in each AWS message);
this module only calls them under a guard and keeps a context only if it holds a
valid remote span context, so a bad carrier can never hand back a hijacked parent.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context

from otel_serverless._guard import report, warn_once


def valid(context: Context | None) -> Context | None:
    """*context* if it carries a valid span context, else None."""
    if context is None or not isinstance(context, Context):
        return None
    span_context = trace.get_current_span(context).get_span_context()
    return context if span_context.is_valid else None


#: Getter modules already imported (import_module costs microseconds; a batch calls one per record).
_modules: dict[str, ModuleType] = {}


def call(module: str, function: str, carrier: Any) -> Context | None:
    """``otel_serverless.propagation.<module>.<function>(carrier)``, or None."""
    try:
        found = _modules.get(module)
        if found is None:
            found = importlib.import_module(f"otel_serverless.propagation.{module}")
            _modules[module] = found
        getter = getattr(found, function)
    except (ImportError, AttributeError):
        warn_once(
            f"getter:{module}.{function}",
            f"otel-serverless: carrier getter propagation.{module}.{function} is unavailable; "
            "producer contexts of this trigger are ignored",
        )
        return None
    # try/except rather than guard(): a context manager per record is measurable per batch.
    try:
        return valid(getter(carrier))
    except Exception as error:
        report(f"extract.{module}", error)
    return None
