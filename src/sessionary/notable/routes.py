"""The Syllable events face: GET /api/v1/events/."""

from fastapi import APIRouter

from sessionary.api.lists import add_list_route
from sessionary.notable import service
from sessionary.notable.schemas import EventPage, EventProperties


def build_router(*, max_limit: int) -> APIRouter:
    """The events router; `max_limit` bounds the `limit` list parameter."""
    router = APIRouter(prefix="/api/v1/events", tags=["events"])
    add_list_route(
        router,
        properties=EventProperties,
        page_model=EventPage,
        operation_id="events_list",
        description=(
            "List notable events (tool calls, transfers, errors, custom): search, order, page, project."
        ),
        lister=service.list_events,
        to_read=service.to_read,
        max_limit=max_limit,
    )
    return router
