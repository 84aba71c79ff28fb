"""The Syllable session label (reference §4): create body, label, list envelope, properties."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

LabelType = Literal["auto-rating", "human-rating"]
LabelCode = Literal["GOOD", "OK", "BAD", "N/A"]


class SessionLabelProperties(StrEnum):
    timestamp = "timestamp"
    session_id = "session_id"
    type = "type"
    code = "code"
    user_email = "user_email"
    issue_categories = "issue_categories"
    session_id_list = "session_id_list"


class SessionLabelCreate(BaseModel):
    """A new label; `type` is auto-rating or human-rating, `code` GOOD, OK, BAD or N/A."""

    model_config = ConfigDict(extra="forbid")

    session_id: Annotated[int, Field(ge=1, le=2**63 - 1)]
    type: LabelType
    code: LabelCode
    user_email: Annotated[str, Field(min_length=1, max_length=320)]
    comments: Annotated[str, Field(max_length=10_000)] | None = None
    issue_categories: Annotated[list[Annotated[str, Field(max_length=200)]], Field(max_length=50)] | None = (
        None
    )


class SessionLabelRead(BaseModel):
    session_id: int
    type: str
    code: str
    user_email: str
    comments: str | None = None
    issue_categories: list[str] | None = None
    id: int
    timestamp: str


class SessionLabelPage(BaseModel):
    """ListResponse[SessionLabel]."""

    items: list[SessionLabelRead]
    page: int
    page_size: int
    total_pages: int | None = None
    total_count: int | None = None
