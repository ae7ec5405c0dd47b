"""Read settings: explicit argument → environment variable → default.

A bad value never raises: it logs one warning naming the variable (with a short
excerpt of the value, never the value in full) and the default applies.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from typing import TypeVar

from otel_serverless._guard import preview, warn_once

_T = TypeVar("_T")

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _raw(name: str, environ: Mapping[str, str] | None) -> str | None:
    value = (os.environ if environ is None else environ).get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _fallback(name: str, raw: str, expected: str, default: object) -> None:
    warn_once(
        f"setting:{name}",
        f"otel-serverless: {name}={preview(raw)} is not {expected}; using the default {default!r}",
    )


def read(
    name: str,
    parse: Callable[[str], _T],
    default: _T,
    *,
    expected: str,
    explicit: _T | None = None,
    environ: Mapping[str, str] | None = None,
) -> _T:
    """The setting *name*: *explicit* if given, else the parsed variable, else *default*.

    *parse* raises ``ValueError`` for a bad value; *expected* says what was wanted.
    """
    if explicit is not None:
        return explicit
    raw = _raw(name, environ)
    if raw is None:
        return default
    try:
        return parse(raw)
    except ValueError:
        _fallback(name, raw, expected, default)
        return default


def read_bool(
    name: str, default: bool, *, explicit: bool | None = None, environ: Mapping[str, str] | None = None
) -> bool:
    def parse(raw: str) -> bool:
        lowered = raw.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(raw)

    return read(name, parse, default, expected="true or false", explicit=explicit, environ=environ)


def read_int(
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    explicit: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    def parse(raw: str) -> int:
        value = int(raw)
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise ValueError(raw)
        return value

    return read(
        name, parse, default, expected=_range("an integer", minimum, maximum), explicit=explicit, environ=environ
    )


def read_float(
    name: str,
    default: float,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    explicit: float | None = None,
    environ: Mapping[str, str] | None = None,
) -> float:
    def parse(raw: str) -> float:
        value = float(raw)
        if math.isnan(value) or (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise ValueError(raw)
        return value

    return read(name, parse, default, expected=_range("a number", minimum, maximum), explicit=explicit, environ=environ)


def read_choice(
    name: str,
    choices: tuple[str, ...],
    default: str,
    *,
    explicit: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> str:
    def parse(raw: str) -> str:
        lowered = raw.lower()
        if lowered not in choices:
            raise ValueError(raw)
        return lowered

    return read(name, parse, default, expected="one of " + ", ".join(choices), explicit=explicit, environ=environ)


def read_str(name: str, default: str, *, explicit: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    return read(name, str, default, expected="a string", explicit=explicit, environ=environ)


def read_list(
    name: str,
    default: tuple[str, ...],
    *,
    explicit: tuple[str, ...] | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[str, ...]:
    """A comma-separated list; empty items are dropped."""

    def parse(raw: str) -> tuple[str, ...]:
        return tuple(item.strip() for item in raw.split(",") if item.strip())

    return read(name, parse, default, expected="a comma-separated list", explicit=explicit, environ=environ)


def read_patterns(
    name: str,
    default: tuple[re.Pattern[str], ...] = (),
    *,
    environ: Mapping[str, str] | None = None,
) -> tuple[re.Pattern[str], ...]:
    """Comma-separated regular expressions; the whole setting falls back if one is invalid."""

    def parse(raw: str) -> tuple[re.Pattern[str], ...]:
        try:
            return tuple(re.compile(item.strip(), re.IGNORECASE) for item in raw.split(",") if item.strip())
        except re.error as error:
            raise ValueError(str(error)) from None

    return read(name, parse, default, expected="comma-separated regular expressions", environ=environ)


def _range(kind: str, minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f"{kind} from {minimum} to {maximum}"
    if minimum is not None:
        return f"{kind} ≥ {minimum}"
    if maximum is not None:
        return f"{kind} ≤ {maximum}"
    return kind


# -- read once per process -------------------------------------------------------------
# Lambda fixes a function's variables for the life of its environment, and a warm
# invocation should not re-read and re-parse a dozen of them (each os.environ read is
# about a microsecond). Hot paths read through per_process(); tests that change
# variables start from reset_for_tests() (the suite's autouse fixture calls it).
_memo: dict[str, object] = {}


def per_process(key: str, read: Callable[[], _T]) -> _T:
    """``read()``, evaluated once per process under *key* (until :func:`reset_for_tests`)."""
    try:
        return _memo[key]  # type: ignore[return-value]
    except KeyError:
        value = read()
        _memo[key] = value
        return value


def reset_for_tests() -> None:
    """Forget every per-process value: the next read sees the environment as it is now."""
    _memo.clear()
