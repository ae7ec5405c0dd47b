"""The one place for execution-environment state: cold start, seen deliveries, killed invocations.

A Lambda execution environment runs one process that handles invocations one at
a time; everything here lives as long as that process. What can be known, and how:

* **Cold start**: the first invocation of an execution environment, identified by
  ``context.log_stream_name`` (Lambda gives each environment its own log stream and
  keeps it for the environment's life; without one, the process is the environment).
  In Lambda that is the first invocation of the process; under a runtime that hosts
  several environments in one process (``otel_serverless.local``) each gets its own. The init type comes
  from ``AWS_LAMBDA_INITIALIZATION_TYPE`` (``on-demand``, ``provisioned-concurrency``,
  ``snap-start``). Init duration (process start → first invocation) is reported for
  on-demand environments only: with provisioned concurrency the process was started
  long before its first invocation, and after a SnapStart restore the process start
  time is that of the snapshotted process.
* **SnapStart**: every clone restored from a snapshot starts with the snapshot's memory.
  The first invocation of each restored environment (its own log stream) renews what is
  per environment: the counts and seen deliveries here, the marker, and the providers'
  ``service.instance.id`` and ``faas.instance`` (``_snapstart``).
* **Seen request ids / stream records**: an asynchronous invoke that Lambda retries
  keeps its request id; a stream record redelivered keeps its sequence number. Both
  are remembered (bounded) so a retry in a *warm* environment is recognised. A retry
  that lands in another environment cannot be recognised this way.
* **Killed invocations**: while an invocation runs, a small marker file says so (in
  ``OTEL_SERVERLESS_STATE_DIR``, ``/tmp`` by default). A timeout, an out-of-memory
  kill or a crash leaves it behind; Lambda then resets the environment — a new
  process, same ``/tmp`` — and the first invocation of the new process reports it.
  The reason is ``timeout`` when our watchdog had fired (it notes that in the marker),
  ``out_of_memory`` when the memory guard had seen the resident set close to the limit,
  ``crash`` when both watched the invocation and neither fired (a native crash,
  ``os._exit``, a kill faster than the guard's sampling), else ``unknown`` (the time
  elapsed proves nothing: the next invocation may come any time later). The marker also
  holds the invocation span's ids, so the report goes into the killed invocation's
  trace. When the platform replaces the environment instead of resetting it, the marker
  is lost: nothing is reported.
"""

from __future__ import annotations

import contextlib
import json
import math
import mmap
import os
import tempfile
import threading
import time
from collections import OrderedDict
from json.encoder import encode_basestring_ascii as _encode_text  # what json.dumps uses for str
from pathlib import Path
from typing import Final, NamedTuple

from otel_serverless import _settings
from otel_serverless import environment_variables as env
from otel_serverless._guard import preview, report, warn_once

INIT_TYPES: Final = ("on-demand", "provisioned-concurrency", "snap-start")
#: Most request ids / stream sequence numbers remembered (oldest forgotten first).
MAX_REMEMBERED: Final = 4096
MARKER_NAME: Final = ".otel-serverless-inflight.json"
#: Marker files larger than this are not ours: not read.
_MAX_MARKER_BYTES: Final = 4096


class Killed(NamedTuple):
    """The previous invocation in this environment did not finish."""

    request_id: str | None
    #: "timeout", "out_of_memory", "crash" or "unknown" (see the module).
    reason: str
    #: The killed invocation's span, when it had started (its trace gets the report).
    trace_id: int | None = None
    span_id: int | None = None


class ColdStart(NamedTuple):
    """Facts about the first invocation of this process."""

    init_type: str
    #: Process start (epoch ns), when measurable.
    init_start_ns: int | None
    init_duration_ms: float | None
    snapstart_restored: bool
    previous: Killed | None


class _Environment:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.invocations = 0
        self.environments: OrderedDict[str, int] = OrderedDict()
        #: The environment of the previous invocation (the usual next one: a warm invocation).
        self.last_environment: str | None = None
        self.requests: OrderedDict[str, int] = OrderedDict()
        self.sequences: OrderedDict[str, int] = OrderedDict()


_env = _Environment()


def _remember(table: OrderedDict[str, int], key: str) -> int:
    """Count one more sighting of *key*; return how many times it was seen before."""
    before = table.pop(key, 0)
    table[key] = before + 1
    while len(table) > MAX_REMEMBERED:
        table.popitem(last=False)
    return before


def init_type() -> str:
    raw = os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand").strip().lower()
    return raw if raw in INIT_TYPES else "on-demand"


def process_start_ns() -> int | None:
    """When this process started (epoch ns), from /proc; None where that is unavailable."""
    try:
        with open("/proc/self/stat", "rb") as stat_file:
            stat = stat_file.read().decode("ascii", "replace")
        with open("/proc/stat", "rb") as system_file:
            boot = next(line for line in system_file.read().decode().splitlines() if line.startswith("btime "))
        # Field 22 (starttime, clock ticks after boot); the command name before it may hold spaces.
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
        hertz = os.sysconf("SC_CLK_TCK")
        return int((int(boot.split()[1]) + ticks / hertz) * 1e9)
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def begin(request_id: str, deadline_epoch_ms: float | None, environment: str | None = None) -> ColdStart | None:
    """Count an invocation; the cold-start facts if it is the first of its environment.

    *environment* is the log stream name (None: the process is the environment).
    """
    key = environment or ""
    with _env.lock:
        _env.invocations += 1
        first_of_process = _env.invocations == 1
        # The same environment as last time is already the newest entry: nothing to count or move.
        first = key != _env.last_environment and _remember(_env.environments, key) == 0
        _env.last_environment = key
    if not first:
        _write_marker(request_id, deadline_epoch_ms)
        return None
    kind = init_type()
    if kind == "snap-start":
        # Every restored clone starts from the same snapshot: this environment's identity is
        # its own from here (the snapshot's may hold a priming invocation's state).
        first_of_process = _renew_after_restore(key) or first_of_process
    # The marker and the process start speak for the process's first environment only.
    previous = _read_marker() if first_of_process else None
    _write_marker(request_id, deadline_epoch_ms)
    start = process_start_ns() if kind == "on-demand" and first_of_process else None
    duration = None
    if start is not None:
        duration = max(0.0, (time.time_ns() - start) / 1e6)
    return ColdStart(
        init_type=kind,
        init_start_ns=start,
        init_duration_ms=duration,
        snapstart_restored=kind == "snap-start",
        previous=previous,
    )


def _renew_after_restore(environment: str) -> bool:
    """A SnapStart clone's first invocation: forget what the snapshot remembered (deliveries,
    invocations), and give the process a new ``service.instance.id``; True (the clone's first
    invocation is its process's first, whatever the snapshot counted)."""
    with _env.lock:
        _env.invocations = 1
        _env.requests.clear()
        _env.sequences.clear()
        _env.environments.clear()
        _env.environments[environment] = 1
        _env.last_environment = environment
    _marker.close()  # reopened in this clone's own /tmp
    from otel_serverless.aws_lambda import _snapstart

    _snapstart.renew(environment or None)
    return True


def seen_request(request_id: str) -> int:
    """How many times this request id was handled before in this environment."""
    with _env.lock:
        return _remember(_env.requests, request_id)


def seen_sequences(keys: list[str]) -> list[int]:
    """For each stream-record identity, how many times it was delivered before."""
    with _env.lock:
        return [_remember(_env.sequences, key) for key in keys]


# -- the in-flight marker ----------------------------------------------------------------
# One file, kept open and mapped into memory (MAP_SHARED), rewritten in place with a
# fixed-size record: a warm invocation's two writes are memory copies, no system call.
# The kernel's page cache holds the mapped page, so a process killed right after a write
# (SIGKILL, os._exit) still leaves it for the next process to read. Where the file cannot
# be mapped, each write is one pwrite call instead.

_RECORD_BYTES: Final = 384
_IDLE: Final = b'{"idle":true}'.ljust(_RECORD_BYTES)


class _Marker:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.path: Path | None = None
        self.fd: int | None = None
        self.map: mmap.mmap | None = None
        self.disabled = False

    def _open(self) -> int | None:
        # The settings are read once per process (tests: once per reset_for_tests).
        if self.fd is None and not self.disabled:
            path = _marker_path()
            if path is None:
                self.disabled = True
                return None
            self.path = path
            self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            # No mapping (a file system or platform without it): pwrite per record instead.
            with contextlib.suppress(OSError, ValueError, AttributeError, TypeError):
                if os.fstat(self.fd).st_size < _RECORD_BYTES:
                    os.ftruncate(self.fd, _RECORD_BYTES)
                self.map = mmap.mmap(self.fd, _RECORD_BYTES, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        return self.fd

    def write(self, payload: bytes) -> None:
        """Write one record (padded to the fixed size by the caller, or here)."""
        if len(payload) != _RECORD_BYTES:
            payload = payload[:_RECORD_BYTES].ljust(_RECORD_BYTES)
        # A read-only or full /tmp: kill detection is best effort. A plain try/except rather
        # than guard(): a context manager costs as much as the write itself.
        with self.lock:
            try:
                mapped = self.map
                if mapped is not None:
                    mapped[0:_RECORD_BYTES] = payload
                    return
                fd = self._open()
                if self.map is not None:
                    self.map[0:_RECORD_BYTES] = payload
                elif fd is not None:
                    os.pwrite(fd, payload, 0)
            except OSError as error:
                if self.fd is None:  # the marker cannot even be created: say so once, stop trying
                    self.disabled = True
                    warn_once(
                        "state.marker.open",
                        f"otel-serverless: {env.OTEL_SERVERLESS_STATE_DIR}={preview(str(self.path), 120)}: the "
                        f"in-flight marker cannot be written ({type(error).__name__}); kill detection is off",
                    )
            except Exception as error:
                report("state.marker", error)

    def close(self) -> None:
        if self.map is not None:
            with contextlib.suppress(OSError, ValueError, BufferError):
                self.map.close()
        self.map = None
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.fd)
        self.fd = None
        self.path = None
        self.disabled = False


_marker = _Marker()


def _marker_path() -> Path | None:
    if not _settings.read_bool(env.OTEL_SERVERLESS_KILL_DETECTION, True):
        return None
    directory = _settings.read_str(env.OTEL_SERVERLESS_STATE_DIR, tempfile.gettempdir())
    return Path(directory) / MARKER_NAME


_MEMORY: Final = ', "memory": true'


def _record(
    request_id: str, deadline_epoch_ms: float | None, timed_out: bool, span: str = "", memory: bool = False
) -> bytes:
    """``json.dumps`` of the record, byte for byte, without building and encoding a dict."""
    if deadline_epoch_ms is None:
        deadline = "null"
    elif type(deadline_epoch_ms) is float and math.isfinite(deadline_epoch_ms):
        deadline = float.__repr__(deadline_epoch_ms)
    else:
        deadline = json.dumps(deadline_epoch_ms)
    text = (
        f'{{"id": {_encode_text(request_id[:128])}, "deadline": {deadline}, '
        f'"timeout": {"true" if timed_out else "false"}{span}{_MEMORY if memory else ""}}}'
    )
    return text.encode()


def _write_marker(request_id: str, deadline_epoch_ms: float | None, *, timed_out: bool = False) -> None:
    _inflight.span = ""
    _marker.write(_record(request_id, deadline_epoch_ms, timed_out))


class _InFlight:
    """What the marker says about the running invocation's span (kept for the later notes)."""

    span = ""


_inflight = _InFlight()


def note_span(request_id: str, deadline_epoch_ms: float | None, trace_id: int, span_id: int, watched: bool) -> None:
    """The invocation span started: if the process dies, the next one reports it in this trace.

    *watched*: the timeout watchdog and the memory guard run for it, so a death that neither
    saw coming is a crash.
    """
    flag = "true" if watched else "false"
    _inflight.span = f', "trace": "{trace_id:032x}", "span": "{span_id:016x}", "watched": {flag}'
    _marker.write(_record(request_id, deadline_epoch_ms, False, _inflight.span))


def note_timeout(request_id: str, deadline_epoch_ms: float | None) -> None:
    """The watchdog fired: if the process dies now, the next one knows why."""
    _marker.write(_record(request_id, deadline_epoch_ms, True, _inflight.span))


def note_memory(request_id: str, deadline_epoch_ms: float | None) -> None:
    """The memory guard fired (close to the limit): if the process dies now, it was out of memory."""
    _marker.write(_record(request_id, deadline_epoch_ms, False, _inflight.span, memory=True))


def end(request_id: str) -> None:
    """The invocation finished normally: the marker says so."""
    _marker.write(_IDLE)


def _read_marker() -> Killed | None:
    path = _marker_path()
    if path is None:
        return None
    try:
        if path.stat().st_size > _MAX_MARKER_BYTES:
            return None
        data = json.loads(path.read_bytes().strip() or b"{}")
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or "id" not in data:
        return None
    request_id = data.get("id") if isinstance(data.get("id"), str) else None
    # Only the watchdog knows a timeout, and the memory guard an out-of-memory kill, for sure:
    # the next invocation may come long after the old deadline whatever the cause, so elapsed
    # time proves nothing. Watched by both and seen by neither: the process died on its own.
    if data.get("timeout") is True:
        reason = "timeout"
    elif data.get("memory") is True:
        reason = "out_of_memory"
    else:
        reason = "crash" if data.get("watched") is True else "unknown"
    return Killed(request_id, reason, _hex(data.get("trace"), 32), _hex(data.get("span"), 16))


def _hex(value: object, digits: int) -> int | None:
    if not isinstance(value, str) or len(value) != digits:
        return None
    try:
        found = int(value, 16)
    except ValueError:
        return None
    return found or None


def reset_for_tests() -> None:
    """Forget everything: the next invocation is a cold start again."""
    with _env.lock:
        _env.invocations = 0
        _env.environments.clear()
        _env.last_environment = None
        _env.requests.clear()
        _env.sequences.clear()
    _marker.close()
