"""Native batch ingest: POST /api/v1/ingest/events."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from sessionary.api.bodies import json_body, request_body_openapi
from sessionary.api.syllable import error_responses
from sessionary.errors import PayloadTooLarge
from sessionary.gate import Gate
from sessionary.ingest import service
from sessionary.ingest.schemas import IngestBatch, IngestResult
from sessionary.siblings import Siblings
from sessionary.tenancy.deps import Ingester, WriteDB

EVENTS_PATH = "/api/v1/ingest/events"
Batch = Annotated[IngestBatch, Depends(json_body(IngestBatch))]


async def _whole_body(request: Request) -> None:
    """Read the body (under the read deadline of body_limit.py); Starlette keeps it for `Batch`."""
    await request.body()


WholeBody = Annotated[None, Depends(_whole_body)]


def build_router(*, max_events: int, concurrency: int, siblings: Siblings | None = None) -> APIRouter:
    """The ingest router; a batch of more than `max_events` events is refused with 413; at most
    `concurrency` batches are worked on at once in this process (gate.py), balanced with `siblings`."""
    router = APIRouter(tags=["ingest"])
    gated = Depends(Gate(concurrency, siblings=siblings).hold, scope="function")

    @router.post(
        EVENTS_PATH,
        response_model=IngestResult,
        operation_id="ingest_events",
        responses=error_responses(413, 422),
        openapi_extra=request_body_openapi(IngestBatch),
    )
    def ingest_events(
        principal: Ingester, _body: WholeBody, _gate: Annotated[None, gated], batch: Batch, db: WriteDB
    ) -> IngestResult:
        """Store a batch of events, all or nothing; events already stored are counted as duplicates."""
        # In this order (FastAPI solves the parameters in turn): the key (401/403 before any body is read),
        # the whole body (under the read deadline), the gate, the batch parsed from the bytes (one parsed
        # batch per process at a time, so memory stays bounded), and only then the write transaction.
        if len(batch.events) > max_events:
            raise PayloadTooLarge(
                f"events: {len(batch.events)} events in one request; the limit is {max_events}, "
                "send them in several batches"
            )
        return service.ingest_events(db, organization_id=principal.organization_id, events=batch.events)

    return router
