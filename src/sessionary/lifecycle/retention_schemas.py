"""The retention API's bodies (`/api/v1/retention`): an organization's periods, read and set."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from sessionary.lifecycle.policy import MAX_DAYS, Policy
from sessionary.types import ZTimestamp

Days = Annotated[StrictInt, Field(ge=1, le=MAX_DAYS)]


class RetentionUpdate(BaseModel):
    """The organization's periods in days, both given (null: kept forever). Whole sessions older than
    `retention_days` are deleted; only the content (transcript text, tool payloads, summaries,
    recordings) of sessions older than `content_retention_days` is removed, their facts and figures stay."""

    model_config = ConfigDict(extra="forbid")

    retention_days: Days | None
    content_retention_days: Days | None


class RetentionRead(BaseModel):
    """The organization's periods (null: kept forever); `updated_at` null when never set."""

    retention_days: int | None
    content_retention_days: int | None
    updated_at: ZTimestamp | None

    @classmethod
    def of(cls, policy: Policy) -> RetentionRead:
        return cls(
            retention_days=policy.retention_days,
            content_retention_days=policy.content_retention_days,
            updated_at=policy.updated_at,
        )
