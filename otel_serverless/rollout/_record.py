"""The rollout record: what ``instrument`` replaced, kept in tags on the function itself.

Why tags and not a local state file: the record travels with the function, so
``uninstrument`` works from any machine, CI runner or teammate's checkout, a
deleted function takes its record with it, and there is no file to lose, merge
or keep in sync with the account. The cost is one ``TagResource`` per change.

A tag value holds at most 256 characters from a small alphabet (letters, digits,
spaces and ``+ - = . _ : / @``), so the record (JSON) is deflated against a preset
dictionary of the strings every record repeats (ARN prefixes, our variable names),
base64-encoded (whose alphabet fits) and cut into chunks: ``otel-serverless:rollout``
holds ``v1 <chunks> <first chunk>``, ``otel-serverless:rollout:1`` … the rest. A record
with the layer and three variables takes about 60 characters, with four other layers
about 90: one tag.
Tags are readable by anyone allowed ``lambda:ListTags``, which is a wider audience
than the function's environment: a secret-looking value is never recorded (the
plan skips such a function instead).
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field

KEY = "otel-serverless:rollout"
#: Lambda's limits for tags on one function.
MAX_TAGS = 50
MAX_VALUE = 256
#: A record never needs more (five layer ARNs and a few variables compress to one or two).
MAX_CHUNKS = 8
_VERSION = "v1"
#: The deflate preset dictionary of format v1 (never change it: records in the wild need it).
_DICTIONARY = (
    b'{"layers":["arn:aws:lambda:us-east-1:layer:otel-serverless-python3"],"layer":"arn:aws:lambda:",'
    b'"env":{"AWS_LAMBDA_EXEC_WRAPPER":null,"OTEL_EXPORTER_OTLP_ENDPOINT":null,"OTEL_SERVICE_NAME":null,'
    b'"OTEL_EXPORTER_OTLP_HEADERS":"OTEL_RESOURCE_ATTRIBUTES"}}'
)


class RecordError(ValueError):
    """The tags hold a rollout record that cannot be read."""


@dataclass(frozen=True)
class Record:
    """The function's state before ``instrument`` touched it, as far as it touched it."""

    #: The layer version ARNs, in order, before instrument.
    layers: tuple[str, ...]
    #: The layer version ARN instrument put in.
    layer: str
    #: Each variable instrument set, and its value before (None: it was not set).
    env: Mapping[str, str | None] = field(default_factory=dict)


def is_record_key(key: str) -> bool:
    return key == KEY or key.startswith(KEY + ":")


def encode(record: Record) -> dict[str, str]:
    """The tags that hold *record*; raises ValueError if it needs more than MAX_CHUNKS tags."""
    document = {"layers": list(record.layers), "layer": record.layer, "env": dict(record.env)}
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15, zdict=_DICTIONARY)
    payload = base64.b64encode(deflate.compress(text) + deflate.flush()).decode("ascii")
    head = MAX_VALUE - len(f"{_VERSION} {MAX_CHUNKS} ")
    chunks = [payload[:head]] + [payload[i : i + MAX_VALUE] for i in range(head, len(payload), MAX_VALUE)]
    if len(chunks) > MAX_CHUNKS:
        raise ValueError(f"the rollout record needs {len(chunks)} tags, more than {MAX_CHUNKS}")
    tags = {KEY: f"{_VERSION} {len(chunks)} {chunks[0]}"}
    tags.update({f"{KEY}:{index}": chunk for index, chunk in enumerate(chunks[1:], start=1)})
    return tags


def decode(tags: Mapping[str, str]) -> Record | None:
    """The record held by *tags*, None when there is none; RecordError when it is damaged."""
    first = tags.get(KEY)
    if first is None:
        return None
    try:
        version, count, chunk = first.split(" ", 2)
        if version != _VERSION:
            raise RecordError(f"rollout record of unknown version {version[:8]!r}")
        chunks = [chunk] + [tags[f"{KEY}:{index}"] for index in range(1, int(count))]
        inflate = zlib.decompressobj(-15, zdict=_DICTIONARY)
        document = json.loads(inflate.decompress(base64.b64decode("".join(chunks), validate=True)) + inflate.flush())
        env = document["env"]
        if not isinstance(env, dict) or not all(v is None or isinstance(v, str) for v in env.values()):
            raise RecordError("rollout record: env is not a map of strings")
        return Record(layers=tuple(str(arn) for arn in document["layers"]), layer=str(document["layer"]), env=env)
    except RecordError:
        raise
    except (ValueError, KeyError, TypeError, zlib.error, binascii.Error) as error:
        raise RecordError(f"rollout record unreadable ({type(error).__name__})") from None


def stale_keys(tags: Mapping[str, str], keep: Mapping[str, str]) -> list[str]:
    """Record tags present on the function that a record written as *keep* leaves behind."""
    return sorted(key for key in tags if is_record_key(key) and key not in keep)
