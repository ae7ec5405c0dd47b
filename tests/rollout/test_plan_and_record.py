"""The pure parts: the record kept in tags, and the plan's decisions at the edges."""

from __future__ import annotations

import hashlib
import re

import pytest

from otel_serverless.rollout._plan import WRAPPER, Change, Skip, env_bytes, plan_instrument, plan_uninstrument, unsafe
from otel_serverless.rollout._record import KEY, MAX_VALUE, Record, RecordError, decode, encode

OURS = "arn:aws:lambda:us-east-1:123456789012:layer:otel-serverless-python312-x86_64:7"
OTHER = "arn:aws:lambda:us-east-1:123456789012:layer:shared:3"
TAG_VALUE = re.compile(r"^[\w\s+\-=.:/@]*$")  # what Lambda accepts in a tag value


def owns(arn: str) -> bool:
    return ":layer:otel-serverless-python" in arn


def config(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "FunctionName": "f",
        "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:f",
        "Runtime": "python3.12",
        "PackageType": "Zip",
        "Architectures": ["x86_64"],
        "Layers": [{"Arn": OTHER, "CodeSize": 1}],
        "Environment": {"Variables": {"KEEP": "me"}},
    }
    base.update(changes)
    return base


def test_a_record_round_trips_through_tags_lambda_accepts_even_when_it_needs_several() -> None:
    record = Record(
        layers=tuple(f"arn:aws:lambda:us-east-1:123456789012:layer:l{i}-{'x' * 60}:{i}" for i in range(4)),
        layer=OURS,
        # Hashes do not compress: this record needs several tags.
        env={"OTEL_SERVICE_NAME": "é" + "".join(hashlib.sha256(bytes([i])).hexdigest() for i in range(20)), "X": None},
    )
    tags = encode(record)
    assert len(tags) > 1
    assert all(len(value) <= MAX_VALUE and TAG_VALUE.match(value) for value in tags.values())
    assert decode(tags) == record
    assert decode({"other": "x"}) is None


@pytest.mark.parametrize(
    "tags",
    [
        {KEY: "v1 2 abc"},  # a chunk missing
        {KEY: "v1 1 !!!!"},  # not base64
        {KEY: "v9 1 abc"},  # a version we do not know
        {KEY: "garbage"},
    ],
)
def test_a_damaged_record_is_an_error_not_a_guess(tags: dict[str, str]) -> None:
    with pytest.raises(RecordError):
        decode(tags)


def test_unsafe_functions_are_named_with_their_reason() -> None:
    assert unsafe(config()) is None
    assert unsafe(config(PackageType="Image", Runtime=None)) == Skip(
        "container image (no layers): build the wrapper into the image"
    )
    assert unsafe(config(Runtime="provided.al2023")) == Skip("runtime provided.al2023 is not Python")
    assert unsafe(config(Environment={"Error": {"ErrorCode": "KMSAccessDeniedException"}})) == Skip(
        "environment unreadable (KMSAccessDeniedException)"
    )
    assert unsafe(config(Environment={"Variables": {"AWS_LAMBDA_EXEC_WRAPPER": WRAPPER}})) is None


def test_the_environment_limit_counts_the_variables_as_json() -> None:
    assert env_bytes({"A": "1"}) == len('{"A":"1"}')
    desired = {"AWS_LAMBDA_EXEC_WRAPPER": WRAPPER}
    room = 4096 - env_bytes({"KEEP": "me", **desired}) - len(',"PAD":""')
    fits = config(Environment={"Variables": {"KEEP": "me", "PAD": "p" * room}})
    assert isinstance(plan_instrument(fits, tags={}, record=None, layer=OURS, desired=desired, owns=owns), Change)
    over = config(Environment={"Variables": {"KEEP": "me", "PAD": "p" * (room + 1)}})
    skip = plan_instrument(over, tags={}, record=None, layer=OURS, desired=desired, owns=owns)
    assert skip == Skip("environment would be 4097 bytes, over Lambda's 4 KB")


def test_a_secret_looking_value_is_never_replaced_into_the_record() -> None:
    secret = config(Environment={"Variables": {"OTEL_EXPORTER_OTLP_HEADERS": "x-api-key=s3cr3t"}})
    desired = {"AWS_LAMBDA_EXEC_WRAPPER": WRAPPER, "OTEL_EXPORTER_OTLP_HEADERS": "x-api-key=new"}
    skip = plan_instrument(secret, tags={}, record=None, layer=OURS, desired=desired, owns=owns)
    assert isinstance(skip, Skip) and skip.reason.startswith("would replace OTEL_EXPORTER_OTLP_HEADERS")
    same = {"AWS_LAMBDA_EXEC_WRAPPER": WRAPPER, "OTEL_EXPORTER_OTLP_HEADERS": "x-api-key=s3cr3t"}
    assert isinstance(plan_instrument(secret, tags={}, record=None, layer=OURS, desired=same, owns=owns), Change)


def test_a_newer_layer_version_replaces_ours_in_place_and_the_record_keeps_the_first_state() -> None:
    desired = {"AWS_LAMBDA_EXEC_WRAPPER": WRAPPER, "OTEL_SERVICE_NAME": "f"}
    first = plan_instrument(config(), tags={}, record=None, layer=OURS, desired=desired, owns=owns)
    assert isinstance(first, Change) and first.layers_after == (OTHER, OURS)
    record = decode(first.record_tags)
    assert record == Record(
        layers=(OTHER,), layer=OURS, env={"AWS_LAMBDA_EXEC_WRAPPER": None, "OTEL_SERVICE_NAME": None}
    )
    now = config(
        Layers=[{"Arn": OURS}, {"Arn": OTHER}], Environment={"Variables": {"KEEP": "me", **desired}}
    )  # someone moved ours first
    newer = OURS.replace(":7", ":8")
    second = plan_instrument(now, tags=first.record_tags, record=record, layer=newer, desired=desired, owns=owns)
    assert isinstance(second, Change)
    assert second.layers_after == (newer, OTHER)
    assert decode(second.record_tags) == Record(layers=(OTHER,), layer=newer, env=record.env if record else {})
    back = plan_uninstrument(
        config(Layers=[{"Arn": newer}, {"Arn": OTHER}], Environment={"Variables": {"KEEP": "me", **desired}}),
        second.record_tags,
        decode(second.record_tags) or record,  # type: ignore[arg-type]
    )
    assert isinstance(back, Change)
    assert back.layers_after == (OTHER,)  # ours out, the reordered list kept
    assert dict(back.env_after) == {"KEEP": "me"}
    assert back.untag == (KEY,)


def test_five_layers_without_ours_is_a_skip_but_five_with_ours_is_an_upgrade() -> None:
    five = [{"Arn": f"{OTHER[:-2]}{i}:1"} for i in range(5)]
    desired = {"AWS_LAMBDA_EXEC_WRAPPER": WRAPPER}
    assert plan_instrument(config(Layers=five), tags={}, record=None, layer=OURS, desired=desired, owns=owns) == Skip(
        "5 layers already (Lambda allows 5)"
    )
    with_ours = [*five[:4], {"Arn": OURS.replace(":7", ":6")}]
    change = plan_instrument(config(Layers=with_ours), tags={}, record=None, layer=OURS, desired=desired, owns=owns)
    assert isinstance(change, Change) and change.layers_after[-1] == OURS and len(change.layers_after) == 5
