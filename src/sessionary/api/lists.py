"""One Syllable list route (GET <prefix>/ with the shared list contract), for every list face."""

# No `from __future__ import annotations`: FastAPI resolves the endpoint's local `Params` at import.
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from sessionary.api.syllable import error_responses
from sessionary.listing import ListParams, Page, envelope, list_params_dependency
from sessionary.tenancy.deps import DB, require_admin, require_read
from sessionary.tenancy.service import Principal

Lister = Callable[..., Page[Any]]  # (db, *, organization_id, params) -> Page


def add_list_route(
    router: APIRouter,
    *,
    properties: type[StrEnum],
    page_model: type[BaseModel],
    operation_id: str,
    description: str,
    lister: Lister,
    to_read: Callable[..., Any],
    max_limit: int,
    scope: Literal["read", "admin"] = "read",
    path: str = "/",
) -> None:
    """GET `path` ("/" after the router's prefix) on `router`: the organization's items as `lister` finds
    them, in the list envelope, for a key with `scope`."""
    Params = Annotated[ListParams, Depends(list_params_dependency(properties, max_limit=max_limit))]
    check = require_admin if scope == "admin" else require_read
    Caller = Annotated[Principal, Depends(check, scope="function")]

    def endpoint(db: DB, principal: Caller, params: Params) -> Any:
        page = lister(db, organization_id=principal.organization_id, params=params)
        return page_model(**envelope(page, params, to_read))

    router.add_api_route(
        path,
        endpoint,
        methods=["GET"],
        response_model=page_model,
        response_model_exclude_unset=True,
        operation_id=operation_id,
        name=operation_id,
        summary=operation_id.replace("_", " ").title(),
        description=description,
        responses=error_responses(400),
    )
