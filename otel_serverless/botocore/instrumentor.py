"""``opentelemetry-instrument`` entry point: an ordinary ``BaseInstrumentor``.

Registered as the ``otel_serverless_botocore`` ``opentelemetry_instrumentor``
entry point, so zero-code users get propagation with nothing to configure; it
can be switched off like any instrumentor
(``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=otel_serverless_botocore``).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]


class BotocorePropagationInstrumentor(BaseInstrumentor):  # type: ignore[misc]  # BaseInstrumentor is untyped
    """Producer spans and in-band context for AWS calls (see :mod:`otel_serverless.botocore`)."""

    def instrumentation_dependencies(self) -> Collection[str]:
        return ("botocore >= 1.34",)

    def _instrument(self, **kwargs: Any) -> None:
        from otel_serverless.botocore import instrument

        instrument()

    def _uninstrument(self, **kwargs: Any) -> None:
        from otel_serverless.botocore import uninstrument

        uninstrument()
