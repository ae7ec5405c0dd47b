"""A ``Sampled=0`` X-Ray header is the platform's decision, not ours: it never silences an invocation.

AWS writes X-Ray headers whether or not anyone traces: botocore adds the function's
``_X_AMZN_TRACE_ID`` to every request, so an SQS message from a producer without
active X-Ray tracing arrives with an ``AWSTraceHeader`` that says ``Sampled=0``, and
an asynchronous invoke hands the worker such a header in ``_X_AMZN_TRACE_ID``. As a
parent, that flag makes the parent-based sampler drop the invocation and every span
under it. So, by default (``OTEL_SERVERLESS_XRAY_UNSAMPLED=link``), such a context is a
*link* (``serverless.link.xray_unsampled``), never the parent: the invocation (or the
record's span) is sampled by the configured sampler as a new trace, and the X-Ray
trace stays reachable through the link. ``obey`` keeps it as the parent, as the
header asks. A sampled X-Ray header, and any context another propagator read (a
``traceparent`` in our slot, Datadog's ``_datadog``), is a parent as before.
"""

from __future__ import annotations

from typing import Final

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link

from otel_serverless import _settings
from otel_serverless import attributes as attr
from otel_serverless import environment_variables as env

CHOICES: Final = ("link", "obey")
DEFAULT: Final = "link"


def policy() -> str:
    return _settings.per_process(
        env.OTEL_SERVERLESS_XRAY_UNSAMPLED,
        lambda: _settings.read_choice(env.OTEL_SERVERLESS_XRAY_UNSAMPLED, CHOICES, DEFAULT),
    )


def settle(parent: Context | None, links: list[Link]) -> Context | None:
    """*parent* as an invocation or a record may take it: an unsampled X-Ray context is
    appended to *links* instead (unless the setting says ``obey``)."""
    if parent is None:  # the usual record: no context, or one read from our slot
        return None
    from otel_serverless.propagation import xray

    if not xray.unsampled_header(parent) or policy() == "obey":
        return parent
    links.append(Link(trace.get_current_span(parent).get_span_context(), {attr.LINK_XRAY_UNSAMPLED: True}))
    return None
