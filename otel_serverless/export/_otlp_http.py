"""An OTLP/HTTP span exporter on the standard library, with a hard deadline per export.

Why not the SDK's: it loads ``requests`` and the protobuf runtime at import (a
cold-start cost measured by benchmark G1), and its blocking calls are bounded
per socket operation, not per export. This one sends over one kept-alive
connection with a small HTTP/1.1 exchange of its own (:mod:`._http1`), encodes
with :mod:`otel_serverless.export._encode`, and gives every export one deadline
(the OTLP timeout) that covers connecting, sending, every retry and reading the
answer: a collector that accepts the connection and never answers, or answers
one byte at a time, cannot hold it longer. An export can also stop earlier, at
its caller's limit, and go on later on another thread (:meth:`OTLPSpanExporter.begin`):
a flush uses that to send on its own thread and leave the rest to the worker.

Configuration is the standard one (the OpenTelemetry specification, "OTLP
Exporter Configuration"), the signal-specific variable winning over the general
one: ``OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT`` (the general endpoint gets
``/v1/traces`` appended, the traces one is used as-is), ``_HEADERS``
(``key=value`` pairs, URL-decoded), ``_TIMEOUT`` (default 10), ``_COMPRESSION``
(``gzip`` or ``none``), ``_CERTIFICATE``, ``_CLIENT_CERTIFICATE`` and
``_CLIENT_KEY`` for https.
Retries follow the OTLP/HTTP specification: 429, 502, 503 and 504 (and a lost
connection) are retried with exponential backoff and jitter, honouring
``Retry-After`` (seconds or an HTTP date), while the deadline allows; a redirect
(3xx) is not followed and says where it pointed. ``export`` never raises.
The deadline covers name resolution too, and ``HTTP(S)_PROXY``/``NO_PROXY`` are
honoured (:mod:`._connect`); ``user:password@`` in the endpoint is sent as HTTP
Basic authentication unless an ``Authorization`` header is configured. After a
``fork`` the child starts with a fresh lock and connection of its own.

The timeout is read in seconds, as the Python SDK reads it (the specification
says milliseconds): switching between this exporter and the SDK's with
``OTEL_SERVERLESS_EXPORTER`` must not change what a setting means.
"""

from __future__ import annotations

import math
import os
import socket
import sys
import threading
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from otel_serverless import __version__, _settings
from otel_serverless._guard import preview, report, warn_once
from otel_serverless.export import _header_warnings
from otel_serverless.export._connect import TunnelRefused, basic_credentials, connect, find_proxy
from otel_serverless.export._encode import encode_spans
from otel_serverless.export._fork import in_child_after_fork
from otel_serverless.export._http1 import Exchange, Response, authority, request_head

if TYPE_CHECKING:
    import ssl

    from opentelemetry.sdk.trace import ReadableSpan

__all__ = ["OTLPSpanExporter"]

DEFAULT_ENDPOINT = "http://localhost:4318/v1/traces"
DEFAULT_TIMEOUT = 10.0
TRACES_PATH = "/v1/traces"
#: Statuses the OTLP/HTTP specification calls retryable.
RETRYABLE = frozenset({429, 502, 503, 504})
COMPRESSIONS = ("gzip", "none")
#: First backoff, and the cap of one backoff, in seconds.
BACKOFF_FIRST = 0.05
BACKOFF_CAP = 2.0
#: Most of a response body we read; a collector's answer is a few bytes.
MAX_RESPONSE_BYTES = 64 * 1024
# Level 1: in Lambda the CPU is billed; it keeps most of the size gain of level 9.
_GZIP_LEVEL = 1


class _Endpoint:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(url)
        self.url = url
        self.tls = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.tls else 80)
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        # Named in log lines without any user:password part.
        self.safe = f"{parts.scheme}://{self.host}:{self.port}{parts.path}"
        #: ``user:password@`` in the URL, sent as HTTP Basic authentication (as the SDK's exporter does).
        self.authorization = basic_credentials(parts.username, parts.password)


def _resolve_endpoint(explicit: str | None) -> _Endpoint:
    if explicit is not None:
        candidates = [("endpoint", explicit)]
    else:
        candidates = []
        if traces := os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip():
            candidates.append(("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", traces))
        if general := os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip():
            candidates.append(("OTEL_EXPORTER_OTLP_ENDPOINT", general.rstrip("/") + TRACES_PATH))
    for name, url in candidates:
        try:
            return _Endpoint(url)
        except ValueError:
            warn_once(
                f"setting:{name}",
                f"otel-serverless: {name}={preview(url)} is not an http(s) URL; it is ignored",
            )
    return _Endpoint(DEFAULT_ENDPOINT)


def _valid_header(name: str, value: str) -> bool:
    # Refuse what would split or corrupt the request (CR, LF, NUL, separators in names).
    return (
        bool(name)
        and all(33 <= ord(c) <= 126 and c not in '"(),/:;<=>?@[\\]{}' for c in name)
        and not any(c in value for c in "\r\n\x00")
    )


def _resolve_headers(explicit: Mapping[str, str] | None) -> dict[str, str]:
    raw = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_HEADERS") or os.environ.get("OTEL_EXPORTER_OTLP_HEADERS") or ""
    merged: dict[str, str] = {}
    if raw:
        # The SDK's parser compiles its patterns at import: only a cold start with headers pays it.
        from opentelemetry.util.re import parse_env_headers

        _header_warnings.install()  # it would log a malformed entry, value and all
        merged.update(parse_env_headers(raw, liberal=True))
    merged.update({key.lower(): value for key, value in (explicit or {}).items()})
    headers = {}
    for name, value in merged.items():
        if _valid_header(name, value):
            headers[name] = value
        else:
            warn_once(
                f"export:header:{preview(name, 32)}",
                f"otel-serverless: OTLP header {preview(name, 32)} has an invalid name or value; it is not sent",
            )
    return headers


def _signal_setting(suffix: str) -> str:
    """The traces variable if set, else the general one (the name, for the reader)."""
    traces = f"OTEL_EXPORTER_OTLP_TRACES_{suffix}"
    return traces if os.environ.get(traces, "").strip() else f"OTEL_EXPORTER_OTLP_{suffix}"


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = _seconds_until(value)
    return seconds if 0 <= seconds < 3600 else None


def _seconds_until(http_date: str) -> float:
    """Seconds from now until *http_date* (``Retry-After``'s date form); -1 if it is not a date."""
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(http_date)
    except (TypeError, ValueError, IndexError):
        return -1.0
    if when.tzinfo is None:  # RFC 9110 dates are GMT; a zone-less one is read as such
        from datetime import timezone

        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - time.time())


def _partial_success(body: bytes) -> tuple[int, str] | None:
    """``(rejected_spans, error_message)`` from an ExportTraceServiceResponse, if any."""
    try:
        return _decode_partial_success(body)
    except (IndexError, ValueError, UnicodeDecodeError):
        return None


def _read_varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 128:
            return value, at
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _fields(data: bytes) -> list[tuple[int, int | bytes]]:
    found: list[tuple[int, int | bytes]] = []
    at = 0
    while at < len(data):
        tag, at = _read_varint(data, at)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, at = _read_varint(data, at)
            found.append((number, value))
        elif wire == 2:
            size, at = _read_varint(data, at)
            if at + size > len(data):
                raise ValueError("truncated")
            found.append((number, data[at : at + size]))
            at += size
        elif wire in (1, 5):
            at += 8 if wire == 1 else 4
        else:
            raise ValueError("unsupported wire type")
    return found


def _decode_partial_success(body: bytes) -> tuple[int, str] | None:
    for number, value in _fields(body):
        if number == 1 and isinstance(value, bytes):
            rejected, message = 0, ""
            for inner, inner_value in _fields(value):
                if inner == 1 and isinstance(inner_value, int):
                    rejected = inner_value - (1 << 64) if inner_value >= 1 << 63 else inner_value
                elif inner == 2 and isinstance(inner_value, bytes):
                    message = inner_value.decode("utf-8")
            if rejected or message:
                return rejected, message
    return None


class OTLPSpanExporter(SpanExporter):
    """Export spans as OTLP/HTTP protobuf with ``http.client``; arguments override variables."""

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        compression: str | None = None,
        certificate_file: str | None = None,
        client_certificate_file: str | None = None,
        client_key_file: str | None = None,
    ) -> None:
        self.endpoint = _resolve_endpoint(endpoint)
        self.headers = _resolve_headers(headers)
        #: Seconds one export (connect, send, retries, answer) may take in all.
        self.timeout = _settings.read_float(_signal_setting("TIMEOUT"), DEFAULT_TIMEOUT, minimum=0, explicit=timeout)
        self.compression = _settings.read_choice(
            _signal_setting("COMPRESSION"), COMPRESSIONS, "none", explicit=compression
        )
        self._certificate = certificate_file or _settings.read_str(_signal_setting("CERTIFICATE"), "") or None
        self._client_certificate = (
            client_certificate_file or _settings.read_str(_signal_setting("CLIENT_CERTIFICATE"), "") or None
        )
        self._client_key = client_key_file or _settings.read_str(_signal_setting("CLIENT_KEY"), "") or None
        self._request_headers = {
            **self.headers,
            "Content-Type": "application/x-protobuf",
            "User-Agent": f"otel-serverless/{__version__}",
        }
        if self.compression == "gzip":
            self._request_headers["Content-Encoding"] = "gzip"
        if self.endpoint.authorization and "authorization" not in self.headers:
            self._request_headers["Authorization"] = self.endpoint.authorization
        #: The encoder (a seam for the G7 benchmark, which prices the sender alone with the SDK's).
        self.encode: Callable[[Sequence[ReadableSpan]], bytes] = encode_spans
        target = self.endpoint
        host = authority(target.host, target.port, 443 if target.tls else 80)
        self._proxy = find_proxy("https" if target.tls else "http", target.host)
        path = target.path
        if self._proxy is not None and not target.tls:
            # Through a proxy a plain-HTTP request names its whole target (absolute form, RFC 9112 §3.2.2).
            path = f"http://{host}{target.path}"
            if self._proxy.authorization:
                self._request_headers["Proxy-Authorization"] = self._proxy.authorization
        self._head = request_head("POST", path, host, self._request_headers)
        self._socket: socket.socket | None = None
        self._tls_context: ssl.SSLContext | None = None
        #: Held by one export from its start to its end, whichever thread finishes it.
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._rejected = 0
        self._rejected_lock = threading.Lock()
        # A forked child gets the lock as some parent thread held it, and the parent's socket.
        in_child_after_fork(self._renew_after_fork)

    # -- SpanExporter ----------------------------------------------------------
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Send *spans*; SUCCESS when the collector accepted them. Never raises."""
        if self._stopped.is_set():
            return SpanExportResult.FAILURE
        deadline = time.monotonic() + self.timeout
        if not self._lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            warn_once("export:busy", "otel-serverless: an OTLP export waited past its deadline for another one")
            return SpanExportResult.FAILURE
        result = Export(self, spans, deadline).run(math.inf)
        return SpanExportResult.FAILURE if result is None else result

    def begin(self, spans: Sequence[ReadableSpan]) -> Export | None:
        """An export of *spans* to drive with :meth:`Export.run`; None while another one holds the connection."""
        if self._stopped.is_set() or not self._lock.acquire(blocking=False):
            return None
        return Export(self, spans, time.monotonic() + self.timeout)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True  # nothing is buffered here

    def shutdown(self) -> None:
        self._stopped.set()
        # Waits for an export in progress, which its own deadline bounds.
        with self._lock:
            self._close()

    # -- the connection ------------------------------------------------------------
    def _exchange(self, body: bytes, until: float) -> tuple[Exchange, bool]:
        """A request for *body* on the kept-alive connection or a new one; and whether it was reused."""
        sock = self._socket
        reused = sock is not None
        if sock is None:
            sock = self._socket = self._connect(until)
        request = b"".join((self._head, str(len(body)).encode("ascii"), b"\r\n\r\n", body))
        return Exchange(sock, request, MAX_RESPONSE_BYTES), reused

    def _connect(self, until: float) -> socket.socket:
        target = self.endpoint
        tls = self._tls() if target.tls else None  # before connecting: a bad certificate file warns even then
        return connect(target.host, target.port, until, tls=tls, proxy=self._proxy)

    def _tls(self) -> ssl.SSLContext:
        if self._tls_context is None:
            import ssl

            context = ssl.create_default_context()
            try:
                if self._certificate:
                    context.load_verify_locations(cafile=self._certificate)
                if self._client_certificate:
                    context.load_cert_chain(self._client_certificate, self._client_key)
            except (OSError, ssl.SSLError, ValueError) as error:
                warn_once(
                    "export:certificate",
                    f"otel-serverless: OTLP certificate files could not be loaded "
                    f"({type(error).__name__}: {preview(str(error), 120)}); using the system trust store",
                )
                context = ssl.create_default_context()
            self._tls_context = context
        return self._tls_context

    def _backoff(self, attempt: int, retry_after: float | None, deadline: float) -> float | None:
        """Seconds to wait before the next attempt, or None if the deadline does not allow one."""
        import random

        delay = min(BACKOFF_CAP, BACKOFF_FIRST * (2**attempt)) * random.uniform(0.8, 1.2)  # noqa: S311  # jitter, not crypto
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay if time.monotonic() + delay < deadline else None

    def _give_up(self, key: str, problem: str) -> SpanExportResult:
        warn_once(
            f"export:{key}",
            f"otel-serverless: spans were not exported to {self.endpoint.safe}: {problem}; "
            "the application is unaffected; further failures like this are not logged",
        )
        return SpanExportResult.FAILURE

    def take_rejected(self) -> int:
        """Spans the collector accepted the request for but rejected (partial success) since the last call."""
        with self._rejected_lock:
            count, self._rejected = self._rejected, 0
        return count

    def _check_partial(self, answer: bytes) -> None:
        partial = _partial_success(answer) if answer else None
        if partial is not None:
            rejected, message = partial
            if rejected > 0:
                with self._rejected_lock:
                    self._rejected += rejected
            warn_once(
                "export:partial",
                f"otel-serverless: the collector rejected {rejected} span(s): {preview(message, 200)}",
            )

    def _renew_after_fork(self) -> None:
        self._lock = threading.Lock()
        # The child's copy of the descriptor only: the parent's connection is untouched.
        self._close()

    def _close(self) -> None:
        sock, self._socket = self._socket, None
        if sock is not None:
            sock.close()


def _unverified(error: OSError) -> bool:
    """True when *error* is TLS refusing the collector's certificate (ssl is loaded: the endpoint is https)."""
    ssl = sys.modules.get("ssl")
    return ssl is not None and isinstance(error, ssl.SSLCertVerificationError)


class Export:
    """One export in progress: its body, its deadline, its attempts, its request on the wire.

    :meth:`run` drives it until it ends or the caller's time is up; another thread
    may then call :meth:`run` again and it goes on from the same byte. It holds the
    exporter's connection (its lock) from creation to its end.
    """

    __slots__ = ("_attempts", "_exchange", "_exporter", "_result", "_resume_at", "_reused", "body", "deadline")

    def __init__(self, exporter: OTLPSpanExporter, spans: Sequence[ReadableSpan], deadline: float) -> None:
        self._exporter = exporter
        self.deadline = deadline
        self._attempts = 0
        self._exchange: Exchange | None = None
        self._reused = False
        self._resume_at = 0.0  # while backing off: when the next attempt may start
        self._result: SpanExportResult | None = None
        self.body = b""
        try:
            body = exporter.encode(spans)
            if exporter.compression == "gzip":
                packer = zlib.compressobj(_GZIP_LEVEL, zlib.DEFLATED, 31)  # 31: gzip framing
                body = packer.compress(body) + packer.flush()
            self.body = body
        except Exception as error:  # a bug of ours: reported, never raised into the pipeline
            report("export.otlp_http", error)
            self._end(SpanExportResult.FAILURE)

    def run(self, until: float) -> SpanExportResult | None:
        """Go on until the export ends (its result) or ``time.monotonic()`` reaches *until* (None). Never raises."""
        if self._result is not None:
            return self._result
        try:
            result = self._step(until)
        except Exception as error:  # a bug of ours: reported, never raised into the pipeline
            self._exporter._close()
            report("export.otlp_http", error)
            result = SpanExportResult.FAILURE
        if result is not None:
            self._end(result)
        return result

    def _end(self, result: SpanExportResult) -> None:
        self._result = result
        self._exchange = None
        self._exporter._lock.release()

    def _not_connected(self, error: OSError) -> SpanExportResult | None:
        """How the export ends after *error* from connecting or sending, or None to try again."""
        exporter = self._exporter
        problem = f"{type(error).__name__}: {preview(str(error), 120)}"
        if _unverified(error):
            # Not retried: the same certificate comes back, and the warning is due now, not at the timeout.
            exporter._close()
            return exporter._give_up(
                "certificate-verify",
                f"the collector's TLS certificate did not verify ({problem}). Trust the CA that signed "
                "it with OTEL_EXPORTER_OTLP_CERTIFICATE (a PEM file), or give the collector a certificate "
                "from a public CA; spans are not sent until then",
            )
        if self._back_off(None):
            return None
        # A refusing proxy is its own warning: an earlier unreachable collector must not hide it.
        key = "proxy" if isinstance(error, TunnelRefused) else "unreachable"
        return exporter._give_up(key, f"collector unreachable ({problem})")

    def _step(self, until: float) -> SpanExportResult | None:
        exporter = self._exporter
        while not exporter._stopped.is_set():
            if not self._backed_off(until):
                return None
            try:
                response = self._attempt(min(until, self.deadline))
            except OSError as error:
                ended = self._not_connected(error)
                if ended is None:
                    continue
                return ended
            if response is None:
                if time.monotonic() < self.deadline:
                    return None  # the caller's time is up, not the export's: it can go on
                exporter._close()
                return exporter._give_up("timeout", f"no answer within the export timeout ({exporter.timeout:g} s)")
            outcome = self._answered(response)
            if outcome is not None:
                return outcome
        exporter._close()
        return SpanExportResult.FAILURE

    def _backed_off(self, until: float) -> bool:
        """Wait out a backoff, at most until *until*; False if that came first."""
        now = time.monotonic()
        if self._resume_at <= now:
            return True
        stop = min(until, self._resume_at)
        self._exporter._stopped.wait(max(0.0, stop - now))
        return stop >= self._resume_at or self._exporter._stopped.is_set()

    def _attempt(self, limit: float) -> Response | None:
        """Send the request (on a new connection if needed) and read the answer, until *limit*."""
        exporter = self._exporter
        try:
            if self._exchange is None:
                self._exchange, self._reused = exporter._exchange(self.body, limit)
            return self._exchange.run(limit)
        except OSError as error:
            exchange, self._exchange = self._exchange, None
            exporter._close()
            if isinstance(error, TimeoutError):
                return None  # connecting outlasted the limit: nothing was sent yet
            if self._reused and exchange is not None and not exchange.answered and isinstance(error, _STALE):
                return self._attempt(limit)  # the collector closed the idle kept-alive connection: reconnect
            raise

    def _answered(self, response: Response) -> SpanExportResult | None:
        """The export's result for this answer, or None when a retry is scheduled."""
        exporter = self._exporter
        self._exchange = None
        if not response.reusable:
            exporter._close()
        status = response.status
        if 200 <= status < 300:
            exporter._check_partial(response.body)
            return SpanExportResult.SUCCESS
        key = f"status:{status}"
        if 300 <= status < 400:
            # Not followed: the spans would go to a host the configuration does not name.
            location = preview(_without_credentials(response.headers.get("location", "")), 120)
            return exporter._give_up(
                key,
                f"collector answered HTTP {status}, a redirect to {location or 'nowhere'}; redirects are not "
                "followed: set the OTLP endpoint to the URL that accepts the spans",
            )
        if status not in RETRYABLE:
            return exporter._give_up(key, f"collector answered HTTP {status}: {preview(response.body)}")
        if self._back_off(_retry_after(response.headers.get("retry-after"))):
            return None
        return exporter._give_up(key, f"collector answered HTTP {status} until the deadline")

    def _back_off(self, retry_after: float | None) -> bool:
        """Schedule the next attempt; False if the deadline does not allow one."""
        delay = self._exporter._backoff(self._attempts, retry_after, self.deadline)
        if delay is None:
            return False
        self._attempts += 1
        self._resume_at = time.monotonic() + delay
        return True


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


# A kept-alive connection the collector closed shows up as one of these on reuse.
_STALE = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)
