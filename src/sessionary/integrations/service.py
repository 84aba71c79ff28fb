"""Integrations: connect a provider (a webhook URL with an unguessable token), list, remove, look up, and
reseal every secret when the server secret is rotated.

The clear token appears once, in the URL `connect` returns; only its SHA-256 is stored (like API keys).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DBSession

from sessionary.audit import service as audit
from sessionary.db_types import utcnow
from sessionary.errors import InvalidRequest, NotFound
from sessionary.integrations.checks import name_problem, secret_problem
from sessionary.integrations.models import Integration
from sessionary.integrations.providers import PROVIDERS
from sessionary.integrations.schemas import IntegrationCreated, IntegrationProperties, IntegrationRead
from sessionary.integrations.secrets import Sealer, SealerSource, SecretUnreadable
from sessionary.listing import (
    Column,
    Kind,
    Listing,
    ListParams,
    Page,
    wire_form,
)

TOKEN_PREFIX = "wh_"
WEBHOOK_PATH = "/webhooks/"


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
    problem = secret_problem(secret)
    if problem:
        raise InvalidRequest(f"secret: {problem}")
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
    problem = None if name is None else name_problem(name)
    if problem:
        raise InvalidRequest(f"name: {problem}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = Integration(
        organization_id=organization_id,
        provider=provider,
        name=name or None,
        token_hash=hash_token(token),
        token_prefix=token[:10],
        sealed_secret=sealer.seal(_check_secret(secret)),
        created_at=utcnow(),
    )
    db.add(row)
    db.flush()
    return Connected(row, webhook_url(public_url, token))


def connect_audited(
    db: DBSession,
    sealer: Sealer,
    *,
    actor: audit.Actor,
    provider: str,
    secret: str,
    public_url: str,
    name: str | None = None,
) -> Connected:
    """`connect` for the actor's organization, recorded in the audit trail (never the secret nor the URL)."""
    connected = connect(
        db,
        sealer,
        organization_id=actor.organization_id,
        provider=provider,
        secret=secret,
        public_url=public_url,
        name=name,
    )
    row = connected.integration
    details = {"integration_id": row.id, "provider": provider, "name": row.name}
    audit.record(db, actor=actor, action="integration.created", target=row.token_prefix, details=details)
    return connected


def remove_audited(db: DBSession, *, actor: audit.Actor, integration_id: int) -> None:
    """`remove` one of the actor's organization's integrations, recorded in the audit trail."""
    remove(db, organization_id=actor.organization_id, integration_id=integration_id)
    row = db.get(Integration, integration_id)
    assert row is not None  # remove found it
    details = {"integration_id": row.id, "provider": row.provider, "name": row.name}
    audit.record(db, actor=actor, action="integration.removed", target=row.token_prefix, details=details)


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


def open_secret(db: DBSession, sealers: SealerSource, *, integration_id: int) -> str | None:
    """`secret_of` under the process's current server secret, and once more under the one read now when
    that fails (a `sessionary secret rotate` less than 10 s ago); SecretUnreadable if neither opens it."""
    try:
        return secret_of(db, sealers.current(), integration_id=integration_id)
    except SecretUnreadable:
        return secret_of(db, sealers.fresh(), integration_id=integration_id)


def readable(sealer: Sealer, row: Integration) -> bool:
    """Whether `sealer` opens the integration's secret (False after SESSIONARY_SECRET_KEY changed)."""
    try:
        sealer.open(row.sealed_secret)
    except SecretUnreadable:
        return False
    return True


@dataclass(frozen=True)
class Resealed:
    """What `reseal` did: secrets sealed again, and those the old secret did not open either (left as
    they were: they stay unreadable until their integration is removed and added again)."""

    resealed: int
    unreadable: int


def reseal(db: DBSession, old: Sealer, new: Sealer) -> Resealed:
    """Seal every integration's secret (removed ones too: their recordings may still be fetched) under the
    new server secret, in the caller's transaction (the rotation's)."""
    done = unreadable = 0
    for row in db.scalars(select(Integration).order_by(Integration.id)):
        try:
            clear = old.open(row.sealed_secret)
        except SecretUnreadable:
            unreadable += 1
            continue
        row.sealed_secret = new.seal(clear)
        done += 1
    db.flush()
    return Resealed(resealed=done, unreadable=unreadable)


def count_all(db: DBSession) -> int:
    """How many integrations there are, of every organization, removed ones included."""
    return db.scalar(select(func.count()).select_from(Integration)) or 0


COLUMNS: dict[str, Column] = {
    "provider": Column(Integration.provider, Kind.STRING),
    "name": Column(Integration.name, Kind.STRING),
    "token_prefix": Column(Integration.token_prefix, Kind.STRING),
    "created_at": Column(Integration.created_at, Kind.DATETIME),
}
assert set(COLUMNS) == {p.value for p in IntegrationProperties}, "every property needs a column"
_ID = Column(Integration.id, Kind.INTEGER)
_REQUIRED = {"id", "provider", "token_prefix", "created_at"}  # kept by a `fields` projection
_LISTING = Listing(
    Integration,
    Integration.organization_id,
    COLUMNS,
    _ID,
    time="created_at",
    where=(Integration.revoked_at.is_(None),),
)


def list_page(db: DBSession, *, organization_id: int, params: ListParams) -> Page[Integration]:
    """One page of the organization's integrations that were not removed, newest first by default."""
    return _LISTING.page(db, organization_id=organization_id, params=params)


def to_read(row: Integration, fields: list[str] | None = None) -> IntegrationRead:
    """The wire form (never the secret nor the URL); with `fields`, only those and the required ones."""
    values = {
        "id": row.id,
        "provider": row.provider,
        "name": row.name,
        "token_prefix": row.token_prefix,
        "created_at": row.created_at,
    }
    return wire_form(IntegrationRead, values, fields, _REQUIRED)


def to_created(connected: Connected) -> IntegrationCreated:
    """The answer to a create: the integration and its webhook URL (shown this once)."""
    read = to_read(connected.integration)
    return IntegrationCreated(**read.model_dump(), webhook_url=connected.webhook_url)
