"""Serverless span processors: small, one concern each, composable.

=================  =========================================  =====================
processor          adds to the invocation span                when
=================  =========================================  =====================
ColdStartProcessor faas.coldstart, init type/duration, killed  at its start
RetryProcessor     serverless.retry, serverless.retry.attempt  at its start
MemoryProcessor    peak memory vs configured, near-limit event just before its end
CostProcessor      billed duration, GB-s, USD                  just before its end
=================  =========================================  =====================

They write on the live invocation span (see ``_stage``). ``ScrubbingProcessor`` is
the other kind: it scrubs every finished span, whichever instrumentation recorded
it, in front of the exporting processor it hands them to.

``configure()`` (and so the distro and the exec wrapper) installs them all, or those
named in ``OTEL_SERVERLESS_PROCESSORS``. From Python, one by one::

    provider.add_span_processor(ColdStartProcessor())
    provider.add_span_processor(CostProcessor(prices=Prices(x86_64=0.0000150000)))
    provider.add_span_processor(ScrubbingProcessor(then=BatchSpanProcessor(exporter)))

:func:`install` puts the enabled ones on a provider as one processor;
:func:`export_chain` puts the scrubbing stage in front of an exporting processor.
"""

from __future__ import annotations

import weakref
from typing import Final

from opentelemetry.sdk.trace import SpanProcessor, TracerProvider

from otel_serverless import _settings
from otel_serverless import environment_variables as env
from otel_serverless._guard import preview, warn_once
from otel_serverless.processors._stage import Installed, ServerlessProcessor
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
_FACTS: Final[dict[str, type[ServerlessProcessor]]] = {
    "coldstart": ColdStartProcessor,
    "retries": RetryProcessor,
    "memory": MemoryProcessor,
    "cost": CostProcessor,
}
#: Each provider's installed processors (see :func:`install`).
_installed: weakref.WeakKeyDictionary[TracerProvider, Installed] = weakref.WeakKeyDictionary()


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


def install(provider: TracerProvider) -> Installed:
    """The enabled invocation processors on *provider*, as one processor, once per provider."""
    installed = _installed.get(provider)
    if installed is None:
        installed = _installed[provider] = Installed(_FACTS[name]() for name in enabled() if name in _FACTS)
        if installed.processors:
            provider.add_span_processor(installed)
    return installed


def export_chain(exporting: SpanProcessor) -> SpanProcessor:
    """*exporting* behind the scrubbing stage, when scrubbing is enabled (else itself)."""
    if "scrub" not in enabled():
        return exporting
    return ScrubbingProcessor(then=exporting)
