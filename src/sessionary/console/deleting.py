"""Deleting a session from the console: a confirmation page, then the deletion (admin keys only).

The session page offers the button to an admin key only; a read-only key asking for the confirmation or
posting the form gets 403. The deletion is `lifecycle.deletion.delete_session`, as the API's, audited the
same way; the recordings' blobs are deleted after the commit (the transaction is committed when the route
returns: `WriteDB` is function-scoped), and the list says which session went.
"""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.background import BackgroundTask

from sessionary.console.security import AdminViewer, BriefAdminViewer, CheckedForm, actor_of, csrf_token
from sessionary.console.templating import templates
from sessionary.lifecycle import deletion
from sessionary.recordings import blobgc
from sessionary.recordings.stores import app_blob_store
from sessionary.sessions import service as sessions
from sessionary.tenancy.deps import DB, WriteDB

router = APIRouter(include_in_schema=False)
NOTICE = "notice"  # the cookie session's key for a one-time message on the next page


@router.get("/sessions/{session_id}/delete")
def confirm_page(request: Request, viewer: AdminViewer, db: DB, session_id: str) -> Response:
    session = sessions.get_session(db, organization_id=viewer.organization_id, session_id=session_id)
    context = {"viewer": viewer, "csrf": csrf_token(request), "section": "sessions", "session": session}
    return templates.TemplateResponse(request, "delete_session.html", context)


@router.post("/sessions/{session_id}/delete")
def delete_session(
    request: Request,
    viewer: BriefAdminViewer,
    _form: CheckedForm,
    db: WriteDB,
    session_id: str,
) -> Response:
    deleted = deletion.delete_session(db, actor=actor_of(request, viewer), session_id=session_id)
    request.session[NOTICE] = f"Session {session_id} was deleted, with everything made from it."
    store = app_blob_store(request.app.state)
    drain = BackgroundTask(blobgc.drain, request.app.state.db, store, deleted.blob_keys)
    return RedirectResponse("/sessions", status_code=303, background=drain if deleted.blob_keys else None)
