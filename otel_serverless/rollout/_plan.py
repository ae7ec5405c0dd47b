"""What instrument and uninstrument would do to one function: pure decisions, no AWS calls.

A plan is a :class:`Change` (maybe empty: nothing to do) or a :class:`Skip` with the
reason the function cannot be changed safely. The runner fetches what a plan needs
(tags, the layer ARN) and applies it; everything here is decided from the function's
configuration as ``ListFunctions`` / ``GetFunctionConfiguration`` return it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from otel_serverless.rollout import _layers
from otel_serverless.rollout._record import MAX_TAGS, Record, encode, is_record_key

WRAPPER: Final = "/opt/otel-serverless-handler"
EXEC_WRAPPER: Final = "AWS_LAMBDA_EXEC_WRAPPER"
#: Lambda's limits: layers per function, and the environment's size (its variables as JSON).
MAX_LAYERS: Final = 5
MAX_ENV_BYTES: Final = 4096
#: The layer's package needs this Python or newer.
MIN_PYTHON: Final = (3, 10)
#: Values under such names are treated as secrets: never recorded, never printed.
SECRET_NAME: Final = re.compile(r"HEADERS|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|API_?KEY|PRIVATE", re.IGNORECASE)


@dataclass(frozen=True)
class Skip:
    """The function is left as it is, for this reason."""

    reason: str


@dataclass(frozen=True)
class Change:
    """The function's layers and environment before and after; the record tags to write or drop."""

    layers_before: tuple[str, ...]
    layers_after: tuple[str, ...]
    env_before: Mapping[str, str]
    env_after: Mapping[str, str]
    #: Tags to write before the update (instrument) — empty when the record stays as it is.
    record_tags: Mapping[str, str] = field(default_factory=dict)
    #: Tag keys to remove after the update (uninstrument; stale chunks).
    untag: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def changes_function(self) -> bool:
        return self.layers_before != self.layers_after or dict(self.env_before) != dict(self.env_after)

    @property
    def empty(self) -> bool:
        return not self.changes_function and not self.record_tags and not self.untag


@dataclass(frozen=True)
class Desired:
    """The variables instrument sets, besides the exec wrapper (the service name is per function)."""

    endpoint: str | None = None
    service_name_from: str = "function"  # or "tag"
    service_name_tag: str = "service"
    extra: Mapping[str, str] = field(default_factory=dict)

    def variables(self, name: str, tags: Mapping[str, str] | None) -> tuple[dict[str, str], tuple[str, ...]]:
        """The variables for function *name*, and notes (a missing service tag falls back to the name)."""
        found: dict[str, str] = {EXEC_WRAPPER: WRAPPER}
        notes: tuple[str, ...] = ()
        if self.endpoint:
            found["OTEL_EXPORTER_OTLP_ENDPOINT"] = self.endpoint
        service = name
        if self.service_name_from == "tag":
            value = (tags or {}).get(self.service_name_tag)
            if value:
                service = value
            else:
                notes = (f"no {self.service_name_tag!r} tag: service name is the function name",)
        found["OTEL_SERVICE_NAME"] = service
        found.update(self.extra)
        return found, notes


def env_bytes(env: Mapping[str, str]) -> int:
    """The size Lambda holds against its 4 KB limit: the variables as compact JSON."""
    return len(json.dumps(dict(env), separators=(",", ":"), ensure_ascii=False).encode())


def layers_of(config: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(layer["Arn"]) for layer in config.get("Layers") or ())


def env_of(config: Mapping[str, Any]) -> dict[str, str] | Skip:
    environment = config.get("Environment") or {}
    if environment.get("Error"):
        code = str(environment["Error"].get("ErrorCode", "error"))[:80]
        return Skip(f"environment unreadable ({code})")
    return dict(environment.get("Variables") or {})


def unsafe(config: Mapping[str, Any]) -> Skip | None:
    """Why the function can never take the layer, from its configuration alone; None when it can."""
    if config.get("PackageType") == "Image":
        return Skip("container image (no layers): build the wrapper into the image")
    runtime = config.get("Runtime")
    python = _layers.python_of(runtime)
    if python is None:
        return Skip(f"runtime {runtime or 'unknown'} is not Python")
    if python < MIN_PYTHON:
        return Skip(f"runtime {runtime}: the layer needs Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer")
    env = env_of(config)
    if isinstance(env, Skip):
        return env
    wrapper = env.get(EXEC_WRAPPER)
    if wrapper and wrapper != WRAPPER:
        return Skip(f"another exec wrapper: {wrapper[:120]}")
    return None


def architecture(config: Mapping[str, Any]) -> str:
    return str((config.get("Architectures") or ["x86_64"])[0])


def instrumented(config: Mapping[str, Any], owns: Callable[[str], bool]) -> bool:
    """Whether the function shows our marks: our exec wrapper or one of our layers."""
    env = env_of(config)
    wrapper = env.get(EXEC_WRAPPER) if isinstance(env, dict) else None
    return wrapper == WRAPPER or any(owns(arn) for arn in layers_of(config))


def _with_layer(layers: Sequence[str], layer: str, owns: Callable[[str], bool]) -> tuple[str, ...]:
    """*layers* with ours in place of any earlier version of ours, else appended (order kept)."""
    if any(owns(arn) for arn in layers):
        return tuple(dict.fromkeys(layer if owns(arn) else arn for arn in layers))
    return (*layers, layer)


def plan_instrument(
    config: Mapping[str, Any],
    *,
    tags: Mapping[str, str] | None,
    record: Record | None,
    layer: str,
    desired: Mapping[str, str],
    owns: Callable[[str], bool],
    notes: tuple[str, ...] = (),
) -> Change | Skip:
    """The change that instruments the function (``unsafe(config)`` already passed).

    *tags*/*record* may be None when not fetched yet: the plan is then exact for the
    function, but its ``record_tags`` are provisional (the runner fetches the tags and
    plans again before it writes anything).
    """
    env = env_of(config)
    if isinstance(env, Skip):
        return env
    layers = layers_of(config)
    ours_already = any(owns(arn) for arn in layers)
    if not ours_already and len(layers) >= MAX_LAYERS:
        return Skip(f"{len(layers)} layers already (Lambda allows {MAX_LAYERS})")
    env_after = {**env, **desired}
    size = env_bytes(env_after)
    if size > MAX_ENV_BYTES:
        return Skip(f"environment would be {size} bytes, over Lambda's 4 KB")
    # The record keeps the state before the first instrument: a later run only adds variables
    # it sets for the first time (their current values are still the user's own).
    if record is not None and (ours_already or env.get(EXEC_WRAPPER) == WRAPPER):
        wanted = Record(record.layers, layer, {**record.env})
    else:
        wanted = Record(layers, layer, {})
    before_env = {**wanted.env, **{key: env.get(key) for key in desired if key not in wanted.env}}
    wanted = Record(wanted.layers, layer, before_env)
    for key, value in before_env.items():
        if value is not None and value != desired.get(key) and SECRET_NAME.search(key):
            return Skip(f"would replace {key}, which looks secret (the rollout record is a tag, readable by more)")
    record_tags = _record_tags(wanted, record, tags)
    if isinstance(record_tags, Skip):
        return record_tags
    return Change(
        layers_before=layers,
        layers_after=_with_layer(layers, layer, owns),
        env_before=env,
        env_after=env_after,
        record_tags=record_tags,
        untag=tuple(sorted(k for k in tags or {} if is_record_key(k) and k not in record_tags)) if record_tags else (),
        notes=notes,
    )


def _record_tags(wanted: Record, record: Record | None, tags: Mapping[str, str] | None) -> dict[str, str] | Skip:
    """The tags to write for *wanted* (none when the function already holds it)."""
    if wanted == record:
        return {}
    try:
        record_tags = encode(wanted)
    except ValueError as error:
        return Skip(str(error))
    others = sum(1 for key in tags or {} if not is_record_key(key))
    if others + len(record_tags) > MAX_TAGS:
        return Skip(f"no room for the rollout record: {others} tags of {MAX_TAGS}")
    return record_tags


def plan_uninstrument(config: Mapping[str, Any], tags: Mapping[str, str], record: Record) -> Change | Skip:
    """The change that puts back what *record* says instrument replaced, and drops the record."""
    env = env_of(config)
    if isinstance(env, Skip):
        return env
    layers = layers_of(config)
    ours = _layers.name_of(record.layer)
    notes: tuple[str, ...] = ()
    if layers == _with_layer(record.layers, record.layer, lambda arn: _layers.name_of(arn) == ours):
        layers_after = record.layers
    else:
        # The list changed since instrument: take ours out, keep what someone else did.
        layers_after = tuple(arn for arn in layers if _layers.name_of(arn) != ours)
        notes = ("layers changed since instrument: removed ours, kept the others",)
    env_after = dict(env)
    for key, value in record.env.items():
        if value is None:
            env_after.pop(key, None)
        else:
            env_after[key] = value
    return Change(
        layers_before=layers,
        layers_after=layers_after,
        env_before=env,
        env_after=env_after,
        untag=tuple(sorted(key for key in tags if is_record_key(key))),
        notes=notes,
    )
