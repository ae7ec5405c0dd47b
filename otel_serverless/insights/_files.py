"""Source: OTLP/JSON files, one ``ExportTraceServiceRequest`` per line.

What the demo writes (``.otel-serverless/demo-traces.jsonl``) and what the Collector's
``file`` exporter writes; several files and globs, each plain or gzip (told by its
first bytes, not its name). A line that is not JSON (a file cut while being written)
or not an OTLP request is skipped and counted; a file with no OTLP line at all, or
one that cannot be read, is a :class:`SourceError`.
"""

from __future__ import annotations

import glob
import gzip
import io
import json
import os
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO

from otel_serverless.insights._assemble import collector_paused
from otel_serverless.insights._errors import SourceError
from otel_serverless.insights._model import Span
from otel_serverless.insights._otlp import NotOtlp, spans_of
from otel_serverless.insights._progress import Progress


def _json_loads() -> Callable[[bytes], Any]:
    """orjson's parser when installed (the ``insights`` extra: about 40 % less time), else json's."""
    try:
        import orjson
    except ImportError:
        return json.loads
    return orjson.loads


_loads = _json_loads()


def expand(patterns: Iterable[str]) -> list[Path]:
    """Each pattern's files (a glob, or one path), in order, once each."""
    found: list[Path] = []
    for pattern in patterns:
        if glob.has_magic(pattern):
            matches = sorted(glob.glob(os.path.expanduser(pattern), recursive=True))
            if not matches:
                raise SourceError(f"{pattern}: no file matches")
            found.extend(Path(match) for match in matches)
        else:
            path = Path(pattern).expanduser()
            if not path.exists():
                raise SourceError(f"{pattern}: no such file")
            found.append(path)
    unique: dict[Path, None] = {}
    for path in found:
        if path.is_dir():
            raise SourceError(f"{path}: is a folder (give files or a glob such as '{path}/*.jsonl')")
        unique.setdefault(path, None)
    return list(unique)


class FileReport:
    """What reading the files met: lines skipped and why (first few kept for the note)."""

    def __init__(self) -> None:
        self.skipped = 0
        self.examples: list[str] = []
        self.spans = 0

    def skip(self, where: str, why: str) -> None:
        self.skipped += 1
        if len(self.examples) < 3:
            self.examples.append(f"{where}: {why}")

    def note(self) -> str | None:
        if not self.skipped:
            return None
        return f"{self.skipped} line(s) skipped ({'; '.join(self.examples)})"


def read(
    paths: list[Path], add: Callable[[list[Span]], None], progress_stream: TextIO | None, report: FileReport
) -> None:
    """Every span of every file to *add*, with a progress bar for large inputs."""
    sizes = []
    for path in paths:
        try:
            sizes.append(path.stat().st_size)
        except OSError as error:
            raise SourceError(f"{path}: cannot read ({error.strerror or error})") from None
    progress = Progress(progress_stream, sum(sizes), "reading traces")
    before = 0
    for path, size in zip(paths, sizes, strict=True):

        def moved(done: int, base: int = before) -> None:
            progress.update(base + done, report.spans)

        with collector_paused():
            _read_one(path, add, report, moved)
        before += size
    progress.done(report.spans)


def _open(path: Path) -> tuple[io.BufferedIOBase, io.BufferedIOBase]:
    """The file's lines (decompressed if gzip) and the raw file, whose position is the progress."""
    raw: io.BufferedIOBase = path.open("rb")
    if raw.read(2) == b"\x1f\x8b":
        raw.seek(0)
        lines: io.BufferedIOBase = gzip.GzipFile(fileobj=raw)
        return lines, raw
    raw.seek(0)
    return raw, raw


def _read_one(path: Path, add: Callable[[list[Span]], None], report: FileReport, moved: Callable[[int], Any]) -> None:
    good = 0
    first_problem: str | None = None
    try:
        lines, raw = _open(path)
    except OSError as error:
        raise SourceError(f"{path}: cannot read ({error.strerror or error})") from None
    try:
        with raw, lines:
            number = 0
            for line in lines:
                number += 1
                if line.isspace():  # no copy of a long line
                    continue
                why = _line(line, add, report)
                if why is None:
                    good += 1
                else:
                    report.skip(f"{path.name}:{number}", why)
                    first_problem = first_problem or f"line {number}: {why}"
                if number % 64 == 0:
                    moved(raw.tell())
    except (OSError, EOFError, zlib.error) as error:
        raise SourceError(f"{path}: cannot read ({getattr(error, 'strerror', None) or error})") from None
    if good == 0 and first_problem is not None:
        raise SourceError(f"{path}: not OTLP/JSON traces ({first_problem})")


def _line(line: bytes, add: Callable[[list[Span]], None], report: FileReport) -> str | None:
    try:
        request = _loads(line)
    except ValueError:  # orjson's JSONDecodeError is one too
        return "truncated or not JSON" if not line.endswith(b"\n") else "not JSON"
    try:
        spans = list(spans_of(request))
    except NotOtlp as error:
        return str(error)
    report.spans += len(spans)
    add(spans)
    return None
