"""Reading journey sessions: one session, its events (cursor pages), its outcome scores."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import literal, select, tuple_
from sqlalchemy.orm import Session as DBSession

from sessionary.db_types import UTCDateTime
from sessionary.errors import InvalidRequest, NotFound
from sessionary.journey import contacts
from sessionary.journey import rules as rules_service
from sessionary.journey.deployments import SessionRules, canonical_uuid
from sessionary.journey.models import Customer, Deployment, JourneyEvent, JourneySession
from sessionary.journey.read import conversations, views
from sessionary.journey.store.sessionize import SessionState
from sessionary.journey.store.writepath import state_of
from sessionary.journey.store.writer import SERVICE
from sessionary.journey.wire import responses as wire
from sessionary.journey.wire.paging import PageParams, encode, uri
from sessionary.sessions.models import Session
from sessionary.types import as_utc


def find_session(
    db: DBSession, *, organization_id: int, session_id: str
) -> tuple[SessionState, views.SessionContext, int]:
    """The organization's journey session with this UUID, its context and customer id; NotFound otherwise."""
    key = canonical_uuid(session_id)
    stmt = (
        select(JourneySession, Customer.cookie_id, Customer.contact_id, Deployment.settings)
        .join(Customer, Customer.id == JourneySession.customer_id)
        .join(Deployment, Deployment.id == JourneySession.deployment_id)
        .where(JourneySession.uuid == key, JourneySession.organization_id == organization_id)
    )
    row = db.execute(stmt).first() if key else None
    if row is None:
        raise NotFound(f"Session {session_id} not found")
    session, cookie, contact_id, settings = row
    context = views.SessionContext(cookie=cookie, contact_id=contact_id, rules=SessionRules.of(settings))
    return state_of(session), context, session.customer_id


def find_native(db: DBSession, *, organization_id: int, session_id: str) -> Session | None:
    """The native (voice, chat) session a derived /api/v2 id names; None for other ids; NotFound when
    it names no native session of the organization."""
    number = conversations.native_id(session_id)
    if number is None:
        return None
    session = db.get(Session, number)
    if (
        session is None
        or session.organization_id != organization_id
        or session.channel_manager_service == SERVICE
    ):
        raise NotFound(f"Session {session_id} not found")
    return session


def get_session(
    db: DBSession, *, organization_id: int, session_id: str, now: datetime, phone_region: str = "US"
) -> wire.Session:
    """The Session with this id: a journey session, or a native one as a conversation session."""
    native = find_native(db, organization_id=organization_id, session_id=session_id)
    if native is not None:
        contact = contacts.contact_for_source(
            db, organization_id=organization_id, source=native.source, region=phone_region
        )
        last = conversations.last_events(db, session_ids=[native.id]).get(native.id)
        return conversations.conversation_view(native, contact, last)
    state, context, _customer = find_session(db, organization_id=organization_id, session_id=session_id)
    return views.session_view(state, context, now)


def event_types(value: str | None) -> set[str]:
    """The eventType filter: a comma-separated list of the journey event types (400 for others)."""
    if value is None:
        return set(views.EVENT_TYPES)
    wanted = {part.strip() for part in value.split(",") if part.strip()}
    unknown = sorted(wanted - set(views.EVENT_TYPES))
    if unknown:
        raise InvalidRequest(
            f"eventType: unknown type {', '.join(unknown)}; one of {', '.join(views.EVENT_TYPES)}"
        )
    return wanted


def list_events(
    db: DBSession,
    *,
    organization_id: int,
    session_id: str,
    page: PageParams,
    types: set[str],
    raw_types: str | None,
) -> wire.EventListing:
    """One page of the session's events, oldest first (web/app events and the rule events it gave);
    a conversation session has none here."""
    if find_native(db, organization_id=organization_id, session_id=session_id) is not None:
        return wire.EventListing(entities=[], self_uri=f"{views.SESSIONS_URI}/{session_id}/events")
    state, context, customer_id = find_session(db, organization_id=organization_id, session_id=session_id)
    session_ref = wire.EventSession(
        id=state.uuid or "", type=state.type, self_uri=f"{views.SESSIONS_URI}/{state.uuid}"
    )
    items: list[tuple[tuple[str, str], wire.Event]] = []
    own = views.WEB_EVENT if state.type == "web" else views.APP_EVENT
    if own in types:
        items += _stored(db, state, customer_id, page, session_ref, context.cookie)
    if types & {views.SEGMENT_EVENT, views.OUTCOME_EVENT}:
        names = {r.id: r.name for r in rules_service.load_rules(db, organization_id=organization_id)}
        items += [
            item
            for item in views.rule_events(state, session_ref, context.cookie, names)
            if item[1].event_type in types and _in_page(item[0], page)
        ]
    items.sort(key=lambda item: item[0])
    path = f"{views.SESSIONS_URI}/{state.uuid}/events"
    return _listing(items, page, path, raw_types)


def _in_page(key: tuple[str, str], page: PageParams) -> bool:
    if page.after is not None and key <= page.after:
        return False
    return not (page.before is not None and key >= page.before)


def _stored(
    db: DBSession,
    state: SessionState,
    customer_id: int,
    page: PageParams,
    ref: wire.EventSession,
    cookie: str,
) -> list[tuple[tuple[str, str], wire.Event]]:
    table = JourneyEvent.__table__.c
    key = tuple_(table.created_date, table.id)
    stmt = select(table.id, table.created_date, table.payload).where(
        table.customer_id == customer_id,
        table.kind == state.type,
        key >= tuple_(_bind(state.created), state.first_event_id),
        key <= tuple_(_bind(state.last_date), state.last_event_id),
    )
    if page.after is not None:
        stmt = stmt.where(key > tuple_(_bind(_date(page.after[0])), page.after[1]))
    if page.before is not None:
        stmt = stmt.where(key < tuple_(_bind(_date(page.before[0])), page.before[1]))
        stmt = stmt.order_by(table.created_date.desc(), table.id.desc())
    else:
        stmt = stmt.order_by(table.created_date, table.id)
    rows = db.execute(stmt.limit(page.size + 1)).all()
    return [
        (
            views.sort_key(r.created_date, r.id),
            views.event_view(r.id, state.type, r.created_date, r.payload, ref, cookie),
        )
        for r in rows
    ]


def _bind(value: datetime) -> Any:
    return literal(value, UTCDateTime())


def _date(text: str) -> datetime:
    try:
        return as_utc(datetime.fromisoformat(text))
    except ValueError:
        raise InvalidRequest("after: not a cursor given by this API") from None


def _listing(
    items: list[tuple[tuple[str, str], wire.Event]], page: PageParams, path: str, raw_types: str | None
) -> wire.EventListing:
    if page.before is not None:
        more = len(items) > page.size
        chosen = items[-page.size :]
        previous = (
            uri(path, page.size, before=encode(chosen[0][0]), eventType=raw_types)
            if more and chosen
            else None
        )
        return wire.EventListing(entities=[e for _, e in chosen], previous_uri=previous, self_uri=path)
    chosen = items[: page.size]
    following = None
    if len(items) > page.size:
        following = uri(path, page.size, after=encode(chosen[-1][0]), eventType=raw_types)
    return wire.EventListing(entities=[e for _, e in chosen], next_uri=following, self_uri=path)


def outcome_scores(db: DBSession, *, organization_id: int, session_id: str) -> wire.OutcomeScoresResult:
    """Per outcome of the organization: 1.0 once achieved in the session, else the share of its
    conditions the session meets (sessionary does not predict; this is a plain progress measure)."""
    if find_native(db, organization_id=organization_id, session_id=session_id) is not None:
        return wire.OutcomeScoresResult(outcome_scores=[])
    state, _context, _customer = find_session(db, organization_id=organization_id, session_id=session_id)
    achieved = {m["id"] for m in state.wire.get("outcomes", [])}
    view, names = state.view(), state.wire.get("eventNames", [])
    scores = []
    for rule in rules_service.load_rules(db, organization_id=organization_id):
        if rule.kind != "outcome":
            continue
        probability = 1.0 if rule.id in achieved else rule.share_holding(view, names)
        scores.append(
            wire.OutcomeScore(
                outcome=wire.EntityRef(**views.ref("/api/v2/journey/outcomes", rule.id)),
                probability=probability,
                session_max_probability=probability,
            )
        )
    return wire.OutcomeScoresResult(outcome_scores=scores, modified_date=state.last_date)
