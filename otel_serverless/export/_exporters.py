"""Span exporters chosen by the standard variables.

``OTEL_TRACES_EXPORTER`` (``otlp`` by default, ``console``, ``none``, or any name
registered under the ``opentelemetry_traces_exporter`` entry point group) and
``OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`` / ``OTEL_EXPORTER_OTLP_PROTOCOL``
(``http/protobuf`` by default, or ``grpc``). Endpoint, headers, timeout,
compression and certificates are read by the OTLP exporters themselves, exactly
as the OpenTelemetry specification says. Imports are lazy: only the chosen
exporter's stack is loaded, which keeps gRPC off a Lambda's cold start.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from opentelemetry.sdk.trace.export import SpanExporter

from otel_serverless import _settings
from otel_serverless import environment_variables as env
from otel_serverless._guard import preview, warn_once

PROTOCOLS = ("http/protobuf", "grpc")


def otlp_protocol() -> str:
    """The OTLP protocol for traces; http/json is sent as http/protobuf, with one warning saying so."""
    general = _protocol("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    return _protocol("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", general)


def _protocol(name: str, default: str) -> str:
    if _settings.read_str(name, "").strip().lower() == "http/json":
        # A valid OTLP protocol, not a typo: no OpenTelemetry Python exporter sends it, and
        # every OTLP/HTTP receiver that takes JSON takes protobuf on the same path.
        warn_once(
            "exporter:http/json",
            f"otel-serverless: {name}=http/json: OTLP/JSON export is not supported; sending http/protobuf "
            "to the same endpoint instead (a Collector's OTLP/HTTP receiver, port 4318, accepts both)",
        )
        return "http/protobuf"
    return _settings.read_choice(name, PROTOCOLS, default)


def otlp_exporter(protocol: str | None = None) -> SpanExporter:
    if (protocol or otlp_protocol()) == "grpc":
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
        except ImportError as error:
            # gRPC is an extra (and out of the default layer): spans still go somewhere useful.
            warn_once(
                "exporter:grpc",
                f"otel-serverless: OTEL_EXPORTER_OTLP_PROTOCOL is grpc, but OTLP/gRPC export is not installed "
                f"({preview(error.name or 'grpc')} is missing): install otel-serverless[grpc] (or build the "
                "layer with --with-grpc). Exporting over http/protobuf instead: point "
                "OTEL_EXPORTER_OTLP_ENDPOINT at the collector's OTLP/HTTP port (4318)",
            )
        else:
            return GrpcExporter()
    if _settings.read_choice(env.OTEL_SERVERLESS_EXPORTER, ("fast", "sdk"), "fast") == "sdk":
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
        except ImportError as error:
            # Out of the default layer (requests and the protobuf runtime): ours sends the same bytes.
            warn_once(
                "exporter:sdk",
                f"otel-serverless: OTEL_SERVERLESS_EXPORTER is sdk, but the SDK's OTLP/HTTP exporter is not "
                f"installed ({preview(error.name or 'opentelemetry-exporter-otlp-proto-http')} is missing): "
                "install opentelemetry-exporter-otlp-proto-http (or build the layer with --with-sdk-exporter). "
                "Exporting with otel-serverless's own OTLP/HTTP exporter instead",
            )
        else:
            return HttpExporter()
    # Ours by default: no requests/protobuf import on the cold start, one deadline per export.
    from otel_serverless.export._otlp_http import OTLPSpanExporter as FastExporter

    return FastExporter()


def exporter_names() -> tuple[str, ...]:
    names = _settings.read_list("OTEL_TRACES_EXPORTER", ("otlp",))
    return tuple(name.lower() for name in names)


def exporters_from_env() -> list[SpanExporter]:
    """One exporter per name in OTEL_TRACES_EXPORTER; an unknown name warns and is skipped."""
    chosen: list[SpanExporter] = []
    for name in exporter_names():
        if name == "none":
            continue
        exporter = _by_name(name)
        if exporter is not None:
            chosen.append(exporter)
    return chosen


def _by_name(name: str) -> SpanExporter | None:
    if name == "otlp":
        return otlp_exporter()
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    for entry_point in entry_points(group="opentelemetry_traces_exporter", name=name):
        try:
            exporter = entry_point.load()()
        except Exception as error:
            warn_once(
                f"exporter:{name}",
                f"otel-serverless: traces exporter {preview(name)} failed to load "
                f"({type(error).__name__}); it is skipped",
            )
            return None
        if isinstance(exporter, SpanExporter):
            return exporter
    warn_once(
        f"exporter:{name}",
        f"otel-serverless: OTEL_TRACES_EXPORTER names {preview(name)}, but no package provides "
        "an 'opentelemetry_traces_exporter' entry point of that name; install its exporter "
        "package or use otlp, console or none. It is skipped",
    )
    return None
