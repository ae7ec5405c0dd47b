"""Entry points for ``opentelemetry-instrument``: zero code change.

``opentelemetry-instrument python app.py`` loads the ``opentelemetry_distro``
entry point (defaults for the standard variables), then the
``opentelemetry_configurator`` one (the pipeline), then every installed
instrumentor, ours among them. Both are named ``otel_serverless``; where other
distros are installed, pick ours with ``OTEL_PYTHON_DISTRO=otel_serverless`` and
``OTEL_PYTHON_CONFIGURATOR=otel_serverless``.
"""

from __future__ import annotations

import os
from typing import Any

# The module is marked `# type: ignore` upstream, so mypy sees no names in it.
from opentelemetry.instrumentation.distro import BaseDistro  # type: ignore[attr-defined]
from opentelemetry.sdk._configuration import _BaseConfigurator

from otel_serverless._guard import guard


class OtelServerlessDistro(BaseDistro):  # type: ignore[misc]  # BaseDistro is untyped
    """Defaults for the standard variables; a user's own values always win."""

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
            from otel_serverless.export._pipeline import configure

            # opentelemetry-instrument loads instrumentors itself, ours included.
            configure(instrument=False)
