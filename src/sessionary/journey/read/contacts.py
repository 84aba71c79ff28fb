"""A contact's sessions, newest first: GET /api/v2/externalcontacts/contacts/{contactId}/journey/sessions,
and the console's "this customer's other sessions".

They are the web/app sessions of the customers linked to the contact (or its merge set) and the native
conversation sessions whose `source` is one of its phones (E.164) or emails; one query on `session`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, literal, or_, select, tuple_
from sqlalchemy.orm import Session as DBSession

from sessionary.db_types import UTCDateTime
from sessionary.errors import InvalidRequest
from sessionary.journey import contacts
from sessionary.journey.deployments import SessionRules
from sessionary.journey.models import Customer, Deployment, JourneySession
from sessionary.journey.read import conversations, views
from sessionary.journey.read.details import JOURNEY_TYPES
from sessionary.journey.store.writepath import state_of
from sessionary.journey.wire import responses as wire
from sessionary.journey.wire.paging import PageParams, encode, uri
from sessionary.sessions.models import Session
from sessionary.types import as_utc

CONVERSATION_TYPES = ("voice", "chat")
MAX_OTHERS = 20  # a customer's other sessions shown, newest first


def contact_sessions(
    db: DBSession,
    *,
    organization_id: int,
    contact_id: str,
    page: PageParams,
    include_merged: bool,
    now: datetime,
    phone_region: str = "US",
) -> wire.SessionListing:
    """One page of the contact's sessions (follow nextUri for the next)."""
    if page.before is not None:
        raise InvalidRequest("before: not supported here; follow nextUri")
    members = contacts.merge_set(
        db, organization_id=organization_id, contact_id=contact_id, include_merged=include_merged
    )
    condition = sessions_of_contacts(db, organization_id=organization_id, members=members)
    stmt = select(Session).where(Session.organization_id == organization_id, condition)
    if page.after is not None:
        stmt = stmt.where(
            tuple_(Session.timestamp, Session.id) < tuple_(_at(page.after[0]), _number(page.after[1]))
        )
    rows = list(db.scalars(stmt.order_by(Session.timestamp.desc(), Session.id.desc()).limit(page.size + 1)))
    chosen = rows[: page.size]
    path = f"{views.CONTACTS_URI}/{contact_id}/journey/sessions"
    following = None
    if len(rows) > page.size:
        last = chosen[-1]
        cursor = encode((last.timestamp.isoformat(timespec="microseconds"), str(last.id)))
        following = uri(path, page.size, after=cursor, includeMerged=str(include_merged).lower())
    entities = _views(db, organization_id, chosen, now, phone_region)
    return wire.SessionListing(entities=entities, next_uri=following, self_uri=path)


def sessions_of_contacts(db: DBSession, *, organization_id: int, members: list[str]) -> ColumnElement[bool]:
    """A condition on `session`: the web/app sessions of the contacts' customers, and the calls and chats
    whose source is one of the contacts' phones or emails."""
    values = contacts.identifiers_of(db, organization_id=organization_id, contact_ids=members)
    journey_ids = (
        select(JourneySession.session_id)
        .join(Customer, Customer.id == JourneySession.customer_id)
        .where(Customer.contact_id.in_(members))
    )
    condition: ColumnElement[bool] = Session.id.in_(journey_ids)
    if values:
        condition = or_(condition, Session.session_type.in_(CONVERSATION_TYPES) & Session.source.in_(values))
    return condition


def customer_sessions(
    db: DBSession, *, organization_id: int, session: Session, phone_region: str, limit: int = MAX_OTHERS
) -> list[Session]:
    """The same customer's other sessions, newest first: a visit's customer's other visits, and the
    sessions of the contact (with its merge set) that the visit's customer or the call's caller is linked
    to. `phone_region` reads a national number in a call's source."""
    own, contact_id = _customer_of(db, organization_id, session, phone_region)
    condition = own
    if contact_id is not None:
        members = contacts.merge_set(
            db, organization_id=organization_id, contact_id=contact_id, include_merged=True
        )
        linked = sessions_of_contacts(db, organization_id=organization_id, members=members)
        condition = linked if condition is None else or_(condition, linked)
    if condition is None:
        return []
    stmt = (
        select(Session)
        .where(Session.organization_id == organization_id, Session.id != session.id, condition)
        .order_by(Session.timestamp.desc(), Session.id.desc())
        .limit(limit)
    )
    return list(db.scalars(stmt))


def _customer_of(
    db: DBSession, organization_id: int, session: Session, phone_region: str
) -> tuple[ColumnElement[bool] | None, str | None]:
    """A visit's customer's sessions (a condition) and its contact; a call's or chat's caller's contact."""
    if session.session_type in CONVERSATION_TYPES:
        contact_id = contacts.contact_for_source(
            db, organization_id=organization_id, source=session.source, region=phone_region
        )
        return None, contact_id
    if session.session_type not in JOURNEY_TYPES:
        return None, None
    found = db.execute(
        select(Customer.id, Customer.contact_id)
        .join(JourneySession, JourneySession.customer_id == Customer.id)
        .where(JourneySession.session_id == session.id)
    ).first()
    if found is None:
        return None, None
    customer_id, contact_id = found
    own = Session.id.in_(select(JourneySession.session_id).where(JourneySession.customer_id == customer_id))
    return own, contact_id


def _at(text: str) -> object:
    try:
        return literal(as_utc(datetime.fromisoformat(text)), UTCDateTime())
    except ValueError:
        raise InvalidRequest("after: not a cursor given by this API") from None


def _number(text: str) -> int:
    if not text.isdigit() or len(text) > 18:
        raise InvalidRequest("after: not a cursor given by this API")
    return int(text)


def _views(
    db: DBSession, organization_id: int, rows: list[Session], now: datetime, phone_region: str
) -> list[wire.Session]:
    ids = [row.id for row in rows]
    journeys = {
        session.session_id: (session, cookie, contact_id, settings)
        for session, cookie, contact_id, settings in db.execute(
            select(JourneySession, Customer.cookie_id, Customer.contact_id, Deployment.settings)
            .join(Customer, Customer.id == JourneySession.customer_id)
            .join(Deployment, Deployment.id == JourneySession.deployment_id)
            .where(JourneySession.session_id.in_(ids))
        )
    }
    last = conversations.last_events(db, session_ids=[row.id for row in rows if row.id not in journeys])
    found = []
    for row in rows:
        if row.id in journeys:
            session, cookie, contact_id, settings = journeys[row.id]
            context = views.SessionContext(
                cookie=cookie, contact_id=contact_id, rules=SessionRules.of(settings)
            )
            found.append(views.session_view(state_of(session), context, now))
        else:
            contact = contacts.contact_for_source(
                db, organization_id=organization_id, source=row.source, region=phone_region
            )
            found.append(conversations.conversation_view(row, contact, last.get(row.id)))
    return found
