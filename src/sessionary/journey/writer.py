"""Writes derived journey sessions in a few statements per batch: DELETE the replaced ones, INSERT the new
ones (`session` rows with RETURNING, then their `journey_session` rows), UPDATE the kept ones; each an
executemany. shortIds are taken (or kept) as sessions are collected."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, update
from sqlalchemy.orm import Session as DBSession

from sessionary.journey import shortids
from sessionary.journey.models import JourneySession
from sessionary.journey.sessionize import SessionState
from sessionary.sessions.models import Session

SERVICE = "journey"  # channel_manager_service of every journey session row
_SESSIONS = cast(Table, Session.__table__)
_JSESSIONS = cast(Table, JourneySession.__table__)
_CHUNK = 400
FIGURE_LENGTH = 200  # referrer_medium / campaign_name keep this many characters (the column's length)


@dataclass(frozen=True)
class Owner:
    """Whose sessions these are, and how long one stays open."""

    customer_id: int
    cookie: str
    deployment_id: str
    deployment_name: str
    timeout: timedelta
    short_id_length: int


def figure_columns(wire: dict[str, Any]) -> dict[str, str | None]:
    """referrer_medium and campaign_name: state's referrer.medium and mktCampaign.name, cut to the column
    length (migration 0009 fills stored rows the same way)."""

    def field(part: str, name: str) -> str | None:
        value = (wire.get(part) or {}).get(name)
        return None if value is None else str(value)[:FIGURE_LENGTH]

    return {"referrer_medium": field("referrer", "medium"), "campaign_name": field("mktCampaign", "name")}


class SessionWriter:
    def __init__(self, db: DBSession, organization_id: int, now: datetime) -> None:
        self.db, self.organization_id, self.now = db, organization_id, now
        self.inserts: list[tuple[SessionState, Owner]] = []
        self.updates: list[SessionState] = []
        self.deleted: list[SessionState] = []

    def write(self, final: list[SessionState], dropped: list[SessionState], owner: Owner) -> None:
        """Collect a customer's sessions (the new ones get their UUID and shortId now)."""
        self.deleted += dropped
        for session in final:
            open_until = session.last_date + owner.timeout
            if session.row_id is None:
                session.uuid = str(uuid.uuid4())
                session.short_id = shortids.claim(
                    self.db, self.organization_id, session.uuid, owner.short_id_length, open_until, self.now
                )
                self.inserts.append((session, owner))
            else:
                assert session.uuid is not None
                assert session.short_id is not None
                session.short_id = shortids.keep(
                    self.db,
                    self.organization_id,
                    session.uuid,
                    session.short_id,
                    owner.short_id_length,
                    open_until,
                    self.now,
                )
                self.updates.append(session)

    def flush(self) -> None:
        """Write everything collected."""
        self._delete()
        self._insert()
        self._update()

    def _delete(self) -> None:
        ids = [s.row_id for s in self.deleted if s.row_id is not None]
        for start in range(0, len(ids), _CHUNK):
            self.db.execute(delete(_SESSIONS).where(_SESSIONS.c.id.in_(ids[start : start + _CHUNK])))
        shortids.release(self.db, self.organization_id, [s.uuid for s in self.deleted if s.uuid])

    def _session_columns(self, session: SessionState) -> dict[str, Any]:
        return {
            "timestamp": session.created,
            "duration": float(session.duration),
            "started_at": session.created,
            "first_event_at": session.created,
            "last_event_at": session.last_date,
            "ended_at": session.ended,
            "event_count": session.event_count,
            "updated_at": self.now,
        }

    @staticmethod
    def _journey_columns(session: SessionState) -> dict[str, Any]:
        return {
            "short_id": session.short_id,
            "created_date": session.created,
            "first_event_id": session.first_event_id,
            "last_event_date": session.last_date,
            "last_event_id": session.last_event_id,
            "ended_date": session.ended,
            "event_count": session.event_count,
            "pageview_count": session.pageview_count,
            "screenview_count": session.screenview_count,
            "authenticated": session.authenticated,
            "state": session.wire,
            **figure_columns(session.wire),
        }

    def _insert(self) -> None:
        if not self.inserts:
            return
        rows = [
            {
                "organization_id": self.organization_id,
                "session_type": session.type,
                "channel_manager_service": SERVICE,
                "channel_manager_type": session.type,
                "channel_manager_sid": session.uuid,
                "source": owner.cookie,
                "target": owner.deployment_name,
                "field_versions": {},
                **self._session_columns(session),
            }
            for session, owner in self.inserts
        ]
        stmt = _SESSIONS.insert().returning(_SESSIONS.c.id, sort_by_parameter_order=True)
        ids = list(self.db.execute(stmt, rows).scalars())
        journey_rows = []
        for (session, owner), row_id in zip(self.inserts, ids, strict=True):
            session.row_id = row_id
            journey_rows.append(
                {
                    "session_id": row_id,
                    "organization_id": self.organization_id,
                    "uuid": session.uuid,
                    "deployment_id": owner.deployment_id,
                    "customer_id": owner.customer_id,
                    "type": session.type,
                    **self._journey_columns(session),
                }
            )
        self.db.execute(_JSESSIONS.insert(), journey_rows)

    def _update(self) -> None:
        if not self.updates:
            return
        sessions = [{"_id": s.row_id, **self._session_columns(s)} for s in self.updates]
        journeys = [{"_id": s.row_id, **self._journey_columns(s)} for s in self.updates]
        for table, key, params in ((_SESSIONS, "id", sessions), (_JSESSIONS, "session_id", journeys)):
            names = [name for name in params[0] if name != "_id"]
            stmt = update(table).where(table.c[key] == bindparam("_id"))
            stmt = stmt.values({name: bindparam(name) for name in names})
            self.db.connection().execute(stmt, params)
