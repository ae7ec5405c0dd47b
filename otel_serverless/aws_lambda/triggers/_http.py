"""HTTP triggers share this: headers → parent context, request → ``http.*`` attributes.

Headers are hostile input. Only the fields the global propagator asks for are
looked at (case-insensitively, across ``headers`` and ``multiValueHeaders``); a
value longer than :data:`MAX_FIELD_CHARS` is dropped unread, and two different
``traceparent`` values (or X-Ray headers) make the request's context ambiguous,
so none is used: a request must not be able to choose its parent by repetition.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from opentelemetry import propagate
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import SpanKind

from otel_serverless import attributes as attr
from otel_serverless._guard import preview, warn_once
from otel_serverless.aws_lambda.triggers import _base as base
from otel_serverless.aws_lambda.triggers._extract import valid

#: W3C caps baggage at 8192 bytes; anything longer is not a propagation field.
MAX_FIELD_CHARS: Final = 8192
#: Header names scanned per request (a request with more still gets a context from the first ones).
MAX_HEADER_NAMES: Final = 512
#: Fields that identify one parent: several different values mean "no parent".
_SINGLE_VALUED: Final = frozenset({"traceparent", "x-amzn-trace-id", "x-b3-traceid", "b3", "uber-trace-id"})


class _LowerGetter(Getter[Mapping[str, str]]):
    def get(self, carrier: Mapping[str, str], key: str) -> list[str] | None:
        value = carrier.get(key.lower())
        return None if value is None else [value]

    def keys(self, carrier: Mapping[str, str]) -> list[str]:
        return list(carrier)


_getter: Final = _LowerGetter()


_wanted_for: tuple[object, frozenset[str]] = (None, frozenset())


def _wanted() -> frozenset[str]:
    """The header names the global propagator reads, lower-cased (kept while it stays the same object)."""
    global _wanted_for
    propagator = propagate.get_global_textmap()
    known, names = _wanted_for
    if known is not propagator:
        names = frozenset(name.lower() for name in propagator.fields)
        _wanted_for = (propagator, names)
    return names


#: Headers read for attributes (besides the propagation fields), in the same pass.
_NAMED: Final = frozenset({"user-agent", "x-forwarded-proto"})


def _collect(event: Mapping[str, Any], wanted: frozenset[str]) -> tuple[dict[str, list[str]], dict[str, str]]:
    """One pass over the headers: the propagation fields' values, and the first value of each
    :data:`_NAMED` header (from ``headers`` before ``multiValueHeaders``)."""
    found: dict[str, list[str]] = {}
    named: dict[str, str] = {}  # from multiValueHeaders, then overridden from headers
    multi = base.mapping(event, "multiValueHeaders")
    single = base.mapping(event, "headers")
    for source, listed in ((multi, True), (single, False)):
        if not source:
            continue
        first_named: dict[str, str] = {}  # the first match within this source wins
        for count, (name, value) in enumerate(source.items()):
            if count >= MAX_HEADER_NAMES:
                break
            if not isinstance(name, str):
                continue
            lowered = name.lower()
            if lowered in _NAMED and lowered not in first_named:
                first = (value[0] if value else None) if isinstance(value, list) else value
                if isinstance(first, str):
                    first_named[lowered] = first[: base.MAX_VALUE_CHARS]
            if lowered not in wanted:
                continue
            values = value if listed and isinstance(value, list) else [value]
            bucket = found.setdefault(lowered, [])
            for item in values[:16]:
                if isinstance(item, str) and item not in bucket:
                    bucket.append(item)
        named.update(first_named)
    return found, named


def _chosen(collected: dict[str, list[str]]) -> dict[str, str]:
    """The propagation fields of the request, lower-cased, with ambiguous or oversize ones removed."""
    chosen: dict[str, str] = {}
    for name, values in collected.items():
        if any(len(value) > MAX_FIELD_CHARS for value in values):
            warn_once(
                f"http:oversize:{name}",
                f"otel-serverless: inbound header {preview(name, 40)} is longer than {MAX_FIELD_CHARS} "
                "characters; it is ignored",
            )
            continue
        if name in _SINGLE_VALUED and len(values) > 1:
            warn_once(
                f"http:ambiguous:{name}",
                f"otel-serverless: the request carries {len(values)} different {preview(name, 40)} "
                "headers; no inbound trace context is used",
            )
            continue
        if values:
            chosen[name] = ",".join(values)
    return chosen


def _extract(carrier: dict[str, str]) -> Context | None:
    """The caller's context (span context and baggage) from the request's fields, or None."""
    if not carrier:
        return None
    return valid(propagate.extract(carrier, context=Context(), getter=_getter))


def header(event: Mapping[str, Any], name: str) -> str | None:
    """One request header (case-insensitive), for attributes such as the user agent."""
    for key in ("headers", "multiValueHeaders"):
        source = base.mapping(event, key)
        if not source:
            continue
        for count, (found, value) in enumerate(source.items()):
            if count >= MAX_HEADER_NAMES:
                break
            if isinstance(found, str) and found.lower() == name:
                first = (value[0] if value else None) if isinstance(value, list) else value
                if isinstance(first, str):
                    return first[: base.MAX_VALUE_CHARS]
    return None


def trigger(
    event: Mapping[str, Any],
    name: str,
    *,
    method: str | None,
    path: str | None,
    route: str | None,
    host: str | None,
    client: str | None,
) -> base.Trigger:
    collected, named = _collect(event, _wanted())
    scheme = named.get("x-forwarded-proto")
    found = {
        attr.HTTP_REQUEST_METHOD: method,
        attr.URL_PATH: path,
        attr.HTTP_ROUTE: route,
        attr.SERVER_ADDRESS: host,
        attr.CLIENT_ADDRESS: client,
        attr.USER_AGENT_ORIGINAL: named.get("user-agent"),
        attr.URL_SCHEME: scheme if scheme in ("http", "https") else None,
    }
    attributes: base.Attributes = {key: value for key, value in found.items() if value is not None}
    return base.Trigger(
        name=name,
        faas_trigger=base.HTTP,
        kind=SpanKind.SERVER,
        attributes=attributes,
        parent=_extract(_chosen(collected)),
        http=True,
    )


def parent_from(headers_event: Mapping[str, Any]) -> Context | None:
    """The caller's context from the ``headers`` / ``multiValueHeaders`` of *headers_event*
    (any shape that carries request headers that way: AppSync, VPC Lattice, CloudFront …)."""
    collected, _ = _collect(headers_event, _wanted())
    return _extract(_chosen(collected))
