"""The console's Settings page (admin keys only): the organization's API keys (made, the secret shown
once; revoked after a confirmation), its retention periods, and its integrations (never their secrets)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from sessionary.console import settingsview
from sessionary.console.routes import render
from sessionary.console.security import AdminViewer, BriefAdminViewer, CheckedForm, Viewer, actor_of
from sessionary.errors import SessionaryError
from sessionary.keys import service as keys
from sessionary.lifecycle import policy
from sessionary.tenancy.deps import DB, WriteDB

router = APIRouter(include_in_schema=False)


def settings_page(
    request: Request, db: DB, viewer: Viewer, *, status_code: int = 200, **context: Any
) -> Response:
    """The Settings page, with `context` (a new key, a form's errors and values) on top."""
    view = settingsview.view(db, organization_id=viewer.organization_id, sealers=request.app.state.sealers)
    context.setdefault("key_errors", [])
    context.setdefault("retention_errors", [])
    page = render(
        request, "settings.html", viewer, status_code=status_code, section="settings", view=view, **context
    )
    page.headers["Cache-Control"] = "no-store"  # a new key's secret may be on it
    return page


@router.get("/settings")
def settings(request: Request, db: DB, viewer: AdminViewer) -> Response:
    return settings_page(request, db, viewer)


@router.post("/settings/keys")
def create_key(request: Request, viewer: BriefAdminViewer, form: CheckedForm, db: WriteDB) -> Response:
    try:
        body = settingsview.key_body(form)
        row, clear = keys.create(
            db, actor=actor_of(request, viewer), scopes=body.scopes, expires_at=body.expires_at
        )
    except ValidationError as exc:
        return settings_page(request, db, viewer, status_code=422, key_errors=settingsview.messages(exc))
    except SessionaryError as exc:
        return settings_page(request, db, viewer, status_code=exc.status_code, key_errors=[exc.detail])
    return settings_page(request, db, viewer, new_key=keys.to_created(row, clear))


@router.get("/settings/keys/{key_id}/revoke")
def confirm_revoke(request: Request, db: DB, viewer: AdminViewer, key_id: int) -> Response:
    row = keys.find(db, organization_id=viewer.organization_id, key_id=key_id)
    own = row.id == viewer.key_id
    return render(request, "revoke_key.html", viewer, section="settings", key=keys.to_read(row), own=own)


@router.post("/settings/keys/{key_id}/revoke")
def revoke_key(
    request: Request, viewer: BriefAdminViewer, _form: CheckedForm, db: WriteDB, key_id: int
) -> Response:
    try:
        keys.revoke(db, actor=actor_of(request, viewer), key_id=key_id)
    except SessionaryError as exc:
        if exc.status_code == 404:
            raise
        return settings_page(request, db, viewer, status_code=exc.status_code, key_errors=[exc.detail])
    return RedirectResponse("/settings#keys", status_code=303)


@router.post("/settings/retention")
def set_retention(request: Request, viewer: BriefAdminViewer, form: CheckedForm, db: WriteDB) -> Response:
    values = {name: str(form.get(name) or "").strip() for name in settingsview.RETENTION_FIELDS}
    try:
        days = settingsview.retention_days(values)
        policy.set_policy(db, actor=actor_of(request, viewer), **days)
    except SessionaryError as exc:
        return settings_page(
            request, db, viewer, status_code=422, retention_errors=[exc.detail], retention_form=values
        )
    return RedirectResponse("/settings#retention", status_code=303)
