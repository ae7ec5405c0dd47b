"""Real endpoints for the calls-out tests: an HTTP echo server and a throttling proxy in front of moto."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from tests.otlp_receiver import serving


@dataclass
class Seen:
    url: str
    #: Path → the request headers it received (names lower-cased), in arrival order.
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def headers(self, path: str) -> dict[str, str]:
        (found,) = [headers for seen_path, headers in self.requests if seen_path == path]
        return found


@contextmanager
def echo_server() -> Iterator[Seen]:
    """Answers every GET with 200 and records the headers it received."""
    seen = Seen("")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # http.server's naming
            seen.requests.append((self.path, {name.lower(): value for name, value in self.headers.items()}))
            body = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serving(Handler) as port:
        seen.url = f"http://127.0.0.1:{port}"
        yield seen


#: ``{"__type": "ThrottlingException"}`` in CBOR (CloudWatch speaks Smithy RPC v2 CBOR): a map of
#: one pair, a 6-character text key and a 19-character text value.
_THROTTLED_CBOR = b"\xa1\x66__type\x73ThrottlingException"
_THROTTLED_JSON = b'{"__type": "ThrottlingException", "message": "Rate exceeded"}'


@dataclass
class Proxy:
    url: str
    throttled: int = 0


@contextmanager
def throttling_proxy(upstream: str, operation: str, times: int) -> Iterator[Proxy]:
    """Forwards to *upstream* (moto), but answers *operation*'s first *times* requests as AWS throttles."""
    target = urlsplit(upstream)
    proxy = Proxy("")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                named = self.path.endswith("/operation/" + operation) or self.headers.get("X-Amz-Target", "").endswith(
                    "." + operation
                )
                throttle = named and proxy.throttled < times
                if throttle:
                    proxy.throttled += 1
            if throttle:
                # In the protocol botocore chose: AWS JSON 1.0 or Smithy RPC v2 CBOR (both query-compatible).
                cbor = "cbor" in self.headers.get("Content-Type", "")
                answer = _THROTTLED_CBOR if cbor else _THROTTLED_JSON
                self.send_response(400)
                self.send_header("Content-Type", "application/cbor" if cbor else "application/x-amz-json-1.0")
                if cbor:
                    self.send_header("smithy-protocol", "rpc-v2-cbor")
                self.send_header("x-amzn-query-error", "Throttling;Sender")
                self.send_header("x-amzn-RequestId", f"throttled-{proxy.throttled}")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
                return
            connection = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=30)
            try:
                connection.request(self.command, self.path, body=body, headers=dict(self.headers.items()))
                answer = connection.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            finally:
                connection.close()

        do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _handle

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serving(Handler) as port:
        proxy.url = f"http://127.0.0.1:{port}"
        yield proxy
