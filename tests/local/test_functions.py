"""Instances, cold starts, concurrency, timeouts and error reporting."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from otel_serverless.local import InstanceInfo, LocalRuntime, current_instance


def test_first_use_is_a_cold_start_and_then_the_instance_is_reused(runtime: LocalRuntime) -> None:
    runtime.add_function("f", lambda event, context: context.log_stream_name)
    first = runtime.invoke("f", {})
    second = runtime.invoke("f", {})
    assert first.cold_start and first.init_duration_ms is not None
    assert not second.cold_start and second.init_duration_ms is None
    assert first.value() == second.value()  # same instance, same log stream
    assert any(line.startswith("REPORT") and "Init Duration" in line for line in first.logs)
    assert runtime.instances_started("f") == 1


def test_concurrency_growth_starts_new_instances(runtime: LocalRuntime) -> None:
    both_running = threading.Barrier(2, timeout=10)

    def handler(event: Any, context: Any) -> str:
        if event.get("overlap"):
            both_running.wait()
        return str(context.log_stream_name)

    runtime.add_function("f", handler, timeout=15)
    runtime.invoke_async("f", {"overlap": True})
    runtime.invoke_async("f", {"overlap": True})
    assert runtime.run_until_idle(timeout=20)
    results = runtime.invocations
    assert len(results) == 2
    assert all(result.cold_start and result.ok for result in results)
    assert results[0].value() != results[1].value()
    third = runtime.invoke("f", {})
    assert not third.cold_start
    assert runtime.instances_started("f") == 2


def test_wrap_and_on_new_instance_run_once_per_instance(aws: str) -> None:
    wrapped: list[str] = []
    instances: list[InstanceInfo] = []

    def wrap(handler: Any) -> Any:
        wrapped.append("x")

        def wrapper(event: Any, context: Any) -> Any:
            return {"wrapped": handler(event, context), "instance": current_instance().log_stream_name}  # type: ignore[union-attr]

        return wrapper

    with LocalRuntime(moto_endpoint=aws, wrap=wrap, on_new_instance=instances.append) as runtime:
        runtime.add_function("f", lambda event, context: event["n"], timeout=1)
        results = [runtime.invoke("f", {"n": n}) for n in range(3)]
    assert [r.value()["wrapped"] for r in results] == [0, 1, 2]
    assert len(wrapped) == 1
    assert len(instances) == 1
    assert instances[0].function_name == "f"
    assert instances[0].environment["AWS_LAMBDA_LOG_STREAM_NAME"] == instances[0].log_stream_name
    assert instances[0].environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert results[0].value()["instance"] == instances[0].log_stream_name
    assert current_instance() is None  # only inside a handler


def test_a_timeout_is_reported_like_lambda_and_the_instance_is_replaced(runtime: LocalRuntime) -> None:
    release = threading.Event()
    iterations: list[int] = []
    stopped = threading.Event()

    def handler(event: Any, context: Any) -> str:
        if event.get("hang"):
            try:
                while not release.is_set():
                    iterations.append(1)
                    release.wait(0.01)
            finally:
                stopped.set()
        return "done"

    runtime.add_function("slow", handler, timeout=0.3)
    result = runtime.invoke("slow", {"hang": True})
    assert result.timed_out and not result.ok
    assert result.error == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {result.request_id} Error: Task timed out after 0.30 seconds",
    }
    assert any(line.endswith(f"{result.request_id} Task timed out after 0.30 seconds") for line in result.logs)
    assert "Status: timeout" in result.logs[-1]
    # The abandoned handler is interrupted, as a frozen sandbox would stop it.
    assert stopped.wait(10)
    # Lambda resets a timed-out environment: the next invocation is a cold start elsewhere.
    after = runtime.invoke("slow", {})
    assert after.ok and after.cold_start
    assert after.instance is not None and result.instance is not None
    assert after.instance.log_stream_name != result.instance.log_stream_name


def test_an_exception_is_reported_with_lambdas_error_document(runtime: LocalRuntime) -> None:
    def handler(event: Any, context: Any) -> None:
        raise KeyError("missing")

    runtime.add_function("boom", handler)
    result = runtime.invoke("boom", {})
    assert not result.ok and not result.timed_out
    assert result.error is not None
    assert result.error["errorType"] == "KeyError"
    assert result.error["errorMessage"] == "'missing'"
    assert any("raise KeyError" in frame for frame in result.error["stackTrace"])
    # An error does not reset the environment.
    assert not runtime.invoke("boom", {}).cold_start


def test_a_result_that_is_not_json_is_a_marshal_error(runtime: LocalRuntime) -> None:
    runtime.add_function("f", lambda event, context: {1, 2})
    result = runtime.invoke("f", {})
    assert result.error is not None and result.error["errorType"] == "Runtime.MarshalError"


def test_a_failing_init_is_the_invocations_error(aws: str) -> None:
    def wrap(handler: Any) -> Any:
        raise RuntimeError("init failed")

    with LocalRuntime(moto_endpoint=aws, wrap=wrap) as runtime:
        runtime.add_function("f", lambda event, context: 1)
        result = runtime.invoke("f", {})
    assert result.error is not None and result.error["errorType"] == "Runtime.InitError.RuntimeError"


def test_the_handler_never_shares_the_callers_event(runtime: LocalRuntime) -> None:
    def handler(event: Any, context: Any) -> Any:
        event["items"].append("added")
        return event

    runtime.add_function("f", handler)
    event = {"items": ["mine"]}
    result = runtime.invoke("f", event)
    assert event == {"items": ["mine"]}
    assert result.value() == {"items": ["mine", "added"]}


def test_function_settings_are_validated(runtime: LocalRuntime) -> None:
    for bad in ({"timeout": 0}, {"timeout": 901}, {"memory_mb": 64}, {"reserved_concurrency": 0}):
        with pytest.raises(ValueError):
            runtime.add_function("f", lambda event, context: None, **bad)  # type: ignore[arg-type]
    runtime.add_function("f", lambda event, context: None, environment={"TABLE": "a"})
    with pytest.raises(ValueError, match="different values"):
        runtime.add_function("g", lambda event, context: None, environment={"TABLE": "b"})
    with pytest.raises(ValueError, match="already defined"):
        runtime.add_function("f", lambda event, context: None)
