"""The Syllable full summary (reference §3): `SessionSummaryResponse`."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SessionSummaryResponse(BaseModel):
    """AI summary information for a given session."""

    summary: str | None = Field(default=None, description="The summary of the session")
    rating: str | None = Field(default=None, description="The rating of the session: Good, Ok or Bad")
