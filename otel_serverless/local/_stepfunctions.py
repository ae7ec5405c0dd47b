"""Step Functions, locally: a sequence of Lambda tasks, each state's output the next one's input.

The subset of the Amazon States Language that a chain of functions needs:

* ``Task`` with a Lambda function ARN as ``Resource`` (the function gets the state
  input as its event; its result is the state result), or with
  ``arn:aws:states:::lambda:invoke`` and ``Parameters`` ``FunctionName`` and
  ``Payload``/``Payload.$`` (the result is wrapped as ``{"Payload": …, "StatusCode": 200}``);
  ``Retry`` (``ErrorEquals``, ``MaxAttempts``, ``IntervalSeconds``, ``BackoffRate``),
  ``ResultPath`` (``$``, ``$.field`` or ``null``), ``Next``/``End``;
* ``Pass`` (optional ``Result``, ``ResultPath``), ``Succeed``, ``Fail``.

Anything else fails the execution with ``States.Runtime`` naming what is not
supported. Step Functions invokes Lambda synchronously; a failed task fails the
execution with the function's ``errorType`` as the error (``States.TaskFailed``
and ``States.ALL`` match any failure in ``Retry``).
"""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from otel_serverless.local._functions import InvocationResult

#: Runs a function synchronously: (function name or ARN, event) → result (None: no such function).
TaskInvoker = Callable[[str, Any], "InvocationResult | None"]

#: A chain must end; a loop through Next would otherwise never return.
MAX_TRANSITIONS = 1000


class StepFunctionsError(Exception):
    """An API error: ``code`` is the AWS error type."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Execution:
    arn: str
    name: str
    state_machine_arn: str
    input: str
    status: str = "RUNNING"
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    start_date: float = field(default_factory=time.time)
    stop_date: float | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def describe(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "executionArn": self.arn,
            "stateMachineArn": self.state_machine_arn,
            "name": self.name,
            "status": self.status,
            "startDate": self.start_date,
            "input": self.input,
        }
        if self.stop_date is not None:
            document["stopDate"] = self.stop_date
        for key, value in (("output", self.output), ("error", self.error), ("cause", self.cause)):
            if value is not None:
                document[key] = value
        return document


class _Failure(Exception):
    def __init__(self, error: str, cause: str) -> None:
        super().__init__(error)
        self.error = error
        self.cause = cause


def _path_get(data: Any, path: str) -> Any:
    if path == "$":
        return data
    if not path.startswith("$."):
        raise _Failure("States.Runtime", f"unsupported JSONPath {path!r} (only $ and $.a.b are)")
    value = data
    for part in path[2:].split("."):
        if not isinstance(value, Mapping) or part not in value:
            raise _Failure("States.Runtime", f"JSONPath {path!r} matches nothing in the input")
        value = value[part]
    return value


def _apply_result_path(data: Any, result: Any, state: Mapping[str, Any]) -> Any:
    if "ResultPath" in state and state["ResultPath"] is None:
        return data
    path = state.get("ResultPath", "$")
    if path == "$":
        return result
    if not isinstance(path, str) or not path.startswith("$.") or not isinstance(data, Mapping):
        raise _Failure("States.Runtime", f"unsupported ResultPath {path!r}")
    merged = copy.deepcopy(dict(data))
    target = merged
    parts = path[2:].split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = result
    return merged


def _matches(error: str, names: Any) -> bool:
    return isinstance(names, list) and any(name in ("States.ALL", "States.TaskFailed", error) for name in names)


class StepFunctions:
    """State machines and their executions."""

    def __init__(
        self,
        invoke: TaskInvoker,
        start_background: Callable[[Callable[[], None], str], None],
        region: str,
        account_id: str,
    ) -> None:
        self._invoke = invoke
        self._start_background = start_background
        self._region = region
        self._account_id = account_id
        self._machines: dict[str, tuple[str, dict[str, Any]]] = {}
        self._executions: dict[str, Execution] = {}
        self._lock = threading.Lock()

    def create(self, name: str, definition: Mapping[str, Any] | str) -> str:
        """Register a state machine; its ARN."""
        parsed = json.loads(definition) if isinstance(definition, str) else copy.deepcopy(dict(definition))
        if not isinstance(parsed, dict) or "StartAt" not in parsed or parsed["StartAt"] not in parsed.get("States", {}):
            raise StepFunctionsError("InvalidDefinition", "definition needs StartAt naming one of its States")
        arn = f"arn:aws:states:{self._region}:{self._account_id}:stateMachine:{name}"
        with self._lock:
            self._machines[arn] = (name, parsed)
        return arn

    def start(self, state_machine_arn: str, input_text: str | None, name: str | None, *, wait: bool) -> Execution:
        with self._lock:
            machine = self._machines.get(state_machine_arn)
        if machine is None:
            raise StepFunctionsError("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{state_machine_arn}'")
        text = input_text if input_text is not None else "{}"
        try:
            json.loads(text)
        except ValueError:
            raise StepFunctionsError("InvalidExecutionInput", "Invalid State Machine Execution Input") from None
        execution_name = name or str(uuid.uuid4())
        machine_name, definition = machine
        execution = Execution(
            arn=f"arn:aws:states:{self._region}:{self._account_id}:execution:{machine_name}:{execution_name}",
            name=execution_name,
            state_machine_arn=state_machine_arn,
            input=text,
        )
        with self._lock:
            if execution.arn in self._executions:
                raise StepFunctionsError("ExecutionAlreadyExists", f"Execution Already Exists: '{execution.arn}'")
            self._executions[execution.arn] = execution
        if wait:
            self._run(execution, definition)
        else:
            self._start_background(lambda: self._run(execution, definition), f"sfn:{execution_name[:8]}")
        return execution

    def describe(self, execution_arn: str) -> Execution:
        with self._lock:
            execution = self._executions.get(execution_arn)
        if execution is None:
            raise StepFunctionsError("ExecutionDoesNotExist", f"Execution Does Not Exist: '{execution_arn}'")
        return execution

    def _run(self, execution: Execution, definition: Mapping[str, Any]) -> None:
        try:
            output = self._interpret(definition, json.loads(execution.input))
            execution.output = json.dumps(output)
            execution.status = "SUCCEEDED"
        except _Failure as failure:
            execution.error, execution.cause = failure.error, failure.cause
            execution.status = "FAILED"
        execution.stop_date = time.time()
        execution.done.set()

    def _interpret(self, definition: Mapping[str, Any], data: Any) -> Any:
        states = definition["States"]
        name = definition["StartAt"]
        for _ in range(MAX_TRANSITIONS):
            state = states.get(name)
            if not isinstance(state, Mapping):
                raise _Failure("States.Runtime", f"no state named {name!r}")
            kind = state.get("Type")
            if kind == "Task":
                data = _apply_result_path(data, self._task(state, data), state)
            elif kind == "Pass":
                data = _apply_result_path(data, copy.deepcopy(state.get("Result", data)), state)
            elif kind == "Succeed":
                return data
            elif kind == "Fail":
                raise _Failure(str(state.get("Error", "States.Fail")), str(state.get("Cause", "")))
            else:
                raise _Failure("States.Runtime", f"state type {kind!r} is not supported by the local runtime")
            if state.get("End"):
                return data
            name = state.get("Next")
        raise _Failure("States.Runtime", f"more than {MAX_TRANSITIONS} transitions")

    def _task(self, state: Mapping[str, Any], data: Any) -> Any:
        function, event, wrap_payload = _task_target(state, data)
        retriers = [dict(retrier) for retrier in state.get("Retry", []) if isinstance(retrier, Mapping)]
        counts = [0] * len(retriers)
        while True:
            result = self._invoke(function, event)
            if result is None:
                raise _Failure("Lambda.ResourceNotFoundException", f"Function not found: {function}")
            if result.ok:
                value = result.value()
                return {"ExecutedVersion": "$LATEST", "Payload": value, "StatusCode": 200} if wrap_payload else value
            error = "States.Timeout" if result.timed_out else str((result.error or {}).get("errorType", "Error"))
            delay = _retry_delay(retriers, counts, error)
            if delay is None:
                raise _Failure(error, result.payload.decode(errors="replace"))
            time.sleep(delay)


def _task_target(state: Mapping[str, Any], data: Any) -> tuple[str, Any, bool]:
    """The function a Task runs, its event, and whether the result is wrapped (lambda:invoke)."""
    resource = str(state.get("Resource", ""))
    if resource.startswith("arn:aws:lambda:"):
        return resource, data, False
    if resource.startswith("arn:aws:states:::lambda:invoke"):
        parameters = state.get("Parameters") or {}
        if "Payload.$" in parameters:
            event = _path_get(data, str(parameters["Payload.$"]))
        else:
            event = parameters.get("Payload", data)
        return str(parameters.get("FunctionName", "")), event, True
    raise _Failure("States.Runtime", f"task resource {resource!r} is not supported by the local runtime")


def _retry_delay(retriers: list[dict[str, Any]], counts: list[int], error: str) -> float | None:
    """Seconds to wait before retrying after *error*; None when no retrier (or no attempt) is left.

    Fractions of a second are accepted locally so that a demo stays fast.
    """
    for index, retrier in enumerate(retriers):
        if _matches(error, retrier.get("ErrorEquals")):
            if counts[index] >= int(retrier.get("MaxAttempts", 3)):
                return None
            interval = float(retrier.get("IntervalSeconds", 1))
            delay = interval * float(retrier.get("BackoffRate", 2.0)) ** counts[index]
            counts[index] += 1
            return delay
    return None
