"""External contacts, made or matched from event traits.

A trait whose name contains "email" (email, workEmail, ...) or "phone" (phone, cellPhone, ...) names the
customer: emails are compared lowercased, phones as E.164 (phonenumbers, with the configured default
region for national numbers). A customer is linked to the contact its identifiers name, or a new one.
When one customer's identifiers name two contacts, the two are one person: the newer contact is merged
into the older (`merged_into_id`), and the merge set of a contact is its root and every contact merged
into that root (`includeMerged`). A contact's sessions are its customers' web/app sessions and the
conversation sessions whose `source` is one of its phones or emails.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, or_, select, update
from sqlalchemy.orm import Session as DBSession

from sessionary.db import insert_for
from sessionary.errors import NotFound
from sessionary.journey.deployments import canonical_uuid
from sessionary.journey.models import Contact, ContactIdentifier, Customer

_IDS = cast(Table, ContactIdentifier.__table__)
Identifier = tuple[str, str]  # (kind, normalized value)


def normalize(kind: str, value: str, region: str) -> str | None:
    """An email lowercased, a phone in E.164; None when it is not one."""
    text = value.strip()
    if kind == "email":
        return text.lower() if "@" in text and " " not in text and len(text) <= 320 else None
    import phonenumbers  # at the first phone: its import holds 1 MB in every server process

    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def identifiers(traits: dict[str, Any], region: str) -> set[Identifier]:
    """The identifiers event traits carry."""
    found: set[Identifier] = set()
    for name, trait in traits.items():
        lowered = name.lower()
        kind = "email" if "email" in lowered else "phone" if "phone" in lowered else None
        value = trait.get("value") if isinstance(trait, dict) else None
        if kind and isinstance(value, str):
            normalized = normalize(kind, value, region)
            if normalized:
                found.add((kind, normalized))
    return found


def link(
    db: DBSession, *, organization_id: int, customers: dict[int, set[Identifier]], now: datetime
) -> dict[int, str]:
    """Link each customer (locked by the caller) to the contact its identifiers name; returns the links."""
    linked: dict[int, str] = {}
    for customer_id, names in sorted(customers.items()):
        if names:
            linked[customer_id] = _link_one(db, organization_id, customer_id, names, now)
    return linked


def _link_one(
    db: DBSession, organization_id: int, customer_id: int, names: set[Identifier], now: datetime
) -> str:
    current = db.scalar(select(Customer.contact_id).where(Customer.id == customer_id))
    roots = _roots(
        db, organization_id, [*_owners(db, organization_id, names), *([current] if current else [])]
    )
    if roots:
        root = roots[0]
    else:
        root = str(uuid.uuid4())
        db.add(Contact(id=root, organization_id=organization_id, created_at=now))
        db.flush()
    rows = [
        {"organization_id": organization_id, "kind": k, "value": v, "contact_id": root}
        for k, v in sorted(names)
    ]
    db.execute(
        insert_for(db, _IDS).on_conflict_do_nothing(index_elements=["organization_id", "kind", "value"]), rows
    )
    # A concurrent writer may have named these identifiers first: merge into whatever they name now.
    roots = _roots(db, organization_id, [root, *_owners(db, organization_id, names)])
    root, others = roots[0], roots[1:]
    if others:
        db.execute(
            update(Contact)
            .where(or_(Contact.id.in_(others), Contact.merged_into_id.in_(others)))
            .values(merged_into_id=root)
        )
    if current != root:
        db.execute(update(Customer).where(Customer.id == customer_id).values(contact_id=root))
    return root


def _owners(db: DBSession, organization_id: int, names: Iterable[Identifier]) -> list[str]:
    wanted = list(names)
    if not wanted:
        return []
    stmt = select(_IDS.c.contact_id).where(
        _IDS.c.organization_id == organization_id,
        or_(*[(_IDS.c.kind == kind) & (_IDS.c.value == value) for kind, value in wanted]),
    )
    return list(db.scalars(stmt))


def _roots(db: DBSession, organization_id: int, contact_ids: Iterable[str]) -> list[str]:
    """The distinct roots of these contacts, oldest first."""
    ids = set(contact_ids)
    if not ids:
        return []
    rows = db.execute(select(Contact.id, Contact.merged_into_id).where(Contact.id.in_(ids))).all()
    root_ids = {merged or cid for cid, merged in rows}
    stmt = (
        select(Contact.id)
        .where(Contact.id.in_(root_ids), Contact.organization_id == organization_id)
        .order_by(Contact.created_at, Contact.id)
    )
    return list(db.scalars(stmt))


def merge_set(db: DBSession, *, organization_id: int, contact_id: str, include_merged: bool) -> list[str]:
    """The contact (NotFound if not the organization's), or with include_merged its whole merge set."""
    key = canonical_uuid(contact_id)
    contact = db.get(Contact, key) if key else None
    if contact is None or contact.organization_id != organization_id:
        raise NotFound(f"Contact {contact_id} not found")
    if not include_merged:
        return [contact.id]
    root = contact.merged_into_id or contact.id
    members = db.scalars(select(Contact.id).where(Contact.merged_into_id == root))
    return sorted({root, *members})


def identifiers_of(db: DBSession, *, organization_id: int, contact_ids: list[str]) -> list[str]:
    """The phones and emails naming these contacts."""
    stmt = select(_IDS.c.value).where(
        _IDS.c.organization_id == organization_id, _IDS.c.contact_id.in_(contact_ids)
    )
    return sorted(set(db.scalars(stmt)))


def contact_for_source(db: DBSession, *, organization_id: int, source: str | None, region: str) -> str | None:
    """The contact (root) a conversation's `source` (a phone or an email) names, if any."""
    if not source:
        return None
    kind = "email" if "@" in source else "phone"
    value = normalize(kind, source, region)
    if value is None:
        return None
    owner = db.scalar(
        select(_IDS.c.contact_id).where(
            _IDS.c.organization_id == organization_id, _IDS.c.kind == kind, _IDS.c.value == value
        )
    )
    roots = _roots(db, organization_id, [owner]) if owner else []
    return roots[0] if roots else None
