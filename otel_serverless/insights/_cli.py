"""``otel-serverless insights``: options → report → terminal, JSON or HTML; exit codes.

=====  ====================================================================
code   meaning
=====  ====================================================================
0      a report with figures
1      an empty report: no invocation in the window (its note says why)
2      bad options (also argparse's own code)
3      a source could not be read (missing or unreadable file, not OTLP/JSON,
       Jaeger unreachable or answering an error)
4      the HTML report could not be written
70     an unexpected error (one line, never a traceback; please report it)
=====  ====================================================================
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any, Final, TextIO

from otel_serverless.insights import SourceError, build_report, choose

OK: Final = 0
EMPTY: Final = 1
USAGE: Final = 2
SOURCE: Final = 3
HTML: Final = 4
UNEXPECTED: Final = 70
DEMO_TRACES: Final = ".otel-serverless/demo-traces.jsonl"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from",
        dest="files",
        action="append",
        default=[],
        metavar="FILE",
        help="OTLP/JSON lines file(s) (the demo's, the collector's file exporter), globs and gzip allowed; "
        f"repeatable (default: {DEMO_TRACES} when no --jaeger)",
    )
    parser.add_argument("--jaeger", metavar="URL", help="Jaeger query URL (e.g. http://127.0.0.1:16686)")
    parser.add_argument(
        "--prometheus",
        metavar="URL",
        help="Prometheus with the gateways' span metrics (e.g. http://127.0.0.1:9090): exact per-function "
        "figures whatever the trace sampling; dataflows and the map still from --jaeger/--from traces",
    )
    parser.add_argument(
        "--service",
        dest="services",
        action="append",
        default=[],
        metavar="NAME",
        help="with --jaeger: read these services' traces only (repeatable; default: all)",
    )
    parser.add_argument("--since", help="window ending now: 90m, 24h (default), 7d …")
    parser.add_argument("--start", help="window start, ISO-8601 (UTC if no zone) or Unix seconds")
    parser.add_argument("--end", help="window end (default: now)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON (keys in the README)")
    parser.add_argument("--html", metavar="PATH", help="also write the report as one self-contained HTML page")
    parser.add_argument("--no-compare", action="store_true", help="skip the previous window (no ▲/▼, less to read)")


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        return _run(args, out, err)
    except KeyboardInterrupt:
        err.write("otel-serverless insights: interrupted\n")
        return 130
    except Exception as error:  # the command's promise: one line, never a traceback
        err.write(f"otel-serverless insights: unexpected error ({type(error).__name__}: {error}); please report it\n")
        return UNEXPECTED


def _run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        window = choose(args.since, args.start, args.end)
    except ValueError as error:
        err.write(f"otel-serverless insights: {error}\n")
        return USAGE
    files = list(args.files)
    if not files and not args.jaeger and not args.prometheus:
        if not Path(DEMO_TRACES).exists():
            err.write(
                "otel-serverless insights: no source: give --from FILE or --jaeger URL "
                f"(or run `otel-serverless demo`, which writes {DEMO_TRACES})\n"
            )
            return USAGE
        files = [DEMO_TRACES]
    if args.services and not args.jaeger:
        err.write("otel-serverless insights: --service filters Jaeger's traces; give --jaeger URL\n")
        return USAGE
    try:
        report = build_report(
            window,
            files=files,
            jaeger=args.jaeger,
            services=args.services,
            prometheus=args.prometheus,
            compare=not args.no_compare,
            progress=err,
        )
    except SourceError as error:
        err.write(f"otel-serverless insights: {error}\n")
        return SOURCE
    if args.html:
        problem = write_html(report, Path(args.html))
        if problem:
            err.write(f"otel-serverless insights: {problem}\n")
            return HTML
    if args.json:
        out.write(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    else:
        from otel_serverless.insights._terminal import render

        out.write(render(report, shutil.get_terminal_size((100, 24)).columns))
        if args.html:
            out.write(f"\nHTML report written to {args.html}\n")
    return OK if report["functions"] else EMPTY


def write_html(report: dict[str, Any], path: Path) -> str | None:
    """Write the HTML view; a one-line problem, or None."""
    try:
        from otel_serverless.insights.html import render_html
    except ImportError as error:
        return f"the HTML view is not available ({error})"
    try:
        page = render_html(report)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page, encoding="utf-8")
    except OSError as error:
        return f"cannot write {path} ({error.strerror or error})"
    return None
