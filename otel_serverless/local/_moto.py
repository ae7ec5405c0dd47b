"""moto in server mode: a child process on a free 127.0.0.1 port, started and stopped by the runtime."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

#: How long moto may take to answer after it was started.
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _command() -> list[str]:
    # Prefer the console script next to this interpreter: it belongs to the same environment.
    executable = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or shutil.which("moto_server")
    return [executable] if executable else [sys.executable, "-m", "moto.server"]


class MotoServer:
    """A ``moto_server`` child process bound to 127.0.0.1 only."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self.endpoint = ""

    def start(self, timeout: float = START_TIMEOUT) -> str:
        port = free_port()
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter's moto, fixed arguments
            [*_command(), "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.endpoint = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"moto_server exited with status {self._process.returncode} before answering")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=2):  # noqa: S310 - 127.0.0.1
                    return self.endpoint
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"moto_server did not answer on {self.endpoint} within {timeout:.0f}s") from None
                time.sleep(0.05)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def reset(endpoint: str) -> None:
    """Forget every resource in the moto server at *endpoint*."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")  # noqa: S310 - http only
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - a 127.0.0.1 URL we were given
        pass
