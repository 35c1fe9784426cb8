"""How long the server waits for a client, and how many it serves at once (uvicorn's HTTP/1.1 protocol, h11,
with a watchdog).

uvicorn alone waits for ever for a request's headers (an idle or half-written connection stays open) and for
the rest of a body, and accepts every connection. Here:
- a request's headers must all arrive within `timeout` seconds (of the connection, or of the last answer);
- a body must keep coming: no pause longer than `timeout` (unless the server is the one not reading);
- between requests a kept-alive connection is closed after KEEP_ALIVE seconds of silence (uvicorn's own);
- past `max_connections` open connections a new one is answered 503 (the usual error shape) and closed.
A connection closed for being slow is one info line in the log, never a traceback.
"""

from __future__ import annotations

import logging

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from seqlab.app.errors import error_response

KEEP_ALIVE = 5.0          # seconds an idle kept-alive connection stays open (seqlab serve sets the others)

log = logging.getLogger("seqlab.app")


def _busy_answer(limit: int) -> bytes:
    body = error_response([(None, f"the server is serving {limit} connections, its limit; retry in a moment")]).body
    return (b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\n"
            b"connection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))


class WatchedH11(H11Protocol):
    """H11Protocol with the header and body deadlines and the connection limit above (class attributes)."""

    timeout: float
    max_connections: int

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._timer = None
        self._over_limit = len(self.connections) > self.max_connections
        self._expect_headers()

    def connection_lost(self, exc) -> None:
        self._cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._over_limit:        # answered once its request has come in, so that the client reads it
            self.transport.write(_busy_answer(self.max_connections))
            self.transport.close()
            return
        super().data_received(data)
        self._progress()

    def on_response_complete(self) -> None:
        self._expect_headers()
        super().on_response_complete()     # may start a pipelined request
        self._progress()

    # --- the watchdog ---------------------------------------------------------------------------------------
    def _expect_headers(self) -> None:
        self._headers_pending, self._cycle_before = True, self.cycle   # they are in once a new cycle exists
        self._arm("its request's headers")

    def _progress(self) -> None:
        if self.transport.is_closing():
            return self._cancel()
        if self._headers_pending:
            if self.cycle is self._cycle_before:
                return                      # still waiting for the headers: their deadline stands
            self._headers_pending = False
        if self.cycle.more_body and not self.cycle.response_complete:
            self._arm("more of its body")   # every piece of the body restarts the clock
        else:
            self._cancel()

    def _arm(self, what: str) -> None:
        self._cancel()
        self._timer = self.loop.call_later(self.timeout, self._expire, what)

    def _cancel(self) -> None:
        if getattr(self, "_timer", None) is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self, what: str) -> None:
        self._timer = None
        if self.transport.is_closing():
            return
        if what != "its request's headers" and self.flow.read_paused:
            return self._arm(what)          # the app has not read what came: not the client's delay
        client = "%s:%d" % self.client if self.client else "a client"
        log.info("closed the connection of %s: no %s in %g s", client, what, self.timeout)
        self.transport.close()


def protocol(timeout: float, max_connections: int) -> type[WatchedH11]:
    """The protocol class with these limits."""
    return type("WatchedH11", (WatchedH11,), {"timeout": timeout, "max_connections": max_connections})


def config(app, timeout: float, max_connections: int, **options) -> uvicorn.Config:
    """uvicorn's configuration for the playground: the protocol above, the keep-alive, quiet logs."""
    return uvicorn.Config(app, http=protocol(timeout, max_connections), timeout_keep_alive=KEEP_ALIVE,
                          log_level="warning", **options)
