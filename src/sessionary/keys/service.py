"""An organization's API keys over the admin API and the console: made, listed and revoked, each act in
the audit trail. Table api_key is tenancy's: the writes are its functions, called here with the audit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session as DBSession

from sessionary.audit import service as audit
from sessionary.db_types import utcnow
from sessionary.errors import Conflict, NotFound
from sessionary.keys.schemas import KeyCreated, KeyProperties, KeyRead, KeyStatus
from sessionary.listing import (
    Column,
    Kind,
    Listing,
    ListParams,
    Page,
    wire_form,
)
from sessionary.tenancy import service as tenancy
from sessionary.tenancy.models import ApiKey

MAX_LIVE_KEYS = 1_000  # keys that authenticate (neither revoked nor expired), per organization


def create(
    db: DBSession,
    *,
    actor: audit.Actor,
    scopes: Iterable[str],
    expires_at: datetime | None = None,
    capped: bool = True,
) -> tuple[ApiKey, str]:
    """A new key of the actor's organization (the clear key returned once). `capped` (the API and the
    console): Conflict when the organization has MAX_LIVE_KEYS active keys already (the CLI is not)."""
    wanted = tenancy.check_scopes(scopes)
    tenancy.check_expiry(expires_at)
    if capped and tenancy.count_live_keys(db, organization_id=actor.organization_id) >= MAX_LIVE_KEYS:
        raise Conflict(
            f"The organization has {MAX_LIVE_KEYS:,} active API keys, the most it may have: revoke one first"
        )
    row, clear = tenancy.create_api_key(
        db, organization_id=actor.organization_id, scopes=wanted, expires_at=expires_at
    )
    details = {"key_id": row.id, "scopes": wanted, "expires_at": _iso(expires_at)}
    audit.record(db, actor=actor, action="key.created", target=row.prefix, details=details)
    return row, clear


def revoke(db: DBSession, *, actor: audit.Actor, key_id: int, keep_last_admin: bool = True) -> ApiKey:
    """Revoke one of the actor's organization's keys (at once, everywhere: each request reads its key).

    NotFound for another organization's key or one already revoked. With `keep_last_admin` (the API and
    the console), the organization's last active admin key is refused (Conflict): the admin API would be
    locked out; the CLI, which can always make a key, may revoke it."""
    if keep_last_admin:
        admins = tenancy.live_admin_key_ids(db, organization_id=actor.organization_id)
        if admins == [key_id]:
            raise Conflict(
                "This is the organization's last active admin key: create another admin key first "
                "(or revoke it with `sessionary keys revoke` on the server)"
            )
    row = tenancy.revoke_api_key(db, organization_id=actor.organization_id, key_id=key_id)
    details = {"key_id": row.id, "scopes": row.scopes.split()}
    audit.record(db, actor=actor, action="key.revoked", target=row.prefix, details=details)
    return row


def find(db: DBSession, *, organization_id: int, key_id: int) -> ApiKey:
    """One of the organization's keys that was not revoked; NotFound otherwise (another organization's)."""
    row = db.get(ApiKey, key_id) if 0 < key_id < 2**63 else None
    if row is None or row.organization_id != organization_id or row.revoked_at is not None:
        raise NotFound("API key not found")
    return row


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def status_of(row: ApiKey, now: datetime | None = None) -> KeyStatus:
    """active, expired or revoked."""
    if row.revoked_at is not None:
        return "revoked"
    return "active" if tenancy.is_live(row, now) else "expired"


def keys_of(
    db: DBSession, *, organization_id: int, revoked: bool = False, limit: int = MAX_LIVE_KEYS
) -> list[ApiKey]:
    """The organization's keys, newest first, at most `limit`: those not revoked (expired ones too), or
    with `revoked` every one (the CLI's list)."""
    stmt = select(ApiKey).where(ApiKey.organization_id == organization_id)
    if not revoked:
        stmt = stmt.where(ApiKey.revoked_at.is_(None))
    return list(db.scalars(stmt.order_by(ApiKey.created_at.desc(), ApiKey.id.desc()).limit(limit)))


COLUMNS: dict[str, Column] = {
    "prefix": Column(ApiKey.prefix, Kind.STRING),
    "scopes": Column(ApiKey.scopes, Kind.STRING),
    "created_at": Column(ApiKey.created_at, Kind.DATETIME),
    "last_used_at": Column(ApiKey.last_used_at, Kind.DATETIME),
    "expires_at": Column(ApiKey.expires_at, Kind.DATETIME),
    "revoked_at": Column(ApiKey.revoked_at, Kind.DATETIME),
}
assert set(COLUMNS) == {p.value for p in KeyProperties}, "every property needs a column"
_ID = Column(ApiKey.id, Kind.INTEGER)
_REQUIRED = {"id", "prefix", "scopes", "status", "created_at"}  # kept by a `fields` projection
_LISTING = Listing(ApiKey, ApiKey.organization_id, COLUMNS, _ID, time="created_at")


def list_page(db: DBSession, *, organization_id: int, params: ListParams) -> Page[ApiKey]:
    """One page of the organization's keys (revoked ones too, for the record), newest first by default;
    start_datetime/end_datetime bound created_at."""
    return _LISTING.page(db, organization_id=organization_id, params=params)


def to_read(row: ApiKey, fields: list[str] | None = None) -> KeyRead:
    """The wire form (never the key nor its hash); with `fields`, only those and the required ones."""
    values = {
        "id": row.id,
        "prefix": row.prefix,
        "scopes": row.scopes.split(),
        "status": status_of(row, utcnow()),
        "created_at": row.created_at,
        "last_used_at": row.last_used_at,
        "expires_at": row.expires_at,
        "revoked_at": row.revoked_at,
    }
    return wire_form(KeyRead, values, fields, _REQUIRED)


def to_created(row: ApiKey, clear: str) -> KeyCreated:
    """The answer to a create: the key itself, shown this once."""
    return KeyCreated(
        id=row.id,
        key=clear,
        prefix=row.prefix,
        scopes=row.scopes.split(),
        created_at=row.created_at,
        expires_at=row.expires_at,
    )
