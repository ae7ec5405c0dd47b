"""otel-serverless: end-to-end OpenTelemetry tracing for serverless applications on AWS.

Code-first use::

    import otel_serverless
    otel_serverless.configure()      # pipeline from OTEL_* variables + AWS propagation

Zero code change: ``opentelemetry-instrument``, or the Lambda exec wrapper.
Importing this package is cheap: the SDK loads only when something is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Before anything imports opentelemetry.propagate: an OTEL_PROPAGATORS name that is not
# installed must not make that import fail (see _propagators).
from otel_serverless import _propagators

_propagators.load_global()

if TYPE_CHECKING:
    from otel_serverless._configure import configure
    from otel_serverless.export._pipeline import Telemetry

__all__ = ["Telemetry", "__version__", "configure", "flush", "instrument"]


def instrument() -> None:
    """Trace every call out and carry the context (idempotent): AWS SDK calls (upstream
    botocore instrumentation, our propagation, retries and throttling) and HTTP calls from
    urllib, urllib3, requests, httpx and aiohttp, each library when the code first imports
    it (see :mod:`otel_serverless.instrumentation`); and put log records on the active span."""
    from otel_serverless import instrumentation
    from otel_serverless.logs import span_events

    instrumentation.install()
    span_events.install()


def flush(timeout_millis: float | None = None) -> bool:
    """Flush the configured pipeline within a deadline; True if everything was sent."""
    from otel_serverless.export._pipeline import current

    telemetry = current()
    return True if telemetry is None else telemetry.flush(timeout_millis)


def __getattr__(name: str) -> Any:
    # Lazy so that `import otel_serverless` stays off the cold-start bill.
    if name == "configure":
        from otel_serverless._configure import configure

        return configure
    if name == "Telemetry":
        from otel_serverless.export._pipeline import Telemetry

        return Telemetry
    raise AttributeError(f"module 'otel_serverless' has no attribute {name!r}")
