"""The Syllable conversations face: GET /api/v1/conversations/."""

from typing import Annotated

from fastapi import APIRouter, Depends

from sessionary.api.syllable import error_responses
from sessionary.conversations import service
from sessionary.conversations.schemas import ConversationPage, ConversationProperties
from sessionary.listing import ListParams, envelope, list_params_dependency
from sessionary.tenancy.deps import DB, Reader


def build_router(*, max_limit: int) -> APIRouter:
    """The conversations router; `max_limit` bounds the `limit` list parameter."""
    router = APIRouter(prefix="/api/v1/conversations", tags=["conversations"])
    Params = Annotated[
        ListParams, Depends(list_params_dependency(ConversationProperties, max_limit=max_limit))
    ]

    @router.get(
        "/",
        response_model=ConversationPage,
        response_model_exclude_unset=True,
        operation_id="conversations_list",
        responses=error_responses(400),
    )
    def conversations_list(db: DB, principal: Reader, params: Params) -> ConversationPage:
        """List conversations: search, order, page and project."""
        page = service.list_conversations(db, organization_id=principal.organization_id, params=params)
        return ConversationPage(**envelope(page, params, service.to_read))

    return router
