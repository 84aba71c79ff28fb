"""Integrations: connect a provider (a webhook URL with an unguessable token), list, remove, look up.

The clear token appears once, in the URL `connect` returns; only its SHA-256 is stored (like API keys).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session as DBSession

from sessionary.db_types import utcnow
from sessionary.errors import InvalidRequest, NotFound
from sessionary.integrations.models import Integration
from sessionary.integrations.providers import PROVIDERS
from sessionary.integrations.secrets import Sealer

TOKEN_PREFIX = "wh_"
WEBHOOK_PATH = "/webhooks/"
SECRET_MAX_CHARS = 512
NAME_MAX_CHARS = 200


@dataclass(frozen=True)
class Connected:
    """A new integration and the one URL to paste into the provider's settings (shown once)."""

    integration: Integration
    webhook_url: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def webhook_url(public_url: str, token: str) -> str:
    """The URL a provider posts to: SESSIONARY_PUBLIC_URL + /webhooks/<token>."""
    return public_url.rstrip("/") + WEBHOOK_PATH + token


def _check_secret(secret: str) -> str:
    if not secret or len(secret) > SECRET_MAX_CHARS:
        raise InvalidRequest(f"secret: must be 1 to {SECRET_MAX_CHARS} characters")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in secret) or secret != secret.strip():
        raise InvalidRequest("secret: must hold no control characters nor surrounding spaces")
    return secret


def connect(
    db: DBSession,
    sealer: Sealer,
    *,
    organization_id: int,
    provider: str,
    secret: str,
    public_url: str,
    name: str | None = None,
) -> Connected:
    """Connect `provider` for the organization; the secret is stored sealed."""
    if provider not in PROVIDERS:
        raise InvalidRequest(f"provider: must be one of {', '.join(PROVIDERS)}; got {provider!r}")
    if name is not None and len(name) > NAME_MAX_CHARS:
        raise InvalidRequest(f"name: at most {NAME_MAX_CHARS} characters")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = Integration(
        organization_id=organization_id,
        provider=provider,
        name=name,
        token_hash=hash_token(token),
        token_prefix=token[:10],
        sealed_secret=sealer.seal(_check_secret(secret)),
        created_at=utcnow(),
    )
    db.add(row)
    db.flush()
    return Connected(row, webhook_url(public_url, token))


def find_active(db: DBSession, *, token: str) -> Integration | None:
    """The integration a webhook URL's token names, unless it was removed."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    row = db.scalar(select(Integration).where(Integration.token_hash == hash_token(token)))
    return None if row is None or row.revoked_at is not None else row


def list_integrations(db: DBSession, *, organization_id: int) -> list[Integration]:
    """The organization's integrations that were not removed, oldest first."""
    stmt = select(Integration).where(
        Integration.organization_id == organization_id, Integration.revoked_at.is_(None)
    )
    return list(db.scalars(stmt.order_by(Integration.id)))


def remove(db: DBSession, *, organization_id: int, integration_id: int) -> None:
    """Remove an integration: its URL answers 404 from now on. NotFound for another organization's."""
    row = db.get(Integration, integration_id) if 0 < integration_id < 2**63 else None
    if row is None or row.organization_id != organization_id or row.revoked_at is not None:
        raise NotFound("Integration not found")
    row.revoked_at = utcnow()
    db.flush()


def secret_of(db: DBSession, sealer: Sealer, *, integration_id: int) -> str | None:
    """The integration's provider secret in clear (None when the integration is gone)."""
    sealed = db.scalar(select(Integration.sealed_secret).where(Integration.id == integration_id))
    return None if sealed is None else sealer.open(sealed)
