"""The shape every serverless span processor shares.

The SDK makes a span read-only as soon as ``end()`` starts, so a processor can
write in only two places, and each concern uses the one it needs:

* :meth:`ServerlessProcessor.start_attributes` — attributes the *invocation span*
  starts with (facts known up front: cold start, retries). The handler wrapper asks
  the chain on its provider for them before it starts the span, so they go in with
  the span's own attributes (one write into the SDK span instead of one per stage);
  anywhere else the processor writes them as the span starts.
  :meth:`ServerlessProcessor.annotate` writes the rest there (events).
* :meth:`ServerlessProcessor.transform` — on every finished span, returning a copy
  with more (or fewer) attributes, handed to the processor given as ``then``
  (facts known only at the end: memory, cost; and scrubbing, which must also see
  what other instrumentations set). Such a stage sits *in front of* the exporting
  processor: ``ScrubbingProcessor(then=BatchSpanProcessor(exporter))``.

Every hook runs under the guard: a failing processor reports once and the span
goes on unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar, NamedTuple

from opentelemetry.context import Context
from opentelemetry.sdk.trace import Event, ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import Link, Status
from opentelemetry.util.types import AttributeValue

from otel_serverless import _invocation
from otel_serverless._guard import report
from otel_serverless._invocation import Invocation
from otel_serverless._sdk_spans import own_attributes


class ServerlessProcessor(SpanProcessor):
    """One concern; optionally a stage in front of *then*."""

    #: Name in OTEL_SERVERLESS_PROCESSORS.
    name: ClassVar[str] = ""
    #: True when :meth:`transform` changes invocation spans only: other spans skip the call.
    invocation_only: ClassVar[bool] = False

    def __init__(self, then: SpanProcessor | None = None) -> None:
        self._plan: _Plan | None = None
        #: Set on the head of the chain installed on a provider: it also keeps each invocation's
        #: open child spans for the timeout watchdog (instead of a separate ``OpenSpans``).
        self.tracks_open_spans = False
        self.then = then

    @property
    def then(self) -> SpanProcessor | None:
        """The processor this one hands every span to (None: the end of the chain)."""
        return self._then

    @then.setter
    def then(self, value: SpanProcessor | None) -> None:
        global _generation
        self._then = value
        _generation += 1  # every chain's head rebuilds its plan on its next span

    # -- hooks for subclasses --------------------------------------------------
    def start_attributes(self, invocation: Invocation) -> Mapping[str, AttributeValue] | None:
        """Attributes the invocation span starts with (None: none)."""
        return None

    def annotate(self, span: Span, invocation: Invocation) -> None:
        """Write facts on the invocation span as it starts (what attributes cannot say: events)."""

    def transform(self, span: ReadableSpan) -> ReadableSpan:
        """The finished span as it should be exported (the same object if unchanged)."""
        return span

    # -- SpanProcessor -----------------------------------------------------------
    # Every span passes through these: the stages of a chain run from a plan made once
    # (one loop instead of a nested call per stage, and only the hooks a stage really
    # has), and the guard is a plain try/except (a context manager per stage per span
    # is measurable in the cost of a span).
    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        plan = self._plan
        if plan is None or plan.generation != _generation:
            plan = self._make_plan()
        if plan.annotators or plan.starters or self.tracks_open_spans:
            invocation = _invocation.starting()
            if invocation is not None:
                if plan.starters and invocation.started_by is not self:
                    # Not started by the wrapper with this chain's attributes: write them now.
                    try:
                        span.set_attributes(self.invocation_attributes(invocation))
                    except Exception as error:
                        report("processor.start_attributes", error)
                for stage in plan.annotators:
                    try:
                        stage.annotate(span, invocation)
                    except Exception as error:
                        report(f"processor.{stage.name}", error)
            elif self.tracks_open_spans:
                try:
                    _invocation.track(span)
                except Exception as error:
                    report("processor.open_spans", error)
        if plan.start is not None:
            plan.start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        plan = self._plan
        if plan is None or plan.generation != _generation:
            plan = self._make_plan()
        in_flight = _invocation.in_flight()
        if in_flight and self.tracks_open_spans:
            try:
                _invocation.untrack(span)
            except Exception as error:
                report("processor.open_spans", error)
        if plan.end is None:
            return
        if plan.invocation_stages and in_flight:
            span = _through_stages(plan, span)
        else:
            # No invocation span can be among them: only the stages for every span run.
            for stage in plan.general:
                try:
                    span = stage.transform(span)
                except Exception as error:
                    report(f"processor.{stage.name}", error)
        plan.end(span)

    def invocation_attributes(self, invocation: Invocation) -> dict[str, AttributeValue]:
        """What every stage of this chain says the invocation span starts with."""
        plan = self._plan
        if plan is None or plan.generation != _generation:
            plan = self._make_plan()
        found: dict[str, AttributeValue] = {}
        for stage in plan.starters:
            try:
                attributes = stage.start_attributes(invocation)
            except Exception as error:
                report(f"processor.{stage.name}", error)
                continue
            if attributes:
                found.update(attributes)
        return found

    def _make_plan(self) -> _Plan:
        annotators: list[ServerlessProcessor] = []
        starters: list[ServerlessProcessor] = []
        transformers: list[ServerlessProcessor] = []
        stage: ServerlessProcessor = self
        start: Callable[[Span, Context | None], None] | None = None
        end: Callable[[ReadableSpan], None] | None = None
        for _ in range(_MAX_STAGES):
            if type(stage).annotate is not ServerlessProcessor.annotate:
                annotators.append(stage)
            if type(stage).start_attributes is not ServerlessProcessor.start_attributes:
                starters.append(stage)
            then = stage.then
            if then is None:
                break
            if type(stage).transform is not ServerlessProcessor.transform:
                transformers.append(stage)
            if (
                isinstance(then, ServerlessProcessor)
                and type(then).on_start is ServerlessProcessor.on_start
                and type(then).on_end is ServerlessProcessor.on_end
            ):
                stage = then
                continue
            # Another kind of processor (or a stage with its own on_start/on_end) takes over.
            if type(then).on_start is not SpanProcessor.on_start:  # the base one does nothing
                start = then.on_start
            end = then.on_end
            break
        else:  # a chain this long is handed on as it is, from where the plan stops
            then = stage.then
            if then is not None:
                start, end = then.on_start, then.on_end
        adders = frozenset(
            stage
            for stage in transformers
            if isinstance(stage, AddingProcessor)
            and stage.invocation_only
            and type(stage).transform is AddingProcessor.transform
        )
        every = tuple(transformers)
        general = tuple(stage for stage in every if not stage.invocation_only)
        plan = _Plan(
            _generation, tuple(annotators), tuple(starters), every, adders, start, end, general, general != every
        )
        self._plan = plan
        return plan

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True if self.then is None else self.then.force_flush(timeout_millis)

    def shutdown(self) -> None:
        if self.then is not None:
            self.then.shutdown()


class AddingProcessor(ServerlessProcessor):
    """A stage that only *adds* attributes and events to invocation spans (memory, cost).

    It says what it adds (:meth:`contribute`) instead of copying the span itself: in a
    chain, consecutive adding stages share one copy of the span, made once after all of
    them (a copy per stage per invocation span is measurable in the warm invocation).
    A stage that fails adds nothing, as if its own copy were thrown away.
    """

    invocation_only = True

    def contribute(
        self, span: ReadableSpan, invocation: Invocation
    ) -> tuple[Mapping[str, AttributeValue], Sequence[Event]] | None:
        """The attributes and events to add to the invocation span *span* (None: nothing)."""
        return None

    def transform(self, span: ReadableSpan) -> ReadableSpan:
        invocation = invocation_of(span)
        if invocation is None:
            return span
        added = self.contribute(span, invocation)
        return span if added is None else _added(span, added[0], added[1])


#: Chains longer than this are cut (a loop in ``then`` must not hang every span).
_MAX_STAGES = 64
_generation = 0


class _Plan(NamedTuple):
    generation: int
    annotators: tuple[ServerlessProcessor, ...]
    #: Stages with start attributes (see ServerlessProcessor.invocation_attributes).
    starters: tuple[ServerlessProcessor, ...]
    transformers: tuple[ServerlessProcessor, ...]
    #: Transformers that only add (their own transform not overridden): see AddingProcessor.
    adders: frozenset[ServerlessProcessor]
    start: Callable[[Span, Context | None], None] | None
    end: Callable[[ReadableSpan], None] | None
    #: The transformers every span goes through (not only invocation spans).
    general: tuple[ServerlessProcessor, ...]
    #: Whether some transformers are for invocation spans only (else ``general`` is all of them).
    invocation_stages: bool


def _through_stages(plan: _Plan, span: ReadableSpan) -> ReadableSpan:
    """*span* through every transformer of *plan*, the invocation-only ones for invocation spans."""
    invocation: Invocation | bool | None = False  # False: not looked up yet
    attributes: dict[str, AttributeValue] | None = None  # what adding stages added, not copied in yet
    events: list[Event] = []
    for stage in plan.transformers:
        if stage.invocation_only:
            if invocation is False:
                invocation = invocation_of(span)
            if invocation is None:
                continue
        if stage in plan.adders:
            try:
                added = stage.contribute(span, invocation)  # type: ignore[attr-defined]  # adders are AddingProcessors
            except Exception as error:
                report(f"processor.{stage.name}", error)
                continue
            if added is not None:
                attributes = {} if attributes is None else attributes
                attributes.update(added[0])
                events.extend(added[1])
            continue
        if attributes is not None:
            span = _added(span, attributes, events)
            attributes, events = None, []
        try:
            span = stage.transform(span)
        except Exception as error:
            report(f"processor.{stage.name}", error)
    if attributes is not None:
        span = _added(span, attributes, events)
    return span


def generation() -> int:
    """Changes whenever any chain's ``then`` changes (for caches of chain shapes)."""
    return _generation


def _added(span: ReadableSpan, added: Mapping[str, AttributeValue], events: Sequence[Event]) -> ReadableSpan:
    attributes = own_attributes(span)
    attributes.update(added)
    return _rebuilt(span, attributes, (*span.events, *events), tuple(span.links))


def invocation_of(span: ReadableSpan) -> Invocation | None:
    """The in-flight invocation whose span this is, if it is one."""
    context = span.context
    return None if context is None else _invocation.for_span(context.span_id)


def replace(
    span: ReadableSpan,
    *,
    attributes: Mapping[str, AttributeValue] | None = None,
    events: Sequence[Event] | None = None,
    links: Sequence[Link] | None = None,
    status: Status | None = None,
) -> ReadableSpan:
    """A copy of *span* with other attributes, events, links or status (everything else kept)."""
    return _rebuilt(
        span,
        own_attributes(span) if attributes is None else dict(attributes),
        tuple(span.events) if events is None else tuple(events),
        tuple(span.links) if links is None else tuple(links),
        status,
    )


def _rebuilt(
    span: ReadableSpan,
    attributes: dict[str, AttributeValue],
    events: tuple[Event, ...],
    links: tuple[Link, ...],
    status: Status | None = None,
) -> ReadableSpan:
    """*span* with these containers, which become the copy's own (callers pass fresh ones)."""
    return RewrittenSpan(span, attributes, events, links, span.status if status is None else status)


class RewrittenSpan(ReadableSpan):
    """A finished span with other attributes, events, links or status, and every other field its own.

    Not rebuilt through ``ReadableSpan(...)``: that constructor knows only the fields of the
    SDK version it comes from and takes plain containers, so a span over its limits lost
    its dropped counts, and a field a later SDK adds would be lost too. Here every field of
    the original is carried over as it is (its instance dictionary), only the four that
    change are replaced, and the dropped counts stay the original's.
    ``tests/processors/test_rewritten_span.py`` compares each public field with the
    original's, over and under the limits, on the installed SDK.
    """

    def __init__(
        self,
        original: ReadableSpan,
        attributes: dict[str, AttributeValue],
        events: tuple[Event, ...],
        links: tuple[Link, ...],
        status: Status,
    ) -> None:
        # No super().__init__(): it would reset what vars() carries over.
        self.__dict__.update(vars(original))
        self._dropped_counts = (original.dropped_attributes, original.dropped_events, original.dropped_links)
        self._attributes = attributes
        self._events = events
        self._links = links
        self._status = status

    @property
    def dropped_attributes(self) -> int:
        return self._dropped_counts[0]

    @property
    def dropped_events(self) -> int:
        return self._dropped_counts[1]

    @property
    def dropped_links(self) -> int:
        return self._dropped_counts[2]
