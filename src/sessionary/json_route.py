"""An APIRoute whose requests parse JSON bodies with orjson (several times faster on large batches)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute

_NUL_ESCAPE = b"\\u0000"


class OrjsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            # orjson.JSONDecodeError subclasses json.JSONDecodeError, so FastAPI still answers 422.
            value = orjson.loads(body)
            if _NUL_ESCAPE in body:
                _refuse_nul(value)
            self._json = value
        return self._json


def _refuse_nul(value: Any) -> None:
    """422 naming the first string (or key) holding U+0000: PostgreSQL cannot store it in text or JSONB."""
    path = _nul_path(value, ("body",))
    if path is not None:
        error = {
            "loc": list(path),
            "msg": "must not contain the NUL character (\\u0000)",
            "type": "string_nul",
        }
        raise HTTPException(status_code=422, detail=[error])


def _nul_path(value: Any, path: tuple[str | int, ...]) -> tuple[str | int, ...] | None:
    if isinstance(value, str):
        return path if "\x00" in value else None
    items: Any = ()
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    for key, item in items:
        if isinstance(key, str) and "\x00" in key:
            return (*path, key)
        found = _nul_path(item, (*path, key))
        if found is not None:
            return found
    return None


class OrjsonRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            return await handler(OrjsonRequest(request.scope, request.receive))

        return route_handler
