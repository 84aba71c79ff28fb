"""The audit trail over the admin API: GET /api/v1/audit (admin scope), the shared list contract."""

from fastapi import APIRouter

from sessionary.api.lists import add_list_route
from sessionary.audit import listing
from sessionary.audit.schemas import AuditPage, AuditProperties

PREFIX = "/api/v1/audit"


def build_router(*, max_limit: int) -> APIRouter:
    """The audit router."""
    router = APIRouter(prefix=PREFIX, tags=["audit"])
    add_list_route(
        router,
        properties=AuditProperties,
        page_model=AuditPage,
        operation_id="audit_list",
        description=(
            "List the organization's audit trail, newest first: keys made and revoked, sessions deleted, "
            "erasures, retention changes, exports downloaded, integrations added and removed."
        ),
        lister=listing.list_page,
        to_read=listing.to_read,
        max_limit=max_limit,
        scope="admin",
        path="",
    )
    return router
