"""Writes derived journey sessions in a few statements per batch: DELETE the replaced ones, INSERT the new
ones (their `session` rows through sessions.store, which gives them their ids, then their `journey_session`
rows), UPDATE the kept ones. Each is one statement for the batch (an executemany for the updates; COPY for
an import's inserts), and on PostgreSQL the journey_session rows and the updates go out together
(fastsql.pipelined). shortIds are taken (or kept) as sessions are collected."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import Column, Table
from sqlalchemy.orm import Session as DBSession

from sessionary.fastsql import FastSQL
from sessionary.journey import ids
from sessionary.journey.models import JourneySession
from sessionary.journey.store import shortids
from sessionary.journey.store.sessionize import SessionState
from sessionary.sessions import store as sessions_store
from sessionary.sessions.models import JOURNEY_SERVICE

SERVICE = JOURNEY_SERVICE  # channel_manager_service of every journey session row
_JOURNEY_SESSIONS = cast(Table, JourneySession.__table__)
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
        self.raw = FastSQL(db)
        self.inserts: list[tuple[SessionState, Owner]] = []
        self.updates: list[SessionState] = []
        self.deleted: list[SessionState] = []
        self.wanted: list[shortids.Wanted] = []

    def write(self, final: list[SessionState], dropped: list[SessionState], owner: Owner) -> None:
        """Collect a customer's sessions (the new ones get their UUID now, every one its shortId at flush)."""
        self.deleted += dropped
        for session in final:
            self.wanted.append(
                shortids.Wanted(
                    session.uuid or ids.new_uuid(),
                    session.short_id,
                    owner.short_id_length,
                    session.last_date + owner.timeout,
                )
            )
            session.uuid = self.wanted[-1].holder
            if session.row_id is None:
                self.inserts.append((session, owner))
            else:
                self.updates.append(session)

    def _short_ids(self) -> None:
        numbers = shortids.assign(self.db, self.organization_id, self.wanted, self.now)
        for session in [s for s, _ in self.inserts] + self.updates:
            assert session.uuid is not None
            session.short_id = numbers[session.uuid]

    def flush(self) -> None:
        """Write everything collected (the `journey_session` rows and the updates in one round trip)."""
        self._delete()
        self._short_ids()
        self._insert_sessions()
        with self.raw.pipelined(len(self.inserts)):
            self._insert_journey_sessions()
            self._update()

    def _delete(self) -> None:
        sessions_store.delete(self.db, [s.row_id for s in self.deleted if s.row_id is not None])
        shortids.release(self.db, self.organization_id, [s.uuid for s in self.deleted if s.uuid])

    @staticmethod
    def _session_columns(session: SessionState, start: bool = True) -> dict[str, Any]:
        """The `session` columns a session decides (`start`: with its start's)."""
        columns: dict[str, Any] = {"timestamp": session.created} if start else {}
        columns["duration"] = float(session.duration)
        if start:
            columns["started_at"] = columns["first_event_at"] = session.created
        columns["last_event_at"] = session.last_date
        columns["ended_at"] = session.ended
        columns["event_count"] = session.event_count
        return columns

    def _journey_columns(self, session: SessionState, start: bool = True) -> dict[str, Any]:
        """The `journey_session` columns a session decides, in the driver's form."""
        when = self.raw.when
        columns: dict[str, Any] = {"short_id": session.short_id}
        if start:
            columns["created_date"] = when(session.created)
        columns["first_event_id"] = session.first_event_id
        columns["last_event_date"] = when(session.last_date)
        columns["last_event_id"] = session.last_event_id
        columns["ended_date"] = when(session.ended)
        columns["event_count"] = session.event_count
        columns["pageview_count"] = session.pageview_count
        columns["screenview_count"] = session.screenview_count
        columns["authenticated"] = session.authenticated
        columns["state"] = self.raw.json(session.wire)
        columns.update(figure_columns(session.wire))
        return columns

    def _insert_sessions(self) -> None:
        """The new sessions' `session` rows (through sessions.store, which gives them their ids)."""
        if not self.inserts:
            return
        rows = []
        for session, owner in self.inserts:
            row = {
                "organization_id": self.organization_id,
                "session_type": session.type,
                "channel_manager_service": SERVICE,
                "channel_manager_type": session.type,
                "channel_manager_sid": session.uuid,
                "source": owner.cookie,
                "target": owner.deployment_name,
                "field_versions": {},
                "updated_at": self.now,
            }
            row.update(self._session_columns(session))
            rows.append(row)
        ids = sessions_store.insert(self.db, rows)
        for (session, _owner), row_id in zip(self.inserts, ids, strict=True):
            session.row_id = row_id

    def _insert_journey_sessions(self) -> None:
        if not self.inserts:
            return
        journey_rows = []
        for session, owner in self.inserts:
            journey_row = {
                "session_id": session.row_id,
                "organization_id": self.organization_id,
                "uuid": session.uuid,
                "deployment_id": owner.deployment_id,
                "customer_id": owner.customer_id,
                "type": session.type,
            }
            journey_row.update(self._journey_columns(session))
            journey_rows.append(journey_row)
        values = [tuple(row.values()) for row in journey_rows]
        columns = _journey_session_columns(tuple(journey_rows[0]))
        self.raw.insert_rows("INSERT INTO journey_session", columns, values)

    def _update(self) -> None:
        """UPDATE the kept sessions. Those whose start is unchanged (most: new events only extend them) do
        not set the start columns, so SQLite leaves the seven `session` indexes on `timestamp` alone."""
        moved = [s for s in self.updates if s.created != s.stored_created]
        extended = [s for s in self.updates if s.created == s.stored_created]
        for group, start in ((moved, True), (extended, False)):
            if group:
                self._update_group(group, start)

    def _update_group(self, group: list[SessionState], start: bool) -> None:
        changes = [(s.row_id, self._session_columns(s, start)) for s in group if s.row_id is not None]
        sessions_store.update(self.db, changes, now=self.now)
        rows = [self._journey_columns(s, start) for s in group]
        sets = ", ".join(f'"{name}" = {_mark(name)}' for name in rows[0])
        sql = f'UPDATE journey_session SET {sets} WHERE "session_id" = ?'
        self.raw.executemany(sql, [(*row.values(), s.row_id) for row, s in zip(rows, group, strict=True)])


def _mark(name: str) -> str:
    return "?j" if name == "state" else "?"


@cache
def _journey_session_columns(names: tuple[str, ...]) -> list[Column[Any]]:
    """The `journey_session` columns of these names (looked up once per set of names)."""
    return [_JOURNEY_SESSIONS.c[name] for name in names]
