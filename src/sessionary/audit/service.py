"""Record an administrative act in the audit trail, in the transaction that does it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session as DBSession

from sessionary.audit.models import AuditEntry
from sessionary.db_types import utcnow
from sessionary.tenancy.service import Principal

ACTIONS = (
    "key.created",
    "key.revoked",
    "session.deleted",
    "erasure",
    "retention.changed",
    "export.downloaded",
    "integration.created",
    "integration.removed",
)
CLI = "cli"
SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """Who acts, for the audit trail: an organization, the key used (its prefix) and the client's address."""

    organization_id: int
    name: str  # the key's clear prefix, or CLI / SYSTEM
    key_id: int | None = None
    client_ip: str | None = None

    @classmethod
    def of(cls, principal: Principal, client_ip: str | None) -> Actor:
        """The actor of a request authenticated as `principal`."""
        return cls(principal.organization_id, principal.key_prefix or SYSTEM, principal.key_id, client_ip)

    @classmethod
    def cli(cls, organization_id: int) -> Actor:
        """The command line, run by whoever may run it on the server."""
        return cls(organization_id, CLI)


def record(
    db: DBSession,
    *,
    actor: Actor,
    action: str,
    target: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Add one entry (in the caller's transaction: the act and its record commit together)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    db.add(
        AuditEntry(
            organization_id=actor.organization_id,
            at=utcnow(),
            actor=actor.name[:32],
            actor_key_id=actor.key_id,
            action=action,
            target=None if target is None else target[:200],
            details=dict(details or {}),
            client_ip=actor.client_ip,
        )
    )
    db.flush()
