"""Attach the console to the app: its pages, static files, cookie sessions and error pages."""

from __future__ import annotations

from typing import cast

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from sessionary.config import Settings
from sessionary.console import auditpage, deleting, errors, routes
from sessionary.console import settings as settings_pages
from sessionary.console.middleware import ConsoleSessionMiddleware
from sessionary.console.templating import HERE
from sessionary.errors import SessionaryError


def mount(app: FastAPI, settings: Settings) -> None:
    """Serve the console at `/` (after the API faces' error handlers are registered)."""
    app.include_router(routes.router)
    app.include_router(deleting.router)
    app.include_router(settings_pages.router)
    app.include_router(auditpage.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_middleware(ConsoleSessionMiddleware, settings=settings)
    app.add_exception_handler(errors.SignInRequired, errors.sign_in_redirect)
    api_handler = cast(errors.Handler, app.exception_handlers[SessionaryError])
    app.add_exception_handler(SessionaryError, errors.page_or(api_handler))
