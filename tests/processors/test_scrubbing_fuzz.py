"""The scrubber under hypothesis: it reads every inbound value that reaches a span.

No exception escapes, each call returns in bounded time (hostile text built to make the
pair and shape patterns backtrack included), and a secret planted under a secret's name,
anywhere in a hostile structure or text around it, never comes out.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from otel_serverless.processors import Scrubber
from tests.fuzz.strategies import json_values, timed

FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
SCRUBBER = Scrubber()
SECRET = "zq7Secret9vx"

#: Pieces that make regular expressions work hard: separators, quotes, escapes, digit runs.
_pieces = st.sampled_from(
    ["=", ":", " ", '"', "'", "\\", "\\\"", "{", "}", "[", "]", "&", "%3D", "+", "\n", "password", "key", "eyJ",
     "-----BEGIN ", "4111 1111 ", "AKIA", "Bearer ", "://u:", "@", "<pin>", "</pin>", "a" * 50, "1" * 20]
)  # fmt: skip
hostile_text = st.one_of(
    st.text(max_size=2000),
    st.lists(_pieces, max_size=300).map("".join),
)


@FUZZ
@given(hostile_text)
def test_text_never_raises_and_is_bounded(text: str) -> None:
    found = timed(lambda: SCRUBBER.text(text))
    assert isinstance(found, str)


@FUZZ
@given(json_values)
def test_structures_never_raise_and_are_bounded(value: Any) -> None:
    timed(lambda: SCRUBBER.structure(value))
    timed(lambda: SCRUBBER.text(json.dumps(value, default=str)))


@FUZZ
@given(json_values, st.sampled_from(["password", "X-Acme-Auth", "pin", "client_secret", "sig"]))
def test_a_secret_under_a_secrets_name_never_comes_out(value: Any, name: str) -> None:
    planted = {"wrapper": value, name: f"{SECRET} and more"}
    assert SECRET not in json.dumps(SCRUBBER.structure(planted), default=str)
    assert SECRET not in SCRUBBER.text(json.dumps(planted, default=str))
    assert SECRET not in SCRUBBER.text(json.dumps({"body": json.dumps(planted, default=str)}))  # JSON in JSON


@FUZZ
@given(hostile_text, hostile_text)
def test_a_secret_in_a_pair_amid_hostile_text_never_comes_out(before: str, after: str) -> None:
    text = f"{before} password={SECRET} \n{after}"
    assert SECRET not in SCRUBBER.text(text)
