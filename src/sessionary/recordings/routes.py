"""Recordings: upload (native ingest), and the Syllable recording URLs and stream."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from sessionary.api.syllable import error_responses
from sessionary.db import Database, session_scope
from sessionary.errors import Forbidden
from sessionary.recordings import service, stream, upload
from sessionary.recordings.blobs import BlobStore
from sessionary.recordings.links import STREAM_PATH, token_signer
from sessionary.recordings.schemas import RecordingStored, SessionRecordingResponse
from sessionary.recordings.stores import app_blob_store
from sessionary.recordings.tokens import TokenSigner
from sessionary.tenancy.deps import DB, BearerCreds, Ingester, KeyHeader, Reader, authenticate_request

RECORDINGS_PATH = "/api/v1/ingest/recordings"

_UPLOAD_SCHEMA = {
    "type": "object",
    "required": ["channel_manager_service", "channel_manager_sid", "file"],
    "properties": {
        "channel_manager_service": {"type": "string", "minLength": 1, "maxLength": 200},
        "channel_manager_sid": {"type": "string", "minLength": 1, "maxLength": 200},
        "file": {"type": "string", "format": "binary", "description": "The audio, any format"},
    },
}
_UPLOAD_BODY = {
    "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": _UPLOAD_SCHEMA}}}
}


def blob_store(request: Request) -> BlobStore:
    """The app's blob store, opened on first use."""
    return app_blob_store(request.app.state)


Blobs = Annotated[BlobStore, Depends(blob_store)]
Signer = Annotated[TokenSigner, Depends(token_signer)]
router = APIRouter()


@router.post(
    RECORDINGS_PATH,
    response_model=RecordingStored,
    operation_id="ingest_recording",
    tags=["ingest"],
    responses=error_responses(413, 422),
    openapi_extra=_UPLOAD_BODY,
)
async def ingest_recording(request: Request, principal: Ingester, store: Blobs) -> RecordingStored:
    """Upload a session's recording (multipart: channel_manager_service, channel_manager_sid, file)."""
    received = await upload.receive(request, store, limit=request.app.state.settings.recording_max_bytes)
    return await run_in_threadpool(_attach, request.app.state.db, store, principal.organization_id, received)


def _attach(
    database: Database, store: BlobStore, organization_id: int, received: upload.Upload
) -> RecordingStored:
    """Record the uploaded blob in a transaction of its own, opened only now (no lock during the upload)."""
    try:
        with session_scope(database.writer) as db:
            attached = service.attach(
                db,
                organization_id=organization_id,
                channel_manager_service=received.fields.channel_manager_service,
                channel_manager_sid=received.fields.channel_manager_sid,
                blob=received.blob,
                filename=received.filename,
                content_type=received.content_type,
            )
    except BaseException:
        store.delete(received.blob.key)
        raise
    if attached.duplicate:
        store.delete(received.blob.key)
    recording = attached.recording
    return RecordingStored(
        id=recording.id,
        session_id=str(recording.session_id),
        size=recording.size,
        sha256=recording.sha256,
        duplicate=attached.duplicate,
    )


@router.post(
    "/api/v1/sessions/recording/{session_id}",
    response_model=SessionRecordingResponse,
    operation_id="generate_session_recording_urls",
    tags=["sessions"],
    responses=error_responses(404),
)
def generate_session_recording_urls(
    request: Request, db: DB, principal: Reader, signer: Signer, session_id: str
) -> SessionRecordingResponse:
    """Signed, expiring URLs streaming each of the session's recordings."""
    recordings = service.session_recordings(
        db, organization_id=principal.organization_id, session_id=session_id
    )
    base = request.url_for("session_recording_stream")
    urls = [
        str(
            base.include_query_params(
                token=signer.issue(organization_id=r.organization_id, recording_id=r.id)
            )
        )
        for r in recordings
    ]
    return SessionRecordingResponse(session_id=session_id, recordings=urls)


@router.get(
    STREAM_PATH,
    operation_id="session_recording_stream",
    tags=["sessions"],
    response_class=stream.OctetStreamResponse,
    responses=stream.openapi_responses(error_responses(404)),
)
def session_recording_stream(
    request: Request, db: DB, key: KeyHeader, creds: BearerCreds, signer: Signer, store: Blobs, token: str
) -> Response:
    """The recording a token grants, whole or one HTTP Range of it. The token alone authorizes (a browser
    audio element sends no API key); an API key, if sent, must belong to the token's organization."""
    grant = signer.verify(token)
    if key or creds:
        caller = authenticate_request(request, db, key=key or (creds.credentials if creds else None))
        if caller.organization_id != grant.organization_id:
            raise Forbidden("This API key belongs to another organization than the recording")
    recording = service.granted_recording(
        db, organization_id=grant.organization_id, recording_id=grant.recording_id
    )
    headers = request.headers
    return stream.respond(
        store, recording, range_header=headers.get("range"), if_range=headers.get("if-range")
    )
