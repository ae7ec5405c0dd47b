"""``@traced``: the decorator form of the handler wrapper."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, overload

from otel_serverless.aws_lambda._wrapper import invoke

_H = TypeVar("_H", bound=Callable[[Any, Any], Any])


@overload
def traced(handler: _H, *, tracer_provider: Any = None) -> _H: ...


@overload
def traced(handler: None = None, *, tracer_provider: Any = None) -> Callable[[_H], _H]: ...


def traced(handler: _H | None = None, *, tracer_provider: Any = None) -> _H | Callable[[_H], _H]:
    """Trace a Lambda handler: ``@traced`` or ``@traced(tracer_provider=…)``.

    The handler gets the caller's event and context unchanged; what it returns or
    raises is handed back unchanged. *tracer_provider* defaults to the global one.
    """

    def decorate(function: _H) -> _H:
        @functools.wraps(function)
        def wrapper(event: Any, context: Any) -> Any:
            return invoke(function, event, context, tracer_provider)

        return wrapper  # type: ignore[return-value]  # same call signature as *function*

    return decorate(handler) if handler is not None else decorate
