"""A function under the AWS Lambda Runtime Interface Emulator, with the real runtime client.

The emulator (``aws-lambda-rie``, built by ``scripts/backends build``) is the one AWS
ships in its Lambda base images; ``awslambdaric`` is the runtime interface client those
images run. Together they are as close to Lambda as a machine without AWS gets: the
Runtime API, init on the first invocation, the timeout that kills and resets the
runtime process, the request ids and the ``REPORT`` lines.

A :class:`Function` runs on a Lambda-like file system made of three folders:

* *opt*: the layer zip unpacked as Lambda unpacks it into ``/opt`` (:func:`unpack_layer`);
* *runtime*: what the Python runtime provides, copied from this environment
  (:func:`copy_runtime`): ``awslambdaric`` and boto3 with their dependencies, nothing else;
* *task*: the function's code (``LAMBDA_TASK_ROOT``).

The interpreter runs with ``-S``: no site-packages of this machine leak in, so the layer
must carry everything it needs, as in Lambda. The emulator does not read
``AWS_LAMBDA_EXEC_WRAPPER``; the wrapper goes in front of the runtime's command, as the
managed runtime's bootstrap puts it: ``aws-lambda-rie <wrapper> python -m awslambdaric
<handler>``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final

INVOKE_PATH: Final = "/2015-03-31/functions/function/invocations"
#: What the Lambda Python runtime provides besides the standard library.
RUNTIME_DISTRIBUTIONS: Final = ("awslambdaric", "boto3")
STARTUP_TIMEOUT_S: Final = 30.0
START_ATTEMPTS: Final = 3
STOP_TIMEOUT_S: Final = 5.0


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    seconds: float  # the round trip, as the caller of Invoke sees it

    def json(self) -> Any:
        return json.loads(self.body)


def unpack_layer(layer_zip: Path, opt: Path) -> Path:
    """Extract a layer zip into *opt* as Lambda does, keeping each file's mode (the wrapper's x bit)."""
    opt.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(layer_zip) as archive:
        for info in archive.infolist():
            target = opt / info.filename
            archive.extract(info, opt)
            mode = (info.external_attr >> 16) & 0o777
            if mode and not info.is_dir():
                target.chmod(mode)
    return opt


def copy_runtime(site: Path, names: Iterable[str] = RUNTIME_DISTRIBUTIONS) -> Path:
    """Copy the installed distributions *names* and their dependencies into *site*, compiled.

    Lambda's runtime ships its packages' bytecode; without it every cold start here would
    compile boto3 first (a second, against a few tens of milliseconds to load it).
    """
    import compileall

    from otel_serverless.layer import copy_distributions

    copy_distributions(list(names), site, skip=frozenset())
    compileall.compile_dir(site, quiet=2, workers=1)
    return site


def free_ports(count: int) -> list[int]:
    """*count* distinct free ports on 127.0.0.1 (all sockets held open until each is chosen)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


class Function:
    """One function in one emulator process on 127.0.0.1: ``with Function(...) as fn: fn.invoke({})``."""

    def __init__(
        self,
        emulator: Path,
        task: Path,
        runtime: Path,
        *,
        handler: str,
        opt: Path | None = None,
        wrapper: str | None = "otel-serverless-handler",
        env: Mapping[str, str] | None = None,
        python: str | None = None,
    ) -> None:
        self.emulator = Path(emulator)
        self.task = Path(task)
        self.runtime = Path(runtime)
        self.handler = handler
        self.opt = opt
        self.wrapper = wrapper if opt is not None else None
        self.env = dict(env or {})
        #: The bare interpreter behind this virtualenv, if any: the runtime's site-packages are only ``runtime``.
        self.python: str = python or str(getattr(sys, "_base_executable", sys.executable))
        self.port = 0
        self.api_port = 0
        self.root = Path(tempfile.mkdtemp(prefix="otel-serverless-rie-"))
        self.log_path = self.root / "rie.log"
        self._process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        wrapper = [str(self.opt / self.wrapper)] if self.opt is not None and self.wrapper else []
        runtime = [self.python, "-S", "-m", "awslambdaric", self.handler]
        # Both on free ports: the Runtime API's default (127.0.0.1:9001) allows one emulator per machine.
        addresses = [
            f"--runtime-interface-emulator-address=127.0.0.1:{self.port}",
            f"--runtime-api-address=127.0.0.1:{self.api_port}",
        ]
        return [str(self.emulator), *addresses, *wrapper, *runtime]

    def environment(self) -> dict[str, str]:
        path = [str(self.opt / "python")] if self.opt is not None else []
        base = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "PYTHONPATH": os.pathsep.join([*path, str(self.runtime), str(self.task)]),
            "LAMBDA_TASK_ROOT": str(self.task),
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_LAMBDA_FUNCTION_NAME": "rie-function",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_FUNCTION_TIMEOUT": "10",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            # The killed-invocation marker lives in /tmp in Lambda; here, in this emulator's own folder.
            "OTEL_SERVERLESS_STATE_DIR": str(self.root),
            "LOG_LEVEL": "info",
        }
        return {**base, **self.env}

    def start(self) -> Function:
        for attempt in range(1, START_ATTEMPTS + 1):
            if self._start_once():
                return self
            # A free port can be taken by another process between choosing it and binding it.
            if "address already in use" not in self.log() or attempt == START_ATTEMPTS:
                break
        raise RuntimeError(f"aws-lambda-rie did not start:\n{self.log()[-3000:]}")

    def _start_once(self) -> bool:
        self.port, self.api_port = free_ports(2)
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(  # noqa: S603  # our emulator binary, fixed arguments
                self.command(),
                cwd=self.task,
                env=self.environment(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # the runtime is the emulator's child: stop() ends the group
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        pending = [self.port, self.api_port]  # the emulator's Invoke API and its Runtime API
        while pending and time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                return False
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", pending[0]), timeout=0.2):
                pending.pop(0)
                continue
            time.sleep(0.02)
        if pending:
            self.stop()
            raise RuntimeError(f"aws-lambda-rie did not listen on 127.0.0.1:{pending} within {STARTUP_TIMEOUT_S:.0f}s")
        return True

    def invoke(self, event: Any, *, timeout: float = 60.0, headers: Mapping[str, str] | None = None) -> Response:
        """Invoke as Lambda's Invoke API would; the body is returned as the emulator answers it."""
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        request = urllib.request.Request(  # always http://127.0.0.1
            f"http://127.0.0.1:{self.port}{INVOKE_PATH}", data=body, method="POST", headers=dict(headers or {})
        )
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
                status, payload = answer.status, answer.read()
        except urllib.error.HTTPError as error:
            status, payload = error.code, error.read()
        return Response(status=status, body=payload, seconds=time.perf_counter() - started)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT_S)
        # The runtime may outlive the emulator for a moment: nothing of the group stays behind.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)

    def close(self) -> None:
        """Stop, and remove the emulator's folder (its log and state)."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Function:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
