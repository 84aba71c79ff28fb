"""The search response: sessions, best first, each with its best matching turns and their snippets."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from sessionary.types import ZTimestamp


class SearchMatch(BaseModel):
    """A transcript turn that matches the query."""

    timestamp: ZTimestamp
    source: Literal["user", "agent"] | None = None
    turn_index: int = Field(description="0-based position among the session's turns, as in its timeline")
    snippet: str = Field(
        description="Up to about 32 words of the turn around the match: HTML, the text escaped and every "
        "matching word or phrase wrapped in <mark>...</mark>; safe to insert into a page as is"
    )


class SearchHit(BaseModel):
    """A session whose transcript matches, with a compact set of its fields."""

    session_id: str
    timestamp: ZTimestamp
    conversation_id: str | None = None
    agent_name: str | None = None
    channel_manager_type: str | None = None
    session_type: str = Field(description="voice | chat | web | app | other")
    duration: float | None = Field(default=None, description="Seconds")
    score: float = Field(description="Relevance, higher is better; comparable within one response only")
    match_count: int = Field(description="How many of the session's turns match")
    best_match: SearchMatch = Field(description="Its best matching turn")


class SearchPage(BaseModel):
    """ListResponse[SearchHit]: total_count is the number of matching sessions."""

    items: list[SearchHit]
    page: int
    page_size: int
    total_pages: int | None = None
    total_count: int | None = None
    total_count_exact: bool = Field(
        description="False when the query reached the most matching turns one query scores "
        "(SESSIONARY_SEARCH_MAX_TURNS): the hits and total_count then come from the most recently stored "
        "matching turns, and there may be more; narrow the words or the time window to see them"
    )
