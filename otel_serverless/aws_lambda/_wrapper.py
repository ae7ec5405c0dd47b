"""The invocation span: detect → parent or links → run → end → flush → hand back.

The user's handler is called exactly once, with the caller's objects, and what it
returns or raises is handed back unchanged. Everything around it runs under the
guard: if our side fails, the handler still runs and the host never sees our error.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable
from contextvars import Token
from typing import Any, Final, NamedTuple

from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, Status, StatusCode, Tracer

from otel_serverless import _invocation, _settings
from otel_serverless import attributes as attr
from otel_serverless import environment_variables as env
from otel_serverless._guard import guard, report
from otel_serverless._invocation import Invocation
from otel_serverless.aws_lambda import (
    _flush,
    _killed,
    _lambda_context,
    _memory_guard,
    _payload,
    _records,
    _state,
    _tracers,
    _watchdog,
)
from otel_serverless.aws_lambda.triggers import Trigger, detect

_logging_done = False


class _Running:
    """What the wrapper holds between start and finish."""

    __slots__ = (
        "config",
        "context_token",
        "current_token",
        "flush_provider",
        "invocation",
        "lambda_context",
        "memory_guard",
        "watchdog",
    )

    def __init__(self, invocation: Invocation, lambda_context: Any, flush_provider: Any, config: _Config) -> None:
        self.invocation = invocation
        self.lambda_context = lambda_context
        self.flush_provider = flush_provider
        self.config = config
        self.context_token: object | None = None
        self.current_token: Token[Invocation | None] | None = None
        self.watchdog: int | None = None
        self.memory_guard: _memory_guard.Guard | None = None


class _Config(NamedTuple):
    """The settings an invocation reads, once per process (see ``_settings.per_process``)."""

    disabled: bool
    batch_parent: str
    init_span: bool
    watchdog: bool
    flush_cap: int
    payload: bool


def _config() -> _Config:
    # One lookup per invocation instead of one per setting.
    return _settings.per_process("lambda.config", _read_config)


def _read_config() -> _Config:
    from otel_serverless.export._pipeline import disabled as pipeline_disabled

    return _Config(
        disabled=pipeline_disabled(),
        batch_parent=_settings.read_choice(env.OTEL_SERVERLESS_BATCH_PARENT, _BATCH_PARENT, "same-trace"),
        init_span=_settings.read_bool(env.OTEL_SERVERLESS_INIT_SPAN, True),
        watchdog=_settings.read_bool(env.OTEL_SERVERLESS_TIMEOUT_WATCHDOG, True),
        flush_cap=_settings.read_int(env.OTEL_SERVERLESS_FLUSH_TIMEOUT_MS, 2000, minimum=1, maximum=60000),
        payload=_payload.enabled(),
    )


def invoke(handler: Callable[[Any, Any], Any], event: Any, context: Any, provider: Any = None) -> Any:
    """Run *handler* inside an invocation span (the body of ``traced``)."""
    outer = _invocation.current()
    if outer is not None and outer.event is event and not outer.closed:
        return handler(event, context)  # wrapped twice (decorator + exec wrapper): one span is enough
    running: _Running | None = None
    # try/except rather than guard() here and in _finish: a context manager per block
    # is measurable in the warm invocation (benchmark G5).
    try:
        running = _start(event, context, provider)
    except Exception as error:
        report("lambda.start", error)
    if running is None:
        return handler(event, context)
    try:
        result = handler(event, context)
    except BaseException as error:
        _finish(running, error=error)
        raise
    _finish(running, result=result)
    return result


# -- start ------------------------------------------------------------------------------


def _start(event: Any, lambda_context: Any, provider: Any) -> _Running | None:
    config = _config()
    if config.disabled:
        return None
    tracer = _tracers.tracer_for(provider)
    _correlate_logs()
    trigger = detect(event, lambda_context)
    request_id = _lambda_context.text(lambda_context, "aws_request_id") or str(uuid.uuid4())
    remaining = _lambda_context.remaining_ms(lambda_context)
    deadline_epoch_ms = None if remaining is None else time.time() * 1000 + remaining
    invocation = Invocation(
        request_id=request_id,
        trigger=trigger,
        event=event,
        function_name=_lambda_context.text(lambda_context, "function_name"),
        function_arn=_lambda_context.text(lambda_context, "invoked_function_arn"),
        memory_mb=_lambda_context.memory_mb(lambda_context),
        timeout_ms=remaining,
        deadline_epoch_ms=deadline_epoch_ms,
        tracer=tracer,
    )
    invocation.cold = _state.begin(
        request_id, deadline_epoch_ms, _lambda_context.text(lambda_context, "log_stream_name")
    )
    invocation.request_seen = _state.seen_request(request_id)
    keyed = [record for record in trigger.records if record.sequence_key]
    if keyed:
        counts = _state.seen_sequences([record.sequence_key or "" for record in keyed])
        for record, count in zip(keyed, counts, strict=True):
            record.redelivered = count
        invocation.records_seen = max(counts)

    parent, links, untrusted = _parent_and_links(trigger, config.batch_parent)
    attributes = dict(trigger.attributes)
    attributes[attr.FAAS_INVOCATION_ID] = request_id
    if invocation.function_arn:
        attributes[attr.CLOUD_RESOURCE_ID] = invocation.function_arn
        attributes[attr.AWS_LAMBDA_INVOKED_ARN] = invocation.function_arn
        account = _lambda_context.account_id(invocation.function_arn)
        if account:
            attributes[attr.CLOUD_ACCOUNT_ID] = account
    if untrusted:
        attributes[attr.INBOUND_UNTRUSTED] = True
    _configured_limits(attributes, remaining, invocation.memory_mb)
    killed = invocation.cold.previous if invocation.cold is not None else None
    if killed is not None:
        links = [*links, *_killed.links(killed)]  # the killed invocation's span, in its own trace
    if config.payload:
        attributes[attr.PAYLOAD_EVENT] = _payload.render(event)

    starting = _invocation._starting.set(invocation)
    try:
        span = tracer.start_span(
            invocation.function_name or "lambda.handler",
            context=parent,
            kind=trigger.kind,
            attributes=attributes,
            links=links,
        )
    finally:
        _invocation._starting.reset(starting)
    invocation.span = span
    invocation.span_id = span.get_span_context().span_id
    _invocation.register(invocation)

    running = _Running(invocation, lambda_context, provider, config)
    running.context_token = context_api.attach(trace.set_span_in_context(span, parent))
    running.current_token = _invocation._current.set(invocation)
    _started(running, tracer, killed, remaining)
    return running


def _started(running: _Running, tracer: Tracer, killed: _state.Killed | None, remaining: float | None) -> None:
    """What follows the invocation span's start: the init span, the report of a killed
    predecessor, the timeout watchdog and the memory guard, and the in-flight marker."""
    invocation, config = running.invocation, running.config
    if config.init_span:
        _init_span(tracer, invocation)
    if killed is not None:
        _killed.report(tracer, invocation, killed)
    if config.watchdog and remaining is not None:
        _arm_watchdog(running, remaining)
        running.memory_guard = _memory_guard.arm(invocation.memory_mb, lambda resident: _on_memory(running, resident))
    span_context = invocation.span.get_span_context() if invocation.span is not None else None
    if span_context is not None:
        _state.note_span(
            invocation.request_id,
            invocation.deadline_epoch_ms,
            span_context.trace_id,
            span_context.span_id,
            watched=running.watchdog is not None and running.memory_guard is not None,
        )


def _configured_limits(attributes: dict[str, Any], remaining: float | None, memory_mb: int | None) -> None:
    """The configuration insights compares usage with (timeout, memory), on every invocation."""
    if remaining is not None and remaining > 0:
        attributes[attr.TIMEOUT_CONFIGURED_MS] = math.ceil(remaining / 1000) * 1000
    if memory_mb:
        attributes[attr.MEMORY_LIMIT_MB] = memory_mb


def _parent_and_links(trigger: Trigger, batch_parent: str) -> tuple[Context, list[Link], bool]:
    """The context to start the span in, its links, and whether an inbound context was distrusted."""
    links: list[Link] = []
    producers: list[Context] = []
    for record in trigger.records if trigger.batch else ():
        if record.parent is not None:
            producers.append(record.parent)
            link_attributes = {attr.MESSAGING_MESSAGE_ID: record.message_id} if record.message_id else {}
            links.append(Link(trace.get_current_span(record.parent).get_span_context(), link_attributes))
        links.extend(record.links)
    links.extend(trigger.links)
    parent = _batch_parent(producers, batch_parent) if trigger.batch else trigger.parent
    untrusted = False
    if parent is not None and trigger.http and not _settings.read_bool(env.OTEL_SERVERLESS_TRUST_INBOUND, True):
        # A public endpoint: the caller may not choose our trace, nor hand us baggage.
        links.insert(0, Link(trace.get_current_span(parent).get_span_context(), {attr.LINK_UNTRUSTED: True}))
        parent = None
        untrusted = True
    # Never the ambient context: an invocation without a producer starts a new trace.
    return (parent if parent is not None else Context()), links, untrusted


def _batch_parent(producers: list[Context], setting: str) -> Context | None:
    """The first producer, when every producer of the batch is in one trace (and the setting allows)."""
    if not producers or setting == "never":
        return None
    trace_ids = {trace.get_current_span(context).get_span_context().trace_id for context in producers}
    return producers[0] if len(trace_ids) == 1 else None


_BATCH_PARENT: Final = ("same-trace", "never")


def _init_span(tracer: Tracer, invocation: Invocation) -> None:
    cold = invocation.cold
    span = invocation.span
    if cold is None or cold.init_start_ns is None or span is None:
        return
    started = getattr(span, "start_time", None)
    end = started if isinstance(started, int) else time.time_ns()
    init = tracer.start_span(
        "init",
        context=trace.set_span_in_context(span),
        start_time=min(cold.init_start_ns, end),
        attributes={attr.INIT_TYPE: cold.init_type, attr.FAAS_COLDSTART: True},
    )
    init.end(end_time=end)


def _arm_watchdog(running: _Running, remaining: float) -> None:
    fire_in = remaining - _watchdog.margin_ms(remaining)
    deadline = time.monotonic() + max(0.0, fire_in) / 1000
    running.watchdog = _watchdog.watchdog.arm(deadline, lambda: _on_timeout(running))


def _correlate_logs() -> None:
    global _logging_done
    if _logging_done:
        return
    _logging_done = True
    from otel_serverless.aws_lambda import log_correlation
    from otel_serverless.logs import span_events

    log_correlation.install()
    span_events.install()


# -- finish -----------------------------------------------------------------------------

_NO_RESULT: Final = object()


def _finish(running: _Running, *, result: Any = _NO_RESULT, error: BaseException | None = None) -> None:
    invocation = running.invocation
    already = False
    try:
        if running.watchdog is not None:
            _watchdog.watchdog.disarm(running.watchdog)
        if running.memory_guard is not None:
            running.memory_guard.stop()
        with invocation.lock:
            already = invocation.closed
            invocation.closed = True
        if not already:
            _close(invocation, running.config, result=result, error=error)
    except Exception as failure:
        report("lambda.finish", failure)
    try:
        if running.current_token is not None:
            _invocation._current.reset(running.current_token)
        if running.context_token is not None:
            context_api.detach(running.context_token)  # type: ignore[arg-type]  # attach()'s own token
    except Exception as failure:
        report("lambda.detach", failure)
    if already:
        # The watchdog or the memory guard ended and flushed everything already; the handler
        # finished after all, so no kill is left for the next process to report.
        _state.end(invocation.request_id)
        return
    try:
        remaining = _lambda_context.remaining_ms(running.lambda_context)
        _flush.flush(running.flush_provider, _flush.budget_ms(remaining, running.config.flush_cap))
    except Exception as failure:
        report("lambda.flush", failure)
    _invocation.unregister(invocation)


def _close(invocation: Invocation, config: _Config, *, result: Any, error: BaseException | None) -> None:
    span = invocation.span
    if span is None:
        return
    if error is not None:
        _record_error(span, error)
        if invocation.active_record is not None:
            _fail_active_record(invocation, error)
    elif result is not _NO_RESULT:
        _record_result(invocation, span, result, config.payload)
    failed_items = _batch_item_failures(result) if error is None and result is not _NO_RESULT else set()
    spanned = _end_pending(invocation, failed_items) if invocation.pending else set()  # traced_records' spans
    if invocation.trigger.batch and (error is not None or failed_items):
        _report_failures(invocation, failed_items, spanned, error)
    _invocation.end_span(invocation, span)
    _state.end(invocation.request_id)


def _record_error(span: Span, error: BaseException) -> None:
    span.record_exception(error, escaped=True)
    span.set_attribute(attr.ERROR_TYPE, type(error).__qualname__)
    from otel_serverless._scrub import describe  # only on an error

    span.set_status(Status(StatusCode.ERROR, describe(error)))


def _record_result(invocation: Invocation, span: Span, result: Any, payload: bool) -> None:
    if payload:
        span.set_attribute(attr.PAYLOAD_RESPONSE, _payload.render(result))
    if not invocation.trigger.http or not isinstance(result, dict):
        return
    status = result.get("statusCode")
    if isinstance(status, bool) or not isinstance(status, int):
        return
    span.set_attribute(attr.HTTP_RESPONSE_STATUS_CODE, status)
    if status >= 500:
        span.set_attribute(attr.ERROR_TYPE, str(status))
        span.set_status(Status(StatusCode.ERROR))


def _batch_item_failures(result: Any) -> set[str]:
    if not isinstance(result, dict):
        return set()
    failures = result.get("batchItemFailures")
    if not isinstance(failures, list):
        return set()
    found: set[str] = set()
    for item in failures[:10_000]:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if isinstance(identifier, str):
            found.add(identifier)
    return found


def _fail_active_record(invocation: Invocation, error: BaseException) -> None:
    _records.fail_active(invocation, error)


def _end_pending(invocation: Invocation, failed_items: set[str]) -> set[int]:
    return _records.end_pending(invocation, failed_items)


def _report_failures(
    invocation: Invocation, failed_items: set[str], spanned: set[int], error: BaseException | None
) -> None:
    """The records AWS delivers again: all of them when the handler raised, else those it named."""
    records = invocation.trigger.records
    with guard("records.failures"):
        if error is not None:
            _records.report_failures(invocation, records, spanned, f"the batch failed: {type(error).__name__}")
        else:
            named = [record for record in records if record.item_id is not None and record.item_id in failed_items]
            _records.report_failures(invocation, named, spanned, "reported in batchItemFailures")


# -- timeout ----------------------------------------------------------------------------


def _on_timeout(running: _Running) -> None:
    """On the watchdog thread, shortly before the platform kills the process."""
    invocation = running.invocation
    if not _claim(invocation, timed_out=True):
        return
    _state.note_timeout(invocation.request_id, invocation.deadline_epoch_ms)
    remaining = _lambda_context.remaining_ms(running.lambda_context)
    event_attributes = {attr.TIMEOUT: True, attr.TIMEOUT_REMAINING_MS: remaining or 0.0}
    _end_early(running, remaining, lambda span: _mark_timeout(span, event_attributes), "timeout")


def _on_memory(running: _Running, resident_mb: float) -> None:
    """On the watchdog thread, when the memory guard saw memory close to the limit."""
    invocation = running.invocation
    if not _claim(invocation, near_memory_limit=True):
        return
    _state.note_memory(invocation.request_id, invocation.deadline_epoch_ms)
    remaining = _lambda_context.remaining_ms(running.lambda_context)
    event_attributes = {attr.MEMORY_RESIDENT_MB: round(resident_mb, 1), attr.MEMORY_LIMIT_MB: invocation.memory_mb or 0}

    def mark(span: Any) -> None:
        span.add_event(attr.MEMORY_NEAR_KILL_EVENT, event_attributes)
        span.set_status(Status(StatusCode.ERROR, "the invocation came close to its memory limit"))

    _end_early(running, remaining, mark, "out_of_memory")


def _claim(invocation: Invocation, *, timed_out: bool = False, near_memory_limit: bool = False) -> bool:
    """Close *invocation* from the watchdog thread, saying why; False if it was closed already."""
    with invocation.lock:
        if invocation.closed:
            return False
        invocation.closed = True
        invocation.timed_out = timed_out
        invocation.near_memory_limit = near_memory_limit
    return True


def _end_early(running: _Running, remaining: float | None, mark: Callable[[Any], None], error_type: str) -> None:
    """End the invocation's spans, marked, and flush: the platform is about to kill the process."""
    invocation = running.invocation
    _end_pending(invocation, set())
    # Deepest first: children started last end first, before their parents.
    for child in sorted(invocation.open.values(), key=lambda item: item.start_time or 0, reverse=True):
        with guard("lambda.timeout.child"):
            mark(child)
            child.end()
    span = invocation.span
    if span is not None:
        mark(span)
        span.set_attribute(attr.ERROR_TYPE, error_type)
        _invocation.end_span(invocation, span)
    with guard("lambda.timeout.flush"):
        _flush.flush(running.flush_provider, _flush.budget_ms(remaining, running.config.flush_cap))
    _invocation.unregister(invocation)


def _mark_timeout(span: Any, event_attributes: dict[str, Any]) -> None:
    span.set_attribute(attr.TIMEOUT, True)
    span.add_event(attr.TIMEOUT_EVENT, event_attributes)
    span.set_status(Status(StatusCode.ERROR, "the invocation timed out"))
