"""A person's journey records, for an erasure (lifecycle/erasure.py): found, then deleted.

A person is the merge set of every contact they are known by (an identifier they hold, a customer cookie
they carry, a contact id), with every customer linked to one of those contacts and the customers named by
cookie even when linked to none. Deleting them deletes the contacts, their identifiers, the customers and
(by ON DELETE CASCADE) the customers' journey events, and frees the short ids their sessions held.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, delete, func, or_, select
from sqlalchemy.orm import Session as DBSession

from sessionary.journey.contacts import Identifier
from sessionary.journey.models import (
    Contact,
    ContactIdentifier,
    Customer,
    Deployment,
    JourneyEvent,
    JourneySession,
)
from sessionary.journey.store import shortids

_IDS = cast(Table, ContactIdentifier.__table__)
_CHUNK = 500  # ids per IN list


@dataclass(frozen=True)
class Person:
    """Who an erasure is about, in the journey tables (all empty: nobody known)."""

    contacts: list[str] = field(default_factory=list)
    customers: list[int] = field(default_factory=list)
    identifiers: list[Identifier] = field(default_factory=list)


@dataclass(frozen=True)
class JourneyErased:
    """What the journey tables lost."""

    contacts: int = 0
    customers: int = 0
    journey_events: int = 0


def person(
    db: DBSession,
    *,
    organization_id: int,
    identifiers: Iterable[Identifier] = (),
    cookie: str | None = None,
    contact_id: str | None = None,
) -> Person:
    """The person named by these identifiers, cookie or contact id (canonical UUID), with the whole merge set
    of every contact they are linked to. Only the organization's rows count."""
    seeds = set(_owners(db, organization_id, list(identifiers)))
    customers: set[int] = set()
    if cookie is not None:
        for customer_id, linked in _by_cookie(db, organization_id, cookie):
            customers.add(customer_id)
            if linked:
                seeds.add(linked)
    if contact_id is not None:
        seeds.add(contact_id)
    members = _merge_sets(db, organization_id, seeds)
    customers.update(_linked_customers(db, organization_id, members))
    return Person(
        contacts=members, customers=sorted(customers), identifiers=_identifiers(db, organization_id, members)
    )


def sessions_of(db: DBSession, *, organization_id: int, customers: Sequence[int]) -> list[tuple[int, str]]:
    """(session id, session UUID) of every web/app session of these customers."""
    found: list[tuple[int, str]] = []
    for chunk in _chunks(customers):
        stmt = select(JourneySession.session_id, JourneySession.uuid).where(
            JourneySession.organization_id == organization_id, JourneySession.customer_id.in_(chunk)
        )
        found.extend((int(sid), str(uuid)) for sid, uuid in db.execute(stmt))
    return found


def measure(db: DBSession, *, organization_id: int, who: Person) -> JourneyErased:
    """How many of the person's contacts, customers and journey events are stored now (taken before the
    sessions go: deleting them may already delete a customer's events, or a customer left with none)."""
    events = customers = contacts = 0
    for chunk in _chunks(who.customers):
        mine = select(Customer.id).where(Customer.organization_id == organization_id, Customer.id.in_(chunk))
        customers += _count(db, select(func.count()).select_from(mine.subquery()))
        events += _count(db, select(func.count()).where(JourneyEvent.customer_id.in_(mine)))
    for chunk in _chunks(who.contacts):
        stmt = select(func.count()).where(Contact.organization_id == organization_id, Contact.id.in_(chunk))
        contacts += _count(db, stmt)
    return JourneyErased(contacts=contacts, customers=customers, journey_events=events)


def erase(db: DBSession, *, organization_id: int, who: Person, session_uuids: Sequence[str]) -> None:
    """Delete the person's customers (their journey events by cascade), identifiers and contacts, and free
    the short ids their sessions held; whatever a session deletion already took is simply not there."""
    for chunk in _chunks(session_uuids):
        shortids.release(db, organization_id, chunk)
    for chunk in _chunks(who.customers):
        db.execute(
            delete(Customer).where(Customer.organization_id == organization_id, Customer.id.in_(chunk))
        )
    for chunk in _chunks(who.contacts):
        db.execute(
            delete(_IDS).where(_IDS.c.organization_id == organization_id, _IDS.c.contact_id.in_(chunk))
        )
        db.execute(delete(Contact).where(Contact.organization_id == organization_id, Contact.id.in_(chunk)))


def _owners(db: DBSession, organization_id: int, wanted: list[Identifier]) -> list[str]:
    found: list[str] = []
    for chunk in _chunks(wanted):
        stmt = select(_IDS.c.contact_id).where(
            _IDS.c.organization_id == organization_id,
            or_(*[(_IDS.c.kind == kind) & (_IDS.c.value == value) for kind, value in chunk]),
        )
        found.extend(db.scalars(stmt))
    return found


def _by_cookie(db: DBSession, organization_id: int, cookie: str) -> list[tuple[int, str | None]]:
    """The customers carrying this cookie in any of the organization's deployments (each deployment's
    (deployment_id, cookie_id) is unique and indexed)."""
    deployments = select(Deployment.id).where(Deployment.organization_id == organization_id)
    stmt = select(Customer.id, Customer.contact_id).where(
        Customer.deployment_id.in_(deployments),
        Customer.cookie_id == cookie,
        Customer.organization_id == organization_id,
    )
    return [(int(cid), contact) for cid, contact in db.execute(stmt)]


def _merge_sets(db: DBSession, organization_id: int, seeds: set[str]) -> list[str]:
    """Every contact of the merge sets these contacts belong to (merged_into_id always names the root)."""
    roots: set[str] = set()
    for chunk in _chunks(sorted(seeds)):
        stmt = select(Contact.id, Contact.merged_into_id).where(
            Contact.organization_id == organization_id, Contact.id.in_(chunk)
        )
        roots.update(merged or cid for cid, merged in db.execute(stmt))
    members = set(roots)
    for chunk in _chunks(sorted(roots)):
        merged = select(Contact.id).where(
            Contact.organization_id == organization_id,
            or_(Contact.id.in_(chunk), Contact.merged_into_id.in_(chunk)),
        )
        members.update(db.scalars(merged))
    return sorted(members)


def _linked_customers(db: DBSession, organization_id: int, contacts: list[str]) -> list[int]:
    found: list[int] = []
    for chunk in _chunks(contacts):
        stmt = select(Customer.id).where(
            Customer.contact_id.in_(chunk), Customer.organization_id == organization_id
        )
        found.extend(int(cid) for cid in db.scalars(stmt))
    return found


def _identifiers(db: DBSession, organization_id: int, contacts: list[str]) -> list[Identifier]:
    found: set[Identifier] = set()
    for chunk in _chunks(contacts):
        stmt = select(_IDS.c.kind, _IDS.c.value).where(
            _IDS.c.organization_id == organization_id, _IDS.c.contact_id.in_(chunk)
        )
        found.update((str(kind), str(value)) for kind, value in db.execute(stmt))
    return sorted(found)


def _count(db: DBSession, stmt: Any) -> int:
    return int(db.scalar(stmt) or 0)


def _chunks(items: Sequence[Any]) -> Iterable[list[Any]]:
    values = list(items)
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]
