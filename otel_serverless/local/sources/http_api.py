"""API Gateway HTTP API (payload format 2.0) events, as API Gateway builds them for a request.

There is no HTTP server in front of the functions: the caller builds the event a
request would produce and invokes the function synchronously, which is what
API Gateway does.
"""

from __future__ import annotations

import base64
import datetime
import time
import urllib.parse
import uuid
from collections.abc import Mapping
from typing import Any

from otel_serverless.local._functions import DEFAULT_ACCOUNT_ID


def http_api_event(
    method: str,
    path: str,
    *,
    body: str | bytes | None = None,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    route_key: str | None = None,
    path_parameters: Mapping[str, str] | None = None,
    api_id: str = "localapi",
    account_id: str = DEFAULT_ACCOUNT_ID,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """The event API Gateway sends a Lambda integration for one HTTP API request."""
    now = datetime.datetime.now(datetime.timezone.utc)
    lowered = {name.lower(): value for name, value in (headers or {}).items()}
    lowered.setdefault("user-agent", "otel-serverless-local")
    domain = f"{api_id}.execute-api.us-east-1.amazonaws.com"
    lowered.setdefault("host", domain)
    cookies = [c.strip() for c in lowered.pop("cookie", "").split(";") if c.strip()]
    is_binary = isinstance(body, bytes)
    encoded = base64.b64encode(body).decode() if isinstance(body, bytes) else body
    route = route_key or f"{method.upper()} {path}"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route,
        "rawPath": path,
        "rawQueryString": urllib.parse.urlencode(dict(query or {})),
        "headers": lowered,
        "requestContext": {
            "accountId": account_id,
            "apiId": api_id,
            "domainName": domain,
            "domainPrefix": api_id,
            "http": {
                "method": method.upper(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered["user-agent"],
            },
            "requestId": uuid.uuid4().hex[:16],
            "routeKey": route,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(time.time() * 1000),
        },
        "isBase64Encoded": is_binary,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = dict(query)
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if encoded is not None:
        event["body"] = encoded
    return event
