"""The scrubbing rules one by one: names, pairs, shapes, nesting; and what they leave alone."""

from __future__ import annotations

import base64
import json

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from otel_serverless._secrets import luhn, secret_name
from otel_serverless.processors import Scrubber, ScrubbingProcessor

R = "[REDACTED]"


@pytest.mark.parametrize(
    "name",
    [
        "password", "passphrase", "pin", "userPin", "cvv", "ssn", "otp", "credit_card", "cardNumber", "X-Acme-Auth",
        "x-my-auth-header", "X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token", "sig", "api_key",
        "client_secret", "sessionToken", "Authorization", "cookie", "x-key", "key_id", "DB_PASSWORD", "dsn",
        "X-Authentication", "x-authn-token",
    ],
)  # fmt: skip
def test_secret_names(name: str) -> None:
    assert secret_name(name)


@pytest.mark.parametrize(
    "name",
    ["partitionKey", "objectKey", "monkey", "messageId", "shipping", "design", "company", "author", "spinner",
     "opinion", "signing_region", "passenger", "topic"],
)  # fmt: skip
def test_plain_names(name: str) -> None:
    assert not secret_name(name)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"password": "horse battery staple"}', '{"password": "[REDACTED]"}'),  # the whole value
        ("password=horse battery staple", "password=[REDACTED]"),
        ("user=ann password=hunter2 action=login", "user=ann password=[REDACTED] action=login"),
        ("Authorization: Basic dXNlcjpwYXNz", "Authorization: [REDACTED]"),
        ("x-acme-auth: abcdef", "x-acme-auth: [REDACTED]"),
        ("https://b/k?X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F2024&X-Amz-Signature=ab12&sig=zz&page=2",
         "https://b/k?X-Amz-Credential=[REDACTED]&X-Amz-Signature=[REDACTED]&sig=[REDACTED]&page=2"),
        ("postgres://admin:s3cr3tpass@db:5432/x", "postgres://admin:[REDACTED]@db:5432/x"),
        ("key AKIAIOSFODNN7EXAMPLE and wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY end", f"key {R} and {R} end"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc123def", f"jwt {R}"),
        ("a -----BEGIN RSA PRIVATE KEY-----\nMIIabc\n-----END RSA PRIVATE KEY----- b", f"a {R} b"),
        ("cut -----BEGIN PRIVATE KEY-----\nMIIabc", f"cut {R}"),  # cut short: to the end
        ("sent Bearer abcdef123456 upstream", f"sent Bearer {R} upstream"),
        ("card 4111 1111 1111 1111 ok", f"card {R} ok"),
        ('[{"name": "DB_PASSWORD", "value": "pw 1 2"}]', '[{"name": "DB_PASSWORD", "value": "[REDACTED]"}]'),
        ("<password>topsecret</password>", f"<password>{R}</password>"),
        ("ValueError: bad {'password': 'sw0rd fish'}", f"ValueError: bad {{'password': '{R}'}}"),
        ('{"Message": "{\\"pin\\": \\"1234 5\\", \\"ok\\": 1}"}',
         '{"Message": "{\\"pin\\": \\"[REDACTED]\\", \\"ok\\": 1}"}'),
        ("https://x/?q=password%3A+horse+battery", "https://x/?q=password: [REDACTED]"),
    ],
)  # fmt: skip
def test_text_rules(text: str, expected: str) -> None:
    assert Scrubber().text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "arn:aws:lambda:us-east-1:123456789012:function:orders",
        "c0e4b9b2-1234-4a5b-9c8d-0123456789ab",
        "ts 1700000000000 and 4111111111111112",  # a timestamp; a number failing the Luhn check
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",  # a SHA-1: one case only
        "Basic usage of the token expired message",
        "partitionKey=abc shipping=fast",
        "https://example.com:443/path?page=2",
    ],
)
def test_what_is_left_alone(text: str) -> None:
    scrubber = Scrubber()
    assert scrubber.text(text) is text


def test_nested_json_and_base64_json_are_scrubbed_as_structures() -> None:
    scrubber = Scrubber()
    envelope = json.dumps({"Type": "Notification", "Message": json.dumps({"order": 7, "otp": "991 002"})})
    body = json.dumps({"envelope": envelope})
    scrubbed = scrubber.text(body)
    assert "991" not in scrubbed
    assert json.loads(json.loads(json.loads(scrubbed)["envelope"])["Message"]) == {"order": 7, "otp": R}
    data = base64.b64encode(json.dumps({"cvv": "123", "sku": "A1"}).encode()).decode()
    assert json.loads(scrubber.text(data)) == {"cvv": R, "sku": "A1"}
    clean = base64.b64encode(json.dumps({"sku": "A1"}).encode()).decode()
    assert scrubber.text(clean) is clean  # nothing secret: left as it was
    structure = {"headers": [{"Name": "X-Api-Key", "Value": "v1"}], "cvv": 123, "body": '{"pin": "1"}'}
    assert scrubber.structure(structure) == {
        "headers": [{"Name": "X-Api-Key", "Value": R}],
        "cvv": R,
        "body": '{"pin": "[REDACTED]"}',
    }


def test_depth_is_bounded() -> None:
    scrubber = Scrubber()
    nested: object = {"pin": "4417"}
    for _ in range(10):  # JSON text in JSON text, ten levels (each level doubles the escapes)
        nested = {"inner": json.dumps(nested)}
    assert "4417" not in scrubber.text(json.dumps(nested))
    deep: object = {"pin": "4417"}
    for _ in range(200):  # deeper than MAX_DEPTH: the deepest levels are masked whole
        deep = {"inner": deep}
    assert "4417" not in json.dumps(scrubber.structure(deep))
    assert "4417" not in scrubber.text(json.dumps(deep))


def test_extra_names_from_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVERLESS_SCRUB_PATTERNS", "^member_no$")
    scrubber = Scrubber.from_env()
    assert scrubber.text("member_no=77123 plan=gold") == "member_no=[REDACTED] plan=gold"
    assert scrubber.structure({"member_no": 1}) == {"member_no": R}


def test_luhn() -> None:
    assert luhn("4111111111111111") and not luhn("4111111111111112")


def test_status_descriptions_are_scrubbed() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(ScrubbingProcessor(then=SimpleSpanProcessor(exporter)))
    with provider.get_tracer("t").start_as_current_span("login") as span:
        span.set_status(Status(StatusCode.ERROR, "ValueError: password=hunter two for ann"))
    (staged,) = exporter.get_finished_spans()
    assert staged.status.description == "ValueError: password=[REDACTED]"
    assert staged.status.status_code is StatusCode.ERROR


def test_identifiers_minted_by_aws_are_not_searched() -> None:
    # Real request ids look like tokens: DynamoDB's and SQS's are long alphanumeric runs, S3's 16 hex digits.
    identifiers = {
        "aws.request_id": "JNNG6ALJ0VN5T4MVN1C5J6ETMNVV4KQNSO5AEMVJF66Q9ASUAAJG",
        "messaging.message.id": "Xv3fTi2iCLE49NB3pfrrt7AA7brLKNgvFvXwZRiV8z2JFEiiSjoo",
        "faas.invocation_id": "4442587FB7D0A2F9",
    }
    scrubber = Scrubber()
    attributes = dict(identifiers)
    assert not scrubber.scrub_in_place(attributes) and attributes == identifiers
    # The rules still see any other key: a credential's shape there is masked.
    other = {"note": "AKIAIOSFODNN7EXAMPLE", "aws.request_id.note": "AKIAIOSFODNN7EXAMPLE"}
    assert scrubber.scrub_in_place(other)
    assert "AKIAIOSFODNN7EXAMPLE" not in str(other)
