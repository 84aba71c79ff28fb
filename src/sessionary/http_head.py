"""uvicorn's httptools protocol with the two bounds uvicorn leaves out: the request head's size and read time.

uvicorn closes a keep-alive connection left idle after a response, but it bounds neither how long a client
may take over its request line and headers (a new connection that sends nothing stays open for good) nor,
with httptools, how large they may be: one endless header grows the server's memory without limit. Neither
uvicorn nor httptools has a setting for either (uvicorn's h11 parser bounds the size only, and is slower), so
this subclass adds them: past MAX_HEAD_BYTES of request head, 431; a head not complete HEAD_TIMEOUT seconds
after the connection opened or the request began, 408; both close the connection. `sessionary serve` uses it.
The body is bounded by body_limit.py.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD_BYTES = 64 * 1024
HEAD_TIMEOUT = 10.0
_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


class BoundedHeadProtocol(HttpToolsProtocol):
    """HttpToolsProtocol, with a request head of at most MAX_HEAD_BYTES arriving within HEAD_TIMEOUT s."""

    _head_timer: asyncio.TimerHandle | None = None
    _head_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._head_timer is None:
            self._await_head()

    def on_headers_complete(self) -> None:
        self._stop_waiting()
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        in_head = self._head_timer is not None
        super().data_received(data)
        if in_head and self._head_timer is not None:  # still in the head after this chunk
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse(431, f"The request line and headers are over {MAX_HEAD_BYTES} bytes")

    def _await_head(self) -> None:
        self._stop_waiting()
        self._head_bytes = 0
        self._head_timer = self.loop.call_later(HEAD_TIMEOUT, self._head_timed_out)

    def _stop_waiting(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        self._refuse(408, f"The request line and headers did not arrive within {HEAD_TIMEOUT:g} s")

    def _refuse(self, status: int, message: str) -> None:
        self._stop_waiting()
        if self.transport.is_closing():
            return
        body = message.encode()
        head = b"HTTP/1.1 %d %s\r\n" % (status, _REASONS[status])
        head += b"content-type: text/plain; charset=utf-8\r\nconnection: close\r\n"
        self.transport.write(head + b"content-length: %d\r\n\r\n" % len(body) + body)
        self.transport.close()
