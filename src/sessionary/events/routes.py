"""The Syllable events face: GET /api/v1/events/."""

from typing import Annotated

from fastapi import APIRouter, Depends

from sessionary.api.syllable import error_responses
from sessionary.events import service
from sessionary.events.schemas import EventPage, EventProperties
from sessionary.listing import ListParams, envelope, list_params_dependency
from sessionary.tenancy.deps import DB, Reader


def build_router(*, max_limit: int) -> APIRouter:
    """The events router; `max_limit` bounds the `limit` list parameter."""
    router = APIRouter(prefix="/api/v1/events", tags=["events"])
    Params = Annotated[ListParams, Depends(list_params_dependency(EventProperties, max_limit=max_limit))]

    @router.get(
        "/",
        response_model=EventPage,
        response_model_exclude_unset=True,
        operation_id="events_list",
        responses=error_responses(400),
    )
    def events_list(db: DB, principal: Reader, params: Params) -> EventPage:
        """List notable events (tool calls, transfers, errors, custom): search, order, page, project."""
        page = service.list_events(db, organization_id=principal.organization_id, params=params)
        return EventPage(**envelope(page, params, service.to_read))

    return router
