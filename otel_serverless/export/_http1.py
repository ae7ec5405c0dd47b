"""One HTTP/1.1 request and its response on a connected socket, resumable at any point.

Why not ``http.client``: its response goes through the ``email`` package's header
parser and a buffered file object, about 0.1 ms per export — a tenth of the whole
overhead a traced Lambda invocation adds (benchmark G5). And its calls block until
done: an exchange here stops when the caller's time is up and carries on later,
from the same byte, on another thread. That is what lets a flush send on the
caller's thread and hand an unfinished request to the export worker at its
deadline without sending it twice.

Only what an OTLP exporter needs: one request with a body, the answer's status,
headers and a bounded body, framed by ``Content-Length``, ``chunked`` or the end of
the connection (RFC 9112 §6.3); interim 1xx answers are skipped.
"""

from __future__ import annotations

import socket
import time
from typing import Final, NamedTuple

__all__ = ["Exchange", "ProtocolError", "Response", "arm", "authority", "request_head"]

#: Most bytes of status line and headers accepted (a collector sends a few hundred).
MAX_HEAD_BYTES: Final = 64 * 1024
_RECV_BYTES: Final = 64 * 1024
_NO_BODY_STATUSES: Final = frozenset({204, 304})
# Chunked decoding states (any other value: bytes left in the current chunk's data).
_SIZE_LINE: Final = -1
_TRAILERS: Final = -2
_DATA_END: Final = 0


class ProtocolError(OSError):
    """The peer's answer is not HTTP/1.x as we can read it."""


class Response(NamedTuple):
    status: int
    #: Header names lower-cased; a repeated header keeps its last value.
    headers: dict[str, str]
    #: At most the exchange's ``max_body`` bytes.
    body: bytes
    #: False when the connection must not carry another request.
    reusable: bool


def authority(host: str, port: int, default_port: int) -> str:
    """The ``Host`` header's value: brackets around an IPv6 address, the port unless the default."""
    named = f"[{host}]" if ":" in host else host
    return named if port == default_port else f"{named}:{port}"


def request_head(method: str, path: str, host: str, headers: dict[str, str]) -> bytes:
    """Everything of a request before its ``Content-Length`` value (headers pre-validated)."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\nContent-Length: ").encode("latin-1")


class Exchange:
    """Send *request* on *sock*, then read the response, step by step (see :meth:`run`)."""

    __slots__ = ("_body_at", "_chunk_left", "_chunks", "_head", "_inbox", "_max_body", "_out", "_sent", "_sock")

    def __init__(self, sock: socket.socket, request: bytes, max_body: int) -> None:
        self._sock = sock
        self._out = memoryview(request)
        self._sent = 0
        self._inbox = bytearray()
        self._max_body = max_body
        self._head: tuple[int, dict[str, str], bool] | None = None  # status, headers, reusable
        self._body_at = 0
        # Chunked bodies: the data decoded so far, and where the decoder is (see _SIZE_LINE).
        self._chunks = bytearray()
        self._chunk_left = _SIZE_LINE

    @property
    def answered(self) -> bool:
        """Whether any byte of an answer came back (a connection closed before that was idle)."""
        return bool(self._inbox) or self._head is not None

    def run(self, until: float) -> Response | None:
        """Go on until the response is complete or ``time.monotonic()`` reaches *until*.

        Returns the response, or None if the time ran out first (nothing is lost:
        calling again continues from where this stopped). Raises ``OSError`` (and
        :class:`ProtocolError`) when the connection fails or the answer is not HTTP.
        """
        sock = self._sock
        try:
            while self._sent < len(self._out):
                if not arm(sock, until):
                    return None
                self._sent += sock.send(self._out[self._sent :])
            while True:
                # Nothing received yet (the usual first pass): nothing to parse.
                response = self._parse() if self._inbox else None
                if response is not None:
                    return response
                if not arm(sock, until):
                    return None
                data = sock.recv(_RECV_BYTES)
                if not data:
                    return self._closed()
                self._inbox += data
        except TimeoutError:
            return None

    # -- reading -------------------------------------------------------------------
    def _parse(self) -> Response | None:
        if self._head is None and not self._parse_head():
            return None
        assert self._head is not None
        status, headers, reusable = self._head
        if status in _NO_BODY_STATUSES:
            return Response(status, headers, b"", reusable)
        if _chunked(headers):
            return self._parse_chunked()
        length = headers.get("content-length")
        if length is None:
            return None  # the body ends with the connection (see _closed)
        if not length.isdigit():
            raise ProtocolError(f"invalid Content-Length {length[:40]!r}")
        return self._parse_sized(int(length))

    def _parse_sized(self, wanted: int) -> Response | None:
        assert self._head is not None
        status, headers, reusable = self._head
        have = len(self._inbox) - self._body_at
        if wanted > self._max_body and have >= self._max_body:
            # More than we keep: take what we keep and drop the connection instead of reading on.
            return Response(status, headers, bytes(self._inbox[self._body_at : self._body_at + self._max_body]), False)
        if have < wanted:
            return None
        return Response(status, headers, bytes(self._inbox[self._body_at : self._body_at + wanted]), reusable)

    def _parse_head(self) -> bool:
        while True:
            end = self._inbox.find(b"\r\n\r\n")
            if end < 0:
                if len(self._inbox) > MAX_HEAD_BYTES:
                    raise ProtocolError("response head too large")
                return False
            lines = bytes(self._inbox[:end]).decode("latin-1").split("\r\n")
            version, _, rest = lines[0].partition(" ")
            code = rest[:3]
            if not version.startswith("HTTP/1.") or len(code) != 3 or not code.isdigit():
                raise ProtocolError(f"not an HTTP/1.x status line: {lines[0][:60]!r}")
            status = int(code)
            if 100 <= status < 200 and status != 101:
                del self._inbox[: end + 4]  # an interim answer (100 Continue, 103 Early Hints)
                continue
            headers: dict[str, str] = {}
            name = ""
            for line in lines[1:]:
                if line[:1] in (" ", "\t") and name:  # obsolete line folding
                    headers[name] = f"{headers[name]} {line.strip()}"
                    continue
                name, colon, value = line.partition(":")
                if not colon:
                    raise ProtocolError(f"malformed header line {line[:60]!r}")
                name = name.strip().lower()
                headers[name] = value.strip()
            connection = headers.get("connection", "").lower()
            reusable = version == "HTTP/1.1" and "close" not in connection
            self._head = (status, headers, reusable)
            self._body_at = end + 4
            return True

    def _parse_chunked(self) -> Response | None:
        assert self._head is not None
        status, headers, reusable = self._head
        inbox = self._inbox
        at = self._body_at
        while True:
            state = self._chunk_left
            if state in (_SIZE_LINE, _TRAILERS):
                end = inbox.find(b"\r\n", at)
                if end < 0:
                    if len(inbox) - at > MAX_HEAD_BYTES:
                        raise ProtocolError("chunk size or trailer line too long")
                    break
                line = bytes(inbox[at:end])
                at = end + 2
                if state == _TRAILERS:
                    if not line:  # the empty line after the trailers: the body is complete
                        return Response(status, headers, bytes(self._chunks), reusable)
                    continue
                size = _chunk_size(line)
                self._chunk_left = size if size else _TRAILERS
            elif state == _DATA_END:
                if len(inbox) - at < 2:
                    break
                if inbox[at : at + 2] != b"\r\n":
                    raise ProtocolError("chunk data not followed by CRLF")
                at += 2
                self._chunk_left = _SIZE_LINE
            else:
                take = min(state, len(inbox) - at)
                if take == 0:
                    break
                room = self._max_body - len(self._chunks)
                if take > room:
                    # More than we keep: take what we keep and drop the connection instead of reading on.
                    self._chunks += inbox[at : at + room]
                    return Response(status, headers, bytes(self._chunks), False)
                self._chunks += inbox[at : at + take]
                at += take
                self._chunk_left = state - take
        # Keep only what is not parsed yet: a slowly dripped body must not be re-read from its start.
        del inbox[:at]
        self._body_at = 0
        return None

    def _closed(self) -> Response:
        """The peer closed the connection: the end of a body without a length, or a failure."""
        if self._head is None:
            if self._inbox:
                raise ProtocolError("connection closed in the middle of the response head")
            raise ConnectionResetError("connection closed before any answer")
        status, headers, _ = self._head
        if "content-length" in headers or _chunked(headers):
            raise ProtocolError("connection closed in the middle of the response body")
        return Response(status, headers, bytes(self._inbox[self._body_at : self._body_at + self._max_body]), False)


def _chunked(headers: dict[str, str]) -> bool:
    return "chunked" in headers.get("transfer-encoding", "").lower()


def _chunk_size(line: bytes) -> int:
    text = line.split(b";", 1)[0].strip()  # chunk extensions are ignored
    if not text or any(c not in b"0123456789abcdefABCDEF" for c in text):
        raise ProtocolError(f"invalid chunk size {text[:20]!r}")
    return int(text, 16)


def arm(sock: socket.socket, until: float) -> bool:
    """Bound the next socket operation by *until*; False if that time has come."""
    left = until - time.monotonic()
    if left <= 0:
        return False
    sock.settimeout(left)
    return True
