"""The Syllable transcript, timeline and latency routes under /api/v1/sessions/."""

from fastapi import APIRouter

from sessionary.api.syllable import error_responses
from sessionary.tenancy.deps import DB, Reader
from sessionary.transcripts import service
from sessionary.transcripts.schemas import (
    InspectLatencyResponse,
    SessionTimelineResponse,
    SessionTranscriptionResponse,
)

router = APIRouter(prefix="/api/v1/sessions", tags=["sessions"])


@router.get(
    "/transcript/{session_id}",
    response_model=SessionTranscriptionResponse,
    operation_id="session_transcript_get_by_id",
    responses=error_responses(404),
)
def session_transcript(db: DB, principal: Reader, session_id: str) -> SessionTranscriptionResponse:
    """The session's transcript turns and tool actions."""
    return service.transcript(db, organization_id=principal.organization_id, session_id=session_id)


@router.get(
    "/timeline/{session_id}",
    response_model=SessionTimelineResponse,
    operation_id="session_timeline_get_by_id",
    responses=error_responses(404),
)
def session_timeline(db: DB, principal: Reader, session_id: str) -> SessionTimelineResponse:
    """The session's transcript, tool and latency events in one time-ordered timeline."""
    return service.timeline(db, organization_id=principal.organization_id, session_id=session_id)


@router.get(
    "/latency/{session_id}",
    response_model=InspectLatencyResponse,
    operation_id="session_latency_get_by_id",
    responses=error_responses(404),
)
def session_latency(db: DB, principal: Reader, session_id: str) -> InspectLatencyResponse:
    """The session's latency measurements and their summary per category and label."""
    return service.latency(db, organization_id=principal.organization_id, session_id=session_id)
