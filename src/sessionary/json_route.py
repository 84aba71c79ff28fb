"""An APIRoute whose requests parse JSON bodies with orjson (several times faster on large bodies)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute

from sessionary.api.bodies import refuse_nul

_NUL_ESCAPE = b"\\u0000"


class OrjsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            # orjson.JSONDecodeError subclasses json.JSONDecodeError, so FastAPI still answers 422.
            value = orjson.loads(body)
            if _NUL_ESCAPE in body:
                refuse_nul(value)
            self._json = value
        return self._json


class OrjsonRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            return await handler(OrjsonRequest(request.scope, request.receive))

        return route_handler
