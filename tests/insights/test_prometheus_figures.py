"""The arithmetic of `insights --prometheus` (the real Prometheus path is tests/e2e/test_scale_out.py).

Counts over a window are per-series differences of cumulative values; quantiles are
interpolated in the gateway's histogram buckets, as PromQL's histogram_quantile does.
"""

from __future__ import annotations

import http.server
import math
import threading
from collections.abc import Iterator

import pytest

from otel_serverless.insights import _prometheus as prom
from otel_serverless.insights._errors import SourceError
from otel_serverless.insights._window import Window
from otel_serverless.processors.cost import Prices


def calls(service: str, status: str = "STATUS_CODE_UNSET", **labels: str) -> prom.Key:
    values = {prom.SERVICE: service, prom.STATUS: status, **labels}
    return tuple(values.get(name, "") for name in prom.CALL_LABELS)


def test_a_window_counts_series_born_inside_it_and_ignores_series_that_ended_before() -> None:
    start = prom.Counts(calls={calls("a"): 10.0, calls("gone"): 7.0})
    end = prom.Counts(calls={calls("a"): 25.0, calls("gone"): 7.0, calls("b"): 3.0})
    window = end.minus(start)
    assert window.calls[calls("a")] == 15.0
    assert window.calls[calls("gone")] == 0.0
    assert window.calls[calls("b")] == 3.0


def test_a_store_that_goes_backwards_never_gives_negative_counts() -> None:
    assert prom.Counts(calls={calls("a"): 1.0}).minus(prom.Counts(calls={calls("a"): 5.0})).calls == {calls("a"): 0.0}


def test_function_figures_from_the_dimensions() -> None:
    mib512 = str(512 * 1024 * 1024)
    counts = prom.Counts(
        calls={
            calls("f", faas_max_memory=mib512, faas_coldstart="true"): 4.0,
            calls("f", faas_max_memory=mib512, faas_coldstart="false"): 90.0,
            calls("f", "STATUS_CODE_ERROR", faas_max_memory=mib512): 5.0,
            calls("f", "STATUS_CODE_ERROR", serverless_timeout="true", serverless_timeout_configured_ms="3000"): 1.0,
            calls("f", serverless_retry="true"): 2.0,
        },
        sums={("f", mib512, ""): 100_000.0, ("f", mib512, "arm64"): 1_000.0},
    )
    prices = Prices(x86_64=0.00002, arm64=0.00001, request=0.0000002)
    f = prom.functions(counts, prices)["f"]
    assert (f.invocations, f.errors, f.timeouts, f.cold_starts, f.retries) == (102.0, 6.0, 1.0, 4.0, 2.0)
    assert f.memory_bytes == 512 * 1024 * 1024
    assert f.timeout_ms == 3000
    # 100 s at 0.5 GB on x86_64, 1 s on arm64, and 102 requests.
    assert f.cost_usd == pytest.approx(100 * 0.5 * 0.00002 + 1 * 0.5 * 0.00001 + 102 * 0.0000002)


def test_quantiles_interpolate_inside_the_bucket() -> None:
    cumulative = [(10.0, 0.0), (50.0, 50.0), (100.0, 100.0), (math.inf, 100.0)]
    assert prom.quantile(0.5, cumulative) == 50.0
    assert prom.quantile(0.25, cumulative) == pytest.approx(30.0)
    assert prom.quantile(0.75, cumulative) == pytest.approx(75.0)
    assert prom.quantile(0.5, []) is None
    # Beyond the last finite bound, the bound is all the histogram knows.
    assert prom.quantile(0.99, [(10.0, 1.0), (math.inf, 100.0)]) == 10.0


def test_histogram_rows_at_the_reports_bounds() -> None:
    cumulative = [(5.0, 1.0), (10.0, 3.0), (25.0, 3.0), (50.0, 8.0), (math.inf, 9.0)]
    rows = prom.histogram(cumulative, (10.0, 25.0, 50.0))
    assert rows == [
        {"le_ms": 10.0, "count": 3},
        {"le_ms": 25.0, "count": 0},
        {"le_ms": 50.0, "count": 5},
        {"le_ms": None, "count": 1},
    ]


def test_attribute_names_become_prometheus_labels() -> None:
    assert prom.label("faas.coldstart") == "faas_coldstart"
    assert prom.label("serverless.timeout.configured_ms") == "serverless_timeout_configured_ms"


# --- a source that is not there or not Prometheus: one line, no traceback ------------------------


class _NotPrometheus(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html>hello</html>" if "query_range" not in self.path else b'{"status": "error"}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def not_prometheus() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotPrometheus)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


WINDOW = Window(1_700_000_000 * 10**9, 1_700_003_600 * 10**9)


def test_an_answer_that_is_not_prometheus_is_a_source_error(not_prometheus: str) -> None:
    with pytest.raises(SourceError, match="did not answer JSON"):
        prom.read(not_prometheus, WINDOW)


def test_an_unreachable_prometheus_is_a_source_error() -> None:
    with pytest.raises(SourceError, match="unreachable"):
        prom.read("http://127.0.0.1:9", WINDOW)


def test_a_url_that_is_not_http_is_a_source_error() -> None:
    with pytest.raises(SourceError, match="not an http"):
        prom.read("file:///etc/passwd", WINDOW)
