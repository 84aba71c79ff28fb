"""A web/app session at a glance, for the console: its columns in the sessions list, and the facts and
page trail of its page (campaign, referrer, device, geolocation, segments).

Texts join the parts the session's state has ("email / google.com"); an empty text means it has none, and
the face says what that means ("direct", "unknown"). Other sessions (calls, chats) have no details here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session as DBSession

from sessionary.journey.models import JourneyEvent, JourneySession, Rule
from sessionary.sessions.models import Session

JOURNEY_TYPES = ("web", "app")
MAX_TRAIL = 200  # page views in a trail (the first ones)


@dataclass(frozen=True)
class ListColumns:
    """A web/app session's journey columns in the sessions list."""

    pageviews: int
    referrer: str  # medium / domain
    campaign: str  # source / name
    device: str  # category / OS family


class PageView(NamedTuple):
    """One page or screen view of a trail: seconds after the session started, the URL or screen, its title."""

    seconds: int
    where: str
    title: str | None


@dataclass(frozen=True)
class JourneyDetails:
    """What the session page shows of a web/app session."""

    pageviews: int
    events: int
    campaign: str
    referrer: str
    device: str  # category / OS family / browser family
    geolocation: str  # locality, region, country
    segments: tuple[str, ...]  # the segments' names (the id of a segment since deleted)
    trail: tuple[PageView, ...]  # in order, at most MAX_TRAIL


def _join(*parts: Any, sep: str = " / ") -> str:
    return sep.join(str(p) for p in parts if p not in (None, ""))


def _referrer(state: dict[str, Any]) -> str:
    ref = state.get("referrer") or {}
    return _join(ref.get("medium"), ref.get("domain") or ref.get("hostname"))


def _campaign(state: dict[str, Any]) -> str:
    mkt = state.get("mktCampaign") or {}
    return _join(mkt.get("source") or mkt.get("network"), mkt.get("name"))


def _device(state: dict[str, Any]) -> str:
    device = state.get("device") or {}
    return _join(device.get("category"), device.get("osFamily"))


def list_columns(
    db: DBSession, *, organization_id: int, sessions: Sequence[Session]
) -> dict[int, ListColumns]:
    """The journey columns of the web/app sessions among `sessions` (one list page), in one query."""
    ids = [s.id for s in sessions if s.session_type in JOURNEY_TYPES]
    if not ids:
        return {}
    stmt = select(JourneySession.session_id, JourneySession.pageview_count, JourneySession.state).where(
        JourneySession.organization_id == organization_id, JourneySession.session_id.in_(ids)
    )
    return {
        session_id: ListColumns(
            pageviews=pageviews, referrer=_referrer(state), campaign=_campaign(state), device=_device(state)
        )
        for session_id, pageviews, state in db.execute(stmt)
    }


def details(db: DBSession, *, organization_id: int, session: Session) -> JourneyDetails | None:
    """The facts and page trail of a web/app session; None for other sessions."""
    if session.session_type not in JOURNEY_TYPES:
        return None
    js = db.get(JourneySession, session.id)
    if js is None or js.organization_id != organization_id:
        return None
    state = js.state or {}
    geo = state.get("geolocation") or {}
    browser = state.get("browser") or {}
    return JourneyDetails(
        pageviews=js.pageview_count,
        events=js.event_count,
        campaign=_campaign(state),
        referrer=_referrer(state),
        device=_join(_device(state), browser.get("family")),
        geolocation=_join(geo.get("locality"), geo.get("regionName"), geo.get("countryName"), sep=", "),
        segments=_segment_names(db, [m["id"] for m in state.get("segments", [])]),
        trail=_trail(db, js),
    )


def _segment_names(db: DBSession, segment_ids: list[str]) -> tuple[str, ...]:
    """The segments' rule names, in the state's order (the id of a rule that is gone)."""
    if not segment_ids:
        return ()
    names = dict(db.execute(select(Rule.id, Rule.name).where(Rule.id.in_(segment_ids))).tuples().all())
    return tuple(names.get(i, i) for i in segment_ids)


def _trail(db: DBSession, js: JourneySession) -> tuple[PageView, ...]:
    """The session's page/screen views in order: its customer's events of its kind between its first and
    last event (the same instant may hold another session's event: (time, id) bounds tell them apart)."""
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
    trail: list[PageView] = []
    for event_id, created, payload in db.execute(stmt):
        if not first <= (created, event_id) <= last:
            continue
        page = payload.get("page") or {}
        where = page.get("url") or payload.get("screenName")
        if where:
            seconds = max(0, int((created - js.created_date).total_seconds()))
            trail.append(PageView(seconds, str(where), page.get("title")))
            if len(trail) >= MAX_TRAIL:
                break
    return tuple(trail)
