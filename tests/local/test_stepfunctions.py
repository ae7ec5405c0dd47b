"""Step Functions: a sequence of Lambda tasks, started through boto3 over real HTTP."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from otel_serverless.local import LocalRuntime


def _functions(runtime: LocalRuntime) -> list[Any]:
    events: list[Any] = []

    def first(event: Any, context: Any) -> Any:
        events.append(event)
        return {**event, "first": True}

    def second(event: Any, context: Any) -> Any:
        events.append(event)
        return {**event, "second": True}

    runtime.add_function("first", first)
    runtime.add_function("second", second)
    return events


def test_a_sync_execution_runs_the_tasks_in_order_passing_the_input_along(runtime: LocalRuntime) -> None:
    events = _functions(runtime)
    arn = runtime.state_machine("pipeline", ["first", "second"])
    response = boto3.client("stepfunctions").start_sync_execution(
        stateMachineArn=arn, input=json.dumps({"_trace": {"traceparent": "00-x"}, "post": 1})
    )
    assert response["status"] == "SUCCEEDED"
    output = json.loads(response["output"])
    assert output == {"_trace": {"traceparent": "00-x"}, "post": 1, "first": True, "second": True}
    assert events[0] == {"_trace": {"traceparent": "00-x"}, "post": 1}
    assert events[1] == {"_trace": {"traceparent": "00-x"}, "post": 1, "first": True}
    assert [r.function_name for r in runtime.invocations] == ["first", "second"]
    assert all(r.source == "stepfunctions" for r in runtime.invocations)


def test_an_async_execution_runs_in_the_background_and_can_be_described(runtime: LocalRuntime) -> None:
    _functions(runtime)
    sfn = boto3.client("stepfunctions")
    definition = {
        "StartAt": "Prepare",
        "States": {
            "Prepare": {"Type": "Pass", "Result": {"post": 2}, "Next": "Run"},
            "Run": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "first", "Payload.$": "$"},
                "ResultPath": "$.result",
                "End": True,
            },
        },
    }
    arn = sfn.create_state_machine(name="m", definition=json.dumps(definition), roleArn="arn:aws:iam::1:role/r")[
        "stateMachineArn"
    ]
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    assert runtime.run_until_idle(timeout=20)
    described = sfn.describe_execution(executionArn=execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["result"]["Payload"] == {"post": 2, "first": True}


def test_a_failing_task_is_retried_then_fails_the_execution(runtime: LocalRuntime) -> None:
    def broken(event: Any, context: Any) -> None:
        raise ValueError("contract mismatch")

    runtime.add_function("broken", broken)
    definition = {
        "StartAt": "Broken",
        "States": {
            "Broken": {
                "Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:123456789012:function:broken",
                "Retry": [{"ErrorEquals": ["ValueError"], "MaxAttempts": 2, "IntervalSeconds": 0.01}],
                "End": True,
            }
        },
    }
    arn = runtime.state_machine("fails", definition)
    response = boto3.client("stepfunctions").start_sync_execution(stateMachineArn=arn, input="{}")
    assert response["status"] == "FAILED"
    assert response["error"] == "ValueError"
    assert json.loads(response["cause"])["errorMessage"] == "contract mismatch"
    assert len(runtime.invocations) == 3


def test_unknown_state_machines_are_aws_errors(runtime: LocalRuntime) -> None:
    sfn = boto3.client("stepfunctions")
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.start_execution(stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:nope")
    arn = runtime.state_machine("bad-input", {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}})
    with pytest.raises(sfn.exceptions.InvalidExecutionInput):
        sfn.start_execution(stateMachineArn=arn, input="{not json")
    with pytest.raises(sfn.exceptions.InvalidDefinition):
        sfn.create_state_machine(name="x", definition='{"States": {}}', roleArn="arn:aws:iam::1:role/r")


def test_unsupported_states_fail_the_execution_with_a_reason(runtime: LocalRuntime) -> None:
    arn = runtime.state_machine("parallel", {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True}}})
    response = boto3.client("stepfunctions").start_sync_execution(stateMachineArn=arn, input="{}")
    assert response["status"] == "FAILED"
    assert response["error"] == "States.Runtime"
    assert "Parallel" in response["cause"]
