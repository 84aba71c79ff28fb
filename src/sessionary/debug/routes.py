"""The Syllable session debug face: /api/v1/session_debug/..."""

from fastapi import APIRouter, Request

from sessionary.api.syllable import error_responses
from sessionary.debug import service
from sessionary.debug.pathids import after_session_id, segments_after
from sessionary.debug.schemas import SessionData, ToolResultData
from sessionary.tenancy.deps import DB, Reader

PREFIX = "/api/v1/session_debug"
router = APIRouter(prefix=PREFIX, tags=["session_debug"])

# Producer ids are read from the raw path, one percent-decoded segment each (debug.pathids): `:path` lets
# an id whose `/` was sent as %2F (decoded before routing) reach the route; OpenAPI shows plain parameters.


@router.get(
    "/sid/{channel_manager_service}/{channel_manager_sid:path}",
    response_model=SessionData,
    operation_id="get_session_data_by_sid",
    responses=error_responses(404, 409),
)
def get_session_data_by_sid(
    request: Request, db: DB, principal: Reader, channel_manager_service: str, channel_manager_sid: str
) -> SessionData:
    """The session's dialog, found by the producer's ids (percent-encode a `/` inside an id as %2F)."""
    decoded = f"{channel_manager_service}/{channel_manager_sid}"
    segments = segments_after(request, f"{PREFIX}/sid/", decoded)
    return service.by_sid_segments(db, organization_id=principal.organization_id, segments=segments)


@router.get(
    "/session_id/{session_id}",
    response_model=SessionData,
    operation_id="get_session_data_by_session_id",
    responses=error_responses(404),
)
def get_session_data_by_session_id(db: DB, principal: Reader, session_id: int) -> SessionData:
    """The session's dialog: each turn with the tool calls it led to."""
    return service.by_session_id(db, organization_id=principal.organization_id, session_id=session_id)


@router.get(
    "/tool_result/{session_id}/{tool_call_id:path}",
    response_model=ToolResultData,
    operation_id="get_session_tool_call_result_by_id",
    responses=error_responses(404),
)
def get_session_tool_call_result_by_id(
    request: Request, db: DB, principal: Reader, session_id: int, tool_call_id: str
) -> ToolResultData:
    """The result of one tool call (the id may hold `/`, sent as %2F or as it is)."""
    segments = segments_after(request, f"{PREFIX}/tool_result/", f"{session_id}/{tool_call_id}")
    call_id = after_session_id(segments, session_id)
    return service.tool_result(
        db, organization_id=principal.organization_id, session_id=session_id, tool_call_id=call_id
    )
