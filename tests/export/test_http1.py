"""The resumable HTTP/1.1 exchange, over a real socket pair: framing, limits, stopping and going on."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from otel_serverless.export._http1 import Exchange, ProtocolError, Response, authority, request_head

REQUEST = b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody"


@contextmanager
def _pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    ours, peer = socket.socketpair()
    try:
        yield ours, peer
    finally:
        ours.close()
        peer.close()


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    with _pair() as sockets:
        yield sockets


def _soon(seconds: float = 5.0) -> float:
    return time.monotonic() + seconds


def _answer(pair: tuple[socket.socket, socket.socket], answer: bytes, *, max_body: int = 1024) -> Response | None:
    ours, peer = pair
    peer.sendall(answer)
    return Exchange(ours, REQUEST, max_body).run(_soon())


def _read_request(peer: socket.socket, size: int) -> bytes:
    got = bytearray()
    peer.settimeout(5)
    while len(got) < size:
        chunk = peer.recv(size - len(got))
        if not chunk:
            break
        got += chunk
    return bytes(got)


def test_a_sized_answer_is_read_and_the_connection_stays_usable(pair: tuple[socket.socket, socket.socket]) -> None:
    response = _answer(pair, b"HTTP/1.1 200 OK\r\nContent-Type: x\r\nContent-Length: 3\r\n\r\nabc")
    assert response == Response(200, {"content-type": "x", "content-length": "3"}, b"abc", True)
    assert _read_request(pair[1], len(REQUEST)) == REQUEST


def test_a_chunked_answer_with_extensions_and_trailers_is_decoded(pair: tuple[socket.socket, socket.socket]) -> None:
    answer = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3;name=value\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n"
    )
    response = _answer(pair, answer)
    assert response is not None
    assert (response.status, response.body, response.reusable) == (200, b"abcde", True)


def test_a_chunked_answer_dripped_one_byte_at_a_time_is_decoded(pair: tuple[socket.socket, socket.socket]) -> None:
    ours, peer = pair
    answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1\r\n!\r\n0\r\n\r\n"

    def drip() -> None:
        for byte in answer:
            peer.sendall(bytes((byte,)))
            time.sleep(0.001)

    thread = threading.Thread(target=drip)
    thread.start()
    response = Exchange(ours, REQUEST, 1024).run(_soon())
    thread.join()
    assert response is not None
    assert response.body == b"hello!"


def test_interim_answers_are_skipped(pair: tuple[socket.socket, socket.socket]) -> None:
    response = _answer(pair, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")
    assert response is not None
    assert (response.status, response.body, response.reusable) == (204, b"", True)


def test_an_answer_without_length_ends_with_the_connection(pair: tuple[socket.socket, socket.socket]) -> None:
    ours, peer = pair
    peer.sendall(b"HTTP/1.0 503 Service Unavailable\r\nRetry-After: 2\r\n\r\nbusy")
    peer.shutdown(socket.SHUT_WR)
    response = Exchange(ours, REQUEST, 1024).run(_soon())
    assert response == Response(503, {"retry-after": "2"}, b"busy", False)


def test_connection_close_makes_the_connection_single_use(pair: tuple[socket.socket, socket.socket]) -> None:
    response = _answer(pair, b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
    assert response is not None
    assert response.reusable is False


def test_a_body_beyond_the_limit_is_cut_and_the_connection_dropped(pair: tuple[socket.socket, socket.socket]) -> None:
    response = _answer(pair, b"HTTP/1.1 400 Bad\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100, max_body=10)
    assert response is not None
    assert (response.body, response.reusable) == (b"x" * 10, False)
    chunked = b"HTTP/1.1 400 Bad\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n" + b"y" * 100
    with _pair() as (ours, peer):
        peer.sendall(chunked)
        cut = Exchange(ours, REQUEST, 10).run(_soon())
    assert cut is not None
    assert (cut.body, cut.reusable) == (b"y" * 10, False)


@pytest.mark.parametrize(
    "answer",
    [
        b"SSH-2.0-OpenSSH\r\n\r\n",
        b"HTTP/1.1 2x0 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc",
    ],
)
def test_an_answer_that_is_not_http_raises_a_protocol_error(
    pair: tuple[socket.socket, socket.socket], answer: bytes
) -> None:
    with pytest.raises(ProtocolError):
        _answer(pair, answer)


def test_an_endless_head_is_refused(pair: tuple[socket.socket, socket.socket]) -> None:
    ours, peer = pair
    sender = threading.Thread(target=lambda: peer.sendall(b"HTTP/1.1 200 OK\r\nX: " + b"a" * 100_000))
    sender.start()
    with pytest.raises(ProtocolError):
        Exchange(ours, REQUEST, 1024).run(_soon())
    sender.join()


def test_a_connection_closed_before_or_during_the_answer_fails(pair: tuple[socket.socket, socket.socket]) -> None:
    ours, peer = pair
    peer.close()
    with pytest.raises(ConnectionError):
        Exchange(ours, REQUEST, 1024).run(_soon())
    with _pair() as (ours2, peer2):
        peer2.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        peer2.shutdown(socket.SHUT_WR)
        exchange = Exchange(ours2, REQUEST, 1024)
        with pytest.raises(ProtocolError):
            exchange.run(_soon())
        assert exchange.answered


def test_a_late_answer_is_awaited_across_calls_and_the_request_is_sent_once(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    ours, peer = pair
    exchange = Exchange(ours, REQUEST, 1024)
    started = time.monotonic()
    assert exchange.run(time.monotonic() + 0.05) is None  # no answer yet: stops at the limit
    assert time.monotonic() - started < 2
    assert not exchange.answered
    peer.sendall(b"HTTP/1.1 200 OK\r\nContent-")
    assert exchange.run(time.monotonic() + 0.05) is None  # half an answer: kept, not lost
    assert exchange.answered
    peer.sendall(b"Length: 2\r\n\r\nok")
    # Another thread goes on from where the first stopped.
    results: list[Response | None] = []
    thread = threading.Thread(target=lambda: results.append(exchange.run(_soon())))
    thread.start()
    thread.join()
    assert results == [Response(200, {"content-length": "2"}, b"ok", True)]
    peer.settimeout(0.2)
    assert _read_request(peer, len(REQUEST)) == REQUEST
    with pytest.raises(TimeoutError):
        peer.recv(1)  # nothing was sent twice


def test_a_request_half_sent_at_the_limit_goes_on_from_the_same_byte(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    ours, peer = pair
    body = bytes(range(256)) * 40_000  # ~10 MB: far beyond the socket buffers
    request = b"POST / HTTP/1.1\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    exchange = Exchange(ours, request, 1024)
    assert exchange.run(time.monotonic() + 0.05) is None  # the peer is not reading: stops mid-request
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(_read_request(peer, len(request))))
    reader.start()
    results: list[Response | None] = []
    finisher = threading.Thread(target=lambda: results.append(exchange.run(_soon(30))))
    finisher.start()
    reader.join(30)
    peer.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    finisher.join(30)
    assert received == [request]
    assert results[0] is not None
    assert results[0].status == 200


def test_the_request_head_names_the_host_and_ends_before_the_length() -> None:
    head = request_head("POST", "/v1/traces", authority("::1", 4318, 80), {"Content-Type": "application/x-protobuf"})
    assert head == (
        b"POST /v1/traces HTTP/1.1\r\nHost: [::1]:4318\r\nContent-Type: application/x-protobuf\r\nContent-Length: "
    )
    assert authority("collector", 443, 443) == "collector"
