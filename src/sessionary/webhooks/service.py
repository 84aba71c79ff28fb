"""One verified delivery, mapped, stored in one transaction: its events through the ingest service
(idempotent by their provider-made ids, in any order), the provider's verdict as a label of the session, and
its recordings queued for the fetch worker (`recordings.fetchjobs`, one job per recording however often it is
reported)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session as DBSession

from sessionary.db_types import utcnow
from sessionary.errors import InvalidRequest, PayloadTooLarge
from sessionary.ingest import service as ingest
from sessionary.labels import service as labels
from sessionary.labels.schemas import SessionLabelCreate
from sessionary.recordings import fetchjobs
from sessionary.sessions import store as sessions_store
from sessionary.webhooks.mapping.common import VERDICT_EMAIL, Mapped, RecordingRef

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Integration:
    """The integration a webhook URL names, as a delivery needs it (read before the body)."""

    id: int
    organization_id: int
    provider: str
    sealed_secret: str


@dataclass(frozen=True)
class Stored:
    inserted: int
    duplicates: int
    recordings: int
    skipped: list[str] = field(default_factory=list)  # recordings not queued, and why

    def answer(self) -> dict[str, Any]:
        return {
            "inserted": self.inserted,
            "duplicates": self.duplicates,
            "recordings": self.recordings,
            "skipped_recordings": self.skipped,
        }


def check_size(mapped: Mapped, *, max_events: int) -> None:
    """A delivery mapping to more events than one ingest batch may hold is refused whole (413)."""
    if len(mapped.events) > max_events:
        raise PayloadTooLarge(
            f"the delivery maps to {len(mapped.events)} events; at most {max_events} "
            "(SESSIONARY_INGEST_MAX_EVENTS) are stored from one delivery"
        )


def store(db: DBSession, *, integration: Integration, mapped: Mapped) -> Stored:
    """Store a mapped delivery for the integration's organization (the caller commits)."""
    organization_id = integration.organization_id
    result = ingest.ingest_events(db, organization_id=organization_id, events=mapped.events)
    if mapped.verdict is not None:  # the session exists: its events were just stored (or were before)
        key = (mapped.service, mapped.sid)
        session_id = sessions_store.ensure_placeholder(
            db, organization_id=organization_id, key=key, at=utcnow()
        )
        body = SessionLabelCreate(
            session_id=session_id,
            type="auto-rating",
            code=mapped.verdict.code,
            user_email=VERDICT_EMAIL.format(provider=mapped.provider),
            comments=mapped.verdict.comments,
            issue_categories=list(mapped.verdict.categories),
        )
        labels.add_machine_label(db, organization_id=organization_id, body=body)
    skipped = [
        problem
        for ref in mapped.recordings
        if (problem := _enqueue(db, integration=integration, mapped=mapped, ref=ref)) is not None
    ]
    return Stored(result.inserted, result.duplicates, len(mapped.recordings) - len(skipped), skipped)


def _enqueue(db: DBSession, *, integration: Integration, mapped: Mapped, ref: RecordingRef) -> str | None:
    """The recording's fetch job; a URL the fetcher would never take (not http(s), credentials, too long)
    is skipped, named in the answer and the log, rather than refusing the delivery: the call's transcript
    must not be lost for its recording (Vapi does not send a refused report again). None when queued."""
    try:
        fetchjobs.enqueue(
            db,
            organization_id=integration.organization_id,
            channel_manager_service=mapped.service,
            channel_manager_sid=mapped.sid,
            provider=mapped.provider,
            source_key=ref.source_key,
            url=ref.url,
            auth_user=ref.auth_user,
            integration_id=integration.id,
            filename=ref.filename,
            content_type=ref.content_type,
        )
    except InvalidRequest as exc:
        problem = f"{ref.origin}: {exc.detail}"
        log.warning(
            "webhook %s integration %d: recording skipped: %s", mapped.provider, integration.id, problem
        )
        return problem
    return None
