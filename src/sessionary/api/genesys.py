"""The Genesys face (`/api/v2`): every error as an `ErrorBody` (camelCase, null keys dropped).

Exception handlers are app-wide in FastAPI, so `per_face` picks the renderer by path: /api/v2 gets an
ErrorBody, everything else keeps the Syllable shape.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from sessionary.errors import SessionaryError, Unauthorized, error_headers

PREFIX = "/api/v2/"
Handler = Callable[[Request, Any], Awaitable[Response]]
CODES = {
    400: "bad.request",
    401: "authentication.required",
    403: "not.authorized",
    404: "not.found",
    405: "method.not.allowed",
    409: "conflict",
    413: "request.entity.too.large",
    415: "unsupported.media.type",
    422: "invalid.value",
    429: "too.many.requests",
}


class _Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)


class Detail(_Body):
    error_code: str | None = None
    field_name: str | None = None
    entity_id: str | None = None
    entity_name: str | None = None


class ErrorBody(_Body):
    """Every error of the /api/v2 face."""

    message: str
    code: str
    status: int
    entity_id: str | None = None
    entity_name: str | None = None
    message_with_params: str | None = None
    message_params: dict[str, str] | None = None
    context_id: str | None = None
    details: list[Detail] | None = None
    errors: list[ErrorBody] | None = None


def error_responses(*codes: int, authenticated: bool = True) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these codes (plus 401/403/429 for authenticated operations)."""
    wanted = {*codes, 401, 403, 429} if authenticated else set(codes)
    return {code: {"model": ErrorBody, "description": CODES[code]} for code in sorted(wanted)}


def render(
    status: int, message: str, details: list[Detail] | None = None, headers: Any = None
) -> JSONResponse:
    body = ErrorBody(
        message=message,
        code=CODES.get(status, "error"),
        status=status,
        context_id=str(uuid.uuid4()),
        details=details,
    )
    return JSONResponse(body.model_dump(mode="json", exclude_none=True), status_code=status, headers=headers)


def domain_error_response(exc: SessionaryError) -> JSONResponse:
    message = exc.detail
    if isinstance(exc, Unauthorized):
        message = f"{message} (send 'Authorization: Bearer <API key>')"
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else error_headers(exc)
    return render(exc.status_code, message, headers=headers)


def invalid_fields(errors: Sequence[Mapping[str, Any]]) -> JSONResponse:
    """400 naming each invalid field (`body.page.url`, `query.pageSize`)."""
    details = []
    for error in errors:
        where = ".".join(str(part) for part in error["loc"])
        details.append(Detail(error_code=error["type"], field_name=where, entity_name=error["msg"]))
    first = details[0] if details else None
    message = f"{first.field_name}: {first.entity_name}" if first else "Invalid request"
    return render(400, message, details)


def http_error_response(exc: StarletteHTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else "Invalid request"
    if isinstance(exc.detail, list) and exc.detail:  # refuse_nul's 422
        first = exc.detail[0]
        field = ".".join(str(p) for p in first.get("loc", []))
        return render(
            400, f"{field}: {first.get('msg')}", [Detail(error_code=first.get("type"), field_name=field)]
        )
    return render(exc.status_code, detail, headers=getattr(exc, "headers", None))


async def domain_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SessionaryError)
    return domain_error_response(exc)


async def validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return invalid_fields(exc.errors())


async def http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return http_error_response(exc)


def per_face(other: Handler, genesys: Handler) -> Handler:
    """An exception handler answering /api/v2 requests with `genesys`, the rest with `other`."""

    async def handler(request: Request, exc: Any) -> Response:
        face = genesys if request.url.path.startswith(PREFIX) else other
        return await face(request, exc)

    return handler
