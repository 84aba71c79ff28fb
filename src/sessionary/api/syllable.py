"""The Syllable face (`/api/v1`): FastAPI-style `{"detail": ...}` errors, declared on every operation."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from sessionary.errors import SessionaryError, error_headers


class ErrorDetail(BaseModel):
    """Every non-422 error of the /api/v1 face."""

    detail: str


class ValidationIssue(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorBody(BaseModel):
    """A 422: one issue per invalid field, `loc` naming where (e.g. body, events, 3, data, source)."""

    detail: list[ValidationIssue]


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error codes, plus 401, 403 and 429 (every operation is authenticated)."""
    described = {
        400: "Malformed parameter (named in detail)",
        401: "Missing or unknown API key",
        403: "The API key lacks the scope this operation needs",
        404: "No such object in this organization",
        408: "The body arrived too slowly (see the README's Limits)",
        409: "The request clashes with the object's state",
        413: "More events or bytes than one request may carry",
        429: "Too many failed authentications from this address (see Retry-After)",
        503: "Too busy to answer now: retry after the Retry-After header's seconds",
    }
    responses: dict[int | str, dict[str, Any]] = {}
    # Any operation may meet a full connection pool (503) or a blocked client address (429).
    for code in sorted({*codes, 401, 403, 429, 503}):
        if code == 422:
            responses[code] = {
                "model": ValidationErrorBody,
                "description": "Invalid input, naming each field",
            }
        else:
            responses[code] = {"model": ErrorDetail, "description": described[code]}
    return responses


async def domain_error(_request: Request, exc: Exception) -> JSONResponse:
    """Render a domain error as `{"detail": message}` with its status."""
    assert isinstance(exc, SessionaryError)
    headers = {"WWW-Authenticate": "APIKey"} if exc.status_code == 401 else error_headers(exc)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)


async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
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
