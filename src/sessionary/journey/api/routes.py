"""The Genesys-compatible journey reads (Bearer API key with the read scope). Thin: parse, call one
service function, return. The ingest endpoints are served by journey.fastpath."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from sessionary.api.genesys import error_responses
from sessionary.db_types import utcnow
from sessionary.journey.intake.ingest import Enricher
from sessionary.journey.intake.runtime import runtime_of
from sessionary.journey.read import contacts as contact_read
from sessionary.journey.read import sessions as read
from sessionary.journey.wire import responses as wire
from sessionary.journey.wire.paging import PageParams, page_params
from sessionary.tenancy.deps import DB, Reader

Paging = Annotated[PageParams, Depends(page_params)]
IncludeMerged = Annotated[bool, Query(description="Also the sessions of every contact merged with it")]
EventType = Annotated[str | None, Query(alias="eventType", max_length=1000)]


def _enricher(request: Request) -> Enricher:
    return runtime_of(request.app.state).enricher


def build_router() -> APIRouter:
    router = APIRouter(tags=["journey"])

    @router.get(
        "/api/v2/journey/sessions/{sessionId}",
        response_model=wire.Session,
        operation_id="getJourneySession",
        responses=error_responses(404),
        response_model_exclude_none=True,
    )
    def get_journey_session(
        request: Request,
        db: DB,
        principal: Reader,
        sessionId: str,  # noqa: N803
    ) -> wire.Session:
        """One session: a web or app visit, or a conversation (voice/chat) session."""
        return read.get_session(
            db,
            organization_id=principal.organization_id,
            session_id=sessionId,
            now=utcnow(),
            phone_region=_enricher(request).phone_region,
        )

    @router.get(
        "/api/v2/journey/sessions/{sessionId}/events",
        response_model=wire.EventListing,
        operation_id="getJourneySessionEvents",
        responses=error_responses(400, 404),
        response_model_exclude_none=True,
    )
    def get_journey_session_events(
        db: DB,
        principal: Reader,
        sessionId: str,
        paging: Paging,
        eventType: EventType = None,  # noqa: N803
    ) -> wire.EventListing:
        """The session's events, oldest first, a page at a time (follow nextUri)."""
        types = read.event_types(eventType)
        return read.list_events(
            db,
            organization_id=principal.organization_id,
            session_id=sessionId,
            page=paging,
            types=types,
            raw_types=eventType,
        )

    @router.get(
        "/api/v2/journey/sessions/{sessionId}/outcomescores",
        response_model=wire.OutcomeScoresResult,
        operation_id="getJourneySessionOutcomescores",
        responses=error_responses(404),
        response_model_exclude_none=True,
    )
    def get_journey_session_outcomescores(
        db: DB,
        principal: Reader,
        sessionId: str,  # noqa: N803
    ) -> wire.OutcomeScoresResult:
        """Per outcome of the organization: how far the session got towards it (1.0 = achieved)."""
        return read.outcome_scores(db, organization_id=principal.organization_id, session_id=sessionId)

    @router.get(
        "/api/v2/externalcontacts/contacts/{contactId}/journey/sessions",
        response_model=wire.SessionListing,
        operation_id="getExternalcontactsContactJourneySessions",
        responses=error_responses(400, 404),
        response_model_exclude_none=True,
    )
    def get_contact_journey_sessions(
        request: Request,
        db: DB,
        principal: Reader,
        contactId: str,  # noqa: N803
        paging: Paging,
        includeMerged: IncludeMerged = False,  # noqa: N803
    ) -> wire.SessionListing:
        """The contact's web, app and conversation sessions, newest first (follow nextUri)."""
        return contact_read.contact_sessions(
            db,
            organization_id=principal.organization_id,
            contact_id=contactId,
            page=paging,
            include_merged=includeMerged,
            now=utcnow(),
            phone_region=_enricher(request).phone_region,
        )

    return router
