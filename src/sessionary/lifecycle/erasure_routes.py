"""POST /api/v1/erasure (admin scope): erase a person; their recordings' blobs go after the commit."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request

from sessionary.api.syllable import error_responses
from sessionary.audit.deps import AdminActor
from sessionary.lifecycle import erasure
from sessionary.lifecycle.schemas import ErasureRequest, ErasureResult, ErasureSessions
from sessionary.recordings import blobgc
from sessionary.recordings.routes import blob_store

PATH = "/api/v1/erasure"
router = APIRouter(tags=["lifecycle"])


@router.post(
    PATH,
    response_model=ErasureResult,
    operation_id="erasure_create",
    responses=error_responses(400, 409, 413),
)
def erasure_create(
    actor: AdminActor, body: ErasureRequest, request: Request, background: BackgroundTasks
) -> ErasureResult:
    """Erase a person named by exactly one identifier: every session of theirs (calls and chats naming the
    phone or email in any format, web and app visits of their customers, with the whole merge set of their
    journey contact), and their contacts and customers. Someone unknown is erased too: zeros, and audited.
    More sessions than SESSIONARY_ERASURE_MAX_SESSIONS: 409 (use `sessionary erase`)."""
    settings = request.app.state.settings
    keys: list[str] = []
    erased = erasure.erase_person(
        request.app.state.db,
        actor=actor,
        given=body.model_dump(),
        region=settings.journey_phone_region,
        cap=settings.erasure_max_sessions,
        drained=keys.extend,
    )
    if keys:
        background.add_task(blobgc.drain, request.app.state.db, blob_store(request), keys)
    return to_result(erased)


def to_result(erased: erasure.Erased) -> ErasureResult:
    """The answer for what was erased."""
    return ErasureResult(
        kind=erased.kind,
        sessions=ErasureSessions(**erased.sessions),
        events=erased.events,
        recordings=erased.recordings,
        contacts=erased.contacts,
        customers=erased.customers,
        journey_events=erased.journey_events,
        proof=erased.proof,
    )
