"""A loopback HTTP proxy in front of moto's Lambda API: real paging, revisions, injected faults.

moto answers ``ListFunctions`` with every function in one page; Lambda returns at most
50 a page with a ``NextMarker``. The proxy pages moto's answer the way Lambda does, so
the client's paging is exercised over real HTTP. ``throttle`` makes chosen requests
answer ``429 TooManyRequestsException`` as Lambda does (``fail``: any Lambda error), a
given number of times or always, so the retry and reporting paths are exercised
without touching boto3. moto has no ``RevisionId`` either: the proxy adds one to every
function configuration it returns (a digest of it) and, as Lambda does, refuses an
update whose ``RevisionId`` is not the function's current one (``412
PreconditionFailedException``). Every request is logged as ``(method, operation path)``.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LIST_FUNCTIONS = re.compile(r"^/2015-03-31/functions/?$")
CONFIGURATION = re.compile(r"^/2015-03-31/functions/[^/]+/configuration$")
PAGE = 50


def revision(config: dict[str, Any]) -> str:
    """A function configuration's revision: changes whenever the configuration does."""
    stable = {key: value for key, value in config.items() if key != "RevisionId"}
    return hashlib.sha256(json.dumps(stable, sort_keys=True).encode()).hexdigest()[:32]


def _revised(config: dict[str, Any]) -> dict[str, Any]:
    return {**config, "RevisionId": revision(config)}


class Fault:
    """Requests matching *when* get Lambda's error *error* with *status*, *times* times (None: always)."""

    def __init__(
        self, when: Callable[[str, str, bytes], bool], times: int | None, status: int, error: str, message: str
    ) -> None:
        self.when = when
        self.left = times
        self.status = status
        self.error = error
        self.message = message
        self.answered = 0


class LambdaProxy:
    def __init__(self, upstream: str, revisions: bool = True) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        self.revisions = revisions
        #: Seconds added to every request, as a network round trip to the real API would.
        self.delay = 0.0
        self.upstream = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self.log: list[tuple[str, str]] = []
        self.pages = 0
        self.faults: list[Fault] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def throttle(self, when: Callable[[str, str, bytes], bool], times: int | None) -> Fault:
        """Lambda's throttling answer: 429 TooManyRequestsException."""
        return self.fail(when, times, 429, "TooManyRequestsException", "Rate exceeded")

    def fail(
        self, when: Callable[[str, str, bytes], bool], times: int | None, status: int, error: str, message: str
    ) -> Fault:
        found = Fault(when, times, status, error, message)
        with self._lock:
            self.faults.append(found)
        return found

    def clear(self) -> None:
        with self._lock:
            self.log.clear()
            self.faults.clear()
            self.pages = 0

    def count(self, method: str, pattern: str) -> int:
        with self._lock:
            return sum(1 for m, path in self.log if m == method and re.search(pattern, path))

    def _fault(self, method: str, path: str, body: bytes) -> Fault | None:
        with self._lock:
            self.log.append((method, path))
            for fault in self.faults:
                if (fault.left is None or fault.left > 0) and fault.when(method, path, body):
                    if fault.left is not None:
                        fault.left -= 1
                    fault.answered += 1
                    return fault
        return None

    def _forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, list[Any], bytes]:
        connection = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def _page(self, path: str, headers: dict[str, str]) -> tuple[int, list[Any], bytes]:
        split = urllib.parse.urlsplit(path)
        query = urllib.parse.parse_qs(split.query)
        status, response_headers, body = self._forward("GET", split.path, headers, b"")
        if status != 200:
            return status, response_headers, body
        functions = json.loads(body)["Functions"]
        start = int(query.get("Marker", ["0"])[0])
        size = min(PAGE, int(query.get("MaxItems", [str(PAGE)])[0]))
        chosen = functions[start : start + size]
        page: dict[str, Any] = {"Functions": [_revised(config) for config in chosen] if self.revisions else chosen}
        if start + size < len(functions):
            page["NextMarker"] = str(start + size)
        with self._lock:
            self.pages += 1
        kept = [(k, v) for k, v in response_headers if k.lower() not in ("content-length", "transfer-encoding")]
        return 200, kept, json.dumps(page).encode()

    def _configuration(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[Any], bytes]:
        """Get/UpdateFunctionConfiguration with Lambda's revision check, which moto lacks."""
        if method == "PUT":
            asked = json.loads(body or b"{}").get("RevisionId")
            if asked is not None:
                bare = {k: v for k, v in headers.items() if k.lower() not in ("content-length", "content-type")}
                status, _, current = self._forward("GET", path, bare, b"")
                if status == 200 and asked != revision(json.loads(current)):
                    answer = {
                        "Type": "User",
                        "message": "The Revision Id provided does not match the latest Revision Id",
                    }
                    return 412, [("x-amzn-ErrorType", "PreconditionFailedException")], json.dumps(answer).encode()
        status, response_headers, answer = self._forward(method, path, headers, body)
        if status != 200:
            return status, response_headers, answer
        return status, response_headers, json.dumps(_revised(json.loads(answer))).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # One write per answer, sent at once: headers and body in separate small packets
            # would stall each call on Nagle and delayed ACKs (40 ms) for a client that waits.
            wbufsize = 1 << 16
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = urllib.parse.urlsplit(self.path).path
                if proxy.delay:
                    time.sleep(proxy.delay)
                fault = proxy._fault(self.command, path, body)
                if fault is not None:
                    payload = json.dumps({"Type": "User", "message": fault.message}).encode()
                    self._answer(
                        fault.status,
                        [("x-amzn-ErrorType", fault.error), ("Content-Type", "application/json")],
                        payload,
                    )
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                if self.command == "GET" and LIST_FUNCTIONS.match(path):
                    status, response_headers, answer = proxy._page(self.path, headers)
                elif proxy.revisions and CONFIGURATION.match(path):
                    status, response_headers, answer = proxy._configuration(self.command, self.path, headers, body)
                else:
                    status, response_headers, answer = proxy._forward(self.command, self.path, headers, body)
                kept = [
                    (k, v)
                    for k, v in response_headers
                    if k.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date")
                ]
                self._answer(status, kept, answer)

            def _answer(self, status: int, headers: list[Any], body: bytes) -> None:
                self.send_response(status)
                for key, value in headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()

            do_GET = do_POST = do_PUT = do_DELETE = _any

        return Handler

    def start(self) -> LambdaProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def running(upstream: str, revisions: bool = True) -> Iterator[LambdaProxy]:
    proxy = LambdaProxy(upstream, revisions).start()
    try:
        yield proxy
    finally:
        proxy.stop()
