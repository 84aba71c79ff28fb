"""What the demo adds after its sessions: recordings of the recent calls, human labels, and the analysis
(auto-rating labels and summaries), so every endpoint of a session shows something real."""

from __future__ import annotations

import random

from sqlalchemy import select
from sqlalchemy.orm import Session as DBSession

from sessionary.analysis import service as analysis
from sessionary.db import Database, session_scope
from sessionary.labels import service as labels
from sessionary.labels.schemas import SessionLabelCreate
from sessionary.recordings import service as recordings
from sessionary.recordings.audio import tone_wav
from sessionary.recordings.blobs import BlobStore
from sessionary.sessions.models import Session

# A few distinct tones (a real deployment uploads the call audio); generated once, reused per call.
_TONES = (330.0, 392.0, 440.0, 523.25)
_COMMENTS = {
    "GOOD": "Resolved on the first try.",
    "OK": "Got there, but the caller had to repeat themselves.",
    "BAD": "The caller left without an answer.",
}


def add_extras(
    database: Database, store: BlobStore, *, organization_id: int, recordings_count: int, labels_count: int
) -> int:
    """Attach recordings and human labels to the newest demo sessions, then analyze every ended session."""
    tones = [tone_wav(seconds=3.0, frequency=f) for f in _TONES]
    with session_scope(database.writer) as db:
        calls = _newest(db, organization_id, session_type="voice", limit=recordings_count)
        for n, (service, sid, _id) in enumerate(calls):
            recordings.store_recording(
                db,
                store,
                organization_id=organization_id,
                channel_manager_service=service,
                channel_manager_sid=sid,
                chunks=[tones[n % len(tones)]],
                filename=f"{sid}.wav",
                content_type="audio/wav",
            )
    done = analysis.process_due(database, organization_id=organization_id)
    # Human labels after the analysis, so they are the newest (a human label wins over an auto one).
    rng = random.Random(7)
    with session_scope(database.writer) as db:
        for _service, _sid, session_id in _newest(db, organization_id, session_type=None, limit=labels_count):
            code = rng.choice(("GOOD", "GOOD", "OK", "BAD"))
            body = SessionLabelCreate(
                session_id=session_id,
                type="human-rating",
                code=code,
                user_email="reviewer@demo.example",
                comments=_COMMENTS[code],
                issue_categories=[] if code == "GOOD" else ["Caller repeated the request"],
            )
            labels.create_label(db, organization_id=organization_id, body=body)
    return done


def _newest(
    db: DBSession, organization_id: int, *, session_type: str | None, limit: int
) -> list[tuple[str, str, int]]:
    stmt = select(Session.channel_manager_service, Session.channel_manager_sid, Session.id).where(
        Session.organization_id == organization_id
    )
    if session_type is not None:
        stmt = stmt.where(Session.session_type == session_type)
    rows = db.execute(stmt.order_by(Session.timestamp.desc()).limit(limit))
    return [(service, sid, session_id) for service, sid, session_id in rows]
