"""Trace context across AWS hops: one module per carrier (setters and getters).

The format is the globally configured OpenTelemetry propagator's
(``OTEL_PROPAGATORS``; W3C Trace Context and Baggage by default). These modules
only know the AWS shapes: where the fields ride, within which limits, and how
to read them back from every shape a consumer receives. Each ``extract_*``
returns an OpenTelemetry ``Context`` with a valid remote span context, or None.

Modules are imported on demand (``from otel_serverless.propagation import sqs``)
so a consumer pays only for the carrier it reads.
"""

from otel_serverless.propagation._carrier import RESERVED_KEY, Outcome

__all__ = ["RESERVED_KEY", "Outcome"]
