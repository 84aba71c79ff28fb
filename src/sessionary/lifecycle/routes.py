"""The data lifecycle's /api/v1 face: DELETE /api/v1/sessions/{session_id} (admin scope).

The rows go in the request's transaction; the session's recordings' blobs are deleted right after the
commit (a background task: the transaction is committed when the route returns, as `WriteDB` is a
function-scoped dependency), and what fails stays queued for the purge worker.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.background import BackgroundTask

from sessionary.api.syllable import error_responses
from sessionary.audit.deps import AdminActor
from sessionary.lifecycle import deletion
from sessionary.recordings import blobgc
from sessionary.recordings.routes import Blobs
from sessionary.tenancy.deps import WriteDB

router = APIRouter(tags=["sessions"])


@router.delete(
    "/api/v1/sessions/{session_id}",
    status_code=204,
    response_class=Response,
    operation_id="session_delete",
    responses=error_responses(404),
)
def session_delete(
    request: Request, actor: AdminActor, store: Blobs, db: WriteDB, session_id: str
) -> Response:
    """Delete a session and everything made from it (events, search entries, notable events, labels,
    summaries, journey rows, recordings, its share of the metrics); its conversation is derived again.
    Its id is never given to another session."""
    deleted = deletion.delete_session(db, actor=actor, session_id=session_id)
    drain = BackgroundTask(blobgc.drain, request.app.state.db, store, deleted.blob_keys)
    return Response(status_code=204, background=drain if deleted.blob_keys else None)
