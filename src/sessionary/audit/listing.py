"""Reading the audit trail: one organization's entries, newest first, through the shared list contract."""

from __future__ import annotations

from sqlalchemy.orm import Session as DBSession

from sessionary.audit.models import AuditEntry
from sessionary.audit.schemas import AuditEntryRead, AuditProperties
from sessionary.listing import (
    Column,
    Kind,
    Listing,
    ListParams,
    Page,
    wire_form,
)

COLUMNS: dict[str, Column] = {
    "at": Column(AuditEntry.at, Kind.DATETIME),
    "actor": Column(AuditEntry.actor, Kind.STRING),
    "action": Column(AuditEntry.action, Kind.STRING),
    "target": Column(AuditEntry.target, Kind.STRING),
    "client_ip": Column(AuditEntry.client_ip, Kind.STRING),
}
assert set(COLUMNS) == {p.value for p in AuditProperties}, "every property needs a column"
_ID = Column(AuditEntry.id, Kind.INTEGER)
_REQUIRED = {"id", "at", "actor", "action"}  # kept by a `fields` projection
_LISTING = Listing(AuditEntry, AuditEntry.organization_id, COLUMNS, _ID, time="at")


def list_page(db: DBSession, *, organization_id: int, params: ListParams) -> Page[AuditEntry]:
    """One page of the organization's audit entries, newest first by default; start_datetime and
    end_datetime bound `at`."""
    return _LISTING.page(db, organization_id=organization_id, params=params)


def to_read(row: AuditEntry, fields: list[str] | None = None) -> AuditEntryRead:
    """The wire form; with `fields`, only those and the required ones."""
    values = {
        "id": row.id,
        "at": row.at,
        "actor": row.actor,
        "action": row.action,
        "target": row.target,
        "details": row.details or {},
        "client_ip": row.client_ip,
    }
    return wire_form(AuditEntryRead, values, fields, _REQUIRED)
