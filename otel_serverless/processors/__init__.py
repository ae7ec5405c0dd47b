"""Serverless span processors: small, one concern each, composable.

=================  =========================================  ==============
processor          adds                                       hook
=================  =========================================  ==============
ColdStartProcessor faas.coldstart, init type/duration, killed  span start
RetryProcessor     serverless.retry, serverless.retry.attempt  span start
MemoryProcessor    peak memory vs configured, near-limit event before export
CostProcessor      billed duration, GB-s, USD                  before export
ScrubbingProcessor secrets redacted in every span              before export
=================  =========================================  ==============

``configure()`` (and so the distro and the exec wrapper) installs them all, or
those named in ``OTEL_SERVERLESS_PROCESSORS``. From Python, one by one::

    provider.add_span_processor(ColdStartProcessor())
    provider.add_span_processor(ScrubbingProcessor(then=BatchSpanProcessor(exporter)))

Export-time processors take the processor they feed as ``then``;
:func:`export_chain` builds the whole chain in front of an exporting processor.
"""

from __future__ import annotations

import weakref
from typing import Final

from opentelemetry.sdk.trace import SpanProcessor, TracerProvider

from otel_serverless import _settings
from otel_serverless import environment_variables as env
from otel_serverless._guard import preview, warn_once
from otel_serverless.export._batch import DeadlineBatchSpanProcessor
from otel_serverless.processors._stage import ServerlessProcessor
from otel_serverless.processors.coldstart import ColdStartProcessor
from otel_serverless.processors.cost import CostProcessor, Prices
from otel_serverless.processors.memory import MemoryProcessor
from otel_serverless.processors.retries import RetryProcessor
from otel_serverless.processors.scrubbing import Scrubber, ScrubbingProcessor

__all__ = [
    "ColdStartProcessor",
    "CostProcessor",
    "MemoryProcessor",
    "Prices",
    "RetryProcessor",
    "Scrubber",
    "ScrubbingProcessor",
    "ServerlessProcessor",
    "enabled",
    "export_chain",
    "install",
]

ALL: Final = ("coldstart", "retries", "memory", "cost", "scrub")
_START: Final[dict[str, type[ServerlessProcessor]]] = {"coldstart": ColdStartProcessor, "retries": RetryProcessor}
#: Order of the export chain, outermost first: scrubbing last, so it sees what the others added.
_EXPORT: Final[dict[str, type[ServerlessProcessor]]] = {
    "memory": MemoryProcessor,
    "cost": CostProcessor,
    "scrub": ScrubbingProcessor,
}
#: Each provider's installed chain head (None: nothing was installed in front of it).
_installed: weakref.WeakKeyDictionary[TracerProvider, ServerlessProcessor | None] = weakref.WeakKeyDictionary()


def enabled() -> tuple[str, ...]:
    """The processors OTEL_SERVERLESS_PROCESSORS (and OTEL_SERVERLESS_SCRUB) turn on."""
    names = tuple(name.lower() for name in _settings.read_list(env.OTEL_SERVERLESS_PROCESSORS, ALL))
    unknown = sorted(set(names) - {*ALL, "none"})
    if unknown:
        warn_once(
            f"setting:{env.OTEL_SERVERLESS_PROCESSORS}",
            f"otel-serverless: {env.OTEL_SERVERLESS_PROCESSORS} names no such processor "
            f"{preview(', '.join(unknown))}; ignored (known: {', '.join(ALL)}, none)",
        )
    chosen = tuple(name for name in ALL if name in names)
    if not _settings.read_bool(env.OTEL_SERVERLESS_SCRUB, True):
        chosen = tuple(name for name in chosen if name != "scrub")
    return chosen


def install(provider: TracerProvider, then: SpanProcessor | None = None) -> None:
    """Add the enabled start-time processors to *provider*, once, in front of *then* if given.

    *then* (an export chain) is added to *provider* either way. In front of it, the
    start-time stages share its place on the provider: the provider calls each of its
    processors for every span's start and end, so one chain is cheaper than two.
    """
    if provider in _installed:
        if then is not None:
            provider.add_span_processor(then)
        return
    # One processor on the provider for all of them (the first, with the others as its stages).
    chain: SpanProcessor | None = then
    for name in reversed([name for name in enabled() if name in _START]):
        chain = _START[name](then=chain)
    _installed[provider] = chain if isinstance(chain, ServerlessProcessor) else None
    if chain is not None:
        provider.add_span_processor(chain)


def head(provider: TracerProvider) -> ServerlessProcessor | None:
    """The serverless chain :func:`install` put on *provider*, if any."""
    return _installed.get(provider)


def export_chain(exporting: SpanProcessor) -> SpanProcessor:
    """*exporting* behind the enabled export-time processors (itself if none are).

    Scrubbing is handed to the exporter instead of a stage when *exporting* is our batch
    processor in front of an exporter that scrubs as it encodes (ours, by default): no
    one else sees the spans in between, the same bytes go out, and only the values the
    encoder has not just met are looked at (a stage walks every attribute of every span).
    """
    chain = exporting
    names = [name for name in enabled() if name in _EXPORT]
    if "scrub" in names and _scrubs_on_encode(exporting):
        names.remove("scrub")
    for name in reversed(names):
        chain = _EXPORT[name](then=chain)
    return chain


def _scrubs_on_encode(exporting: SpanProcessor) -> bool:
    if type(exporting) is not DeadlineBatchSpanProcessor:  # a subclass may show the spans to others
        return False
    hand_over = getattr(exporting.exporter, "scrub_on_encode", None)
    if not callable(hand_over):
        return False
    hand_over(Scrubber.from_env().value)
    return True
