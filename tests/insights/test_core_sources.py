"""Reading sources: several files, globs, gzip; bad input gives one line and a documented exit code."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from otel_serverless.cli import main
from otel_serverless.insights import SourceError, Window, build_report
from otel_serverless.insights._assemble import Assembler
from otel_serverless.insights._model import Span
from otel_serverless.insights._sketch import ALPHA, EXACT_LIMIT, Sketch
from tests.insights.otlp_traces import HOUR_NS, T0_NS, invocation, request, write

CURRENT = Window(T0_NS, T0_NS + HOUR_NS)
START = "2026-11-30T00:53:20Z"
END = "2026-11-30T01:53:20Z"


def spans(count: int, offset_ms: float = 0) -> list[Any]:
    return [invocation("orders", offset_ms + i * 10, 10, error=i == 0) for i in range(count)]


def cli(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["insights", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_several_files_globs_and_gzip(tmp_path: Path) -> None:
    write(tmp_path / "a.jsonl", spans(3))
    write(tmp_path / "b.jsonl", spans(4, 1000))
    zipped = tmp_path / "c.json.gz"
    zipped.write_bytes(gzip.compress((json.dumps(request(spans(5, 5000))) + "\n").encode()))
    plain_named_gz = tmp_path / "d.log"  # gzip told by its bytes, not its name
    plain_named_gz.write_bytes(gzip.compress((json.dumps(request(spans(2, 9000))) + "\n").encode()))
    report = build_report(CURRENT, files=[str(tmp_path / "*.jsonl"), str(zipped), str(plain_named_gz)])
    assert report["invocations"] == 14 and report["errors"] == 4
    assert [Path(source).name for source in report["sources"]] == ["a.jsonl", "b.jsonl", "c.json.gz", "d.log"]


def test_a_truncated_last_line_is_skipped_and_said(tmp_path: Path) -> None:
    path = write(tmp_path / "t.jsonl", spans(3), spans(2, 1000))
    text = path.read_text()
    path.write_text(text + text.splitlines()[0][:150])  # a writer cut mid-line
    report = build_report(CURRENT, files=[str(path)])
    assert report["invocations"] == 5
    assert report["note"] == "1 line(s) skipped (t.jsonl:3: truncated or not JSON)"


def test_a_foreign_json_line_among_otlp_lines_is_skipped(tmp_path: Path) -> None:
    path = write(tmp_path / "t.jsonl", spans(3))
    with path.open("a") as file:
        file.write('{"level": "info", "msg": "not a trace"}\n')
    report = build_report(CURRENT, files=[str(path)])
    assert report["invocations"] == 3
    assert "t.jsonl:2: not an OTLP/JSON trace export (no resourceSpans)" in report["note"]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.jsonl", "missing.jsonl: no such file"),
        (lambda p: p, "is a folder"),
        (lambda p: _file(p / "x.json", b'{"data": [1, 2]}\n'), "x.json: not OTLP/JSON traces (line 1: not an OTLP"),
        (lambda p: _file(p / "x.bin", b"\x00\xff\xfe garbage\n"), "x.bin: not OTLP/JSON traces (line 1: not JSON)"),
        (lambda p: _file(p / "x.gz", b"\x1f\x8b\x08\x00broken"), "x.gz: cannot read"),
    ],
)
def test_bad_sources_are_one_line_errors(tmp_path: Path, make: Any, message: str) -> None:
    path = make(tmp_path)
    with pytest.raises(SourceError, match=None) as raised:
        build_report(CURRENT, files=[str(path)])
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_a_glob_that_matches_nothing(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"nothing\*\.jsonl: no file matches"):
        build_report(CURRENT, files=[str(tmp_path / "nothing*.jsonl")])


def _file(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# -- the command: exit codes, one line on stderr, never a traceback --------------------------------


def test_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = str(write(tmp_path / "t.jsonl", spans(3)))
    code, out, err = cli("--from", good, "--start", START, "--end", END, capsys=capsys)
    assert code == 0 and "Invocations 3" in out and err == ""
    code, out, err = cli(
        "--from", good, "--start", "2020-01-01T00:00:00Z", "--end", "2020-01-02T00:00:00", capsys=capsys
    )
    assert code == 1  # an empty report, which says why
    assert "no invocations in the window; the source's 3 spans run from 2026-11-30T00:53:20.000Z" in out
    code, out, err = cli("--from", str(tmp_path / "none.jsonl"), capsys=capsys)
    assert (code, out) == (3, "") and err == f"otel-serverless insights: {tmp_path / 'none.jsonl'}: no such file\n"
    code, out, err = cli("--from", good, "--since", "yesterday", capsys=capsys)
    assert code == 2 and err.count("\n") == 1 and "not a duration" in err
    code, out, err = cli("--from", good, "--since", "1h", "--start", START, capsys=capsys)
    assert code == 2 and "not both" in err
    code, out, err = cli("--from", good, "--start", END, "--end", START, capsys=capsys)
    assert code == 2 and "--start must be before --end" in err
    code, out, err = cli("--from", good, "--service", "x", capsys=capsys)
    assert code == 2 and "--service" in err


def test_unreachable_jaeger(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, out, err = cli("--jaeger", f"http://127.0.0.1:{port}", capsys=capsys)
    assert code == 3 and out == ""
    assert err.startswith(f"otel-serverless insights: Jaeger at http://127.0.0.1:{port} is unreachable (")
    assert err.count("\n") == 1
    code, out, err = cli("--jaeger", "file:///etc/passwd", capsys=capsys)
    assert code == 3 and "not an http(s) URL" in err


def test_json_has_the_documented_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = str(write(tmp_path / "t.jsonl", spans(3)))
    code, out, _ = cli("--from", good, "--start", START, "--end", END, "--json", capsys=capsys)
    report = json.loads(out)
    assert code == 0
    assert set(report) == {
        "window", "estimated", "sources", "health", "invocations", "errors", "timeouts", "out_of_memory",
        "cold_starts", "cold_start_share", "cold_start_added_ms", "retries", "cost_usd", "monthly_cost_usd",
        "previous", "changes", "insights", "functions", "dataflows", "slowest_hops", "nodes", "edges",
        "timeline", "note",
    }  # fmt: skip
    assert set(report["functions"][0]) == {
        "name", "invocations", "errors", "timeouts", "out_of_memory", "cold_starts", "retries", "p50_ms",
        "p95_ms", "p99_ms", "max_memory_mb", "memory_limit_mb", "timeout_ms", "cost_usd", "own_ms", "api_ms",
        "histogram",
    }  # fmt: skip
    assert set(report["dataflows"][0]) == {
        "name", "invocations", "p50_ms", "p99_ms", "error_share", "functions", "own_ms", "api_ms", "slowest_hops"
    }  # fmt: skip


def test_no_traceback_on_a_broken_source_from_a_real_process(tmp_path: Path) -> None:
    broken = _file(tmp_path / "broken.jsonl", b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": 5}]}]}]}')
    result = subprocess.run(
        [sys.executable, "-m", "otel_serverless.cli", "insights", "--from", str(broken), "--since", "1h"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "COLUMNS": "80"},
    )
    assert "Traceback" not in result.stderr
    assert result.returncode == 1  # the span without times is left out: an empty report
    assert "no spans were read" in result.stdout or "no invocations" in result.stdout


def test_progress_bar_on_stderr_for_a_large_source(tmp_path: Path) -> None:
    from otel_serverless.insights import _progress

    path = write(tmp_path / "big.jsonl", *[spans(50, i * 600) for i in range(100)])
    assert path.stat().st_size < _progress.LARGE_BYTES  # shown for large files only; lower the bar here
    stream = io.StringIO()
    original = _progress.LARGE_BYTES
    _progress.LARGE_BYTES = 1000  # type: ignore[misc]  # the threshold is read when the bar is made
    try:
        build_report(CURRENT, files=[str(path)], progress=stream)
    finally:
        _progress.LARGE_BYTES = original  # type: ignore[misc]
    lines = stream.getvalue().splitlines()
    assert lines[-1].startswith("reading traces [########################] 100%")
    assert lines[-1].endswith("5,000 spans")
    assert 2 <= len(lines) <= 5  # a line per quarter when stderr is not a terminal


def test_terminal_tables_fit_the_width(tmp_path: Path) -> None:
    from otel_serverless.insights._terminal import render

    long = [invocation("a-function-with-a-really-long-name-" + "x" * 40, i * 10, 10, error=i == 0) for i in range(3)]
    report = build_report(CURRENT, files=[str(write(tmp_path / "t.jsonl", long, spans(2, 500)))])
    for width in (60, 80, 120):
        text = render(report, width)
        assert max(len(line) for line in text.splitlines()) <= width, text
    assert "p95" in render(report, 140) and "p95" not in render(report, 60)


# -- bounded memory ---------------------------------------------------------------------------------


def _span(trace: int, end_s: int) -> Span:
    return Span(f"{trace:032x}", f"{trace:016x}", None, "x", "svc", "", 2, end_s * 10**9, end_s * 10**9, False, {})


def test_the_assembler_holds_a_bounded_number_of_spans() -> None:
    emitted: list[int] = []
    assembler = Assembler(lambda trace: emitted.append(len(trace)), grace_ns=10**12, max_spans=1000)
    for number in range(20_000):
        assembler.add(_span(number, 0))  # all at the same time: only the bound can hand them on
    assembler.close()
    assert sum(emitted) == 20_000 and assembler.peak_held <= 1001


def test_the_assembler_hands_on_a_trace_once_time_moved_past_it() -> None:
    emitted: list[str] = []
    assembler = Assembler(lambda trace: emitted.append(trace[0].trace_id), grace_ns=60 * 10**9)
    for second in range(0, 10_000, 1):  # one trace a second, each of two spans
        assembler.add(_span(second, second))
        assembler.add(_span(second, second))
    assert assembler.peak_held <= 2 * (60 + 2_000)  # the grace window plus one sweep's worth
    assembler.close()
    assert len(emitted) == 10_000


def test_sketch_is_exact_while_small_and_within_its_accuracy_after() -> None:
    small = Sketch()
    for value in (5.0, 1.0, 3.0, 2.0, 4.0):
        small.add(value)
    assert (small.quantile(0.5), small.quantile(0.99), small.quantile(0.0)) == (3.0, 5.0, 1.0)
    large, merged, other = Sketch(), Sketch(), Sketch()
    values = [float(v) for v in range(1, 100_001)]
    for value in values:
        large.add(value)
        (merged if value % 2 else other).add(value)
    merged.merge(other)
    for q, exact in ((0.5, 50_000.0), (0.95, 95_000.0), (0.99, 99_000.0)):
        for sketch in (large, merged):
            found = sketch.quantile(q)
            assert found is not None and abs(found - exact) / exact <= ALPHA
    assert len(large._buckets) < 1_000 and large._exact is None  # bounded: log buckets, not values
    assert EXACT_LIMIT < 100_000


def test_weighted_sketch() -> None:
    sketch = Sketch()
    sketch.add(10.0, 3.0)
    sketch.add(20.0, 1.0)
    assert sketch.quantile(0.75) == 10.0 and sketch.quantile(0.76) == 20.0
    assert Sketch().quantile(0.5) is None
    odd = Sketch()
    for value in (float("nan"), float("inf"), -3.0, 7.0):  # a clock that went back counts as 0 ms
        odd.add(value)
    assert odd.count == 2 and odd.quantile(0.5) == 0.0 and odd.quantile(1.0) == 7.0


def test_an_empty_report_says_why(tmp_path: Path) -> None:
    from tests.insights.otlp_traces import S, new_trace

    plain = [S("web", "GET /", 10, 5, new_trace(), kind=2, scope="flask")]  # a trace, but no invocation
    report = build_report(CURRENT, files=[str(write(tmp_path / "p.jsonl", plain))])
    assert report["functions"] == [] and report["health"] is None and report["invocations"] == 0
    assert report["note"].startswith("none of the 1 spans read is a function's invocation in the window")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert build_report(CURRENT, files=[str(empty)])["note"] == "no spans were read"
