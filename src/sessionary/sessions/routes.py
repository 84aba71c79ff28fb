"""The Syllable-compatible sessions face: GET /api/v1/sessions/ and /api/v1/sessions/{session_id}."""

from typing import Annotated

from fastapi import APIRouter, Depends

from sessionary.api.syllable import error_responses
from sessionary.listing import ListParams, envelope, list_params_dependency
from sessionary.sessions import service
from sessionary.sessions.schemas import SessionPage, SessionProperties, SessionRead
from sessionary.tenancy.deps import DB, Reader


def build_router(*, max_limit: int) -> APIRouter:
    """The sessions router; `max_limit` bounds the `limit` list parameter."""
    router = APIRouter(prefix="/api/v1/sessions", tags=["sessions"])
    Params = Annotated[ListParams, Depends(list_params_dependency(SessionProperties, max_limit=max_limit))]

    @router.get(
        "/",
        response_model=SessionPage,
        response_model_exclude_unset=True,
        operation_id="sessions_list",
        responses=error_responses(400),
    )
    def sessions_list(db: DB, principal: Reader, params: Params) -> SessionPage:
        """List sessions: search, order, page and project."""
        page = service.list_sessions(db, organization_id=principal.organization_id, params=params)
        return SessionPage(**envelope(page, params, service.to_read))

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
