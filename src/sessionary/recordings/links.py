"""Signed links to recordings: the app's token signer, and a session's recordings as stream links (what the
console's audio players load). The stream route itself is in routes.py."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import Request
from sqlalchemy.orm import Session as DBSession

from sessionary.recordings import service
from sessionary.recordings.tokens import SECRET_NAME, TokenSigner, secret_cache

STREAM_PATH = "/api/v1/sessions/recording/stream"


@dataclass(frozen=True)
class RecordingLink:
    """A recording as a page links it: a signed stream URL (relative), a name, and its audio type if any."""

    url: str
    name: str
    mime: str | None


def token_signer(request: Request) -> TokenSigner:
    """The app's token signer; its secret is read (or made) in the database, again after a rotation."""
    state = request.app.state
    secret = secret_cache(state).get(SECRET_NAME)
    signer: TokenSigner | None = getattr(state, "token_signer", None)
    if signer is None or signer.secret != secret:
        signer = state.token_signer = TokenSigner(secret, ttl=state.settings.recording_token_ttl)
    return signer


def stream_links(
    db: DBSession, *, organization_id: int, session_id: int, signer: TokenSigner
) -> list[RecordingLink]:
    """The session's recordings, oldest first, each with a signed stream URL (NotFound for an unknown
    session or another organization's)."""
    found = service.session_recordings(db, organization_id=organization_id, session_id=str(session_id))
    links = []
    for r in found:
        token = signer.issue(organization_id=r.organization_id, recording_id=r.id)
        audio = r.content_type if r.content_type and r.content_type.startswith("audio/") else None
        links.append(
            RecordingLink(
                f"{STREAM_PATH}?{urlencode({'token': token})}", r.filename or f"recording {r.id}", audio
            )
        )
    return links
