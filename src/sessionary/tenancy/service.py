"""Organizations and API keys: keys are shown once, stored as SHA-256 hashes, and carry scopes."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session as DBSession

from sessionary.db_types import utcnow
from sessionary.errors import InvalidRequest, NotFound, Unauthorized
from sessionary.tenancy.models import ApiKey, Organization

SCOPES = ("ingest", "read", "admin")
KEY_PREFIX = "sk_"
MAX_KEY_LIFETIME = timedelta(days=3653)  # a key's expiry is at most ten years ahead
TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often per key


@dataclass(frozen=True)
class Principal:
    """Who is calling: one organization, with the scopes of the key used."""

    organization_id: int
    scopes: frozenset[str]
    # The key used: its id and clear prefix (who did what, for the audit trail); None/"" for the CLI.
    key_id: int | None = None
    key_prefix: str = ""

    def allows(self, scope: str) -> bool:
        """`admin` may do everything; otherwise the scope must be on the key."""
        return scope in self.scopes or "admin" in self.scopes


def hash_key(key: str) -> str:
    """The stored form of a key (keys are long random strings, so a plain SHA-256 suffices)."""
    return hashlib.sha256(key.encode()).hexdigest()


def get_or_create_organization(db: DBSession, *, name: str) -> Organization:
    """The organization called `name`, created if it does not exist yet."""
    name = name.strip()
    if not name:
        raise InvalidRequest("organization name must not be empty")
    org = db.scalar(select(Organization).where(Organization.name == name))
    if org is None:
        org = Organization(name=name)
        db.add(org)
        db.flush()
    return org


def find_organization(db: DBSession, *, name: str) -> Organization | None:
    """The organization called `name`, or None."""
    return db.scalar(select(Organization).where(Organization.name == name))


def check_scopes(scopes: Iterable[str]) -> list[str]:
    """The scopes, sorted and without repeats; InvalidRequest naming `scopes` unless they are one or more
    of SCOPES."""
    wanted = sorted(set(scopes))
    unknown = [scope for scope in wanted if scope not in SCOPES]
    if not wanted or unknown:
        raise InvalidRequest(f"scopes: must be one or more of {', '.join(SCOPES)}; got {', '.join(wanted)}")
    return wanted


def check_expiry(expires_at: datetime | None, now: datetime | None = None) -> None:
    """InvalidRequest naming `expires_at` unless it is in the future and at most ten years ahead."""
    now = now or utcnow()
    if expires_at is None:
        return
    if expires_at <= now:
        raise InvalidRequest("expires_at: must be in the future")
    if expires_at > now + MAX_KEY_LIFETIME:
        raise InvalidRequest("expires_at: must be at most 10 years ahead")


def create_api_key(
    db: DBSession, *, organization_id: int, scopes: Iterable[str], expires_at: datetime | None = None
) -> tuple[ApiKey, str]:
    """A new key for the organization; returns the row and the clear key (never stored)."""
    wanted = check_scopes(scopes)
    check_expiry(expires_at)
    clear = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        organization_id=organization_id,
        prefix=clear[:10],
        key_hash=hash_key(clear),
        scopes=" ".join(wanted),
        created_at=utcnow(),
        expires_at=expires_at,
    )
    db.add(key)
    db.flush()
    return key, clear


def _live(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return ApiKey.revoked_at.is_(None), or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now)


def count_live_keys(db: DBSession, *, organization_id: int) -> int:
    """How many of the organization's keys authenticate (neither revoked nor expired)."""
    stmt = select(func.count()).where(ApiKey.organization_id == organization_id, *_live(utcnow()))
    return db.scalar(stmt) or 0


def live_admin_key_ids(db: DBSession, *, organization_id: int) -> list[int]:
    """The ids of the organization's live keys of admin scope, locked until the transaction ends
    (PostgreSQL: two revocations cannot both see the other's key still live; SQLite's writer is alone)."""
    stmt = select(ApiKey.id, ApiKey.scopes).where(ApiKey.organization_id == organization_id, *_live(utcnow()))
    rows = db.execute(stmt.order_by(ApiKey.id).with_for_update()).all()
    return [key_id for key_id, scopes in rows if "admin" in scopes.split()]


def revoke_api_key(db: DBSession, *, organization_id: int, key_id: int) -> ApiKey:
    """Revoke one of the organization's keys: it authenticates nothing from now on. NotFound for another
    organization's key, an unknown id or a key already revoked."""
    row = db.get(ApiKey, key_id) if 0 < key_id < 2**63 else None
    if row is None or row.organization_id != organization_id or row.revoked_at is not None:
        raise NotFound("API key not found")
    row.revoked_at = utcnow()
    db.flush()
    return row


def touch(db: DBSession, *, key_id: int, at: datetime) -> None:
    """Record that the key authenticated at `at` (skipped when a process wrote it less than a minute ago)."""
    db.execute(
        update(ApiKey)
        .where(
            ApiKey.id == key_id,
            or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= at - TOUCH_EVERY),
        )
        .values(last_used_at=at)
    )


def authenticate(db: DBSession, *, key: str | None) -> Principal:
    """The principal an API key stands for; Unauthorized when it is missing, unknown or revoked."""
    if not key:
        raise Unauthorized("Not authenticated: send an API key in the Syllable-API-Key header")
    row = db.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
    if row is None or not is_live(row):
        raise Unauthorized("Invalid API key")
    return principal_of(row)


def key_for(db: DBSession, *, key: str) -> ApiKey:
    """The stored key a clear key stands for; Unauthorized when it is unknown or revoked."""
    row = db.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key))) if key else None
    if row is None or not is_live(row):
        raise Unauthorized("Invalid API key")
    return row


def principal_for_key_id(db: DBSession, *, key_id: int) -> Principal | None:
    """The principal of a stored key (by id, as a console session keeps it); None once it is revoked."""
    row = db.get(ApiKey, key_id) if 0 < key_id < 2**63 else None
    if row is None or not is_live(row):
        return None
    return principal_of(row)


def is_live(row: ApiKey, now: datetime | None = None) -> bool:
    """Whether a stored key authenticates: not revoked, and not past its expiry."""
    if row.revoked_at is not None:
        return False
    return row.expires_at is None or row.expires_at > (now or utcnow())


def principal_of(row: ApiKey) -> Principal:
    """The principal a stored key stands for."""
    return Principal(
        organization_id=row.organization_id,
        scopes=frozenset(row.scopes.split()),
        key_id=row.id,
        key_prefix=row.prefix,
    )


def organization_name(db: DBSession, *, organization_id: int) -> str:
    """The organization's name ('' when it is gone)."""
    return db.scalar(select(Organization.name).where(Organization.id == organization_id)) or ""
