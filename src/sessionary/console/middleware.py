"""Signed cookie sessions for console pages only; the API faces never see a cookie."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from sessionary.config import Settings
from sessionary.console.secret import COOKIE_SECRET
from sessionary.recordings.tokens import secret_cache

COOKIE = "sessionary_console"
# Paths that are not console pages: API faces, their documentation, health checks and static files.
NOT_CONSOLE = ("/api/", "/otel/", "/webhooks/", "/docs", "/redoc", "/openapi.json", "/healthz", "/static/")


def is_console_path(path: str) -> bool:
    """Whether `path` is served by the console (and so has a cookie session)."""
    return not path.startswith(NOT_CONSOLE)


class ConsoleSessionMiddleware:
    """Starlette's SessionMiddleware (itsdangerous-signed, HttpOnly, SameSite=Lax) on console paths.

    The signing secret may live in the database, which opens in the lifespan, so the inner middleware is
    built at the first console request, and built again when a rotation changed the secret (each process
    reads it again every REFRESH_SECONDS: recordings/tokens.py).
    """

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self._sessions: SessionMiddleware | None = None
        self._secret = ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_console_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        cache = secret_cache(scope["app"].state)
        secret = cache.cached(COOKIE_SECRET)
        if secret is None:
            secret = await run_in_threadpool(cache.get, COOKIE_SECRET)
        if self._sessions is None or secret != self._secret:
            self._secret = secret
            self._sessions = SessionMiddleware(
                self.app,
                secret_key=secret,
                session_cookie=COOKIE,
                max_age=self.settings.console_session_hours * 3600,
                same_site="lax",
                https_only=self.settings.console_secure_cookie,
            )
        await self._sessions(scope, receive, send)
