"""A corpus of secret-bearing Lambda inputs: secret kinds × carriers × templates.

Each case is one invocation: an event (or what the handler logs, raises or calls)
that carries one secret in one place a user's data reaches a span. Every secret is
unique to its case, so a leak is found by searching the exported bytes for it; every
case also carries a unique marker next to the secret, which must be exported (the
carrier really reached the span and only the secret was masked).
"""

from __future__ import annotations

import base64
import copy
import json
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tests.aws_lambda.conftest import event


@dataclass
class Secret:
    """One secret: how it sits in a structure and in text, and what must never be exported."""

    kind: str
    #: The secret as a structure's fragment (merged into the payload).
    fragment: dict[str, Any]
    #: The secret as a line of text (a log line, an exception message, a query string).
    text: str
    #: Substrings of the secret that must not appear anywhere in the export.
    needles: list[str]
    #: Whether the text form is a query string (name=value&…), so it can ride in a URL as is.
    query: bool = False


@dataclass
class Case:
    name: str
    secret: Secret
    marker: str
    event: Any = None
    log: str | None = None
    raises: str | None = None
    url: str | None = None
    response: Any = None
    records: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _luhn_complete(prefix: str, length: int) -> str:
    """*prefix* padded with zeros to *length*-1 digits, then its Luhn check digit."""
    body = prefix.ljust(length - 1, "0")
    total = 0
    for index, char in enumerate(reversed(body)):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return body + str((10 - total % 10) % 10)


_B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _token(n: int, length: int, alphabet: str = _B64URL) -> str:
    """A deterministic token of *length* characters unique to *n*."""
    out = []
    state = (n + 1) * 2654435761
    for _ in range(length):
        state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        out.append(alphabet[(state >> 33) % len(alphabet)])
    return "".join(out)


def _named(kind: str, name: str, value: str, *, query: bool = False) -> Secret:
    words = [word for word in value.split() if len(word) >= 6]
    return Secret(
        kind,
        {name: value},
        f"{name}={value}" if query else f"{name}: {value}",
        [value, *words],
        query=query,
    )


def secrets(n: int) -> Iterator[Secret]:
    """Every kind of secret, with values unique to *n*."""
    t = _token(n, 10)
    yield _named("password", "password", f"horse battery staple{t}")
    yield _named("passphrase", "passphrase", f"correct mule{t} saddle")
    yield _named("pin", "pin", f"{4000 + n % 5000}{n % 7}{t[:2]}")
    yield _named("cvv", "cvv", f"9{n % 10}{t[:3]}")
    yield _named("ssn", "ssn", f"078-05-{t[:4]}")
    yield _named("otp", "otp", f"{t[:6]}")
    yield _named("credit card", "credit_card", f"card{t}")
    yield _named("card number", "cardNumber", f"cn{t}")
    yield _named("custom auth header", "X-Acme-Auth", f"acme-{t}")
    yield _named("api key", "api_key", f"ak_{t}", query=True)
    yield _named("client secret", "client_secret", f"cs_{t}{t}", query=True)
    yield _named("session token", "sessionToken", f"st{t}{t}", query=True)
    yield _named("X-Amz-Signature", "X-Amz-Signature", _token(n, 64, "0123456789abcdef"), query=True)
    yield _named(
        "X-Amz-Credential", "X-Amz-Credential", f"ASIA{_token(n, 16, 'ABCDEFGHJKLMNPQRSTUVWXYZ234567')}", query=True
    )
    yield _named("sig", "sig", f"{t}{t}", query=True)
    dsn_password = f"Pw{t}x9"
    yield Secret(
        "URL with a password",
        {"dsn": f"postgres://orders:{dsn_password}@db.internal:5432/orders"},
        f"cannot connect to postgres://orders:{dsn_password}@db.internal:5432/orders",
        [dsn_password],
    )
    key_id = "AKIA" + _token(n, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    yield Secret("AWS access key id", {"note": f"used key {key_id} today"}, f"used key {key_id} today", [key_id])
    secret_key = _token(n, 18) + "/" + _token(n + 7, 12) + "+" + _token(n + 9, 8)
    yield Secret("AWS secret key", {"note": f"aws {secret_key} end"}, f"the secret is {secret_key} ok", [secret_key])
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("=")
    claims = base64.urlsafe_b64encode(json.dumps({"sub": t}).encode()).decode().rstrip("=")
    signature = _token(n, 43)
    jwt = f"{header}.{claims}.{signature}"
    yield Secret("JWT", {"note": f"got {jwt}"}, f"token was {jwt} expired", [claims, signature])
    pem_line = _token(n, 64)
    pem = f"-----BEGIN RSA PRIVATE KEY-----\n{pem_line}\n{_token(n + 1, 40)}\n-----END RSA PRIVATE KEY-----"
    yield Secret("PEM block", {"note": f"key:\n{pem}"}, f"loaded {pem} from disk", [pem_line])
    bearer = _token(n, 32)
    yield Secret("bearer token", {"note": f"sent Bearer {bearer} upstream"}, f"sent Bearer {bearer} upstream", [bearer])
    card = _luhn_complete(("4", "51", "37", "6011")[n % 4] + str(n % 1000).zfill(3), 16 if n % 4 != 2 else 15)
    spaced = " ".join(card[i : i + 4] for i in range(0, len(card), 4))
    yield Secret("card number (Luhn)", {"note": f"paid with {spaced}"}, f"charged {card} for order", [card, spaced])
    pair_value = f"pv{t}{t}"
    yield Secret(
        "name/value pair",
        {"environment": [{"name": "region", "value": "eu"}, {"name": "DB_PASSWORD", "value": pair_value}]},
        json.dumps([{"name": "DB_PASSWORD", "value": pair_value}]),
        [pair_value],
    )
    github = "ghp_" + _token(n, 36)
    yield Secret("GitHub token", {"note": f"ci {github}"}, f"pushing with {github}", [github])


def _payload(template: int, secret: Secret, marker: str) -> Any:
    fragment = copy.deepcopy(secret.fragment)
    if template == 0:
        return {"order": marker, **fragment}
    if template == 1:
        return {"order": {"id": marker, "customer": {"profile": fragment}}}
    return [{"order": marker}, {"details": fragment}]


def _text(template: int, secret: Secret, marker: str) -> str:
    return (f"[{marker}] {secret.text}", f"[{marker}] login failed: {secret.text}", f"[{marker}]\n{secret.text}\n")[
        template
    ]


def _sqs(body: str) -> Any:
    found = event("sqsEvent")
    found["Records"] = found["Records"][:1]
    found["Records"][0]["body"] = body
    return found


def _sns_sqs(message: str) -> Any:
    found = event("snsSqsEvent")
    envelope = json.loads(found["Records"][0]["body"])
    envelope["Message"] = message
    found["Records"][0]["body"] = json.dumps(envelope)
    return found


def _kinesis(data: str) -> Any:
    found = event("kinesisStreamEventOneRecord")
    found["Records"][0]["kinesis"]["data"] = base64.b64encode(data.encode()).decode()
    return found


def _eventbridge(detail: Any) -> Any:
    found = event("eventBridgeEvent")
    found["detail"] = detail
    return found


def _http(secret: Secret, payload: Any) -> Any:
    found = event("apiGatewayProxyV2Event")
    found["body"] = json.dumps(payload)
    if secret.query:
        ((name, value),) = secret.fragment.items()
        found["rawQueryString"] = f"page=2&{urllib.parse.urlencode({name: value})}"
        found["queryStringParameters"] = {"page": "2", name: value}
    else:
        found["headers"] = {**found.get("headers", {}), "x-note": secret.text}
    return found


CARRIERS: dict[str, Callable[[int, Secret, str], Case]] = {
    "SQS body": lambda t, s, m: Case("", s, m, event=_sqs(json.dumps(_payload(t, s, m))), records=True),
    "SNS→SQS envelope": lambda t, s, m: Case("", s, m, event=_sns_sqs(json.dumps(_payload(t, s, m))), records=True),
    "Kinesis base64": lambda t, s, m: Case("", s, m, event=_kinesis(json.dumps(_payload(t, s, m))), records=True),
    "EventBridge detail": lambda t, s, m: Case("", s, m, event=_eventbridge(_payload(t, s, m))),
    "HTTP request": lambda t, s, m: Case("", s, m, event=_http(s, _payload(t, s, m))),
    "response": lambda t, s, m: Case("", s, m, event={"order": m}, response=_payload(t, s, m)),
    "log line": lambda t, s, m: Case("", s, m, event={}, log=_text(t, s, m)),
    "exception message": lambda t, s, m: Case("", s, m, event={}, raises=_text(t, s, m)),
    "URL": lambda t, s, m: Case(
        "",
        s,
        m,
        event={},
        url=f"https://api.example.com/v1/{m}?"
        + (s.text if s.query else urllib.parse.urlencode({"q": s.text.replace("\n", " ")})),
    ),
}


def corpus() -> list[Case]:
    """Every secret kind through every carrier (templates taken in turn); every secret unique."""
    cases: list[Case] = []
    for index, (carrier, make) in enumerate(CARRIERS.items()):
        for secret in secrets(index * 97 + 13):
            marker = f"ord{len(cases):04d}x"
            case = make(len(cases) % 3, secret, marker)
            case.name = f"{carrier}: {secret.kind}"
            cases.append(case)
    return cases
