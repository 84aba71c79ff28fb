"""One Syllable list route (GET <prefix>/ with the shared list contract), for every list face."""

# No `from __future__ import annotations`: FastAPI resolves the endpoint's local `Params` at import.
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from sessionary.api.syllable import error_responses
from sessionary.listing import ListParams, Page, envelope, list_params_dependency
from sessionary.tenancy.deps import DB, Reader

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
) -> None:
    """GET "/" on `router`: the organization's items as `lister` finds them, in the list envelope."""
    Params = Annotated[ListParams, Depends(list_params_dependency(properties, max_limit=max_limit))]

    def endpoint(db: DB, principal: Reader, params: Params) -> Any:
        page = lister(db, organization_id=principal.organization_id, params=params)
        return page_model(**envelope(page, params, to_read))

    router.add_api_route(
        "/",
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
