"""Scrubbing: secrets never leave the process, whichever instrumentation recorded them.

A stage in front of the exporting processor, so it sees every finished span —
ours, botocore's, a user's — and rewrites, in attributes, event attributes and
link attributes:

* the value under a key that looks like a secret (``password``, ``secret``,
  ``token``, ``key``, ``credential``, ``authorization``, ``session``, ``cookie`` …,
  plus ``OTEL_SERVERLESS_SCRUB_PATTERNS``); for dotted attribute keys each part is
  checked (``http.request.header.authorization``);
* ``name=value``, ``"name": "value"`` pairs with such a name, and ``Bearer``/``Basic``
  credentials, inside any string value (URLs, JSON payloads, messages).

Where our batch processor and OTLP exporter follow, the stage is not built at all:
the exporter applies :meth:`Scrubber.value` to each value as it encodes it
(``processors.export_chain``), with the same result.

The handler wrapper scrubs captured payloads structurally with the same rules
before they are even recorded, so they stay clean under any provider.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor
from opentelemetry.trace import Link
from opentelemetry.util.types import AttributeValue

from otel_serverless import _settings
from otel_serverless import environment_variables as env
from otel_serverless._sdk_spans import has_extras, own_attributes
from otel_serverless.processors._stage import ServerlessProcessor, plain_copy, replace

REDACTED: Final = "[REDACTED]"

#: Names that mark a secret (matched case-insensitively anywhere in a key).
SECRET_NAMES: Final = (
    r"passw(?:or)?d",
    r"pwd",
    r"secret",
    r"token",
    r"credential",
    r"authori[sz]ation",
    r"session",
    r"cookie",
    r"api[-_]?key",
    r"private[-_]?key",
    r"access[-_]?key",
    r"signature",
    # "key" on its own (or as a word: x-key, key_id) but not inside words like "monkey".
    r"(?:^|[^a-z])keys?(?:$|[^a-z])",
)
#: Standard attribute keys whose value is never a secret although a part matches.
SAFE_KEYS: Final = frozenset({"aws.s3.key", "faas.document.name", "messaging.kafka.message.key"})
#: Deepest structure scrubbed (deeper levels are replaced whole).
MAX_DEPTH: Final = 32


class Scrubber:
    """The scrubbing rules: key names and in-text patterns."""

    def __init__(self, extra: Sequence[re.Pattern[str]] = ()) -> None:
        names = [*SECRET_NAMES, *(pattern.pattern for pattern in extra)]
        self._key = re.compile("|".join(f"(?:{name})" for name in names), re.IGNORECASE)
        word = "|".join(f"(?:{name})" for name in names[:-1])  # the bare "key" rule is too loose in text
        self._pair = re.compile(
            rf"""(?P<name>[\w.-]*(?:{word})[\w.-]*)(?P<sep>["']?\s*[:=]\s*["']?)(?P<value>(?:(?:Bearer|Basic|Digest|Token)\s+)?[^"'&\s,;}}]+)""",
            re.IGNORECASE,
        )
        self._hint = re.compile(rf"{word}|bearer\s|basic\s", re.IGNORECASE)
        #: Attribute keys come from a small set: remember each verdict (bounded).
        self._verdicts: dict[str, bool] = {}
        #: Short attribute values already found clean (ARNs, routes, user agents recur on every
        #: invocation): a set lookup instead of the regex (bounded; a str caches its own hash).
        self._clean: set[str] = set()
        self._scheme = re.compile(r"\b(?P<scheme>Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}", re.IGNORECASE)

    @classmethod
    def from_env(cls) -> Scrubber:
        return cls(_settings.read_patterns(env.OTEL_SERVERLESS_SCRUB_PATTERNS))

    def secret_key(self, key: str) -> bool:
        return bool(self._key.search(key))

    def secret_attribute(self, key: str) -> bool:
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = key not in SAFE_KEYS and any(self.secret_key(part) for part in key.split("."))
            if len(self._verdicts) < 4096:
                self._verdicts[key] = verdict
        return verdict

    def text(self, value: str) -> str:
        if ("=" not in value and ":" not in value and " " not in value) or not self._hint.search(value):
            return value
        scrubbed = self._pair.sub(lambda m: f"{m['name']}{m['sep']}{REDACTED}", value)
        return self._scheme.sub(lambda m: f"{m['scheme']} {REDACTED}", scrubbed)

    def structure(self, value: Any, depth: int = 0) -> Any:
        """A scrubbed copy of a JSON-like structure (the original is never modified)."""
        if depth > MAX_DEPTH:
            return REDACTED
        if isinstance(value, Mapping):
            return {
                key: REDACTED if isinstance(key, str) and self.secret_key(key) else self.structure(item, depth + 1)
                for key, item in value.items()
            }
        if isinstance(value, (list, tuple)):
            return [self.structure(item, depth + 1) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def attributes(self, attributes: Mapping[str, AttributeValue] | None) -> dict[str, AttributeValue] | None:
        """Scrubbed attributes, or None when nothing needed scrubbing."""
        if not attributes:
            return None
        out = plain_copy(attributes)
        return out if self.scrub_in_place(out) else None

    def scrub_in_place(self, attributes: dict[str, AttributeValue]) -> bool:
        """Scrub a dict the caller owns; True if anything changed. Runs on every span."""
        changed = False
        verdicts = self._verdicts
        for key, value in attributes.items():
            secret = verdicts.get(key)
            if secret is None:
                secret = self.secret_attribute(key)
            new: AttributeValue
            if secret:
                new = REDACTED
            elif isinstance(value, str):
                if "=" not in value and ":" not in value and " " not in value:
                    continue  # text()'s own first test, inlined: most values end here
                if value in self._clean:
                    continue
                new = self._remembered_text(value)
            elif isinstance(value, (tuple, list)) and value and isinstance(value[0], str):
                new = self._sequence(value)
            else:
                continue
            if new is not value and new != value:
                attributes[key] = new  # replacing a value while iterating is safe: no key is added
                changed = True
        return changed

    def value(self, key: str, value: AttributeValue) -> AttributeValue:
        """One attribute's value as :meth:`scrub_in_place` leaves it (the same object when clean).

        What an exporter that scrubs as it encodes calls (see :func:`export_chain`); it
        calls this only for values it has not met under the same key just before.
        """
        secret = self._verdicts.get(key)
        if secret is None:
            secret = self.secret_attribute(key)
        if secret:
            return REDACTED
        if isinstance(value, str):
            if ("=" not in value and ":" not in value and " " not in value) or value in self._clean:
                return value
            return self._remembered_text(value)
        if isinstance(value, (tuple, list)) and value and isinstance(value[0], str):
            return self._sequence(value)
        return value

    def _remembered_text(self, value: str) -> str:
        new = self.text(value)
        if new is value and len(value) <= _CLEAN_MAX_CHARS and len(self._clean) < _CLEAN_MAX_VALUES:
            self._clean.add(value)
        return new

    def _sequence(self, value: Sequence[Any]) -> Sequence[Any]:
        """A sequence of strings, each scrubbed (the same object when nothing changed)."""
        new = tuple(self.text(item) if isinstance(item, str) else item for item in value)
        return value if new == tuple(value) else new


_CLEAN_MAX_CHARS = 512
_CLEAN_MAX_VALUES = 1024


class ScrubbingProcessor(ServerlessProcessor):
    name = "scrub"

    def __init__(self, then: SpanProcessor | None = None, *, scrubber: Scrubber | None = None) -> None:
        super().__init__(then)
        self.scrubber = scrubber or Scrubber.from_env()

    def transform(self, span: ReadableSpan) -> ReadableSpan:
        scrubber = self.scrubber
        own = own_attributes(span)
        attributes = own if scrubber.scrub_in_place(own) else None
        may_have_events, may_have_links = has_extras(span)
        events: list[Event] | None = None
        if may_have_events:
            for index, event in enumerate(span.events):
                cleaned = scrubber.attributes(event.attributes)
                if cleaned is not None:
                    events = list(span.events) if events is None else events
                    events[index] = Event(event.name, cleaned, timestamp=event.timestamp)
        links: list[Link] | None = None
        if may_have_links:
            for index, link in enumerate(span.links):
                cleaned = scrubber.attributes(link.attributes)
                if cleaned is not None:
                    links = list(span.links) if links is None else links
                    links[index] = Link(link.context, cleaned)
        if attributes is None and events is None and links is None:
            return span
        return replace(span, attributes=attributes, events=events, links=links)
