"""Every call out: AWS SDK calls and HTTP client calls, each library when the code first imports it.

:func:`install` (run by :func:`otel_serverless.instrument`, so by ``configure()``,
the Lambda exec wrapper and ``opentelemetry-instrument`` through our distro) watches
for the import of botocore, urllib, urllib3, requests, httpx and aiohttp. Nothing
is imported ahead of the handler: a library it never imports costs nothing. When one
is imported, its first call loads the upstream OpenTelemetry instrumentor
(:mod:`._first_call` says why not at import) and from then on every call is a
CLIENT span carrying the context in its request headers (``OTEL_PROPAGATORS``).

AWS calls: our botocore instrumentation opens one span per call (service,
operation, region, endpoint, request id, HTTP status, the resource the call
names, retries and throttling: :mod:`otel_serverless.botocore._retries`) and
carries the context into the messages it sends. Upstream
``opentelemetry-instrumentation-botocore`` opens the span instead when
``OTEL_SERVERLESS_BOTOCORE_UPSTREAM`` is true or ours is disabled; ours then sits
outside it and adds to its span (one span per call, one copy of the context per
message, see :mod:`otel_serverless.botocore._upstream`). Ours by default because
upstream's span cost about 0.5 ms of each warm invocation with one AWS call
(benchmark G5) and carries nothing our features read that ours lacks.

``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS`` is honoured with upstream's names
(``botocore``, ``urllib``, ``urllib3``, ``requests``, ``httpx``, ``aiohttp-client``)
and ours (``otel_serverless_botocore``). A library whose instrumentor is not
installed (``pip install otel-serverless[instrumentations]``) is left alone, said
once in otel-serverless's log at info level.
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import threading
from types import ModuleType
from typing import Any, Final

from otel_serverless import _settings
from otel_serverless import environment_variables as env
from otel_serverless.instrumentation import _first_call, _post_import
from otel_serverless.instrumentation._libraries import BY_NAME, EXTRA, LIBRARIES, OURS_BOTOCORE, Library

__all__ = ["COVERED", "LIBRARIES", "OURS_BOTOCORE", "disabled", "install", "loaded", "reset_for_tests"]

logger = logging.getLogger(__name__)

#: The ``opentelemetry_instrumentor`` entry-point names :func:`install` covers.
COVERED: Final = frozenset({*BY_NAME, OURS_BOTOCORE})

_lock = threading.RLock()
_installed = False
#: Upstream instrumentors we instrumented, by library name (None: not installed).
_loaded: dict[str, Any] = {}
_armed: list[tuple[type, str]] = []


def disabled() -> frozenset[str]:
    """The names in ``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS`` (``*``: all of them)."""
    names = {name.strip() for name in os.environ.get("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "").split(",")}
    names.discard("")
    if "*" in names:
        return COVERED
    return frozenset(names)


def install() -> None:
    """Watch for every covered library's import (idempotent; costs no import)."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
        off = disabled()
        for library in LIBRARIES:
            if library.name == "botocore":
                continue
            if library.name not in off:
                _post_import.when_imported(library.module, functools.partial(_arm, library))
        ours = OURS_BOTOCORE not in off
        upstream = "botocore" not in off and (
            not ours or _settings.read_bool(env.OTEL_SERVERLESS_BOTOCORE_UPSTREAM, False)
        )
        if ours or upstream:
            _post_import.when_imported("botocore.client", functools.partial(_arm_botocore, ours, upstream))


def loaded() -> frozenset[str]:
    """The libraries whose upstream instrumentor has been loaded (at their first call)."""
    with _lock:
        return frozenset(name for name, instrumentor in _loaded.items() if instrumentor is not None)


def _arm(library: Library, module: ModuleType) -> None:
    # Whether the instrumentor is installed is found out at the first call, not here: a
    # lookup per library imported is cold-start time.
    for module_name, class_name, method in library.first_calls:
        owner = getattr(importlib.import_module(module_name), class_name, None)
        if isinstance(owner, type):
            _first_call.arm(owner, method, functools.partial(_load, library))
            _armed.append((owner, method))


def _load(library: Library) -> None:
    with _lock:
        if library.name in _loaded:
            return
        module_name, class_name = library.instrumentor.split(":", 1)
        try:
            instrumentor = getattr(importlib.import_module(module_name), class_name)()
        except ImportError:
            _loaded[library.name] = None  # not installed: asked once
            logger.info(
                "otel-serverless: %s calls are not traced: %s is not installed (pip install '%s')",
                library.name,
                library.distribution,
                EXTRA,
            )
            return
        # A user (or the demo) may have instrumented it already: never twice. No dependency check:
        # the library is imported (we were called from it), and the check reads the library's
        # packaging metadata, which a deployment package or runtime directory may not have
        # (the instrumentor then refuses and the calls go untraced).
        if not getattr(instrumentor, "is_instrumented_by_opentelemetry", False):
            instrumentor.instrument(skip_dep_check=True)
        _loaded[library.name] = instrumentor


def _arm_botocore(ours: bool, upstream: bool, module: ModuleType) -> None:
    from otel_serverless import botocore as propagation

    if ours:
        # Ours is two plain wrappers, no import: installed now, so context is carried from the first call.
        propagation.instrument()
    if not upstream:
        return
    client = getattr(module, "BaseClient", None)
    if isinstance(client, type):
        _first_call.arm(client, "_make_api_call", functools.partial(_load_botocore, ours))
        _armed.append((client, "_make_api_call"))


def _load_botocore(ours: bool) -> None:
    from otel_serverless import botocore as propagation

    # Upstream inside, ours outside: ours hands upstream a copy of the caller's parameters,
    # so upstream's per-field writes never reach the caller's objects (see botocore._upstream).
    if ours and propagation.is_instrumented():
        propagation.uninstrument()
    try:
        _load(BY_NAME["botocore"])
    finally:
        if ours:
            propagation.instrument()


def reset_for_tests() -> None:
    """Disarm unfired trampolines and uninstrument what we loaded (tests only)."""
    global _installed
    from otel_serverless import botocore as propagation

    with _lock:
        for owner, method in _armed:
            _first_call.disarm(owner, method)
        _armed.clear()
        ours = propagation.is_instrumented()
        if ours:
            propagation.uninstrument()
        for instrumentor in _loaded.values():
            if instrumentor is not None:
                instrumentor.uninstrument()
        _loaded.clear()
        if ours:
            propagation.instrument()
        _post_import.forget_all()
        _installed = False
