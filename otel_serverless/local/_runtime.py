"""The local runtime: functions, the AWS services around them, and the driver that pumps events."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from otel_serverless.local._async import DEFAULT_RETRY_DELAYS, AsyncInvoker
from otel_serverless.local._context import ClientContext
from otel_serverless.local._dispatch import Dispatcher
from otel_serverless.local._environment import EnvironmentPatch, aws_variables
from otel_serverless.local._functions import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_CONCURRENCY,
    DEFAULT_MEMORY_MB,
    DEFAULT_REGION,
    DEFAULT_TIMEOUT,
    FunctionConfig,
    FunctionPool,
    Handler,
    InstanceInfo,
    InvocationResult,
    run_invocation,
)
from otel_serverless.local._lambda_api import LocalApiServer
from otel_serverless.local._moto import MotoServer
from otel_serverless.local._stepfunctions import StepFunctions
from otel_serverless.local.sources import dynamodb, eventbridge, kinesis, s3, sns
from otel_serverless.local.sources._base import EventSource
from otel_serverless.local.sources.sqs import DEFAULT_MAXIMUM_CONCURRENCY, SqsEventSource

logger = logging.getLogger("otel_serverless.local")

#: How often pollers look for new work while something is still under way.
DEFAULT_POLL_INTERVAL = 0.05


class _Host:
    """The runtime as event sources and the local API see it (kept off the public class)."""

    def __init__(self, runtime: LocalRuntime) -> None:
        self._runtime = runtime
        self.region = runtime.region
        self.account_id = runtime.account_id

    @property
    def stepfunctions(self) -> StepFunctions:
        return self._runtime._stepfunctions

    def client(self, service: str) -> Any:
        return self._runtime.client(service)

    def pool(self, function: str) -> FunctionPool:
        return self._runtime._pool(function)

    def find_function(self, name_or_arn: str) -> FunctionPool | None:
        # A name, a full ARN (optionally qualified) or a partial ARN "123456789012:function:name".
        parts = name_or_arn.split(":")
        name = parts[parts.index("function") + 1] if "function" in parts[:-1] else name_or_arn
        return self._runtime._pools.get(name)

    def invoke(
        self, pool: FunctionPool, event: Any, *, source: str, attempt: int = 1, wait: float = 0.0
    ) -> InvocationResult:
        result = run_invocation(pool, event, source=source, attempt=attempt, wait_for_capacity=wait)
        if not result.throttled:
            self._runtime._record(result)
        return result

    def invoke_sync(self, pool: FunctionPool, payload: bytes, client_context: ClientContext | None) -> InvocationResult:
        result = run_invocation(pool, payload, source="invoke", client_context=client_context)
        self._runtime._record(result)
        return result

    def invoke_async(self, pool: FunctionPool, event: Any, *, source: str = "event") -> str:
        return self._runtime._async.submit(pool, event, source=source)

    def background(self, job: Callable[[], None], name: str) -> None:
        self._runtime._dispatcher.submit(job, name)


class LocalRuntime:
    """Run Lambda handlers locally against moto, delivering events the way AWS does.

    A development tool: see the package documentation for what is faithful and
    what is not. Use it as a context manager, or call :meth:`start` and :meth:`stop`.

    *moto_endpoint*: use this running moto server instead of starting one (it is
    not reset or stopped). *wrap* is applied to the handler once per new function
    instance; *on_new_instance* is called as an instance starts (its "init").
    *async_retry_delays*: local waits before the two async retries (AWS: about 1
    and 2 minutes). *on_invocation* sees every finished invocation (for progress).
    """

    def __init__(
        self,
        *,
        moto_endpoint: str | None = None,
        region: str = DEFAULT_REGION,
        account_id: str = DEFAULT_ACCOUNT_ID,
        wrap: Callable[[Handler], Handler] | None = None,
        on_new_instance: Callable[[InstanceInfo], None] | None = None,
        on_invocation: Callable[[InvocationResult], None] | None = None,
        async_retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> None:
        self.region = region
        self.account_id = account_id
        self._given_moto = moto_endpoint
        self._moto: MotoServer | None = None
        self._wrap = wrap
        self._on_new_instance = on_new_instance
        self._on_invocation = on_invocation
        self._poll_interval = poll_interval
        self._pools: dict[str, FunctionPool] = {}
        self._sources: list[EventSource] = []
        self._schedules: dict[str, eventbridge.ScheduledRule] = {}
        self._buckets: dict[str, s3.BucketNotifications] = {}
        self._invocations: list[InvocationResult] = []
        self._records_lock = threading.Lock()
        self._pump_lock = threading.Lock()
        self._environment = EnvironmentPatch()
        self._function_environment: dict[str, tuple[str, str]] = {}
        self._dispatcher = Dispatcher()
        self._host = _Host(self)
        self._async = AsyncInvoker(self._dispatcher, self._record, lambda: self.client("sqs"), async_retry_delays)
        self._stepfunctions = StepFunctions(self._sfn_task, self._dispatcher.submit, region, account_id)
        self._api: LocalApiServer | None = None
        self._background: threading.Thread | None = None
        self._stopping = threading.Event()
        self.moto_endpoint = ""
        self.local_endpoint = ""

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> LocalRuntime:
        if self._api is not None:
            return self
        try:
            if self._given_moto is not None:
                self.moto_endpoint = self._given_moto.rstrip("/")
            else:
                self._moto = MotoServer()
                self.moto_endpoint = self._moto.start()
            self._api = LocalApiServer(self._host)
            self.local_endpoint = self._api.start()
            self._environment.apply(aws_variables(self.moto_endpoint, self.local_endpoint, self.region))
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._background is not None:
            self._background.join(5)
            self._background = None
        self._async.stop()
        if self._api is not None:
            self._api.stop()
            self._api = None
        self._environment.restore()
        if self._moto is not None:
            self._moto.stop()
            self._moto = None

    def __enter__(self) -> LocalRuntime:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def client(self, service: str) -> Any:
        """A boto3 client that talks only to the local endpoints (for setting up resources)."""
        import boto3

        if not self.moto_endpoint:
            raise RuntimeError("the local runtime is not started")
        endpoint = self.local_endpoint if service in ("lambda", "stepfunctions") else self.moto_endpoint
        return boto3.client(
            service,  # type: ignore[call-overload]  # the service name is the caller's
            endpoint_url=endpoint,
            region_name=self.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - moto's fake credentials
        )

    # -- functions -----------------------------------------------------------------

    def add_function(
        self,
        name: str,
        handler: Handler,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        memory_mb: int = DEFAULT_MEMORY_MB,
        reserved_concurrency: int = DEFAULT_CONCURRENCY,
        environment: Mapping[str, str] | None = None,
        max_retry_attempts: int = 2,
        dead_letter_queue: str | None = None,
    ) -> FunctionConfig:
        """Define a function. *environment* goes into this process's environment (shared by
        all functions here): two functions giving one variable different values is an error."""
        if name in self._pools:
            raise ValueError(f"function {name!r} is already defined")
        dlq_url = None
        if dead_letter_queue is not None:
            from otel_serverless.local.sources._queues import queue_url

            dlq_url = queue_url(self.client("sqs"), dead_letter_queue)
        config = FunctionConfig(
            name=name,
            handler=handler,
            timeout=timeout,
            memory_mb=memory_mb,
            reserved_concurrency=reserved_concurrency,
            environment=dict(environment or {}),
            max_retry_attempts=max_retry_attempts,
            dead_letter_queue_url=dlq_url,
            region=self.region,
            account_id=self.account_id,
        )
        for variable, value in config.environment.items():
            owner = self._function_environment.get(variable)
            if owner is not None and owner[1] != value:
                raise ValueError(f"{name} and {owner[0]} give {variable} different values; they share one process")
        for variable, value in config.environment.items():
            self._function_environment[variable] = (name, value)
        self._environment.apply(dict(config.environment))
        self._pools[name] = FunctionPool(config, wrap=self._wrap, on_new_instance=self._on_new_instance)
        return config

    def instances_started(self, function: str) -> int:
        """How many instances (cold starts) the function has had."""
        return self._pool(function).instances_started

    def _pool(self, function: str) -> FunctionPool:
        pool = self._host.find_function(function)
        if pool is None:
            raise KeyError(f"no function named {function!r}")
        return pool

    # -- invoking ------------------------------------------------------------------

    def invoke(
        self, function: str, event: Any = None, *, client_context: Mapping[str, Any] | None = None
    ) -> InvocationResult:
        """Invoke synchronously, as API Gateway or the Invoke API does; the result is recorded."""
        context = ClientContext(client_context) if client_context is not None else None
        payload = json.dumps({} if event is None else event).encode()
        return self._host.invoke_sync(self._pool(function), payload, context)

    def invoke_async(self, function: str, event: Any = None) -> str:
        """Queue an asynchronous invocation (Lambda's two retries apply); its request id."""
        return self._host.invoke_async(self._pool(function), {} if event is None else event, source="event")

    def _sfn_task(self, function: str, event: Any) -> InvocationResult | None:
        pool = self._host.find_function(function)
        if pool is None:
            return None
        return self._host.invoke(pool, event, source="stepfunctions")

    def _record(self, result: InvocationResult) -> None:
        with self._records_lock:
            self._invocations.append(result)
        if self._on_invocation is not None:
            self._on_invocation(result)

    @property
    def invocations(self) -> list[InvocationResult]:
        """Every finished invocation so far, in the order they finished (a copy)."""
        with self._records_lock:
            return list(self._invocations)

    # -- event sources -------------------------------------------------------------

    def sqs_trigger(
        self,
        queue: str,
        function: str,
        *,
        batch_size: int = 10,
        batch_window: float = 0.0,
        report_batch_item_failures: bool = False,
        maximum_concurrency: int = DEFAULT_MAXIMUM_CONCURRENCY,
    ) -> SqsEventSource:
        """An SQS event source mapping; *queue* is a URL, an ARN or a name."""
        source = SqsEventSource(
            self._host,
            self._pool(function),
            queue,
            batch_size=batch_size,
            batch_window=batch_window,
            report_batch_item_failures=report_batch_item_failures,
            maximum_concurrency=maximum_concurrency,
        )
        self._sources.append(source)
        return source

    def sns_subscribe_function(
        self, topic_arn: str, function: str, *, filter_policy: Mapping[str, Any] | None = None
    ) -> None:
        """Subscribe a function to an SNS topic (delivered as Lambda's ``Sns`` records)."""
        self._sources.append(
            sns.subscribe_function(self._host, topic_arn, self._pool(function), filter_policy=filter_policy)
        )

    def sns_subscribe_queue(
        self, topic_arn: str, queue: str, *, raw: bool = False, filter_policy: Mapping[str, Any] | None = None
    ) -> str:
        """Subscribe an SQS queue to an SNS topic (raw or with the JSON envelope); the subscription ARN."""
        return sns.subscribe_queue(self._host, topic_arn, queue, raw=raw, filter_policy=filter_policy)

    def eventbridge_rule(
        self,
        rule_name: str,
        *,
        event_pattern: Mapping[str, Any] | None = None,
        function: str | None = None,
        queue: str | None = None,
        bus: str = "default",
    ) -> None:
        """A rule (created when *event_pattern* is given) with a function or queue target."""
        pool = self._pool(function) if function is not None else None
        self._sources.append(
            eventbridge.rule_target(
                self._host, rule_name, event_pattern=event_pattern, bus=bus, function=pool, queue=queue
            )
        )

    def schedule(self, rule_name: str, function: str, expression: str = "rate(1 minute)") -> None:
        """A scheduled rule targeting *function*; moto does not run schedules: see :meth:`fire_schedule`."""
        rule = self._schedules.get(rule_name)
        if rule is None:
            rule = self._schedules[rule_name] = eventbridge.ScheduledRule(self._host, rule_name, expression)
        rule.targets.append(self._pool(function))

    def fire_schedule(self, rule_name: str) -> list[str]:
        """Deliver one ``Scheduled Event`` of the rule now; the async request ids."""
        return self._schedules[rule_name].fire()

    def kinesis_trigger(self, stream_name: str, function: str, **options: Any) -> EventSource:
        """A Kinesis event source mapping (``batch_size``, ``starting_position``,
        ``max_retry_attempts``, ``report_batch_item_failures``)."""
        source = kinesis.kinesis_source(self._host, self._pool(function), stream_name, **options)
        self._sources.append(source)
        return source

    def dynamodb_trigger(self, table_name: str, function: str, **options: Any) -> EventSource:
        """A DynamoDB Streams event source mapping (options as for :meth:`kinesis_trigger`)."""
        source = dynamodb.dynamodb_source(self._host, self._pool(function), table_name, **options)
        self._sources.append(source)
        return source

    def s3_notification(
        self,
        bucket: str,
        *,
        function: str | None = None,
        queue: str | None = None,
        events: Sequence[str] = ("s3:ObjectCreated:*",),
        prefix: str = "",
        suffix: str = "",
    ) -> str:
        """An S3 event notification to a function or a queue; its configuration id."""
        notifications = self._buckets.get(bucket)
        if notifications is None:
            notifications = self._buckets[bucket] = s3.BucketNotifications(self._host, bucket)
            self._sources.append(notifications.poller)
        pool = self._pool(function) if function is not None else None
        return notifications.add(function=pool, queue=queue, events=events, prefix=prefix, suffix=suffix)

    def state_machine(self, name: str, definition: Mapping[str, Any] | Sequence[str]) -> str:
        """A state machine: an ASL definition, or the names of functions to run in sequence; its ARN."""
        if isinstance(definition, Mapping):
            return self._stepfunctions.create(name, definition)
        names = list(definition)
        if not names:
            raise ValueError("a state machine needs at least one function")
        states: dict[str, Any] = {}
        for index, function in enumerate(names):
            state: dict[str, Any] = {"Type": "Task", "Resource": self._pool(function).config.arn}
            if index + 1 < len(names):
                state["Next"] = f"{index + 2}-{names[index + 1]}"
            else:
                state["End"] = True
            states[f"{index + 1}-{function}"] = state
        return self._stepfunctions.create(name, {"StartAt": f"1-{names[0]}", "States": states})

    # -- driving -------------------------------------------------------------------

    def pump(self) -> int:
        """Poll every event source once; how many invocations were started."""
        with self._pump_lock:
            return sum(source.poll() for source in list(self._sources))

    def run_until_idle(self, timeout: float = 30.0) -> bool:
        """Pump until nothing is running, queued, in flight or waiting for a retry.

        True when idle; False when *timeout* seconds passed first (for example a
        message that fails forever on a queue without a dead-letter queue).
        """
        deadline = time.monotonic() + timeout
        while True:
            self._raise_runtime_failures()
            running_before = self._dispatcher.running
            started = self.pump()
            if (
                started == 0
                and running_before == 0
                and self._dispatcher.running == 0
                and not any(source.pending() for source in list(self._sources))
            ):
                return True
            if time.monotonic() >= deadline:
                return False
            if started == 0:
                time.sleep(self._poll_interval)

    def run_in_background(self) -> None:
        """Keep pumping in a thread until :meth:`stop` (for callers that do not drive the runtime)."""
        if self._background is not None:
            return

        def loop() -> None:
            while not self._stopping.wait(self._poll_interval):
                try:
                    self.pump()
                except Exception:  # a poller error must not stop the others; the log says which
                    logger.exception("local runtime: polling failed")

        self._background = threading.Thread(target=loop, name="local-runtime-pump", daemon=True)
        self._background.start()

    def _raise_runtime_failures(self) -> None:
        if self._dispatcher.failures:
            error = self._dispatcher.failures.pop(0)
            raise RuntimeError(f"a local runtime job failed: {type(error).__name__}: {error}") from error
