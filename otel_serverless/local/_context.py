"""The ``context`` object a Python Lambda handler receives, as the AWS runtime builds it.

Field names, types and defaults follow the Python runtime interface client
(``awslambdaric``): ``memory_limit_in_mb`` is a *string* there (it comes from
``AWS_LAMBDA_FUNCTION_MEMORY_SIZE``), ``client_context`` and ``identity`` are
``None`` unless the invoke carried them, and the client context is an object with
``custom``/``env``/``client`` attributes built from the decoded JSON.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Mapping
from typing import Any

#: Longest ``X-Amz-Client-Context`` Lambda accepts (bytes of base64 text).
CLIENT_CONTEXT_MAX_BYTES = 3583


class Client:
    """``context.client_context.client``: the mobile-SDK client description."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.installation_id: Any = data.get("installation_id")
        self.app_title: Any = data.get("app_title")
        self.app_version_name: Any = data.get("app_version_name")
        self.app_version_code: Any = data.get("app_version_code")
        self.app_package_name: Any = data.get("app_package_name")


class ClientContext:
    """``context.client_context``: what the invoker sent in ``ClientContext``."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        client = data.get("client")
        self.client: Client | None = Client(client) if isinstance(client, Mapping) else None
        self.custom: Any = data.get("custom")
        self.env: Any = data.get("env")


class CognitoIdentity:
    """``context.identity``: the Amazon Cognito identity that authorised the request."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.cognito_identity_id: Any = data.get("cognitoIdentityId")
        self.cognito_identity_pool_id: Any = data.get("cognitoIdentityPoolId")


class LambdaContext:
    """One invocation's context: identity of the function, its instance, and its deadline."""

    def __init__(
        self,
        *,
        aws_request_id: str,
        function_name: str,
        function_version: str,
        invoked_function_arn: str,
        memory_limit_in_mb: int,
        log_group_name: str,
        log_stream_name: str,
        deadline_epoch_ms: float,
        client_context: ClientContext | None = None,
        identity: CognitoIdentity | None = None,
    ) -> None:
        self.aws_request_id = aws_request_id
        self.function_name = function_name
        self.function_version = function_version
        self.invoked_function_arn = invoked_function_arn
        self.memory_limit_in_mb = str(memory_limit_in_mb)
        self.log_group_name = log_group_name
        self.log_stream_name = log_stream_name
        self.client_context = client_context
        self.identity = identity
        self._deadline_epoch_ms = deadline_epoch_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(int(self._deadline_epoch_ms - time.time() * 1000), 0)

    def log(self, message: str) -> None:
        print(message, end="" if message.endswith("\n") else "\n", flush=True)

    def __repr__(self) -> str:
        return (
            f"LambdaContext(aws_request_id={self.aws_request_id!r}, function_name={self.function_name!r}, "
            f"log_stream_name={self.log_stream_name!r})"
        )


class ClientContextError(ValueError):
    """The ``ClientContext`` of an invoke is not what Lambda accepts."""


def decode_client_context(header: str | None) -> ClientContext | None:
    """Decode ``X-Amz-Client-Context`` (base64 JSON object) as Lambda does, or raise."""
    if header is None or header == "":
        return None
    if len(header.encode()) > CLIENT_CONTEXT_MAX_BYTES:
        raise ClientContextError(f"Client context must be no larger than {CLIENT_CONTEXT_MAX_BYTES} bytes")
    try:
        data = json.loads(base64.b64decode(header, validate=True))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ClientContextError("Client context must be a valid Base64-encoded JSON object.") from None
    if not isinstance(data, dict):
        raise ClientContextError("Client context must be a valid Base64-encoded JSON object.")
    return ClientContext(data)
