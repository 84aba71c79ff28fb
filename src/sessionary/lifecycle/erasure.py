"""Erase a person: every session of theirs, their journey contacts and customers, and an audit entry.

Found in a read transaction (the scan of `source`/`target` over the organization's sessions runs there, not
under the write lock), then deleted in write transactions: one for the API (at most `cap` sessions), batches
for the CLI. The last transaction looks up the journey customers' sessions again (a visit that arrived in
between goes too), deletes the journey records through journey's store and records the audit entry, which
holds the kind, the counts and a salted hash of the identifier (lifecycle/proof.py), never the identifier.
Blobs of deleted recordings are handed to `drained` after each commit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.orm import Session as DBSession

from sessionary.audit import service as audit
from sessionary.db import Database, session_scope
from sessionary.journey.store import erasure as journey_erasure
from sessionary.lifecycle import deletion, erasure_scan
from sessionary.lifecycle.proof import Target, proof_of, target_of
from sessionary.sessions.models import Session

SESSION_KINDS = ("voice", "chat", "web", "app", "other")
_CHUNK = 500
Drain = Callable[[list[str]], None]


@dataclass(frozen=True)
class Found:
    """A person's sessions and journey records, as a read transaction saw them."""

    person: journey_erasure.Person
    session_ids: list[int]  # calls, chats and other sessions naming the person
    visit_ids: list[int]  # web/app sessions of their customers
    sessions: dict[str, int]  # per SESSION_KINDS, of both


@dataclass(frozen=True)
class Erased:
    """What an erasure deleted, and its proof (the audit entry's salted hash)."""

    kind: str
    sessions: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SESSION_KINDS, 0))
    events: int = 0
    recordings: int = 0
    contacts: int = 0
    customers: int = 0
    journey_events: int = 0
    proof: str = ""

    def counts(self) -> dict[str, object]:
        """The counts, as the audit entry holds them."""
        return {
            "sessions": dict(self.sessions),
            "events": self.events,
            "recordings": self.recordings,
            "contacts": self.contacts,
            "customers": self.customers,
            "journey_events": self.journey_events,
        }


def erase_person(
    database: Database,
    *,
    actor: audit.Actor,
    given: Mapping[str, str | None],
    region: str,
    cap: int,
    drained: Drain,
) -> Erased:
    """The API's erasure: one identifier of `given`, at most `cap` sessions (Conflict above), one write."""
    target = target_of(given, region=region)
    found = find(database, organization_id=actor.organization_id, target=target, region=region, cap=cap)
    return erase(database, actor=actor, target=target, found=found, batch=max(cap, 1), drained=drained)


def find(database: Database, *, organization_id: int, target: Target, region: str, cap: int | None) -> Found:
    """The person's sessions and journey records (Conflict when more than `cap` sessions), read only."""
    with session_scope(database.reader) as db:
        named = [(target.kind, target.value)] if target.kind in ("phone", "email") else []
        who = journey_erasure.person(
            db,
            organization_id=organization_id,
            identifiers=named,
            cookie=target.value if target.kind == "customer_cookie_id" else None,
            contact_id=target.value if target.kind == "contact_id" else None,
        )
        wanted = {*named, *who.identifiers}
        ids = set(
            erasure_scan.sessions_named(
                db,
                organization_id=organization_id,
                phones=[value for kind, value in wanted if kind == "phone"],
                emails=[value for kind, value in wanted if kind == "email"],
                region=region,
                cap=cap,
            )
        )
        visits = journey_erasure.sessions_of(db, organization_id=organization_id, customers=who.customers)
        visit_ids = {session_id for session_id, _ in visits}
        if cap is not None and len(ids | visit_ids) > cap:
            raise erasure_scan.too_many(cap)
        kinds = kinds_of(db, organization_id=organization_id, session_ids=sorted(ids | visit_ids))
        naming = sorted(set(kinds) - visit_ids)
        return Found(who, naming, sorted(visit_ids & set(kinds)), _per_kind(kinds.values()))


def erase(
    database: Database, *, actor: audit.Actor, target: Target, found: Found, batch: int, drained: Drain
) -> Erased:
    """Delete what `find` found, `batch` calls and chats per transaction; the last one also deletes the
    web/app visits, the journey records and records the audit entry. Blob keys go to `drained` after each
    commit."""
    erased = Erased(target.kind, proof=proof_of(target))  # ~50 ms of scrypt, not under the write lock
    ids = found.session_ids
    head, last = ids[: max(len(ids) - batch, 0)], ids[max(len(ids) - batch, 0) :]
    for start in range(0, len(head), batch):
        with session_scope(database.writer) as db:
            erased, keys = _delete(db, actor.organization_id, head[start : start + batch], erased)
        drained(keys)
    with session_scope(database.writer) as db:
        erased, keys = _finish(db, actor, target, found.person, last, erased)
    drained(keys)
    return erased


def _finish(
    db: DBSession,
    actor: audit.Actor,
    target: Target,
    who: journey_erasure.Person,
    ids: Sequence[int],
    erased: Erased,
) -> tuple[Erased, list[str]]:
    org = actor.organization_id
    visits = journey_erasure.sessions_of(db, organization_id=org, customers=who.customers)
    journey = journey_erasure.measure(db, organization_id=org, who=who)
    erased, keys = _delete(db, org, sorted({*ids, *(sid for sid, _ in visits)}), erased)
    journey_erasure.erase(db, organization_id=org, who=who, session_uuids=[uuid for _, uuid in visits])
    erased = replace(
        erased,
        contacts=journey.contacts,
        customers=journey.customers,
        journey_events=journey.journey_events,
    )
    details = {"kind": target.kind, "proof": erased.proof, **erased.counts()}
    audit.record(db, actor=actor, action="erasure", details=details)
    return erased, keys


def _delete(
    db: DBSession, organization_id: int, ids: Sequence[int], erased: Erased
) -> tuple[Erased, list[str]]:
    kinds = kinds_of(db, organization_id=organization_id, session_ids=ids)
    if not kinds:
        return erased, []
    deleted = deletion.delete_sessions(db, organization_id=organization_id, session_ids=sorted(kinds))
    sessions = Counter(erased.sessions)
    sessions.update(_per_kind(kinds.values()))
    changed = replace(
        erased,
        sessions={kind: sessions[kind] for kind in SESSION_KINDS},
        events=erased.events + deleted.events,
        recordings=erased.recordings + deleted.recordings,
    )
    return changed, list(deleted.blob_keys)


def kinds_of(db: DBSession, *, organization_id: int, session_ids: Sequence[int]) -> dict[int, str]:
    """session id -> session_type, for those of the ids that are the organization's sessions."""
    found: dict[int, str] = {}
    for start in range(0, len(session_ids), _CHUNK):
        chunk = session_ids[start : start + _CHUNK]
        stmt = select(Session.id, Session.session_type).where(
            Session.organization_id == organization_id, Session.id.in_(chunk)
        )
        found.update((int(sid), str(kind)) for sid, kind in db.execute(stmt))
    return found


def _per_kind(kinds: Iterable[str]) -> dict[str, int]:
    counted = Counter(kind if kind in SESSION_KINDS else "other" for kind in kinds)
    return {kind: counted[kind] for kind in SESSION_KINDS}
