"""Opening the connection to a collector within an export's deadline: DNS, proxy, TLS.

Every step that can wait on the network is bounded by the same ``until`` the export
has, name resolution included: ``socket.getaddrinfo`` cannot be given a timeout, so
it runs on a helper thread that the export stops waiting for at its deadline (one
resolution per endpoint is in flight at a time, however many exports give up on it).

Proxies follow the usual environment variables, as the SDK's exporter (through
``requests``) does: ``HTTPS_PROXY``/``HTTP_PROXY`` (either case) by the endpoint's
scheme, and ``NO_PROXY`` to bypass them. An http endpoint is sent through the proxy
in absolute form; an https endpoint is tunnelled with ``CONNECT`` and TLS runs inside
the tunnel to the collector. A proxy URL's ``user:password`` becomes
``Proxy-Authorization: Basic``. Only http:// proxies are spoken to; another scheme is
refused with one warning and the endpoint is reached directly.
"""

from __future__ import annotations

import base64
import ipaddress
import socket
import threading
import time
import urllib.request
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final, NamedTuple
from urllib.parse import unquote, urlsplit

from otel_serverless._guard import preview, warn_once
from otel_serverless.export._http1 import arm

if TYPE_CHECKING:
    import ssl

__all__ = ["Proxy", "basic_credentials", "connect", "find_proxy", "resolve"]

#: Most bytes of a proxy's answer to CONNECT we read (a status line and a few headers).
_MAX_CONNECT_ANSWER: Final = 16 * 1024

_Address = tuple[socket.AddressFamily, socket.SocketKind, int, str, Any]


class TunnelRefused(OSError):
    """The proxy answered CONNECT with something other than 2xx (407: it wants credentials)."""


class Proxy(NamedTuple):
    host: str
    port: int
    #: ``Proxy-Authorization`` value, or None.
    authorization: str | None
    #: Named in log lines without any user:password part.
    safe: str


def basic_credentials(username: str | None, password: str | None) -> str | None:
    """``Basic …`` for the URL-encoded *username* and *password* of a URL, or None without a user."""
    if not username:
        return None
    pair = f"{unquote(username)}:{unquote(password or '')}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def find_proxy(scheme: str, host: str) -> Proxy | None:
    """The proxy the environment names for *scheme* requests to *host*, or None (none, or bypassed)."""
    proxies = urllib.request.getproxies_environment()
    url = proxies.get(scheme)
    if not url or _bypassed(host, proxies):
        return None
    parts = urlsplit(url if "://" in url else f"http://{url}")
    try:
        port = parts.port or 80
    except ValueError:
        port = -1
    if parts.scheme != "http" or not parts.hostname or port <= 0:
        warn_once(
            f"export:proxy:{scheme}",
            f"otel-serverless: the {scheme} proxy {preview(f'{parts.scheme}://{parts.hostname}', 80)} is not an "
            "http:// proxy with a host and port; the collector is reached directly",
        )
        return None
    return Proxy(
        parts.hostname,
        port,
        basic_credentials(parts.username, parts.password),
        f"http://{parts.hostname}:{port}",
    )


def _bypassed(host: str, proxies: dict[str, str]) -> bool:
    # The standard library's NO_PROXY rules (domains, suffixes, "*", host:port); its stubs omit this function.
    bypass = getattr(urllib.request, "proxy_bypass_environment", None)
    return bool(bypass(host, proxies)) if bypass is not None else False


class _Resolution:
    """One ``getaddrinfo`` call on its own thread; its answer (or error) once done."""

    def __init__(self, host: str, port: int) -> None:
        self.done = threading.Event()
        self.addresses: Sequence[_Address] = ()
        self.error: OSError | None = None
        self._thread = threading.Thread(
            target=self._run, args=(host, port), name="otel-serverless-resolve", daemon=True
        )
        self._thread.start()

    def _run(self, host: str, port: int) -> None:
        try:
            self.addresses = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
        except OSError as error:
            self.error = error
        except Exception as error:  # a resolver bug must still end the wait
            self.error = OSError(f"name resolution failed: {type(error).__name__}")
        finally:
            self.done.set()


_pending: dict[tuple[str, int], _Resolution] = {}
_pending_lock = threading.Lock()


def resolve(host: str, port: int, until: float) -> Sequence[_Address]:
    """*host*'s addresses, waiting at most until ``time.monotonic()`` reaches *until*.

    Raises ``TimeoutError`` when the resolver has not answered by then (it goes on
    in the background and the next connection attempt picks its answer up) and
    ``OSError`` when it failed.
    """
    if _is_ip(host):
        return socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST)
    key = (host, port)
    with _pending_lock:
        resolution = _pending.get(key)
        if resolution is None:
            resolution = _pending[key] = _Resolution(host, port)
    if not resolution.done.wait(max(0.0, until - time.monotonic())):
        raise TimeoutError(f"no answer from the name resolver for {preview(host, 80)} by the export deadline")
    with _pending_lock:
        if _pending.get(key) is resolution:
            del _pending[key]  # answers are not cached: the next new connection asks again
    if resolution.error is not None:
        raise resolution.error
    return resolution.addresses


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _open(host: str, port: int, until: float) -> socket.socket:
    """A TCP connection to *host*:*port*, trying each address, within *until*."""
    error: OSError | None = None
    for family, kind, proto, _, address in resolve(host, port, until):
        sock = socket.socket(family, kind, proto)
        try:
            _arm_or_time_out(sock, until)
            sock.connect(address)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as failed:
            sock.close()
            if isinstance(failed, TimeoutError):
                raise
            error = failed
            continue
        return sock
    raise error or OSError(f"no address found for {preview(host, 80)}")


def connect(
    host: str, port: int, until: float, *, tls: ssl.SSLContext | None = None, proxy: Proxy | None = None
) -> socket.socket:
    """A connection to the collector at *host*:*port* (through *proxy*, in TLS with *tls*), within *until*."""
    sock = _open(proxy.host, proxy.port, until) if proxy is not None else _open(host, port, until)
    try:
        if proxy is not None and tls is not None:
            _tunnel(sock, host, port, proxy, until)
        if tls is not None:
            _arm_or_time_out(sock, until)
            return tls.wrap_socket(sock, server_hostname=host)
    except BaseException:
        sock.close()
        raise
    return sock


def _tunnel(sock: socket.socket, host: str, port: int, proxy: Proxy, until: float) -> None:
    """Ask *proxy* on *sock* for a tunnel to *host*:*port* (``CONNECT``); raise OSError if refused."""
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}"]
    if proxy.authorization:
        lines.append(f"Proxy-Authorization: {proxy.authorization}")
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    _arm_or_time_out(sock, until)
    sock.sendall(request)
    answer = bytearray()
    while b"\r\n\r\n" not in answer:
        if len(answer) > _MAX_CONNECT_ANSWER:
            raise OSError(f"the proxy {proxy.safe} sent an overlong answer to CONNECT")
        _arm_or_time_out(sock, until)
        # One byte at a time past the head would be slow; the head is all a CONNECT answer has.
        data = sock.recv(1024)
        if not data:
            raise ConnectionResetError(f"the proxy {proxy.safe} closed the connection during CONNECT")
        answer += data
    status_line = bytes(answer).split(b"\r\n", 1)[0].decode("latin-1")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].startswith("2"):
        raise TunnelRefused(f"the proxy {proxy.safe} refused the tunnel: {preview(status_line, 80)}")


def _arm_or_time_out(sock: socket.socket, until: float) -> None:
    if not arm(sock, until):
        raise TimeoutError("OTLP export deadline reached")
