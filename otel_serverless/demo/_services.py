"""One service per function, while every function runs in the demo's one process.

In AWS each function is its own process with its own resource, so Jaeger shows one
service per function and draws the edges between them. The local runtime hosts all
functions in one process; this tracer provider gives each function's spans the
resource of that function (``service.name`` = the function name), chosen when a span
starts from the local runtime's current instance. All of them share the configured
pipeline's processors, so sampling, the serverless processors and export are the
same as with one provider. Spans started outside any function and outside
:func:`acting_as` — the runtime's own polling of SQS, Kinesis, streams — are not
recorded: in AWS those calls are made by the platform, not by the functions.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Link, Span, SpanKind, Tracer
from opentelemetry.util.types import Attributes

from otel_serverless.local import current_instance

_acting_as: contextvars.ContextVar[str | None] = contextvars.ContextVar("otel_serverless_demo_service", default=None)


@contextmanager
def acting_as(service: str) -> Iterator[None]:
    """Spans started in this block belong to *service* (the demo's own clients)."""
    token = _acting_as.set(service)
    try:
        yield
    finally:
        _acting_as.reset(token)


def current_service() -> str | None:
    explicit = _acting_as.get()
    if explicit is not None:
        return explicit
    instance = current_instance()
    return instance.function_name if instance is not None else None


class ServiceRouter(trace.TracerProvider):
    """A tracer provider whose tracers pick the current function's provider per span."""

    def __init__(self, base: TracerProvider) -> None:
        self.base = base
        self._providers: dict[str, TracerProvider] = {}
        self._lock = threading.Lock()

    def provider_for(self, service: str) -> TracerProvider:
        provider = self._providers.get(service)
        if provider is None:
            with self._lock:
                provider = self._providers.get(service)
                if provider is None:
                    provider = TracerProvider(
                        sampler=self.base.sampler,
                        resource=self.base.resource.merge(Resource({"service.name": service})),
                        # The configured pipeline's processors, shared (the SDK keeps them there).
                        active_span_processor=self.base._active_span_processor,
                    )
                    self._providers[service] = provider
        return provider

    def get_tracer(
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: str | None = None,
        schema_url: str | None = None,
        attributes: Attributes | None = None,
    ) -> Tracer:
        return _RoutingTracer(self, (instrumenting_module_name, instrumenting_library_version, schema_url, attributes))

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.base.force_flush(timeout_millis)

    def shutdown(self) -> None:
        self.base.shutdown()


_NOT_RECORDED = trace.NoOpTracer()


class _RoutingTracer(Tracer):
    def __init__(self, router: ServiceRouter, scope: tuple[str, str | None, str | None, Attributes | None]) -> None:
        self._router = router
        self._scope = scope
        self._tracers: dict[str, Tracer] = {}

    def _route(self) -> Tracer:
        service = current_service()
        if service is None:
            return _NOT_RECORDED
        tracer = self._tracers.get(service)
        if tracer is None:
            name, version, schema_url, attributes = self._scope
            tracer = self._router.provider_for(service).get_tracer(name, version, schema_url, attributes)
            self._tracers[service] = tracer
        return tracer

    def start_span(  # noqa: PLR0917 - the API's own signature
        self,
        name: str,
        context: Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
    ) -> Span:
        return self._route().start_span(
            name, context, kind, attributes, links, start_time, record_exception, set_status_on_exception
        )

    # The API types this with its private context-manager class; a plain one behaves the same.
    @contextmanager
    def start_as_current_span(  # type: ignore[override]  # noqa: PLR0917 - the API's own signature
        self,
        name: str,
        context: Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
        end_on_exit: bool = True,
    ) -> Iterator[Span]:
        with self._route().start_as_current_span(
            name,
            context,
            kind,
            attributes,
            links,
            start_time,
            record_exception,
            set_status_on_exception,
            end_on_exit,
        ) as span:
            yield span


def route_globally(base: TracerProvider) -> ServiceRouter:
    router = ServiceRouter(base)
    trace.set_tracer_provider(router)
    return router


__all__ = ["ServiceRouter", "acting_as", "current_service", "route_globally"]
