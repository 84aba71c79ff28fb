"""CORS for the browser-facing ingest endpoints only: any origin may post events (the deployment's
allowed domains are the real check); the rest of the API sends no CORS headers."""

from __future__ import annotations

import re

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send


class PathCORSMiddleware:
    """Starlette's CORSMiddleware, applied to request paths matching `pattern`."""

    def __init__(self, app: ASGIApp, *, pattern: str) -> None:
        self.app = app
        self.pattern = re.compile(pattern)
        self.cors = CORSMiddleware(
            app, allow_origins=["*"], allow_methods=["POST", "OPTIONS"], allow_headers=["*"], max_age=600
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.pattern.match(scope.get("path", "")):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
