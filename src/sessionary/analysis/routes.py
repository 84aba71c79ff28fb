"""The Syllable full summary, GET /api/v1/sessions/full-summary/{session_id}, and its native recompute."""

from fastapi import APIRouter, Request

from sessionary.analysis import service
from sessionary.analysis.schemas import SessionSummaryResponse
from sessionary.api.syllable import error_responses
from sessionary.tenancy.deps import BriefReader

router = APIRouter(prefix="/api/v1/sessions", tags=["sessions"])


@router.get(
    "/full-summary/{session_id}",
    response_model=SessionSummaryResponse,
    operation_id="session_full_summary_get_by_id",
    responses=error_responses(404),
)
def session_full_summary(request: Request, principal: BriefReader, session_id: str) -> SessionSummaryResponse:
    """The session's summary and rating (Good, Ok, Bad); computed now if the session ended and it was not
    yet; nulls while the session has not ended."""
    return service.full_summary(
        request.app.state.db,
        request.app.state.analyzer,
        organization_id=principal.organization_id,
        session_id=session_id,
    )


@router.post(
    "/full-summary/{session_id}/recompute",
    response_model=SessionSummaryResponse,
    operation_id="session_full_summary_recompute",
    responses=error_responses(404, 409),
)
def session_full_summary_recompute(
    request: Request, principal: BriefReader, session_id: str
) -> SessionSummaryResponse:
    """Rate and summarize the ended session again, now (409 while it has not ended)."""
    return service.full_summary(
        request.app.state.db,
        request.app.state.analyzer,
        organization_id=principal.organization_id,
        session_id=session_id,
        recompute=True,
    )
