"""The one writer of the `session` table: native ingest, journey, recordings and labels write sessions here.

A session is keyed by (organization, channel_manager_service, channel_manager_sid). Native ingest and
recordings first make an empty placeholder for a new key (one definition, `placeholder`), which events fold
into later; journey inserts its derived sessions whole. Every statement goes through fastsql: the batches
are thousands of rows, and SQLAlchemy's per-row work cost more than the database's. Values are passed as
Python values (aware datetimes, dicts for JSON) and put in the driver's form here, by the columns' types.
Only `set_label` works on a loaded ORM object instead: its callers hold the session as one already.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import Column, Table
from sqlalchemy.orm import Session as DBSession

from sessionary.fastsql import FastSQL, is_sqlite
from sessionary.sessions.models import Session

SessionKey = tuple[str, str]  # (channel_manager_service, channel_manager_sid)
State = dict[str, Any]  # a session's columns by name
_TABLE = cast(Table, Session.__table__)
_KEY = ("id", "channel_manager_service", "channel_manager_sid")
_CHUNK = 400  # ids per IN (...) list: well under every database's parameter limit


def placeholder(organization_id: int, key: SessionKey, at: datetime, now: datetime | None) -> State:
    """The row of a session known only by its key: empty, dated `at` (its first event), written `now` (None:
    the caller sets it before the row is written)."""
    return {
        "organization_id": organization_id,
        "channel_manager_service": key[0],
        "channel_manager_sid": key[1],
        "session_type": "other",
        "timestamp": at,
        "first_event_at": at,
        "last_event_at": at,
        "event_count": 0,
        "field_versions": {},
        "updated_at": now,
    }


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PLACEHOLDER_COLUMNS = tuple(placeholder(0, ("", ""), _EPOCH, _EPOCH))
_NEW = (
    f"INSERT INTO session ({', '.join(_PLACEHOLDER_COLUMNS)})"
    f" VALUES ({', '.join(FastSQL.mark(_TABLE.c[name]) for name in _PLACEHOLDER_COLUMNS)})"
    " ON CONFLICT (organization_id, channel_manager_service, channel_manager_sid) DO NOTHING"
)
_NEW_WITH_ID = (
    f"INSERT INTO session (id, {', '.join(_PLACEHOLDER_COLUMNS)})"
    f" VALUES (?, {', '.join(FastSQL.mark(_TABLE.c[name]) for name in _PLACEHOLDER_COLUMNS)})"
    " ON CONFLICT (organization_id, channel_manager_service, channel_manager_sid) DO NOTHING"
)
_ID_OF = (
    "SELECT id FROM session"
    " WHERE organization_id = ? AND channel_manager_service = ? AND channel_manager_sid = ?"
)


def create_placeholders(
    db: DBSession, *, organization_id: int, first_seen: Mapping[SessionKey, datetime], now: datetime
) -> None:
    """A placeholder for each key not stored yet (a key stored meanwhile is left as it is)."""
    raw = FastSQL(db)
    writers = raw.writers([_TABLE.c[name] for name in _PLACEHOLDER_COLUMNS])
    rows = [
        _encoded(writers, placeholder(organization_id, key, at, now).values())
        for key, at in first_seen.items()
    ]
    if raw.sqlite:
        # SQLite would give a deleted newest session's id again: ids up front, above every deleted one.
        ids = raw.allocate_ids("session", len(rows))
        raw.executemany(_NEW_WITH_ID, [(new_id, *row) for new_id, row in zip(ids, rows, strict=True)])
        return
    raw.executemany(_NEW, rows)


def ensure_placeholder(db: DBSession, *, organization_id: int, key: SessionKey, at: datetime) -> int:
    """The id of the session `key`, created as a placeholder dated `at` if unknown."""
    raw = FastSQL(db)
    found = raw.execute(_ID_OF, (organization_id, *key))
    if not found:
        create_placeholders(db, organization_id=organization_id, first_seen={key: at}, now=at)
        found = raw.execute(_ID_OF, (organization_id, *key))
    return int(found[0][0])


def lock_or_create(
    db: DBSession,
    *,
    organization_id: int,
    keys: Iterable[SessionKey],
    columns: Sequence[str],
    made_columns: Sequence[str],
    make: Callable[[list[SessionKey]], list[tuple[Any, ...]]],
) -> tuple[dict[SessionKey, State], dict[SessionKey, int]]:
    """Lock the stored sessions of these keys (in key order) and create the missing ones whole, from the
    rows `make` gives for them (values of `made_columns`, among them the organization and key, no id; in
    the order of the keys given to it). Returns the stored sessions, locked, each with its id, key and
    `columns`; and the id of each session created. A new session is written once, whole: no placeholder
    to read back and update.

    PostgreSQL: the missing keys are found without locking and created first (ON CONFLICT DO NOTHING, in key
    order), then the others are locked, with those a concurrent transaction created meanwhile. Locking the
    stored ones before creating the others could deadlock: a batch holding the lock of a session another
    batch had just created would wait to create a session that other batch had created but not committed,
    while that batch waited for the lock (seen with two servers under load). A conflicting insert waits only
    for the uncommitted insert of the same key and no row lock is held before the inserts, so there is no
    cycle. SQLite writers are serialized: no deadlock, and every missing key is created."""
    keys = sorted(keys)
    sqlite = is_sqlite(db)
    known = lock(
        db, organization_id=organization_id, keys=keys, columns=columns if sqlite else (), for_update=False
    )
    missing = [key for key in keys if key not in known]
    created = create_rows(db, made_columns, make(missing)) if missing else {}
    if sqlite:
        return known, created
    rest = [key for key in keys if key not in created]
    return lock(db, organization_id=organization_id, keys=rest, columns=columns), created


def lock(
    db: DBSession,
    *,
    organization_id: int,
    keys: Sequence[SessionKey],
    columns: Sequence[str],
    for_update: bool = True,
) -> dict[SessionKey, State]:
    """The stored sessions of these keys, locked (SELECT ... FOR UPDATE, in key order; unless not
    `for_update`), as their id, key and `columns`, read as SQLAlchemy would read them."""
    raw = FastSQL(db)
    names = (*_KEY, *columns)
    readers = raw.readers([_TABLE.c[name] for name in names])
    select = f"SELECT {', '.join(names)} FROM session WHERE organization_id = ? AND "
    order = " ORDER BY channel_manager_service, channel_manager_sid" + (raw.for_update if for_update else "")
    found: dict[SessionKey, State] = {}
    for condition, params in raw.pairs_in("(channel_manager_service, channel_manager_sid)", keys):
        for row in raw.execute(select + condition + order, (organization_id, *params)):
            state = dict(zip(names, _encoded(readers, row), strict=True))
            found[(row[1], row[2])] = state
    return found


def update(db: DBSession, changes: Iterable[tuple[int, Mapping[str, Any]]], *, now: datetime) -> None:
    """Set each session's changed columns (session id, {column: value}) and its updated_at to `now`: one
    fastsql.update_rows per set of changed columns (on PostgreSQL one statement for all their rows)."""
    groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for session_id, change in changes:
        names = tuple(sorted(change))
        groups.setdefault(names, []).append((*[change[name] for name in names], now, session_id))
    if not groups:
        return
    raw = FastSQL(db)
    for names, rows in groups.items():
        columns = _update_columns(names)
        writers = (*raw.writers(columns), None)  # ..., updated_at, id
        raw.update_rows("UPDATE session SET", _TABLE.c.id, columns, [_encoded(writers, row) for row in rows])


@cache
def _update_columns(names: tuple[str, ...]) -> tuple[Column[Any], ...]:
    """The columns an UPDATE of these changed columns sets: them, then updated_at."""
    return tuple(_TABLE.c[name] for name in (*names, "updated_at"))


def insert(db: DBSession, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert whole sessions (each row the same columns, no id); returns their ids, in order, given up
    front (fastsql.allocate_ids) so that one statement (`FastSQL.insert_rows`) inserts them all."""
    if not rows:
        return []
    names, values = _tuples(rows)
    raw = FastSQL(db)
    ids, encoded = _with_ids(raw, names, values)
    raw.insert_rows("INSERT INTO session", _insert_columns(names), encoded)
    return ids


def create(db: DBSession, rows: Sequence[Mapping[str, Any]]) -> dict[SessionKey, int]:
    """Insert new sessions whole, in the order given (key order, as `lock_or_create` creates them), each
    row the same columns with its organization and key, no id; a key stored meanwhile by a concurrent
    transaction is left as it is (ON CONFLICT DO NOTHING). Returns the id of each session inserted."""
    return create_rows(db, *_tuples(rows)) if rows else {}


def create_rows(
    db: DBSession, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> dict[SessionKey, int]:
    """`create` of rows given as the values of `columns` (no dict per row: the ingest's hot path)."""
    if not rows:
        return {}
    names = tuple(columns)
    raw = FastSQL(db)
    ids, values = _with_ids(raw, names, rows)
    inserted = raw.insert_select("INSERT INTO session", _insert_columns(names), values, _ON_KEY)
    key_of = itemgetter(names.index("channel_manager_service"), names.index("channel_manager_sid"))
    keyed = dict(zip(map(key_of, rows), ids, strict=True))
    if inserted == len(rows):
        return keyed
    organization_id = int(rows[0][names.index("organization_id")])
    present = {int(row[0]) for row in _by_ids(raw, organization_id, ids, "")}
    return {key: row_id for key, row_id in keyed.items() if row_id in present}


_ON_KEY = " ON CONFLICT (organization_id, channel_manager_service, channel_manager_sid) DO NOTHING"


def _tuples(rows: Sequence[Mapping[str, Any]]) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    """Rows of the same columns as (their names, each row's values in that order)."""
    names = tuple(rows[0])
    pick = itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
    values = []
    for row in rows:
        if len(row) != len(names):  # (and a missing one is a KeyError)
            raise ValueError(f"session rows differ in their columns: {sorted(row)} and {sorted(names)}")
        values.append(pick(row))
    return names, values


def _with_ids(
    raw: FastSQL, names: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
) -> tuple[list[int], list[tuple[Any, ...]]]:
    """Ids for new sessions (fastsql.allocate_ids) and their rows (values of `names`) in the driver's
    form, id first."""
    # Only the columns with a driver form are converted (each row's other values are taken as they are).
    converted = [(n, c) for n, c in enumerate(raw.writers(_insert_columns(names))) if c is not None]
    ids = raw.allocate_ids("session", len(rows))
    values = []
    for row_id, row in zip(ids, rows, strict=True):
        if len(row) != len(names):
            raise ValueError(f"a session row of {len(row)} values for {len(names)} columns")
        value = [row_id, *row]
        for n, convert in converted:
            value[n] = convert(value[n])
        values.append(tuple(value))
    return ids, values


@cache
def _insert_columns(names: tuple[str, ...]) -> list[Column[Any]]:
    """The columns a session's id and these values go to."""
    return [_TABLE.c[name] for name in ("id", *names)]


def keys_of(db: DBSession, *, organization_id: int, ids: Sequence[int]) -> list[tuple[int, SessionKey]]:
    """The organization's sessions among `ids`, as (id, key), in key order (sorted as `lock_or_create`
    sorts its keys), read without locking: a session's key never changes."""
    rows = _by_ids(FastSQL(db), organization_id, sorted(set(ids)), "")
    return sorted(((int(row[0]), (row[1], row[2])) for row in rows), key=lambda item: item[1])


def lock_ids(
    db: DBSession, *, organization_id: int, ids: Sequence[int]
) -> list[tuple[int, SessionKey, str | None]]:
    """Lock the organization's sessions among `ids` (given in key order: `keys_of`), a chunk after the
    other, each in key order, as `lock` does: a deletion and an ingest never deadlock. Other
    organizations' and unknown ids are left out; each comes as (id, key, conversation_id)."""
    raw = FastSQL(db)
    rows = _by_ids(raw, organization_id, list(ids), raw.for_update)
    return [(int(r[0]), (r[1], r[2]), r[3]) for r in rows]


def _by_ids(raw: FastSQL, organization_id: int, ids: list[int], lock: str) -> list[Sequence[Any]]:
    """(id, service, sid, conversation_id) of the organization's sessions among `ids`, chunk after chunk,
    each chunk in key order."""
    found: list[Sequence[Any]] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        found += raw.execute(
            "SELECT id, channel_manager_service, channel_manager_sid, conversation_id FROM session"
            f" WHERE organization_id = ? AND id IN ({raw.marks(len(chunk))})"
            f" ORDER BY channel_manager_service, channel_manager_sid{lock}",
            (organization_id, *chunk),
        )
    return found


def delete(db: DBSession, ids: Sequence[int]) -> None:
    """Delete these sessions (their events, journey rows, labels... go with them: ON DELETE CASCADE)."""
    if not ids:
        return
    raw = FastSQL(db)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        raw.execute(f"DELETE FROM session WHERE id IN ({raw.marks(len(chunk))})", chunk)


def set_label(session: Session, label_id: int | None) -> None:
    """Make `label_id` the session's current label (labels and analysis decide which; the ORM object is
    loaded already, so the unit of work writes it at the next flush)."""
    session.session_label_id = label_id


def _encoded(converts: Sequence[Any], values: Iterable[Any]) -> tuple[Any, ...]:
    """`values` with each one converted by its column's function (None: as it is)."""
    return tuple([v if c is None else c(v) for c, v in zip(converts, values, strict=True)])
