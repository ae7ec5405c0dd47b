"""Log records on the trace.

:mod:`.span_events` adds every log record written while a span is active (stdlib
``logging``, and so Powertools' logger and any library's) to that span as an event,
so a Jaeger user reads a request's log lines on its timeline.
"""
