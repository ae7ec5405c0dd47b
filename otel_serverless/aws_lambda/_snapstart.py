"""SnapStart: restored clones do not share one environment's identity.

Lambda takes a SnapStart snapshot after init (often after a priming invocation) and
restores as many clones from it as it needs: each clone starts with the snapshot's
memory, so with its ``service.instance.id``, its ``faas.instance`` and whatever the
wrapper remembered (invocations, seen request ids and stream records). ``_state`` calls
:func:`renew` on the first invocation of each restored environment (a log stream of its
own): every provider the wrapper traces with gets a new ``service.instance.id`` — through
the SDK's own resource update, the one it uses after ``os.fork`` — and the new log stream
as ``faas.instance``.
"""

from __future__ import annotations

import uuid
import weakref
from typing import Any

from otel_serverless import attributes as attr

#: The SDK providers the wrapper traces with (see ``_wrapper._install``).
providers: weakref.WeakSet[Any] = weakref.WeakSet()


def renew(environment: str | None) -> None:
    """A new ``service.instance.id`` (and ``faas.instance`` = *environment*) on every provider."""
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource

    found = set(providers)
    found.add(trace.get_tracer_provider())
    for provider in found:
        update = getattr(provider, "_update_resource", None)
        resource = getattr(provider, "resource", None)
        if not callable(update) or not isinstance(resource, Resource):
            continue  # not an SDK provider (or one too old to update its resource): left as it is
        renewed: dict[str, Any] = {attr.SERVICE_INSTANCE_ID: str(uuid.uuid4())}
        if environment and attr.FAAS_INSTANCE in resource.attributes:
            renewed[attr.FAAS_INSTANCE] = environment
        update(Resource(renewed))
