"""What the console shows of journey (web/app) sessions: list columns, the journey block of the session
page (page trail, campaign, referrer, device, geolocation, segments) and the same customer's other
sessions (web/app visits of the customers linked to the same contact, and calls/chats whose `source` is
one of the contact's phones or emails, as journey/read/contacts.py lists them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session as DBSession

from sessionary.journey import contacts
from sessionary.journey.models import Customer, JourneyEvent, JourneySession, Rule
from sessionary.sessions.models import Session

JOURNEY_TYPES = ("web", "app")
CONVERSATION_TYPES = ("voice", "chat")
MAX_TRAIL = 200  # pages shown in a session's trail (the first ones)
MAX_OTHERS = 20  # the customer's other sessions shown, newest first

LIST_COLUMNS: tuple[tuple[str, str], ...] = (
    ("pages", "Pages"),
    ("referrer", "Referrer"),
    ("campaign", "Campaign"),
    ("device", "Device"),
)


def _join(*parts: Any, sep: str = " / ") -> str:
    return sep.join(str(p) for p in parts if p not in (None, ""))


def referrer_text(state: dict[str, Any]) -> str:
    ref = state.get("referrer") or {}
    return _join(ref.get("medium"), ref.get("domain") or ref.get("hostname"))


def campaign_text(state: dict[str, Any]) -> str:
    mkt = state.get("mktCampaign") or {}
    return _join(mkt.get("source") or mkt.get("network"), mkt.get("name"))


def device_text(state: dict[str, Any]) -> str:
    device = state.get("device") or {}
    return _join(device.get("category"), device.get("osFamily"))


def list_extras(db: DBSession, *, organization_id: int, sessions: list[Session]) -> dict[int, dict[str, str]]:
    """The journey columns of the page's web/app sessions, in one query."""
    ids = [s.id for s in sessions if s.session_type in JOURNEY_TYPES]
    if not ids:
        return {}
    stmt = select(JourneySession.session_id, JourneySession.pageview_count, JourneySession.state).where(
        JourneySession.organization_id == organization_id, JourneySession.session_id.in_(ids)
    )
    return {
        session_id: {
            "pages": str(pageviews),
            "referrer": referrer_text(state),
            "campaign": campaign_text(state),
            "device": device_text(state),
        }
        for session_id, pageviews, state in db.execute(stmt)
    }


def _offset(start: datetime, at: datetime) -> str:
    seconds = max(0, int((at - start).total_seconds()))
    return f"{seconds // 60}:{seconds % 60:02d}"


def journey_block(db: DBSession, *, organization_id: int, session: Session) -> dict[str, Any] | None:
    """Facts and page trail of a web/app session; None for other sessions."""
    if session.session_type not in JOURNEY_TYPES:
        return None
    js = db.get(JourneySession, session.id)
    if js is None or js.organization_id != organization_id:
        return None
    state = js.state or {}
    geo = state.get("geolocation") or {}
    segment_ids = [m["id"] for m in state.get("segments", [])]
    names = (
        dict(db.execute(select(Rule.id, Rule.name).where(Rule.id.in_(segment_ids))).tuples().all())
        if segment_ids
        else {}
    )
    browser = state.get("browser") or {}
    facts = [
        ("Pages viewed", str(js.pageview_count)),
        ("Events", str(js.event_count)),
        ("Campaign", campaign_text(state) or "none"),
        ("Referrer", referrer_text(state) or "direct"),
        ("Device", _join(device_text(state), browser.get("family")) or "unknown"),
        ("Geolocation", _join(geo.get("locality"), geo.get("regionName"), geo.get("countryName"), sep=", ")
         or "unknown"),
        ("Segments", ", ".join(names.get(i, i) for i in segment_ids) or "none"),
    ]  # fmt: skip
    return {"facts": facts, "pages": page_trail(db, js)}


def page_trail(db: DBSession, js: JourneySession) -> list[tuple[str, str, str | None]]:
    """(offset from the start, url or screen, title) of the session's page/screen views, in order."""
    first, last = (js.created_date, js.first_event_id), (js.last_event_date, js.last_event_id)
    stmt = (
        select(JourneyEvent.id, JourneyEvent.created_date, JourneyEvent.payload)
        .where(
            JourneyEvent.customer_id == js.customer_id,
            JourneyEvent.kind == js.type,
            JourneyEvent.created_date >= js.created_date,
            JourneyEvent.created_date <= js.last_event_date,
        )
        .order_by(JourneyEvent.created_date, JourneyEvent.id)
    )
    trail: list[tuple[str, str, str | None]] = []
    for event_id, created, payload in db.execute(stmt):
        if not first <= (created, event_id) <= last:
            continue
        page = payload.get("page") or {}
        where = page.get("url") or payload.get("screenName")
        if where:
            trail.append((_offset(js.created_date, created), str(where), page.get("title")))
            if len(trail) >= MAX_TRAIL:
                break
    return trail


def customer_sessions(
    db: DBSession, *, organization_id: int, session: Session, phone_region: str
) -> dict[str, Any] | None:
    """The same customer's other sessions (newest first), or None when there are none to show."""
    condition: ColumnElement[bool] | None = None
    if session.session_type in JOURNEY_TYPES:
        found = db.execute(
            select(Customer.id, Customer.contact_id)
            .join(JourneySession, JourneySession.customer_id == Customer.id)
            .where(JourneySession.session_id == session.id)
        ).first()
        if found is None:
            return None
        customer_id, contact_id = found
        condition = Session.id.in_(
            select(JourneySession.session_id).where(JourneySession.customer_id == customer_id)
        )
    elif session.session_type in CONVERSATION_TYPES:
        contact_id = contacts.contact_for_source(
            db, organization_id=organization_id, source=session.source, region=phone_region
        )
    else:
        return None
    if contact_id is not None:
        members = contacts.merge_set(
            db, organization_id=organization_id, contact_id=contact_id, include_merged=True
        )
        linked = Session.id.in_(
            select(JourneySession.session_id)
            .join(Customer, Customer.id == JourneySession.customer_id)
            .where(Customer.contact_id.in_(members))
        )
        condition = linked if condition is None else or_(condition, linked)
        values = contacts.identifiers_of(db, organization_id=organization_id, contact_ids=members)
        if values:
            condition = or_(
                condition, Session.session_type.in_(CONVERSATION_TYPES) & Session.source.in_(values)
            )
    if condition is None:
        return None
    stmt = (
        select(Session)
        .where(Session.organization_id == organization_id, Session.id != session.id, condition)
        .order_by(Session.timestamp.desc(), Session.id.desc())
        .limit(MAX_OTHERS)
    )
    others = list(db.scalars(stmt))
    if not others:
        return None
    return {"url": None, "sessions": others}
