"""The admin API's keys (`/api/v1/keys`): the create body, a key as listed, a new key, the list envelope.

No schema but `KeyCreated` carries a secret, and it only once: the answer to the POST that made it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sessionary.types import UTCTimestamp, ZTimestamp

Scope = Literal["ingest", "read", "admin"]
KeyStatus = Literal["active", "expired", "revoked"]


class KeyCreate(BaseModel):
    """A new key: one or more scopes, and optionally when it stops working (at most ten years ahead)."""

    model_config = ConfigDict(extra="forbid")

    scopes: list[Scope] = Field(min_length=1, max_length=3, description="ingest, read and/or admin")
    expires_at: UTCTimestamp | None = Field(
        default=None, description="When the key stops authenticating (naive: UTC); none: never"
    )


class KeyProperties(StrEnum):
    prefix = "prefix"
    scopes = "scopes"
    created_at = "created_at"
    last_used_at = "last_used_at"
    expires_at = "expires_at"
    revoked_at = "revoked_at"


class KeyRead(BaseModel):
    """A key as listed: its clear prefix, never the key nor its hash."""

    id: int
    prefix: str
    scopes: list[str]
    status: KeyStatus
    created_at: ZTimestamp
    last_used_at: ZTimestamp | None = None
    expires_at: ZTimestamp | None = None
    revoked_at: ZTimestamp | None = None


class KeyCreated(BaseModel):
    """A new key, with the secret itself as `key`: shown only here, stored only as a hash."""

    id: int
    key: str
    prefix: str
    scopes: list[str]
    created_at: ZTimestamp
    expires_at: ZTimestamp | None = None


class KeyPage(BaseModel):
    """ListResponse[ApiKey]."""

    items: list[KeyRead]
    page: int
    page_size: int
    total_pages: int | None = None
    total_count: int | None = None
