"""A real OTLP/HTTP receiver on 127.0.0.1 for tests: decodes what exporters send.

It can also misbehave on purpose, the ways a collector fails in production:
answer with an error status, or accept the connection and never answer.
"""

from __future__ import annotations

import gzip
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span


class Receiver:
    def __init__(self) -> None:
        self.requests: list[ExportTraceServiceRequest] = []
        self.headers: list[dict[str, str]] = []
        self.status = 200
        self.delay = 0.0
        #: Seconds to wait before reading a request's body (its sender blocks once the buffers fill).
        self.read_delay = 0.0
        self.received = threading.Event()
        self.port = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def spans(self) -> list[tuple[dict[str, object], Span]]:
        """Every received span with its resource attributes."""
        found: list[tuple[dict[str, object], Span]] = []
        for request in self.requests:
            for resource_spans in request.resource_spans:
                resource = {kv.key: _value(kv.value) for kv in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    found.extend((resource, span) for span in scope_spans.spans)
        return found


def _value(value: object) -> object:
    kind = value.WhichOneof("value")  # type: ignore[attr-defined]
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]  # type: ignore[attr-defined]
    return getattr(value, kind) if kind else None


@contextmanager
def otlp_receiver() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            if receiver.read_delay:
                time.sleep(receiver.read_delay)
            body = self.rfile.read(length)
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            if receiver.delay:
                time.sleep(receiver.delay)
            if receiver.status != 200:
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            receiver.requests.append(request)
            receiver.headers.append(dict(self.headers.items()))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()
            receiver.received.set()

        def log_message(self, format: str, *args: object) -> None:
            return

    with serving(Handler) as port:
        receiver.port = port
        yield receiver


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler], tls_context: ssl.SSLContext | None = None) -> Iterator[int]:
    """An HTTP server on 127.0.0.1 (https with *tls_context*) answering with *handler*; yields its port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    if tls_context is not None:
        server.socket = tls_context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def listener(on_accept: Callable[[socket.socket], None]) -> Iterator[int]:
    """A 127.0.0.1 port whose accepted connections are handed to *on_accept*."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = sock.accept()
            except OSError:
                continue
            on_accept(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        sock.close()


@contextmanager
def silent_listener() -> Iterator[int]:
    """A port that accepts connections and never answers (a hung collector)."""
    accepted: list[socket.socket] = []
    try:
        with listener(accepted.append) as port:
            yield port
    finally:
        for connection in accepted:
            connection.close()


@contextmanager
def slamming_listener() -> Iterator[int]:
    """A port that accepts each connection and closes it at once (a collector refusing work)."""
    with listener(lambda connection: connection.close()) as port:
        yield port


def closed_port() -> int:
    """A port nothing listens on (a collector that is down): connections are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
