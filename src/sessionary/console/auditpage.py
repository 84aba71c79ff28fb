"""The console's Audit page (admin keys only): the organization's audit trail, newest first, paged,
filtered by action."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sessionary.audit import listing
from sessionary.audit.service import ACTIONS
from sessionary.console.routes import render
from sessionary.console.security import AdminViewer
from sessionary.listing import MAX_PAGE, ListParams, total_pages
from sessionary.tenancy.deps import DB

router = APIRouter(include_in_schema=False)
PER_PAGE = 50


def _page_number(text: str) -> int:
    """The 1-based `page` parameter as a 0-based page (1 for anything but a small positive number)."""
    number = int(text) if text.isascii() and text.isdigit() and len(text) <= 8 else 1
    return min(MAX_PAGE, max(1, number)) - 1


@router.get("/audit")
def audit_page(request: Request, db: DB, viewer: AdminViewer) -> Response:
    action = request.query_params.get("action", "")
    action = action if action in ACTIONS else ""
    params = ListParams(
        page=_page_number(request.query_params.get("page", "1")),
        limit=PER_PAGE,
        search_fields=["action"] if action else [],
        search_field_values=[action] if action else [],
        order_by=None,
        order_by_direction=None,
        fields=[],
        start_datetime=None,
        end_datetime=None,
    )
    page = listing.list_page(db, organization_id=viewer.organization_id, params=params)
    return render(
        request,
        "audit.html",
        viewer,
        section="audit",
        entries=[listing.to_read(row) for row in page.items],
        total=page.total_count,
        page=params.page,
        pages=total_pages(page.total_count, PER_PAGE),
        action=action,
        actions=ACTIONS,
    )
