"""The admin API's integrations (`/api/v1/integrations`): the create body, an integration, the list envelope.

No schema carries the provider's secret out: it goes in once, in `IntegrationCreate`, and is stored sealed.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from sessionary.integrations import checks
from sessionary.integrations.providers import Provider
from sessionary.types import ZTimestamp


def _valid(problem_of: checks.ProblemFinder) -> AfterValidator:
    """A validator raising what `problem_of` finds (the message never quotes the value)."""

    def check(value: str) -> str:
        problem = problem_of(value)
        if problem:
            raise ValueError(problem)
        return value

    return AfterValidator(check)


Secret = Annotated[
    str, Field(min_length=1, max_length=checks.SECRET_MAX_CHARS), _valid(checks.secret_problem)
]
Name = Annotated[str, Field(min_length=1, max_length=checks.NAME_MAX_CHARS), _valid(checks.name_problem)]


class IntegrationCreate(BaseModel):
    """Connect a voice platform: `secret` is the Twilio auth token, the Vapi server secret (sent by Vapi in
    `x-vapi-secret`) or the Retell API key (its webhook signing key); it is stored sealed, never shown."""

    model_config = ConfigDict(extra="forbid")

    provider: Provider
    secret: Secret
    name: Name | None = None


class IntegrationProperties(StrEnum):
    provider = "provider"
    name = "name"
    token_prefix = "token_prefix"
    created_at = "created_at"


class IntegrationRead(BaseModel):
    """An integration as listed: its webhook URL is not (only the token's hash is stored)."""

    id: int
    provider: str
    name: str | None = None
    token_prefix: str
    created_at: ZTimestamp


class IntegrationCreated(IntegrationRead):
    """A new integration, with the one URL to paste into the provider's settings (shown only here)."""

    webhook_url: str


class IntegrationPage(BaseModel):
    """ListResponse[Integration]."""

    items: list[IntegrationRead]
    page: int
    page_size: int
    total_pages: int | None = None
    total_count: int | None = None
