"""Deleting a session from the console: a confirmation page, then the deletion (admin keys only).

The session page offers the button to an admin key only; a read-only key asking for the confirmation or
posting the form gets 403. The deletion is `lifecycle.deletion.delete_session`, as the API's, audited the
same way; the recordings' blobs are deleted after the commit (the transaction is committed when the route
returns: `WriteDB` is function-scoped), and the list says which session went.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.background import BackgroundTask

from sessionary.audit.service import Actor
from sessionary.console.security import CheckedForm, ConsoleViewer, Viewer, csrf_token, current_viewer
from sessionary.console.templating import templates
from sessionary.db import session_scope
from sessionary.errors import Forbidden
from sessionary.lifecycle import deletion
from sessionary.recordings import blobgc
from sessionary.recordings.stores import app_blob_store
from sessionary.sessions import service as sessions
from sessionary.tenancy.deps import DB, WriteDB, client_address

router = APIRouter(include_in_schema=False)
NOTICE = "notice"  # the cookie session's key for a one-time message on the next page


def _admin(viewer: Viewer) -> Viewer:
    if not viewer.admin:
        raise Forbidden("Deleting a session needs an API key with the 'admin' scope")
    return viewer


def admin_viewer(viewer: ConsoleViewer) -> Viewer:
    """The signed-in viewer, whose key must have the admin scope (else 403)."""
    return _admin(viewer)


def admin_viewer_briefly(request: Request) -> Viewer:
    """As `admin_viewer`, checked in a read transaction closed at once (no connection held while the form
    arrives)."""
    with session_scope(request.app.state.db.reader) as db:
        return _admin(current_viewer(request, db))


@router.get("/sessions/{session_id}/delete")
def confirm_page(
    request: Request, viewer: Annotated[Viewer, Depends(admin_viewer)], db: DB, session_id: str
) -> Response:
    session = sessions.get_session(db, organization_id=viewer.organization_id, session_id=session_id)
    context = {"viewer": viewer, "csrf": csrf_token(request), "section": "sessions", "session": session}
    return templates.TemplateResponse(request, "delete_session.html", context)


@router.post("/sessions/{session_id}/delete")
def delete_session(
    request: Request,
    viewer: Annotated[Viewer, Depends(admin_viewer_briefly)],
    _form: CheckedForm,
    db: WriteDB,
    session_id: str,
) -> Response:
    actor = Actor(viewer.organization_id, viewer.key_prefix, viewer.key_id, client_address(request))
    deleted = deletion.delete_session(db, actor=actor, session_id=session_id)
    request.session[NOTICE] = f"Session {session_id} was deleted, with everything made from it."
    store = app_blob_store(request.app.state)
    drain = BackgroundTask(blobgc.drain, request.app.state.db, store, deleted.blob_keys)
    return RedirectResponse("/sessions", status_code=303, background=drain if deleted.blob_keys else None)
