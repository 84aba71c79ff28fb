"""The Syllable-compatible sessions face: GET /api/v1/sessions/ and /api/v1/sessions/{session_id}."""

from fastapi import APIRouter

from sessionary.api.lists import add_list_route
from sessionary.api.syllable import error_responses
from sessionary.sessions import service
from sessionary.sessions.schemas import SessionPage, SessionProperties, SessionRead
from sessionary.tenancy.deps import DB, Reader


def build_router(*, max_limit: int) -> APIRouter:
    """The sessions router; `max_limit` bounds the `limit` list parameter."""
    router = APIRouter(prefix="/api/v1/sessions", tags=["sessions"])
    add_list_route(
        router,
        properties=SessionProperties,
        page_model=SessionPage,
        operation_id="sessions_list",
        description="List sessions: search, order, page and project.",
        lister=service.list_sessions,
        to_read=service.to_read,
        max_limit=max_limit,
    )

    @router.get(
        "/{session_id}",
        response_model=SessionRead,
        operation_id="session_get_by_id",
        responses=error_responses(404),
    )
    def session_get_by_id(db: DB, principal: Reader, session_id: str) -> SessionRead:
        """One session by its id."""
        session = service.get_session(db, organization_id=principal.organization_id, session_id=session_id)
        return service.to_read(session)

    return router
