"""Who an erasure is about (one identifier, checked and normalized), and the proof the audit trail keeps.

The proof is a salted, slow hash of the normalized identifier ("phone:+15551234567"): scrypt with a random
16-byte salt, stored as "scrypt$n$r$p$salt$hash" (base64). It shows that an erasure was asked for a given
identifier without storing the identifier: whoever holds it can check, nobody can list them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session as DBSession

from sessionary.audit.models import AuditEntry
from sessionary.errors import InvalidRequest
from sessionary.journey import contacts
from sessionary.journey.deployments import canonical_uuid

KINDS = ("phone", "email", "customer_cookie_id", "contact_id")
MAX_LENGTH = 320
# scrypt's cost: about 50 ms and 16 MiB per hash, so a stolen audit table cannot be tried against every phone
# number of a country cheaply.
_N, _R, _P, _DKLEN = 2**14, 8, 1, 32
_MAX_N = 2**20  # a proof naming a larger cost is not checked (it would take seconds and gigabytes)


@dataclass(frozen=True)
class Target:
    """An erasure's identifier: its kind (KINDS) and its normalized value (E.164, lowercase email, UUID)."""

    kind: str
    value: str


def target_of(given: Mapping[str, str | None], *, region: str) -> Target:
    """The one identifier given (InvalidRequest naming the field when none, several, or a bad one)."""
    present = [kind for kind in KINDS if given.get(kind) is not None]
    if len(present) != 1:
        named = ", ".join(present) if present else "none"
        raise InvalidRequest(f"{'|'.join(KINDS)}: give exactly one identifier (given: {named})")
    kind = present[0]
    raw = str(given[kind])
    if not raw.strip() or len(raw) > MAX_LENGTH:
        raise InvalidRequest(f"{kind}: must be 1 to {MAX_LENGTH} characters")
    if any(unicodedata.category(char) == "Cc" for char in raw):
        raise InvalidRequest(f"{kind}: must not contain control characters")
    return Target(kind, _normalized(kind, raw.strip(), region))


def _normalized(kind: str, value: str, region: str) -> str:
    if kind in ("phone", "email"):
        normalized = contacts.normalize(kind, value, region)
        if normalized is None or (kind == "email" and not _looks_like_email(normalized)):
            raise InvalidRequest(f"{kind}: not a possible {'phone number' if kind == 'phone' else 'email'}")
        return normalized
    if kind == "contact_id":
        key = canonical_uuid(value)
        if key is None:
            raise InvalidRequest("contact_id: not a contact id (a UUID)")
        return key
    return value


def _looks_like_email(value: str) -> bool:
    local, _, domain = value.rpartition("@")
    return bool(local) and "." in domain.strip(".") and "@" not in domain


def proof_of(target: Target) -> str:
    """A new salted scrypt hash of the target, "scrypt$n$r$p$salt$hash"."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(_material(target), salt=salt, n=_N, r=_R, p=_P, dklen=_DKLEN)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def proves(proof: str, target: Target) -> bool:
    """Whether `proof` (made by proof_of) is the hash of this target."""
    parts = proof.split("$")
    if len(parts) != 6 or parts[0] != "scrypt" or not all(p.isdigit() for p in parts[1:4]):
        return False
    n, r, p = (int(part) for part in parts[1:4])
    if not (1 < n <= _MAX_N and 1 <= r <= 32 and 1 <= p <= 16):
        return False
    try:
        salt, digest = base64.b64decode(parts[4], validate=True), base64.b64decode(parts[5], validate=True)
        tried = hashlib.scrypt(
            _material(target), salt=salt, n=n, r=r, p=p, dklen=len(digest), maxmem=2**31 - 1
        )
    except ValueError:  # not base64, n not a power of 2, an empty hash...
        return False
    return hmac.compare_digest(tried, digest)


def erasures_of(db: DBSession, *, organization_id: int, target: Target) -> list[tuple[int, datetime]]:
    """(id, at) of the organization's erasure entries whose proof is this target's hash, newest first (each
    entry of the same kind costs one scrypt hash: about 50 ms)."""
    stmt = (
        select(AuditEntry.id, AuditEntry.at, AuditEntry.details)
        .where(AuditEntry.organization_id == organization_id, AuditEntry.action == "erasure")
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    )
    found = []
    for entry_id, at, details in db.execute(stmt):
        if not isinstance(details, dict) or details.get("kind") != target.kind:
            continue
        if proves(str(details.get("proof", "")), target):
            found.append((int(entry_id), at))
    return found


def _material(target: Target) -> bytes:
    return f"{target.kind}:{target.value}".encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
