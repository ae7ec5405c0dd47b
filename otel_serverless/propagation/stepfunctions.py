"""Step Functions: the context rides in the execution input, a JSON object.

Producer: StartExecution and StartSyncExecution get :data:`RESERVED_KEY` spliced
into ``input`` when it is a JSON object (an absent input is ``{}`` to Step
Functions, so it becomes ``{RESERVED_KEY: …}``) and stays within 256 KiB.

Consumer: a Lambda task that receives that input (the default when the state
passes ``$`` through), as a dict or as JSON text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from opentelemetry.context import Context

from otel_serverless.propagation import _payload
from otel_serverless.propagation._carrier import (
    INJECTED_PAYLOAD,
    NO_CONTEXT,
    RESERVED_KEY,
    Fields,
    Outcome,
)

__all__ = ["MAX_INPUT_BYTES", "RESERVED_KEY", "extract_input", "inject_input"]

#: Largest execution input Step Functions accepts (UTF-8 bytes).
MAX_INPUT_BYTES: Final = 262_144


def extract_input(payload: Any) -> Context | None:
    """Context from a Lambda task's input (dict, or JSON text), or None."""
    if isinstance(payload, bytearray):
        payload = bytes(payload)
    if isinstance(payload, (str, bytes)):
        if len(payload) > MAX_INPUT_BYTES:
            return None
        return _payload.extract_document(payload)
    return _payload.extract_from(payload)


def inject_input(params: Mapping[str, Any], fields: Fields) -> tuple[Mapping[str, Any], Outcome]:
    """A copy of StartExecution/StartSyncExecution params with the context in ``input``."""
    if not fields:
        return params, Outcome(reason=NO_CONTEXT)
    document = params.get("input")
    if document is None:
        document = "{}"
    if not isinstance(document, str):
        return params, Outcome(reason=_payload.NOT_JSON_OBJECT)
    new_input, reason = _payload.embed(document, fields, MAX_INPUT_BYTES)
    if new_input is None:
        return params, Outcome(reason=reason)
    return {**params, "input": new_input}, INJECTED_PAYLOAD
