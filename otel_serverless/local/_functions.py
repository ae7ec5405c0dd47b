"""Function instances, concurrency, cold starts and timeouts: how Lambda runs a handler.

* **Instances.** Each function has a pool of instances (execution environments).
  An invocation takes an idle instance, most recently used first as Lambda
  does; when none is idle and the pool is below the function's reserved
  concurrency, a *new instance* starts: that invocation is a cold start. Above
  the limit the invocation is throttled (``TooManyRequestsException`` for a
  synchronous invoke; event sources wait for a free instance).
* **Identity.** Every instance has its own log stream name
  (``YYYY/MM/DD/[$LATEST]<32 hex>``), as every Lambda execution environment does;
  it is the same for all invocations the instance serves. A wrapper tells
  instances apart by ``context.log_stream_name``.
* **Timeouts.** The handler runs in a worker thread; at the deadline the
  invocation is abandoned and reported as Lambda reports it (``Task timed out
  after N.NN seconds``). The instance is discarded (Lambda resets a timed-out
  environment, so the next invocation is a cold start) and the abandoned thread
  is interrupted by an asynchronous exception as soon as it runs Python code
  again, so it cannot keep producing side effects the way a frozen Lambda
  sandbox would not.
* **Isolation.** The event is a fresh ``json.loads`` of the payload and the
  result must be JSON-serialisable (else ``Runtime.MarshalError``), so a handler
  never shares objects with its caller, as across the real Lambda API.
"""

from __future__ import annotations

import contextvars
import ctypes
import datetime
import json
import logging
import math
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from otel_serverless.local._context import ClientContext, CognitoIdentity, LambdaContext

logger = logging.getLogger("otel_serverless.local")

#: A Lambda handler: ``handler(event, context) -> JSON-serialisable result``.
Handler = Callable[[Any, Any], Any]

DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
#: Lambda's default function timeout, seconds.
DEFAULT_TIMEOUT = 3.0
DEFAULT_MEMORY_MB = 128
#: Instances a function may run at once unless configured (AWS's account default is 1000).
DEFAULT_CONCURRENCY = 10
#: Lambda keeps at most this much of an invocation's log for ``LogType=Tail``.
LOG_TAIL_BYTES = 4096


class InvocationAbandoned(BaseException):
    """Raised inside a timed-out handler's thread: the runtime stopped waiting for it.

    A ``BaseException`` so that a handler's ``except Exception`` does not catch it.
    """


@dataclass(frozen=True)
class FunctionConfig:
    """A function as Lambda knows it: name, code, limits, and what to do with failed async events."""

    name: str
    handler: Handler
    timeout: float = DEFAULT_TIMEOUT
    memory_mb: int = DEFAULT_MEMORY_MB
    reserved_concurrency: int = DEFAULT_CONCURRENCY
    environment: Mapping[str, str] = field(default_factory=dict)
    #: Retries of a failed asynchronous invocation (Lambda: 0–2, default 2).
    max_retry_attempts: int = 2
    #: SQS queue URL that receives async events which failed every attempt (Lambda's DeadLetterConfig).
    dead_letter_queue_url: str | None = None
    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT_ID
    version: str = "$LATEST"

    def __post_init__(self) -> None:
        if not self.name or len(self.name) > 64:
            raise ValueError(f"function name must be 1–64 characters: {self.name!r}")
        if not (math.isfinite(self.timeout) and 0 < self.timeout <= 900):
            raise ValueError(f"{self.name}: timeout must be in (0, 900] seconds, not {self.timeout!r}")
        if not 128 <= self.memory_mb <= 10240:
            raise ValueError(f"{self.name}: memory must be 128–10240 MB, not {self.memory_mb!r}")
        if self.reserved_concurrency < 1:
            raise ValueError(f"{self.name}: reserved concurrency must be ≥ 1")
        if not 0 <= self.max_retry_attempts <= 2:
            raise ValueError(f"{self.name}: async retry attempts must be 0–2")

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.name}"


@dataclass(frozen=True)
class InstanceInfo:
    """One execution environment of a function, as a wrapper or the demo may want to see it."""

    function_name: str
    #: Unique per instance and the same for all its invocations, as in Lambda.
    log_stream_name: str
    log_group_name: str
    memory_mb: int
    #: The ``AWS_LAMBDA_*`` variables Lambda would set in this instance's process.
    environment: Mapping[str, str]

    @property
    def instance_id(self) -> str:
        return self.log_stream_name


@dataclass(frozen=True)
class InvocationResult:
    """What happened to one invocation: the response, or how it failed, and on which instance."""

    function_name: str
    request_id: str
    #: ``invoke`` (sync API), ``event`` (async), ``sqs``, ``kinesis``, ``dynamodb``, ``stepfunctions`` …
    source: str
    #: 1 for the first delivery; async retries and redeliveries count up.
    attempt: int
    #: The response as Lambda returns it: JSON bytes (an error document when ``error`` is set).
    payload: bytes
    error: Mapping[str, Any] | None = None
    timed_out: bool = False
    throttled: bool = False
    cold_start: bool = False
    instance: InstanceInfo | None = None
    duration_ms: float = 0.0
    init_duration_ms: float | None = None
    logs: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None and not self.throttled

    def value(self) -> Any:
        """The handler's return value (decoded), or the error document."""
        return json.loads(self.payload) if self.payload else None


_current_instance: contextvars.ContextVar[InstanceInfo | None] = contextvars.ContextVar(
    "otel_serverless_local_instance", default=None
)


def current_instance() -> InstanceInfo | None:
    """The instance running the calling handler, or None outside the local runtime."""
    return _current_instance.get()


class _Instance:
    def __init__(self, info: InstanceInfo, handler: Handler) -> None:
        self.info = info
        self.handler = handler
        self.invocations = 0


def _log_stream_name(version: str) -> str:
    day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y/%m/%d")
    return f"{day}/[{version}]{uuid.uuid4().hex}"


class FunctionPool:
    """The instances of one function and its concurrency limit."""

    def __init__(
        self,
        config: FunctionConfig,
        *,
        wrap: Callable[[Handler], Handler] | None = None,
        on_new_instance: Callable[[InstanceInfo], None] | None = None,
    ) -> None:
        self.config = config
        self._wrap = wrap
        self._on_new_instance = on_new_instance
        self._cond = threading.Condition()
        self._idle: list[_Instance] = []
        self._live = 0
        self.instances_started = 0

    def has_capacity(self) -> bool:
        with self._cond:
            return bool(self._idle) or self._live < self.config.reserved_concurrency

    def acquire(self, wait: float = 0.0) -> tuple[_Instance, float | None] | None:
        """An instance and its init duration in ms (None when warm); None when throttled."""
        deadline = time.monotonic() + wait
        with self._cond:
            while not self._idle and self._live >= self.config.reserved_concurrency:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)
            if self._idle:
                return self._idle.pop(), None
            self._live += 1
        try:
            started = time.perf_counter()
            instance = self._new_instance()
            return instance, (time.perf_counter() - started) * 1000
        except BaseException:
            with self._cond:
                self._live -= 1
                self._cond.notify()
            raise

    def release(self, instance: _Instance, *, reusable: bool) -> None:
        with self._cond:
            if reusable:
                self._idle.append(instance)
            else:
                self._live -= 1
            self._cond.notify()

    def _new_instance(self) -> _Instance:
        config = self.config
        stream = _log_stream_name(config.version)
        info = InstanceInfo(
            function_name=config.name,
            log_stream_name=stream,
            log_group_name=config.log_group_name,
            memory_mb=config.memory_mb,
            environment={
                "AWS_LAMBDA_FUNCTION_NAME": config.name,
                "AWS_LAMBDA_FUNCTION_VERSION": config.version,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
                "AWS_LAMBDA_LOG_GROUP_NAME": config.log_group_name,
                "AWS_LAMBDA_LOG_STREAM_NAME": stream,
                "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
                "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
                "AWS_REGION": config.region,
                "AWS_DEFAULT_REGION": config.region,
            },
        )
        # Init runs before the first invocation, like module code in a fresh sandbox;
        # a failing init surfaces to the caller as that invocation's error.
        if self._on_new_instance is not None:
            self._on_new_instance(info)
        handler = self._wrap(config.handler) if self._wrap is not None else config.handler
        self.instances_started += 1
        return _Instance(info, handler)


@dataclass
class _Outcome:
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None
    trace: list[str] = field(default_factory=list)


def _iso_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _interrupt(thread: threading.Thread) -> None:
    """Raise InvocationAbandoned in *thread* at its next Python instruction (best effort)."""
    if thread.ident is None or not thread.is_alive():
        return
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(InvocationAbandoned))


def error_document(error: BaseException, trace: list[str]) -> dict[str, Any]:
    """The body Lambda's Python runtime returns for an unhandled exception."""
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "requestId": "",
        "stackTrace": trace,
    }


def _failed_before_running(
    config: FunctionConfig,
    request_id: str,
    source: str,
    attempt: int,
    document: dict[str, Any],
    *,
    cold_start: bool = False,
    throttled: bool = False,
) -> InvocationResult:
    return InvocationResult(
        function_name=config.name,
        request_id=request_id,
        source=source,
        attempt=attempt,
        payload=json.dumps(document).encode(),
        error=document,
        cold_start=cold_start,
        throttled=throttled,
    )


def _run_with_deadline(instance: _Instance, event: Any, context: LambdaContext, timeout: float) -> _Outcome | None:
    """Run the handler in a worker thread; None when it was abandoned at the deadline."""
    outcome = _Outcome()

    def work() -> None:
        _current_instance.set(instance.info)
        try:
            outcome.result = instance.handler(event, context)
        except InvocationAbandoned:
            return
        except BaseException as error:  # the runtime reports whatever the handler raised
            outcome.error = error
            outcome.trace = traceback.format_list(traceback.extract_tb(error.__traceback__)[1:])
        finally:
            outcome.done.set()

    name = f"lambda:{context.function_name}:{context.aws_request_id[:8]}"
    worker = threading.Thread(target=work, name=name, daemon=True)
    worker.start()
    if outcome.done.wait(timeout):
        return outcome
    _interrupt(worker)
    return None


def _response(outcome: _Outcome, request_id: str) -> tuple[bytes, dict[str, Any] | None]:
    """The response payload and error document, as the runtime would send them back."""
    if outcome.error is not None:
        error = error_document(outcome.error, outcome.trace)
        return json.dumps(error).encode(), error
    try:
        return json.dumps(outcome.result).encode(), None
    except (TypeError, ValueError) as marshal:
        error = {
            "errorMessage": f"Unable to marshal response: {marshal}",
            "errorType": "Runtime.MarshalError",
            "requestId": request_id,
            "stackTrace": [],
        }
        return json.dumps(error).encode(), error


def run_invocation(
    pool: FunctionPool,
    event: Any,
    *,
    request_id: str | None = None,
    source: str = "invoke",
    attempt: int = 1,
    client_context: ClientContext | None = None,
    identity: CognitoIdentity | None = None,
    wait_for_capacity: float = 0.0,
) -> InvocationResult:
    """Run one invocation of *pool*'s function on an instance, enforcing its timeout.

    *event* is JSON bytes/str (as it arrives over the Invoke API) or a JSON-compatible
    object; either way the handler gets its own decoded copy. Raises ``ValueError``
    when *event* is not valid JSON.
    """
    config = pool.config
    request_id = request_id or str(uuid.uuid4())
    text = event if isinstance(event, str | bytes | bytearray) else json.dumps(event)
    decoded = json.loads(text) if text else {}
    try:
        acquired = pool.acquire(wait_for_capacity)
    except Exception as init_error:  # a failing init is that invocation's error, as in Lambda
        document = error_document(init_error, traceback.format_tb(init_error.__traceback__))
        document["errorType"] = f"Runtime.InitError.{document['errorType']}"
        return _failed_before_running(config, request_id, source, attempt, document, cold_start=True)
    if acquired is None:
        document = {"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded", "Type": "User"}
        document["message"] = "Rate Exceeded."
        return _failed_before_running(config, request_id, source, attempt, document, throttled=True)
    instance, init_ms = acquired
    context = LambdaContext(
        aws_request_id=request_id,
        function_name=config.name,
        function_version=config.version,
        invoked_function_arn=config.arn,
        memory_limit_in_mb=config.memory_mb,
        log_group_name=config.log_group_name,
        log_stream_name=instance.info.log_stream_name,
        deadline_epoch_ms=time.time() * 1000 + config.timeout * 1000,
        client_context=client_context,
        identity=identity,
    )
    logs = [f"START RequestId: {request_id} Version: {config.version}"]
    started = time.perf_counter()
    outcome = _run_with_deadline(instance, decoded, context, config.timeout)
    duration_ms = (time.perf_counter() - started) * 1000
    instance.invocations += 1
    pool.release(instance, reusable=outcome is not None)
    if outcome is None:
        message = f"Task timed out after {config.timeout:.2f} seconds"
        logs.append(f"{_iso_now()} {request_id} {message}")
        error: dict[str, Any] | None = {
            "errorType": "Sandbox.Timedout",
            "errorMessage": f"RequestId: {request_id} Error: {message}",
        }
        payload = json.dumps(error).encode()
    else:
        payload, error = _response(outcome, request_id)
        if error is not None:
            logs.append(f"[ERROR] {error['errorType']}: {str(error['errorMessage'])[:200]}")
    logs.append(f"END RequestId: {request_id}")
    logs.append(_report_line(config, request_id, duration_ms, init_ms, timed_out=outcome is None))
    for line in logs:
        logger.info("%s %s", config.name, line)
    return InvocationResult(
        function_name=config.name,
        request_id=request_id,
        source=source,
        attempt=attempt,
        payload=payload,
        error=error,
        timed_out=outcome is None,
        cold_start=init_ms is not None,
        instance=instance.info,
        duration_ms=duration_ms,
        init_duration_ms=init_ms,
        logs=tuple(logs),
    )


def _report_line(
    config: FunctionConfig, request_id: str, duration_ms: float, init_ms: float | None, *, timed_out: bool
) -> str:
    report = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {math.ceil(duration_ms + (init_ms or 0))} ms\tMemory Size: {config.memory_mb} MB"
    )
    if init_ms is not None:
        report += f"\tInit Duration: {init_ms:.2f} ms"
    if timed_out:
        report += "\tStatus: timeout"
    return report
