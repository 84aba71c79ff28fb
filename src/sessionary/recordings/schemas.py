"""Wire forms of the recordings face: the upload's fields and answer, and the Syllable recording URLs."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from sessionary.eventlog.schemas import PathId, Service


class RecordingFields(BaseModel):
    """The text fields of `POST /api/v1/ingest/recordings` (besides the `file` part)."""

    model_config = ConfigDict(extra="ignore")

    channel_manager_service: Service
    channel_manager_sid: PathId


class RecordingStored(BaseModel):
    """The answer to an upload: the recording and the session it belongs to."""

    id: int = Field(description="The recording's id")
    session_id: str = Field(description="The session's id (created as a placeholder if it was not known)")
    size: int = Field(description="Length of the file in bytes")
    sha256: str = Field(description="Hex SHA-256 of the file")
    duplicate: bool = Field(description="True when these bytes were already stored for the session")


class SessionRecordingResponse(BaseModel):
    """Recording URLs for a given session."""

    session_id: str | None = Field(default=None, description="The internal ID of the session")
    recordings: list[str] | None = Field(default=None, description="List of recording URLs")
