"""Scrubbing: secrets never leave the process, whichever instrumentation recorded them.

One set of rules (:class:`Scrubber`) for every place a user's data reaches a span:
attributes, event attributes (exception messages and stack texts, log records turned
into events), link attributes, status descriptions, and the payloads the handler
wrapper and the producer hooks capture. A value is masked *whole* (``[REDACTED]``,
never its first word only) when

* it goes under a name that says it is a secret (:mod:`otel_serverless._secrets`: ``password``,
  ``passphrase``, ``pin``, ``cvv``, ``ssn``, ``otp``, ``card_number``, ``X-Acme-Auth``,
  ``X-Amz-Signature``, ``sig`` …, plus ``OTEL_SERVERLESS_SCRUB_PATTERNS``) — as an
  attribute key (each part of a dotted key: ``http.request.header.authorization``), a
  key of a structure, a ``name=value`` / ``"name": "value"`` / ``<name>value</name>``
  pair in text, or a ``{"name": "password", "value": …}`` pair;
* it has the shape of a credential, whatever its name: a URL with a password, an AWS
  access key id or secret key, a JWT, a PEM block, a bearer token, a card number …

Text that holds JSON is parsed and scrubbed as a structure, JSON text inside it too
(an SNS envelope in an SQS body), :data:`MAX_DEPTH` levels deep; base64 text that
decodes to JSON (Kinesis data) is decoded, and where it held a secret the scrubbed
JSON replaces it.

This module holds the rules, below every layer that records data: the scrubbing stage
(:class:`otel_serverless.processors.scrubbing.ScrubbingProcessor`, in front of every
exporter), the handler wrapper, the log events and our own log lines all use them.

The handler wrapper scrubs captured payloads structurally with the same rules
before they are even recorded, so they stay clean under any provider, and an
exception's message before it is cut to the length of a status description.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final
from urllib.parse import unquote_plus

from opentelemetry.util.types import AttributeValue

from otel_serverless import _secrets, _settings
from otel_serverless import environment_variables as env
from otel_serverless._sdk_spans import plain_copy
from otel_serverless._text import pattern, preview

REDACTED: Final = "[REDACTED]"

#: Standard attribute keys whose value is never a secret although a part matches.
SAFE_KEYS: Final = frozenset({"aws.s3.key", "faas.document.name", "messaging.kafka.message.key"})
#: Keys whose values are identifiers minted by AWS or Lambda (request ids, message ids), never
#: text a user wrote: not searched. Real ones look like tokens (DynamoDB's and SQS's request
#: ids are long alphanumeric runs, S3's 16 hex digits), which sends each through every rule
#: of :meth:`Scrubber.text` on every AWS call's span.
IDENTIFIER_KEYS: Final = frozenset({"aws.request_id", "faas.invocation_id", "messaging.message.id"})
#: Deepest structure scrubbed, JSON text inside strings included (deeper levels are replaced whole).
MAX_DEPTH: Final = 32
#: Longest text parsed as JSON (or decoded from base64) to scrub it as a structure; longer
#: text gets the text rules only.
MAX_PARSED_CHARS: Final = 262_144
#: In a string without separators, only a run like this can be a secret (a key, a token, a
#: card number, base64): the usual attribute value (an id, a name) has none.
_BARE_RUN = re.compile(r"[A-Za-z0-9/+_]{13}|\d{4}-\d{4}-\d{4}-\d")
_SEPARATORS = ("=", ":", " ", "<", '"', "'", "\n")


def _plainly_clean(value: str) -> bool:
    """True when no rule can find a secret in *value* (a fast test for the usual value)."""
    for separator in _SEPARATORS:
        if separator in value:
            return False
    return not _BARE_RUN.search(value)


#: Keys of a ``{"name": …, "value": …}`` pair (AWS parameters, headers as lists, form fields).
_PAIR_NAMES: Final = frozenset({"name", "Name", "key", "Key", "ParameterKey", "parameter", "field", "Field"})
_PAIR_VALUES: Final = ("value", "Value", "ParameterValue", "values", "Values")

# name, its closing quote, the separator, then a value: a JSON string (escapes kept inside), a
# quoted string one level of JSON escaping deeper, a single-quoted string, or bare text up to
# the next delimiter or the next "name=" of the same line (whole values: spaces included).
_PAIR = (
    r"(?<![\w.\-])(?P<name>[A-Za-z_][\w.\-]{0,80})(?P<close>\\*[\"']?)(?P<sep>\s*[:=]\s*)"
    r"(?P<value>\[REDACTED\]|\"(?:[^\"\\\n]|\\.)*\"|(?P<q>\\+[\"']).*?(?P=q)|'[^'\n]*'"
    r"|[^\s&;,\"'}\]\\<][^&;,\r\n\"'}\]\\<]*?(?=\s+[\w.\-]+\s*[:=]|[&;,\r\n\"'}\]\\<]|$))"
)
_NAME_VALUE = (
    r"(?P<head>(?P<q>\\*\")(?:name|Name|key|Key|ParameterKey|parameter|field|Field)(?P=q)\s*:\s*(?P=q)"
    r"(?P<name>[^\"\\]{1,128})(?P=q)\s*,\s*(?P=q)(?:value|Value|ParameterValue)(?P=q)\s*:\s*)"
    r"(?P<value>(?P=q).*?(?P=q)|[^,}\s]+)"
)
_TAG = r"<(?P<name>[A-Za-z_][\w.:\-]{0,80})>(?P<value>[^<]{1,8192})</(?P=name)>"
#: Where a pair may be (with names of the user's own, which have no hint of their own).
_PAIRED = re.compile(r"[=:<]")
# Compiled at their first use (``_text.pattern``), as these rules are: only text that may hold
# a secret reaches them.
_PERCENT = r"%[0-9A-Fa-f]{2}"
_BASE64_JSON = r"[A-Za-z0-9+/]{16,}={0,2}"


class Scrubber:
    """The scrubbing rules: key names, pairs and credential shapes (see the module)."""

    def __init__(self, extra: Sequence[re.Pattern[str]] = ()) -> None:
        self._extra = re.compile("|".join(f"(?:{p.pattern})" for p in extra), re.IGNORECASE) if extra else None
        #: Keys come from a small set: remember each verdict (bounded).
        self._verdicts: dict[str, bool] = {}
        self._key_verdicts: dict[str, bool] = {}
        #: Short attribute values already found clean (ARNs, routes, user agents recur on every
        #: invocation): a set lookup instead of the regex (bounded; a str caches its own hash).
        self._clean: set[str] = set()

    @classmethod
    def from_env(cls) -> Scrubber:
        return cls(_settings.read_patterns(env.OTEL_SERVERLESS_SCRUB_PATTERNS))

    def secret_key(self, key: str) -> bool:
        verdict = self._key_verdicts.get(key)
        if verdict is None:
            verdict = _secrets.secret_name(key) or (self._extra is not None and bool(self._extra.search(key)))
            if len(self._key_verdicts) < 4096:
                self._key_verdicts[key] = verdict
        return verdict

    def secret_attribute(self, key: str) -> bool:
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = key not in SAFE_KEYS and any(self.secret_key(part) for part in key.split("."))
            if len(self._verdicts) < 4096:
                self._verdicts[key] = verdict
        return verdict

    def text(self, value: str, depth: int = 0) -> str:
        """*value* with every secret in it masked (the same object when there is none)."""
        if _plainly_clean(value) or (
            not _secrets.may_hold_secret(value) and (self._extra is None or not _PAIRED.search(value))
        ):
            return value
        if depth > MAX_DEPTH:
            return REDACTED
        if len(value) <= MAX_PARSED_CHARS:
            parsed = self._parsed(value, depth)
            if parsed is not None:
                return parsed
        # PEM blocks first: they span lines that a pair's value stops at. Pairs before the other
        # shapes: a secret's name masks its whole value, whatever shape a part of it has.
        scrubbed = _secrets.blocks(value)
        scrubbed = pattern(_NAME_VALUE).sub(self._masked_name_value, scrubbed)
        scrubbed = pattern(_PAIR).sub(lambda match: self._masked_pair(match, depth), scrubbed)
        if "</" in scrubbed:
            scrubbed = pattern(_TAG).sub(self._masked_tag, scrubbed)
        scrubbed = _secrets.shapes(scrubbed)
        if ("%" in scrubbed and pattern(_PERCENT).search(scrubbed)) or ("+" in scrubbed and "?" in scrubbed):
            # Percent-encoded text (a query string, a form body; "+" for a space in a URL): its
            # secrets are found decoded, and where there are some the scrubbed decoded text
            # replaces it.
            decoded = unquote_plus(scrubbed)
            again = self.text(decoded, depth + 1)
            if again is not decoded:
                return again
        return value if scrubbed == value else scrubbed

    def _parsed(self, value: str, depth: int) -> str | None:
        """*value* scrubbed as the JSON (or base64 JSON) it holds; None when it holds none."""
        text = value if value.lstrip()[:1] in ("{", "[") else _base64_json(value)
        if text is None:
            return None
        try:
            found = json.loads(text)
        except (ValueError, RecursionError):
            return None
        if not isinstance(found, (dict, list)):
            return None
        cleaned = self.structure(found, depth + 1)
        return value if cleaned == found else json.dumps(cleaned, ensure_ascii=False)

    def _masked_pair(self, match: re.Match[str], depth: int) -> str:
        value = match["value"]
        if not self.secret_key(match["name"]):
            # Not a secret's name: its value may still hold one (a pair inside a quoted value).
            inner = self.text(value, depth + 1) if len(value) > 2 else value  # two: only quotes
            return match[0] if inner == value else f"{match['name']}{match['close']}{match['sep']}{inner}"
        quote = match["q"] or (value[0] if value[:1] in ("'", '"') else "")
        return f"{match['name']}{match['close']}{match['sep']}{quote}{REDACTED}{quote}"

    def _masked_name_value(self, match: re.Match[str]) -> str:
        if not self.secret_key(match["name"]):
            return match[0]
        quote = match["q"] if match["value"].startswith(match["q"]) else ""
        return f"{match['head']}{quote}{REDACTED}{quote}"

    def _masked_tag(self, match: re.Match[str]) -> str:
        if not self.secret_key(match["name"]):
            return match[0]
        return f"<{match['name']}>{REDACTED}</{match['name']}>"

    def structure(self, value: Any, depth: int = 0) -> Any:
        """A scrubbed copy of a JSON-like structure (the original is never modified)."""
        if depth > MAX_DEPTH:
            return REDACTED
        if isinstance(value, Mapping):
            secret_value = self._named_pair(value)
            return {
                key: REDACTED
                if (isinstance(key, str) and self.secret_key(key)) or (secret_value and key in _PAIR_VALUES)
                else self.structure(item, depth + 1)
                for key, item in value.items()
            }
        if isinstance(value, (list, tuple)):
            return [self.structure(item, depth + 1) for item in value]
        if isinstance(value, str):
            return self.text(value, depth)
        return value

    def _named_pair(self, value: Mapping[Any, Any]) -> bool:
        """Whether *value* is a ``{"name": <a secret's name>, "value": …}`` pair."""
        if len(value) > 8 or not any(key in value for key in _PAIR_VALUES):  # a pair is small
            return False
        return any(isinstance(name, str) and self.secret_key(name) for key, name in value.items() if key in _PAIR_NAMES)

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
                if value in self._clean or key in IDENTIFIER_KEYS:
                    continue  # most values end here: they recur on every invocation
                new = self._remembered_text(value)
            elif isinstance(value, (tuple, list)) and value and isinstance(value[0], str):
                new = self._sequence(value)
            else:
                continue
            if new is not value and new != value:
                attributes[key] = new  # replacing a value while iterating is safe: no key is added
                changed = True
        return changed

    def _remembered_text(self, value: str) -> str:
        """``text(value)``; a short value found clean is remembered, so that next time it is not
        searched again (plainly clean ones too: their test is the costlier part of a span's scrub)."""
        new = self.text(value)
        if new is value and len(value) <= _CLEAN_MAX_CHARS:
            clean = self._clean
            if len(clean) >= _CLEAN_MAX_VALUES:
                clean.clear()  # values that never recur (ids, paths) filled it: start over
            clean.add(value)
        return new

    def _sequence(self, value: Sequence[Any]) -> Sequence[Any]:
        """A sequence of strings, each scrubbed (the same object when nothing changed)."""
        clean = self._clean
        new = tuple(
            self._remembered_text(item) if isinstance(item, str) and item not in clean else item for item in value
        )
        return value if new == tuple(value) else new


def _base64_json(value: str) -> str | None:
    """The JSON text *value* holds base64-encoded (Kinesis data, Kafka values), or None."""
    if value[:1] not in ("e", "W") or len(value) % 4 or not pattern(_BASE64_JSON).fullmatch(value):
        return None
    try:
        text = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    return text if text.lstrip()[:1] in ("{", "[") else None


def rules() -> Scrubber:
    """The process's scrubber (its rules compiled once; payload capture always uses it)."""
    return _settings.per_process("scrubbing.rules", Scrubber.from_env)


def default() -> Scrubber | None:
    """The process's scrubber, None when ``OTEL_SERVERLESS_SCRUB`` turns scrubbing off."""
    return rules() if _settings.per_process("scrubbing.on", _scrubbing_on) else None


def _scrubbing_on() -> bool:
    return _settings.read_bool(env.OTEL_SERVERLESS_SCRUB, True)


def clean_text(text: str) -> str:
    """*text* scrubbed by the process's scrubber (as it is when scrubbing is off): for text
    cut before it is recorded (exception messages, log lines), so that the cut cannot part a
    secret from what shows it is one."""
    scrubber = default()
    return text if scrubber is None else scrubber.text(text)


def describe(error: BaseException, limit: int = 200) -> str:
    """A span status description for *error*: its type and its message, scrubbed, then cut."""
    return f"{type(error).__name__}: {preview(clean_text(str(error)), limit)}"


_CLEAN_MAX_CHARS = 512
_CLEAN_MAX_VALUES = 1024
