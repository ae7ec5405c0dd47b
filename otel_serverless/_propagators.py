"""``OTEL_PROPAGATORS`` as users write it: a name that is not installed is a warning, not an error.

The SDK builds the global propagator when ``opentelemetry.propagate`` is first imported,
and raises ``ValueError`` there for a name no installed package provides (``b3``,
``jaeger`` …). Every module that imports it then fails: plain code gets the exception,
and the Lambda wrapper, which swallows it, silently stops propagating. So before
anything imports it, names that are not installed are left out, with one warning that
names the package to install, and propagation goes on with the rest (the W3C default if
nothing is left).
"""

from __future__ import annotations

import os
import sys
from typing import Final

VARIABLE: Final = "OTEL_PROPAGATORS"
#: Names the SDK knows without looking for a plugin.
BUILT_IN: Final = frozenset({"tracecontext", "baggage", "none"})
DEFAULT: Final = "tracecontext,baggage"
#: The distribution that provides each well-known propagator.
PACKAGES: Final = {
    "b3": "opentelemetry-propagator-b3",
    "b3multi": "opentelemetry-propagator-b3",
    "jaeger": "opentelemetry-propagator-jaeger",
    "ot_trace": "opentelemetry-propagator-ot-trace",
    "xray": "opentelemetry-propagator-aws-xray",
    "xray-lambda": "opentelemetry-propagator-aws-xray",
}


def _installed(name: str) -> bool:
    from importlib.metadata import entry_points

    return any(True for _ in entry_points(group="opentelemetry_propagator", name=name))


def usable(configured: str) -> tuple[str, list[str]]:
    """The value to build the global propagator from, and the names left out of *configured*."""
    names = [name.strip() for name in configured.split(",") if name.strip()]
    missing = [name for name in names if name.lower() not in BUILT_IN and not _installed(name)]
    kept = [name for name in names if name not in missing]
    return (",".join(kept) if kept else DEFAULT), missing


def load_global() -> None:
    """Import ``opentelemetry.propagate`` with the installed propagators only (once, before anyone else).

    Never raises: it runs when ``otel_serverless`` is imported.
    """
    if "opentelemetry.propagate" in sys.modules:
        return
    configured = os.environ.get(VARIABLE)
    if not configured or {name.strip().lower() for name in configured.split(",")} <= BUILT_IN:
        return  # the usual case: nothing to look up
    from otel_serverless._guard import guard, preview, report, warn_once  # only on this rare path

    with guard("propagators"):
        value, missing = usable(configured)
        if not missing:
            return
        named = ", ".join(preview(name, 40) for name in missing)
        packages = sorted({PACKAGES.get(name.lower(), f"the one providing {preview(name, 40)}") for name in missing})
        warn_once(
            "propagators:missing",
            f"otel-serverless: {VARIABLE} names {named}, not installed (install {' and '.join(packages)}); "
            f"propagating with {value} instead",
        )
        os.environ[VARIABLE] = value
        try:
            import opentelemetry.propagate  # noqa: F401  # builds the global propagator from the value above
        except Exception as error:  # the SDK's own failure (a plugin that does not load)
            report("propagators", error)
        finally:
            os.environ[VARIABLE] = configured  # the user's environment, as it was
