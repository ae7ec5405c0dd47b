"""The Lambda ``Invoke`` and Step Functions APIs, served over real HTTP on 127.0.0.1.

moto needs Docker to run a Lambda, so the runtime serves these two APIs itself
and points boto3 at them with ``AWS_ENDPOINT_URL_LAMBDA``/``AWS_ENDPOINT_URL_SFN``.
A producer's boto3 therefore makes a real ``Invoke``/``StartExecution`` call:
botocore hooks run, the ``X-Amz-Client-Context`` header travels, and the
responses are the ones botocore parses from AWS (status codes, ``x-amzn-ErrorType``,
``X-Amz-Function-Error``, ``X-Amz-Log-Result``).
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from otel_serverless.local._context import ClientContext, ClientContextError, decode_client_context
from otel_serverless.local._functions import LOG_TAIL_BYTES, FunctionPool, InvocationResult
from otel_serverless.local._stepfunctions import StepFunctions, StepFunctionsError

logger = logging.getLogger("otel_serverless.local")

#: Lambda's payload limits: 6 MB for a synchronous request, 256 KB for an event.
SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024
ASYNC_PAYLOAD_LIMIT = 256 * 1024
_INVOKE_PREFIX = "/2015-03-31/functions/"
_INVOKE_SUFFIX = "/invocations"


class Backend(Protocol):
    """What the API needs from the runtime."""

    @property
    def stepfunctions(self) -> StepFunctions: ...

    def find_function(self, name_or_arn: str) -> FunctionPool | None: ...

    def invoke_sync(
        self, pool: FunctionPool, payload: bytes, client_context: ClientContext | None
    ) -> InvocationResult: ...

    def invoke_async(self, pool: FunctionPool, payload: bytes) -> str: ...


class _Reply(Exception):
    def __init__(self, status: int, error_type: str, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.body = {"Type": "User", "message": message, **(extra or {})}


def _function_name(path: str) -> str:
    return urllib.parse.unquote(path[len(_INVOKE_PREFIX) : -len(_INVOKE_SUFFIX)])


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("local api: " + format, *args)

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, reply: _Reply, content_type: str = "application/json") -> None:
        self._send(
            reply.status,
            json.dumps(reply.body).encode(),
            {"Content-Type": content_type, "x-amzn-ErrorType": f"{reply.error_type}:"},
        )

    def do_GET(self) -> None:
        self._send(HTTPStatus.OK, b'{"status": "ok"}', {"Content-Type": "application/json"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        path = urllib.parse.urlsplit(self.path)
        try:
            if path.path.startswith(_INVOKE_PREFIX) and path.path.endswith(_INVOKE_SUFFIX):
                self._invoke(_function_name(path.path), urllib.parse.parse_qs(path.query), body)
            elif self.headers.get("X-Amz-Target", "").startswith("AWSStepFunctions."):
                self._stepfunctions(self.headers["X-Amz-Target"].split(".", 1)[1], body)
            else:
                raise _Reply(HTTPStatus.NOT_FOUND, "UnknownOperationException", f"no operation at {path.path}")
        except _Reply as reply:
            self._error(reply)

    def _invoke(self, name: str, query: dict[str, list[str]], body: bytes) -> None:
        backend = self.server.backend
        pool = backend.find_function(name)
        qualifier = (query.get("Qualifier") or ["$LATEST"])[0]
        if pool is None or qualifier != "$LATEST":
            raise _Reply(HTTPStatus.NOT_FOUND, "ResourceNotFoundException", f"Function not found: {name}")
        invocation_type = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if invocation_type not in ("RequestResponse", "Event", "DryRun"):
            raise _Reply(HTTPStatus.BAD_REQUEST, "InvalidParameterValueException", "invalid invocation type")
        limit = ASYNC_PAYLOAD_LIMIT if invocation_type == "Event" else SYNC_PAYLOAD_LIMIT
        if len(body) > limit:
            raise _Reply(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                "RequestEntityTooLargeException",
                f"Request must be smaller than {limit} bytes for the InvokeFunction operation",
            )
        if body:
            try:
                json.loads(body)
            except ValueError:
                raise _Reply(
                    HTTPStatus.BAD_REQUEST, "InvalidRequestContentException", "Could not parse request body into json"
                ) from None
        try:
            client_context = decode_client_context(self.headers.get("X-Amz-Client-Context"))
        except ClientContextError as error:
            raise _Reply(HTTPStatus.BAD_REQUEST, "InvalidRequestContentException", str(error)) from None
        if invocation_type == "DryRun":
            self._send(HTTPStatus.NO_CONTENT, b"")
            return
        if invocation_type == "Event":
            request_id = backend.invoke_async(pool, body)
            self._send(HTTPStatus.ACCEPTED, b"", {"x-amzn-RequestId": request_id})
            return
        result = backend.invoke_sync(pool, body, client_context)
        if result.throttled:
            raise _Reply(
                HTTPStatus.TOO_MANY_REQUESTS,
                "TooManyRequestsException",
                "Rate Exceeded.",
                {"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded"},
            )
        headers = {
            "Content-Type": "application/json",
            "x-amzn-RequestId": result.request_id,
            "X-Amz-Executed-Version": pool.config.version,
        }
        if result.error is not None:
            headers["X-Amz-Function-Error"] = "Unhandled"
        if self.headers.get("X-Amz-Log-Type") == "Tail":
            tail = "\n".join(result.logs).encode()[-LOG_TAIL_BYTES:]
            headers["X-Amz-Log-Result"] = base64.b64encode(tail).decode()
        self._send(HTTPStatus.OK, result.payload, headers)

    def _stepfunctions(self, operation: str, body: bytes) -> None:
        sfn = self.server.backend.stepfunctions
        try:
            request = json.loads(body or b"{}")
            if not isinstance(request, dict):
                raise ValueError(body[:64])
        except ValueError:
            raise _Reply(
                HTTPStatus.BAD_REQUEST, "SerializationException", "request body is not a JSON object"
            ) from None
        try:
            response = self._sfn_operation(sfn, operation, request)
        except StepFunctionsError as error:
            self._send(
                HTTPStatus.BAD_REQUEST,
                json.dumps({"__type": error.code, "message": str(error)}).encode(),
                {"Content-Type": "application/x-amz-json-1.0"},
            )
            return
        except (KeyError, TypeError) as error:
            self._send(
                HTTPStatus.BAD_REQUEST,
                json.dumps({"__type": "ValidationException", "message": f"missing or bad field: {error}"}).encode(),
                {"Content-Type": "application/x-amz-json-1.0"},
            )
            return
        self._send(HTTPStatus.OK, json.dumps(response).encode(), {"Content-Type": "application/x-amz-json-1.0"})

    @staticmethod
    def _sfn_operation(sfn: StepFunctions, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        if operation == "CreateStateMachine":
            arn = sfn.create(str(request["name"]), str(request["definition"]))
            return {"stateMachineArn": arn, "creationDate": 0}
        if operation in ("StartExecution", "StartSyncExecution"):
            execution = sfn.start(
                str(request["stateMachineArn"]),
                request.get("input"),
                request.get("name"),
                wait=operation == "StartSyncExecution",
            )
            if operation == "StartExecution":
                return {"executionArn": execution.arn, "startDate": execution.start_date}
            return execution.describe()
        if operation == "DescribeExecution":
            return sfn.describe(str(request["executionArn"])).describe()
        raise StepFunctionsError("UnknownOperationException", f"{operation} is not served by the local runtime")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    backend: Backend


class LocalApiServer:
    """Serve the Lambda and Step Functions APIs for *backend* on a free 127.0.0.1 port."""

    def __init__(self, backend: Backend) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.backend = backend
        self._thread: threading.Thread | None = None
        host, port = self._server.server_address[:2]
        self.endpoint = f"http://{host!s}:{port}"

    def start(self) -> str:
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-lambda-api", daemon=True)
        self._thread.start()
        return self.endpoint

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
