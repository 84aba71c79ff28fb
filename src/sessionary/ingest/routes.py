"""Native batch ingest: POST /api/v1/ingest/events."""

from typing import Annotated

from fastapi import APIRouter, Depends

from sessionary.api.bodies import json_body, request_body_openapi
from sessionary.api.syllable import error_responses
from sessionary.errors import PayloadTooLarge
from sessionary.ingest import service
from sessionary.ingest.schemas import IngestBatch, IngestResult
from sessionary.tenancy.deps import Ingester, WriteDB

EVENTS_PATH = "/api/v1/ingest/events"
Batch = Annotated[IngestBatch, Depends(json_body(IngestBatch))]


def build_router(*, max_events: int) -> APIRouter:
    """The ingest router; a batch of more than `max_events` events is refused with 413."""
    router = APIRouter(tags=["ingest"])

    @router.post(
        EVENTS_PATH,
        response_model=IngestResult,
        operation_id="ingest_events",
        responses=error_responses(413, 422),
        openapi_extra=request_body_openapi(IngestBatch),
    )
    def ingest_events(db: WriteDB, principal: Ingester, batch: Batch) -> IngestResult:
        """Store a batch of events, all or nothing; events already stored are counted as duplicates."""
        if len(batch.events) > max_events:
            raise PayloadTooLarge(
                f"events: {len(batch.events)} events in one request; the limit is {max_events}, "
                "send them in several batches"
            )
        return service.ingest_events(db, organization_id=principal.organization_id, events=batch.events)

    return router
