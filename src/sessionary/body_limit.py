"""ASGI middleware bounding every request body in size (413) and in read time (408), as the app reads it.

Nothing is read ahead of the application: a route authenticates first and reads its body only then, so a
request with a bad key is answered without waiting for its body. While the body is read, each `receive`
is bounded by a read deadline with a minimum-rate rule (Apache mod_reqtimeout's `body=30,MinRate=...`): the
body must arrive within `timeout` seconds, extended by one second for every `min_rate` bytes received.
A small body therefore has about `timeout` seconds in all, a large streamed upload as long as it keeps
the minimum rate; a client sending a byte a second is cut off after `timeout` seconds. Past the deadline
the route gets 408, past the size limit 413 (a declared Content-Length over it is refused at once), both
with `Connection: close`, rendered by the app's error handlers in the face's shape. Once the response has
started, a body that breaks a rule reads as a client disconnect instead.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sessionary.api import genesys

CLOSE = {"Connection": "close"}


@dataclass(frozen=True)
class ReadRule:
    """How long a body may take: `timeout` seconds, plus one second per `min_rate` bytes received."""

    timeout: float
    min_rate: float

    def allowance(self, received: int) -> float:
        return self.timeout + received / self.min_rate


class BodyTimeout(Exception):
    """The body did not arrive within its read deadline."""


class BodyTooLarge(Exception):
    """The body is longer than its limit."""


@dataclass
class BodyReader:
    """One request body as it is received: counted against `limit`, timed against `rule`."""

    receive: Receive
    limit: int | None
    rule: ReadRule
    received: int = 0
    done: bool = False
    started: float | None = field(default=None)

    async def next(self) -> Message:
        """The next message; BodyTimeout or BodyTooLarge when the body breaks a rule."""
        if self.done:
            return await self.receive()
        now = time.monotonic()
        if self.started is None:
            self.started = now
        remaining = self.started + self.rule.allowance(self.received) - now
        if remaining <= 0:
            raise BodyTimeout
        try:
            # asyncio's own timeout (the server runs on asyncio): a tenth of the cost of anyio's cancel scope
            async with asyncio.timeout(remaining):
                message = await self.receive()
        except TimeoutError:
            raise BodyTimeout from None
        if message["type"] != "http.request":
            self.done = True
            return message
        self.received += len(message.get("body", b""))
        if self.limit is not None and self.received > self.limit:
            raise BodyTooLarge
        self.done = not message.get("more_body", False)
        return message

    async def read(self) -> bytes:
        """The whole body (a disconnect ends it early)."""
        chunks: list[bytes] = []
        while not self.done:
            message = await self.next()
            chunks.append(message.get("body", b""))
        return b"".join(chunks)


class BodyLimitMiddleware:
    """Bodies sent to a path in `limits` (path -> bytes, None: the route bounds its own stream) may not be
    longer than its limit, to any other path than `default`; every body is read under `rule`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limits: Mapping[str, int | None],
        default: int,
        rule: ReadRule,
        prefixes: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.limits = dict(limits)
        self.prefixes = dict(prefixes or {})  # path prefix -> bytes, for paths holding ids (webhooks)
        self.default = default
        self.rule = rule

    def limit_of(self, path: str) -> int | None:
        if path in self.limits:
            return self.limits[path]
        return next((n for prefix, n in self.prefixes.items() if path.startswith(prefix)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = self.limit_of(path)
        declared = content_length(scope)
        if limit is not None and declared is not None and declared > limit:
            await too_large(path, limit)(scope, receive, send)
            return
        reader = BodyReader(receive, limit, self.rule)
        started = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        async def guarded_receive() -> Message:
            try:
                return await reader.next()
            except (BodyTimeout, BodyTooLarge) as exc:
                if started:
                    return {"type": "http.disconnect"}
                raise refusal(exc, path, limit, self.rule) from None

        await self.app(scope, guarded_receive, guarded_send)


def content_length(scope: Scope) -> int | None:
    """The declared Content-Length (a number of over 18 digits counts as 10**18: past every limit)."""
    for name, value in scope.get("headers", []):
        if name == b"content-length" and value.isdigit():
            return int(value) if len(value) <= 18 else 10**18
    return None


def timeout_message(rule: ReadRule) -> str:
    rate = f"{rule.min_rate:g} bytes/s"
    return (
        f"The request body did not arrive in time: {rule.timeout:g} s, plus 1 s per {rate} received "
        "(SESSIONARY_BODY_READ_TIMEOUT_SECONDS, SESSIONARY_BODY_READ_MIN_RATE)"
    )


def too_large_message(path: str, limit: int) -> str:
    hint = "; send the events in several smaller batches" if path.startswith("/api/v1/ingest/") else ""
    return f"Request body is larger than {limit} bytes{hint}"


def refusal(exc: Exception, path: str, limit: int | None, rule: ReadRule) -> HTTPException:
    """The 408 or 413 a route gets for a body that broke a rule (rendered in its face's shape)."""
    if isinstance(exc, BodyTimeout):
        return HTTPException(408, timeout_message(rule), headers=CLOSE)
    return HTTPException(413, too_large_message(path, limit or 0), headers=CLOSE)


def too_large(path: str, limit: int) -> Response:
    """413 before anything is read: ErrorBody on /api/v2, `{"detail": ...}` elsewhere."""
    message = too_large_message(path, limit)
    if path.startswith(genesys.PREFIX):
        return genesys.render(413, message, headers=CLOSE)
    return JSONResponse({"detail": message}, status_code=413, headers=CLOSE)
