"""The native ingest API's request and response: a batch of events (each one's model is the event log's,
`eventlog.schemas.EventIn`) and what became of it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from sessionary.eventlog.schemas import EventIn


class IngestBatch(BaseModel):
    """A batch of events, stored all or nothing."""

    model_config = ConfigDict(extra="forbid")

    events: list[EventIn]


class IngestResult(BaseModel):
    inserted: int = Field(description="Events stored by this request.")
    duplicates: int = Field(
        description="Events whose event_id was already stored (or repeated in the batch)."
    )
