"""The FastAPI application: create_app(settings) mounts every face; the lifespan opens the database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from sessionary import __version__
from sessionary.body_limit import BodyLimitMiddleware
from sessionary.config import Settings
from sessionary.db import open_database
from sessionary.errors import SessionaryError
from sessionary.ingest import routes as ingest_routes
from sessionary.sessions import routes as sessions_routes


def create_app(settings: Settings | None = None) -> FastAPI:
    """A sessionary server for `settings` (default: read from the environment)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.db = open_database(settings.database_url, pool_size=settings.db_pool_size)
        try:
            yield
        finally:
            app.state.db.dispose()

    app = FastAPI(title="sessionary", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    app.include_router(ingest_routes.build_router(max_events=settings.ingest_max_events))
    app.include_router(sessions_routes.build_router(max_limit=settings.list_max_limit))
    app.add_middleware(BodyLimitMiddleware, limits={ingest_routes.EVENTS_PATH: settings.ingest_max_bytes})
    app.add_exception_handler(SessionaryError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)

    @app.get("/healthz", tags=["meta"], include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def create_app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` (each worker process builds its own app and engine)."""
    return create_app(Settings())


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SessionaryError)
    headers = {"WWW-Authenticate": "APIKey"} if exc.status_code == 401 else None
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 shape (loc, msg, type), without echoing the input back (it may be megabytes)."""
    assert isinstance(exc, RequestValidationError)
    detail = [{"loc": _loc(e), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    return JSONResponse({"detail": detail}, status_code=422)


def _loc(error: Any) -> list[str | int]:
    """The error's location; a bad discriminator (event `type`) is named as the field it is."""
    loc = list(error["loc"])
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        loc.append(str(error.get("ctx", {}).get("discriminator", "type")).strip("'"))
    return loc
