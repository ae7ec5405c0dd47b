"""A real HTTP endpoint speaking Lambda's Invoke API, recording what arrives on the wire.

moto runs Lambda functions only in Docker, so Invoke requests are sent here
instead: botocore serialises, signs and sends them over HTTP exactly as it
would to AWS, and the test reads back the headers and body Lambda would get.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from types import SimpleNamespace
from typing import Any

from tests.otlp_receiver import serving


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class LambdaEndpoint:
    url: str
    received: list[Received] = field(default_factory=list)

    def client_context(self, index: int = -1) -> Any:
        """``context.client_context`` as the Lambda Python runtime builds it from the header."""
        header = self.received[index].headers.get("X-Amz-Client-Context")
        if header is None:
            return None
        document = json.loads(base64.b64decode(header))
        return SimpleNamespace(custom=document.get("custom"), env=document.get("env"), client=document.get("client"))


@contextmanager
def lambda_endpoint() -> Iterator[LambdaEndpoint]:
    endpoint = LambdaEndpoint("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            endpoint.received.append(Received(self.path, dict(self.headers.items()), body))
            status = 202 if self.headers.get("X-Amz-Invocation-Type") == "Event" else 200
            answer = b"" if status == 202 else b'{"ok": true}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.send_header("X-Amz-Executed-Version", "$LATEST")
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serving(Handler) as port:
        endpoint.url = f"http://127.0.0.1:{port}"
        yield endpoint
