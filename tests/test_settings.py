from __future__ import annotations

import logging

import pytest

from otel_serverless import _settings
from otel_serverless import environment_variables as env


def test_explicit_argument_wins_over_the_environment() -> None:
    assert _settings.read_int("X_TIMEOUT", 5, explicit=9, environ={"X_TIMEOUT": "7"}) == 9
    assert _settings.read_int("X_TIMEOUT", 5, environ={"X_TIMEOUT": "7"}) == 7
    assert _settings.read_int("X_TIMEOUT", 5, environ={}) == 5


@pytest.mark.parametrize(
    ("reader", "raw", "default"),
    [
        (lambda e: _settings.read_int("X_BAD", 5, minimum=1, maximum=10, environ=e), "eleven", 5),
        (lambda e: _settings.read_int("X_BAD", 5, minimum=1, maximum=10, environ=e), "11", 5),
        (lambda e: _settings.read_float("X_BAD", 0.5, minimum=0, maximum=1, environ=e), "nan", 0.5),
        (lambda e: _settings.read_bool("X_BAD", False, environ=e), "maybe", False),
        (
            lambda e: _settings.read_choice("X_BAD", ("grpc", "http/protobuf"), "grpc", environ=e),
            "carrier-pigeon",
            "grpc",
        ),
        (lambda e: _settings.read_patterns("X_BAD", (), environ=e), "([unclosed", ()),
    ],
)
def test_a_bad_value_warns_once_and_falls_back(reader, raw, default, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.WARNING, logger="otel_serverless")
    assert reader({"X_BAD": raw}) == default
    assert reader({"X_BAD": raw}) == default
    warnings = [r for r in caplog.records if "X_BAD" in r.getMessage()]
    assert len(warnings) == 1
    assert "default" in warnings[0].getMessage()


def test_a_hostile_value_is_never_logged_in_full(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="otel_serverless")
    hostile = "x" * 100_000
    assert _settings.read_int("X_HUGE", 3, environ={"X_HUGE": hostile}) == 3
    (record,) = caplog.records
    assert len(record.getMessage()) <= 512
    assert hostile not in record.getMessage()


def test_values_are_parsed_leniently_where_the_meaning_is_clear() -> None:
    assert _settings.read_bool("B", False, environ={"B": " TRUE "}) is True
    assert _settings.read_bool("B", True, environ={"B": "off"}) is False
    assert _settings.read_list("L", (), environ={"L": "a, b,,c "}) == ("a", "b", "c")
    choices = ("grpc", "http/protobuf")
    assert _settings.read_choice("C", choices, "grpc", environ={"C": "HTTP/PROTOBUF"}) == "http/protobuf"
    (pattern,) = _settings.read_patterns("P", environ={"P": "^x-api-.*$"})
    assert pattern.match("X-API-Key")


def test_every_setting_is_documented_once() -> None:
    documented = env.documented()
    names = [name for name in vars(env) if name.startswith("OTEL_SERVERLESS_")]
    assert sorted(documented) == sorted(names)
    for name, doc in documented.items():
        assert getattr(env, name) == name
        assert "Default" in doc or "default" in doc, name
