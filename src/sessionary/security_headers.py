"""ASGI middleware putting security headers on every response: console pages, both API faces, files.

- `Content-Security-Policy`: console pages load scripts, styles, images and media from this site only,
  with no inline script or style (the console has none: charts and bars are SVG painted by classes), may
  not be framed, and post forms only here. Other responses (JSON, static files) get a policy that allows
  nothing, should one be opened as a document. Media (a recording opened in a tab plays in the browser's
  own player) and FastAPI's /docs and /redoc (script from a CDN, and inline) keep `frame-ancestors 'none'`.
- `X-Content-Type-Options: nosniff`; `Referrer-Policy: same-origin` (recording URLs carry a token: no
  other site sees them; `no-referrer` would make browsers send `Origin: null` on the console's own form
  posts, which the Origin check refuses); `X-Frame-Options: DENY` (for browsers without frame-ancestors).
- `Cache-Control: no-store` on every response with data, unless the route chose its own (recording
  streams say `private`); static files are left cacheable.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONSOLE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
OTHER_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"
FRAMING_CSP = "frame-ancestors 'none'"
DOCS = ("/docs", "/redoc")
MEDIA = ("audio/", "video/", "image/", "application/octet-stream")
STATIC = "/static/"
ALWAYS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY"}


def policy(path: str, content_type: str) -> str:
    """The Content-Security-Policy for a response to `path` of this content type."""
    if path.startswith(DOCS) or content_type.startswith(MEDIA):
        return FRAMING_CSP
    return CONSOLE_CSP if content_type.startswith("text/html") else OTHER_CSP


class SecurityHeadersMiddleware:
    """Adds the headers above to each response's start message (the routes' own values win)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ALWAYS.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", policy(path, headers.get("content-type", "")))
                if not path.startswith(STATIC):
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_secured)


def secure_everything(app: Starlette) -> None:
    """Wrap the app's whole middleware stack (the journey ingest fast path included) in the middleware."""
    build = app.build_middleware_stack

    def build_secured() -> ASGIApp:
        return SecurityHeadersMiddleware(build())

    app.build_middleware_stack = build_secured  # type: ignore[method-assign]
