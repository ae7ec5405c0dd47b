"""Entry points for ``opentelemetry-instrument``: zero code change.

``opentelemetry-instrument python app.py`` loads the ``opentelemetry_distro``
entry point (defaults for the standard variables), then the
``opentelemetry_configurator`` one (the pipeline), then every installed
instrumentor, ours among them. Both are named ``otel_serverless``; where other
distros are installed, pick ours with ``OTEL_PYTHON_DISTRO=otel_serverless`` and
``OTEL_PYTHON_CONFIGURATOR=otel_serverless``.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

# The module is marked `# type: ignore` upstream, so mypy sees no names in it.
from opentelemetry.instrumentation.distro import BaseDistro  # type: ignore[attr-defined]
from opentelemetry.sdk._configuration import _BaseConfigurator

from otel_serverless._guard import guard


class OtelServerlessDistro(BaseDistro):  # type: ignore[misc]  # BaseDistro is untyped
    """Defaults for the standard variables; a user's own values always win.

    ``opentelemetry-instrument`` asks the distro to load each installed instrumentor,
    and loading one imports its library: every installed library at start-up, used or
    not. For the libraries :mod:`otel_serverless.instrumentation` covers (and our own
    botocore propagation) we arm them for their first import and first call instead;
    every other instrumentor loads as upstream does. Disabled names never reach us
    (``opentelemetry-instrument`` skips them) and are skipped by the arming too.
    """

    def load_instrumentor(self, entry_point: Any, **kwargs: Any) -> None:
        from otel_serverless import instrumentation

        if entry_point.name in instrumentation.COVERED:
            instrumentation.install()
            return
        if entry_point.name == "httpx2" and importlib.util.find_spec("httpx2") is None:
            # Its dependency check passes on httpx alone, and loading it imports httpx.
            return
        super().load_instrumentor(entry_point, **kwargs)

    def _configure(self, **kwargs: Any) -> None:
        os.environ.setdefault("OTEL_TRACES_EXPORTER", "otlp")
        os.environ.setdefault("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        # Metrics and logs are not what this distro is for: don't let the SDK
        # default them to OTLP exporters that would load at every cold start.
        os.environ.setdefault("OTEL_METRICS_EXPORTER", "none")
        os.environ.setdefault("OTEL_LOGS_EXPORTER", "none")


class OtelServerlessConfigurator(_BaseConfigurator):
    """Sets up the otel-serverless pipeline; instrumentors are loaded by the caller."""

    def _configure(self, **kwargs: Any) -> None:
        with guard("configurator"):
            from otel_serverless._configure import configure

            # opentelemetry-instrument loads instrumentors itself, ours included.
            configure(instrument=False)
