"""The erasure API's shapes (POST /api/v1/erasure)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ErasureRequest(BaseModel):
    """Exactly one identifier of the person to erase (each at most 320 characters)."""

    model_config = ConfigDict(extra="forbid")

    phone: str | None = Field(
        default=None,
        description="A phone number in any format; national numbers read in SESSIONARY_JOURNEY_PHONE_REGION.",
    )
    email: str | None = Field(default=None, description="An email address (compared case-insensitively).")
    customer_cookie_id: str | None = Field(
        default=None, description="A journey customer cookie (customerCookieId) of any deployment."
    )
    contact_id: str | None = Field(default=None, description="A journey external contact id (a UUID).")


class ErasureSessions(BaseModel):
    """Sessions erased, per session_type."""

    voice: int
    chat: int
    web: int
    app: int
    other: int


class ErasureResult(BaseModel):
    """What was erased (all zeros when nothing of the person was held), and the audit entry's proof."""

    kind: str = Field(
        description="Which identifier was given: phone, email, customer_cookie_id or contact_id."
    )
    sessions: ErasureSessions
    events: int = Field(description="Stored events of those sessions.")
    recordings: int
    contacts: int = Field(description="Journey contacts (the whole merge set).")
    customers: int = Field(description="Journey customers (cookies).")
    journey_events: int = Field(description="The customers' web and app events.")
    proof: str = Field(
        description="The salted scrypt hash of the normalized identifier kept in the audit entry "
        "(scrypt$n$r$p$salt$hash): `sessionary audit prove` checks an identifier against it."
    )
