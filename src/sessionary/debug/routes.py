"""The Syllable session debug face: /api/v1/session_debug/..."""

from fastapi import APIRouter

from sessionary.api.syllable import error_responses
from sessionary.debug import service
from sessionary.debug.schemas import SessionData, ToolResultData
from sessionary.tenancy.deps import DB, Reader

router = APIRouter(prefix="/api/v1/session_debug", tags=["session_debug"])


@router.get(
    "/sid/{channel_manager_service}/{channel_manager_sid}",
    response_model=SessionData,
    operation_id="get_session_data_by_sid",
    responses=error_responses(404),
)
def get_session_data_by_sid(
    db: DB, principal: Reader, channel_manager_service: str, channel_manager_sid: str
) -> SessionData:
    """The session's dialog, found by the producer's ids."""
    return service.by_sid(
        db,
        organization_id=principal.organization_id,
        service=channel_manager_service,
        sid=channel_manager_sid,
    )


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
    "/tool_result/{session_id}/{tool_call_id}",
    response_model=ToolResultData,
    operation_id="get_session_tool_call_result_by_id",
    responses=error_responses(404),
)
def get_session_tool_call_result_by_id(
    db: DB, principal: Reader, session_id: int, tool_call_id: str
) -> ToolResultData:
    """The result of one tool call."""
    return service.tool_result(
        db, organization_id=principal.organization_id, session_id=session_id, tool_call_id=tool_call_id
    )
