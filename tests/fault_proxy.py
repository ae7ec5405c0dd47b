"""A TCP proxy on 127.0.0.1 whose behaviour a test switches: the ways a collector fails, then recovers.

Modes (:attr:`FaultProxy.mode`), applied to each new connection:

* ``("forward", port)``: relay bytes both ways to 127.0.0.1:*port* (the collector is fine);
* ``"refuse"``: accept and close at once (a collector restarting: connection reset);
* ``"blackhole"``: accept, read, never answer;
* ``"drip"``: accept, read the request, answer one byte every 50 ms, forever;
* ``"down"``: not listening at all (connections refused); the same port comes back with any other mode.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

Mode = str | tuple[str, int]


class FaultProxy:
    def __init__(self) -> None:
        self.mode: Mode = "refuse"
        self.connections = 0
        self._stop = threading.Event()
        self._held: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        probe.bind(("127.0.0.1", 0))
        self.port: int = probe.getsockname()[1]
        probe.close()
        self._threads: list[threading.Thread] = []
        self._listen()

    def set(self, mode: Mode) -> None:
        if mode == "down":
            self._close_listener()
        elif self._listener is None:
            self._listen()
        self.mode = mode

    def _listen(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(64)
        sock.settimeout(0.1)
        self._listener = sock
        thread = threading.Thread(target=self._accept, args=(sock,), daemon=True)
        thread.start()
        self._threads.append(thread)

    def _close_listener(self) -> None:
        sock, self._listener = self._listener, None
        if sock is not None:
            sock.close()

    def _accept(self, sock: socket.socket) -> None:
        while not self._stop.is_set() and self._listener is sock:
            try:
                connection, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(connection, self.mode), daemon=True).start()

    def _serve(self, connection: socket.socket, mode: Mode) -> None:
        with self._lock:
            self._held.append(connection)
        if mode == "refuse":
            with suppress(OSError):
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            connection.close()
            return
        if mode == "blackhole":
            while not self._stop.wait(0.1):
                with suppress(OSError):
                    connection.setblocking(False)
                    connection.recv(65536)
            return
        if mode == "drip":
            connection.settimeout(0.2)
            with suppress(OSError):
                connection.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100_000:
                if self._stop.is_set():
                    return
                try:
                    connection.sendall(bytes((byte,)))
                except OSError:
                    return
                time.sleep(0.05)
            return
        assert isinstance(mode, tuple)
        try:
            upstream = socket.create_connection(("127.0.0.1", mode[1]), timeout=5)
        except OSError:
            connection.close()
            return
        self._relay(connection, upstream)

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        with client, upstream:
            ends = [client, upstream]
            while not self._stop.is_set():
                readable, _, _ = select.select(ends, [], [], 0.2)
                for end in readable:
                    try:
                        data = end.recv(65536)
                    except OSError:
                        return
                    if not data:
                        return
                    try:
                        (upstream if end is client else client).sendall(data)
                    except OSError:
                        return

    def close(self) -> None:
        self._stop.set()
        self._close_listener()
        with self._lock:
            for connection in self._held:
                with suppress(OSError):
                    connection.close()


@contextmanager
def fault_proxy() -> Iterator[FaultProxy]:
    proxy = FaultProxy()
    try:
        yield proxy
    finally:
        proxy.close()
