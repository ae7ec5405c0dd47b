"""The two places we hook botocore, and what happens at each.

* ``BaseClient._make_api_call`` (the whole call): open our span (unless upstream
  instrumentation opens one), run the call, record the error on our span,
  re-raise the user's exception unchanged. An operation in the registry gets its
  service's extension (a send that carries context: a PRODUCER span named for
  its destination); any other gets :class:`~._base.AnyCall` (a CLIENT span named
  ``Service.Operation``, nothing injected). Under our span, HTTP client
  instrumentation (urllib3's) opens none: one span per AWS call, as upstream's
  does for its own.
* ``BaseClient._emit_api_params`` (inside the call, after the user's
  ``before-parameter-build`` handlers and boto3's own transforms, right before
  serialisation): inject, and put the resource the call names on the call's
  span (every call's, see :mod:`._retries`). Being inside botocore's own call,
  it runs innermost whatever order instrumentors were applied in, so the current
  span there is the call's span, ours or upstream's. It returns *new* params;
  the caller's objects are never changed.
* The client's ``after-call`` event (inside the call, once the response is
  parsed): record a successful response (message ids, correlation ids, …) on the
  call's span. Inside, because upstream's span has ended by the time the call
  returns to a wrapper outside it, which is where ours sits.

Everything of ours runs under ``_guard``: an error is reported once and the
call goes on exactly as if we were not there.
"""

from __future__ import annotations

import contextvars
import functools
import weakref
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from opentelemetry import context, trace
from opentelemetry.trace import Span, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from otel_serverless import __version__, _capture
from otel_serverless import attributes as attr
from otel_serverless._guard import guard, report, warn_once
from otel_serverless.botocore import _config, _registry, _retries, _trace_header, _upstream
from otel_serverless.botocore._base import AnyCall, Call, Extension
from otel_serverless.propagation._carrier import MAPPING, inject_fields

_INSTRUMENTATION = "otel_serverless.botocore"


@dataclass
class _Active:
    extension: Extension
    span: Span | None
    #: The span our attributes go to: ours, or upstream's (found inside the call).
    annotated: Span | None = None
    injected: bool = False
    answered: bool = False


_current: contextvars.ContextVar[_Active | None] = contextvars.ContextVar("otel_serverless_botocore", default=None)
_watched: weakref.WeakSet[Any] = weakref.WeakSet()
_UNIQUE: Final = "otel_serverless.botocore.result"


_instrumentation_enabled: Callable[[], bool] | None = None
_suppress_http: Callable[[], AbstractContextManager[None]] | None = None


def _no_http_spans() -> AbstractContextManager[None]:
    global _suppress_http
    if _suppress_http is None:  # imported on the first call, not on the cold start
        from opentelemetry.instrumentation.utils import suppress_http_instrumentation

        _suppress_http = suppress_http_instrumentation
    return _suppress_http()


def _suppressed() -> bool:
    global _instrumentation_enabled
    if _instrumentation_enabled is None:  # imported on the first call, not on every one
        from opentelemetry.instrumentation.utils import is_instrumentation_enabled

        _instrumentation_enabled = is_instrumentation_enabled
    return not _instrumentation_enabled()


def make_api_call(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    # Called only while instrumented (the wrapper in the package checks).
    if len(args) < 2:
        return wrapped(*args, **kwargs)
    active: _Active | None = None
    params = args[1]
    # try/except rather than guard() on this path: a context manager per block is
    # measurable in the warm invocation (benchmark G5).
    try:
        _watch(instance)
        active, params = _start(instance, args[0], params)
    except Exception as error:
        report("botocore.start", error)
        active, params = None, args[1]
    if active is None:
        return wrapped(*args, **kwargs)
    token = _current.set(active)
    attached = context.attach(trace.set_span_in_context(active.span)) if active.span is not None else None
    try:
        if active.span is not None:
            with _no_http_spans():
                result = wrapped(args[0], params, *args[2:], **kwargs)
        else:
            result = wrapped(args[0], params, *args[2:], **kwargs)
    except BaseException as error:
        with guard(f"botocore.{active.extension.service}.error"):
            _failed(active, error)
        _end(active)
        raise
    finally:
        if attached is not None:
            context.detach(attached)
        _current.reset(token)
    _end(active)
    return result


def _watch(client: Any) -> None:
    """Record responses and retries on *client*'s calls (registered once per client)."""
    events = client.meta.events
    if events in _watched:
        return
    events.register("after-call", _on_after_call, unique_id=_UNIQUE)
    _retries.watch(events)
    _watched.add(events)


def _on_after_call(http_response: Any = None, parsed: Any = None, model: Any = None, **kwargs: Any) -> None:
    active = _current.get()
    if active is None or active.answered:
        return
    try:
        call = active.extension.call
        service = getattr(getattr(model, "service_model", None), "service_name", None)
        if getattr(model, "name", None) != call.operation or service != call.service:
            return  # a nested call (credentials, …) made during ours
        active.answered = True
        status = getattr(http_response, "status_code", None)
        if isinstance(status, int) and status < 300:  # an error answer is raised next: _failed's
            _succeeded(active, parsed, status)
    except Exception as error:
        report(f"botocore.{active.extension.service}.result", error)


def _start(instance: Any, operation: str, params: Any) -> tuple[_Active | None, Any]:
    meta = instance.meta
    service = meta.service_model.service_name
    if service == "lambda":
        _trace_header.watch(instance)
    extension_type = _registry.lookup(service, operation)
    if not isinstance(params, MAPPING) or _suppressed():
        return None, params
    upstream = _upstream.active()
    if extension_type is None and upstream:
        return None, params  # upstream's span; the resource it names is added in emit_api_params
    call = Call(service, operation, meta.region_name, params)
    extension = extension_type(call) if extension_type is not None else AnyCall(call, meta.service_model.service_id)
    if upstream:
        # Upstream opens the span; give it a copy so it cannot change the caller's objects.
        return _Active(extension, None), extension.protect(params)
    attributes: dict[str, AttributeValue] = {
        attr.RPC_SYSTEM: "aws-api",
        attr.RPC_SERVICE: meta.service_model.service_id,
        attr.RPC_METHOD: operation,
        attr.CLOUD_REGION: call.region or "",
    }
    attributes.update(_endpoint(meta.endpoint_url))
    span = _tracer().start_span(extension.span_name(), kind=extension.span_kind(), attributes=attributes)
    if not span.get_span_context().is_valid:
        # No SDK configured: don't hide the caller's (possibly remote) context behind an invalid span.
        return _Active(extension, None), params
    return _Active(extension, span, annotated=span), params


def emit_api_params(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    params = wrapped(*args, **kwargs)
    try:
        service = instance.meta.service_model.service_name
        active = _current.get()
        if active is not None and not active.injected:
            model = kwargs.get("operation_model", args[1] if len(args) > 1 else None)
            call = active.extension.call
            if getattr(model, "name", None) == call.operation and service == call.service:
                active.injected = True
                return _inject(active, params)
        # Any other call (or one nested in ours: credentials, …) gets the resource it names.
        if isinstance(params, MAPPING):
            span = _retries.call_span()
            if span is not None:
                span.set_attributes(_retries.call_attributes(service, params))
    except Exception as error:
        report("botocore.inject", error)
    return params


def _inject(active: _Active, params: Any) -> Any:
    extension, call = active.extension, active.extension.call
    if active.span is None and _upstream.current_span_is_upstream():
        active.annotated = trace.get_current_span()
    # One set_attributes for the span: the resource and retries first, as the call is sent.
    attributes = _retries.call_attributes(call.service, params) if isinstance(params, MAPPING) else {}
    propagating = extension.propagates and call.service not in _config.read().exclude
    undoing = extension.upstream_injects and _upstream.active()
    if propagating or undoing:  # the fields are built only for what uses them
        fields = inject_fields()
        if undoing:
            params = extension.undo_upstream(params, fields)
        if propagating:
            params = extension.inject(params, fields)
    attributes.update(extension.attributes(params))
    attributes.update(_propagation_summary(call))
    if _capture.enabled():
        sent = extension.message(call.params)  # the caller's message, without what we added
        if sent is not None:
            attributes[attr.PAYLOAD_MESSAGE] = _capture.render(_capture.decoded(sent))
    span = active.annotated
    if span is not None and span.is_recording():
        span.set_attributes(attributes)
    if len(call.outcomes) > 1 or (call.outcomes and not call.outcomes[0].injected):
        _warn_skips(call)  # not for the usual call, one message that carries the context
    return params


def _propagation_summary(call: Call) -> dict[str, AttributeValue]:
    if not call.outcomes:
        return {}
    # One pass over the outcomes (one per message; a call usually has one).
    injected = 0
    channels: set[str] = set()
    reasons: set[str] = set()
    for outcome in call.outcomes:
        if outcome.injected:
            injected += 1
            if outcome.channel:
                channels.add(outcome.channel)
        elif outcome.reason:
            reasons.add(outcome.reason)
    summary: dict[str, AttributeValue] = {
        attr.PROPAGATION_INJECTED: injected,
        attr.PROPAGATION_SKIPPED: len(call.outcomes) - injected,
    }
    if channels:
        summary[attr.PROPAGATION_CHANNELS] = sorted(channels)
    if reasons:
        summary[attr.PROPAGATION_SKIP_REASONS] = sorted(reasons)
    return summary


def _warn_skips(call: Call) -> None:
    skipped = [o for o in call.outcomes if not o.injected and o.reason not in ("no_context", "not_applicable")]
    for reason in sorted({str(o.reason) for o in skipped}):
        warn_once(
            f"propagation.skip.{call.service}.{reason}",
            f"otel-serverless: {call.service} {call.operation}: trace context not added to a message ({reason}); "
            "the request was sent unchanged and the skip is counted on the span "
            f"({attr.PROPAGATION_SKIPPED}); further skips like this are not logged",
        )


def _succeeded(active: _Active, result: Any, status: int) -> None:
    span = active.annotated
    if span is None or not span.is_recording() or not isinstance(result, MAPPING):
        return
    attributes = active.extension.result_attributes(result)
    if active.span is not None:  # upstream records the request id and status on its own span
        _request_id(attributes, result)
        attributes[attr.HTTP_RESPONSE_STATUS_CODE] = status
    _correlation(attributes, active.extension.call)
    if attributes:
        span.set_attributes(attributes)


def _failed(active: _Active, error: BaseException) -> None:
    span = active.span
    if span is not None:
        response = getattr(error, "response", None)
        attributes: dict[str, AttributeValue] = {}
        if isinstance(response, Mapping):
            _request_id(attributes, response)
            code = response.get("Error", {}).get("Code") if isinstance(response.get("Error"), Mapping) else None
            attributes[attr.ERROR_TYPE] = code if isinstance(code, str) else type(error).__qualname__
        else:
            attributes[attr.ERROR_TYPE] = type(error).__qualname__
        span.set_attributes(attributes)
        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, type(error).__qualname__))


def _end(active: _Active) -> None:
    if active.span is not None:
        try:
            active.span.end()
        except Exception as error:
            report("botocore.end", error)


@functools.lru_cache(maxsize=64)
def _endpoint(url: object) -> tuple[tuple[str, AttributeValue], ...]:
    """``server.address`` and ``server.port`` of a client's endpoint URL (a client keeps one);
    immutable pairs, since every call of the client shares them."""
    if not isinstance(url, str):
        return ()
    try:
        parts = urlsplit(url)
        port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    except ValueError:
        return ()
    if not parts.hostname:
        return ()
    return ((attr.SERVER_ADDRESS, parts.hostname),) + (((attr.SERVER_PORT, port),) if port else ())


def _request_id(attributes: dict[str, AttributeValue], response: Mapping[str, Any]) -> None:
    metadata = response.get("ResponseMetadata")
    if isinstance(metadata, MAPPING) and isinstance(metadata.get("RequestId"), str):
        attributes[attr.AWS_REQUEST_ID] = metadata["RequestId"]


def _correlation(attributes: dict[str, AttributeValue], call: Call) -> None:
    ids = call.correlation_ids
    if ids:
        attributes[attr.CORRELATION_IDS] = list(ids)
        if len(ids) == 1:
            attributes[attr.CORRELATION_ID] = ids[0]


_tracer_instance: trace.Tracer | None = None


def _tracer() -> trace.Tracer:
    global _tracer_instance
    if _tracer_instance is None:
        _tracer_instance = trace.get_tracer(_INSTRUMENTATION, __version__)
    return _tracer_instance
