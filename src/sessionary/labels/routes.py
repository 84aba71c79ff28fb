"""The Syllable session labels face: POST/GET /api/v1/session_labels/, GET /api/v1/session_labels/{id}."""

from typing import Annotated

from fastapi import APIRouter, Depends

from sessionary.api.bodies import json_body, request_body_openapi
from sessionary.api.lists import add_list_route
from sessionary.api.syllable import error_responses
from sessionary.labels import service
from sessionary.labels.schemas import (
    SessionLabelCreate,
    SessionLabelPage,
    SessionLabelProperties,
    SessionLabelRead,
)
from sessionary.tenancy.deps import DB, Reader, WriteDB

Body = Annotated[SessionLabelCreate, Depends(json_body(SessionLabelCreate))]


def build_router(*, max_limit: int) -> APIRouter:
    """The labels router; `max_limit` bounds the `limit` list parameter."""
    router = APIRouter(prefix="/api/v1/session_labels", tags=["session_labels"])

    @router.post(
        "/",
        response_model=SessionLabelRead,
        operation_id="session_label_create",
        responses=error_responses(404, 422),
        openapi_extra=request_body_openapi(SessionLabelCreate),
    )
    def session_label_create(db: WriteDB, principal: Reader, body: Body) -> SessionLabelRead:
        """Create a new label (a key with the read scope may label its organization's sessions; only
        sessionary itself and keys with the admin scope write `auto-rating` labels: 403 otherwise)."""
        label = service.create_label(
            db, organization_id=principal.organization_id, body=body, trusted=principal.allows("admin")
        )
        return service.to_read(label)

    add_list_route(
        router,
        properties=SessionLabelProperties,
        page_model=SessionLabelPage,
        operation_id="session_labels_list",
        description="List labels: search (session_id_list: comma-separated ids), order, page and project.",
        lister=service.list_labels,
        to_read=service.to_read,
        max_limit=max_limit,
    )

    @router.get(
        "/{session_label_id}",
        response_model=SessionLabelRead,
        operation_id="session_label_get_by_id",
        responses=error_responses(404),
    )
    def session_label_get_by_id(db: DB, principal: Reader, session_label_id: int) -> SessionLabelRead:
        """One label by its id."""
        label = service.get_label(db, organization_id=principal.organization_id, label_id=session_label_id)
        return service.to_read(label)

    return router
