"""ASGI middleware answering 404 for request paths holding control characters.

Starlette's route patterns end in `$`, which in Python also matches before a final newline: without this,
`GET /api/v1/sessions/%0A` would be answered by the session *list*. No path of ours holds a control
character, so such a request is answered 404 before routing.
"""

from __future__ import annotations

import re

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ControlCharacterPathMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _CONTROL.search(scope.get("path", "")):
            genesys = scope["path"].startswith("/api/v2/")  # that face answers in its ErrorBody shape
            body = orjson.dumps(
                {"message": "Not Found", "code": "not.found", "status": 404}
                if genesys
                else {"detail": "Not Found"}
            )
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 404, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)
