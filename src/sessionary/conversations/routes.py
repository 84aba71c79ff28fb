"""The Syllable conversations face: GET /api/v1/conversations/."""

from fastapi import APIRouter

from sessionary.api.lists import add_list_route
from sessionary.conversations import service
from sessionary.conversations.schemas import ConversationPage, ConversationProperties


def build_router(*, max_limit: int) -> APIRouter:
    """The conversations router; `max_limit` bounds the `limit` list parameter."""
    router = APIRouter(prefix="/api/v1/conversations", tags=["conversations"])
    add_list_route(
        router,
        properties=ConversationProperties,
        page_model=ConversationPage,
        operation_id="conversations_list",
        description="List conversations: search, order, page and project.",
        lister=service.list_conversations,
        to_read=service.to_read,
        max_limit=max_limit,
    )
    return router
