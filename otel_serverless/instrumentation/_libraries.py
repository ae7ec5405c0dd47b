"""The libraries we cover, and where each one's first call goes through.

``name`` is the upstream instrumentor's entry-point name, the one
``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS`` lists. ``module`` is what the handler's
import is watched for. ``first_calls`` are the methods every call of the library
goes through, where the instrumentor is loaded on first use (:mod:`._first_call`);
for aiohttp that is ``ClientSession.__init__``, because its instrumentor adds its
trace config to sessions as they are created.
"""

from __future__ import annotations

from typing import Final


class Library:
    """One covered library. A plain class: a dataclass or NamedTuple costs ~0.5 ms of every cold start to build."""

    __slots__ = ("distribution", "first_calls", "instrumentor", "module", "name")

    def __init__(
        self,
        name: str,
        module: str,
        instrumentor: str,
        distribution: str,
        first_calls: tuple[tuple[str, str, str], ...],
    ) -> None:
        #: The upstream entry-point name.
        self.name = name
        #: The module whose import arms the library (a submodule: the classes are defined there).
        self.module = module
        #: ``module:Class`` of the upstream instrumentor.
        self.instrumentor = instrumentor
        #: The PyPI distribution that provides it.
        self.distribution = distribution
        #: ``(module, class, method)`` each call of the library goes through.
        self.first_calls = first_calls


#: Our own botocore propagation, as its entry point is named (``opentelemetry-instrument``).
OURS_BOTOCORE: Final = "otel_serverless_botocore"
#: The extra that installs the HTTP client instrumentations.
EXTRA: Final = "otel-serverless[instrumentations]"

LIBRARIES: Final[tuple[Library, ...]] = (
    Library(
        "botocore",
        "botocore.client",
        "opentelemetry.instrumentation.botocore:BotocoreInstrumentor",
        "opentelemetry-instrumentation-botocore",
        (("botocore.client", "BaseClient", "_make_api_call"),),
    ),
    Library(
        "urllib",
        "urllib.request",
        "opentelemetry.instrumentation.urllib:URLLibInstrumentor",
        "opentelemetry-instrumentation-urllib",
        (("urllib.request", "OpenerDirector", "open"),),
    ),
    Library(
        "urllib3",
        "urllib3.connectionpool",
        "opentelemetry.instrumentation.urllib3:URLLib3Instrumentor",
        "opentelemetry-instrumentation-urllib3",
        (("urllib3.connectionpool", "HTTPConnectionPool", "urlopen"),),
    ),
    Library(
        "requests",
        "requests.sessions",
        "opentelemetry.instrumentation.requests:RequestsInstrumentor",
        "opentelemetry-instrumentation-requests",
        (("requests.sessions", "Session", "send"),),
    ),
    Library(
        "httpx",
        "httpx",
        "opentelemetry.instrumentation.httpx:HTTPXClientInstrumentor",
        "opentelemetry-instrumentation-httpx",
        (("httpx", "Client", "send"), ("httpx", "AsyncClient", "send")),
    ),
    Library(
        "aiohttp-client",
        "aiohttp.client",
        "opentelemetry.instrumentation.aiohttp_client:AioHttpClientInstrumentor",
        "opentelemetry-instrumentation-aiohttp-client",
        (("aiohttp.client", "ClientSession", "__init__"),),
    ),
)

BY_NAME: Final = {library.name: library for library in LIBRARIES}
