"""The Genesys-compatible journey face: web/app event ingest (unauthenticated, per deployment) and the
session reads (Bearer API key with the read scope). Thin: parse, call one service function, return."""

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel

from sessionary.api.bodies import json_body, request_body_openapi
from sessionary.api.genesys import error_responses
from sessionary.db_types import utcnow
from sessionary.journey import contact_read, ingest, read, views, wire
from sessionary.journey.batcher import GroupCommit
from sessionary.journey.ingest import DeploymentCache, DeploymentInfo, Enricher, Origin
from sessionary.journey.paging import PageParams, page_params
from sessionary.journey.requests import AppEventRequest, WebEventRequest
from sessionary.tenancy.deps import DB, Reader

DEPLOYMENT_PATH = "/api/v2/journey/deployments/{deploymentId}"
# The two ingest paths (CORS applies to them only).
INGEST_PATH_PATTERN = r"^/api/v2/journey/deployments/[^/]+/(webevents|appevents)$"
WebBody = Annotated[WebEventRequest, Depends(json_body(WebEventRequest))]
AppBody = Annotated[AppEventRequest, Depends(json_body(AppEventRequest))]
Paging = Annotated[PageParams, Depends(page_params)]
IncludeMerged = Annotated[bool, Query(description="Also the sessions of every contact merged with it")]
EventType = Annotated[str | None, Query(alias="eventType", max_length=1000)]


def deployment(request: Request, deploymentId: str) -> DeploymentInfo:  # noqa: N803 (the path's name)
    """The deployment named in the path (404 if unknown), read outside the write transaction."""
    deployments: DeploymentCache = request.app.state.journey_deployments
    return deployments.get(deploymentId)


Deployment = Annotated[DeploymentInfo, Depends(deployment)]


def _origin(request: Request) -> Origin:
    return Origin(
        peer=request.client.host if request.client else None,
        forwarded_for=request.headers.get("x-forwarded-for"),
        user_agent=request.headers.get("user-agent"),
    )


def _enricher(request: Request) -> Enricher:
    enricher: Enricher = request.app.state.journey
    return enricher


def _created(body: BaseModel) -> Response:
    """201 with `body` (camelCase, nulls dropped), serialized once, without FastAPI re-validating it."""
    content = orjson.dumps(body.model_dump(mode="json", exclude_none=True))
    return Response(content=content, status_code=201, media_type="application/json")


def _writes(request: Request) -> GroupCommit:
    writes: GroupCommit = request.app.state.journey_writes
    return writes


def build_router() -> APIRouter:
    router = APIRouter(tags=["journey"])

    @router.post(
        f"{DEPLOYMENT_PATH}/webevents",
        response_model=wire.WebEventResponse,
        status_code=201,
        operation_id="postJourneyDeploymentWebevents",
        responses=error_responses(400, 403, 404, authenticated=False),
        openapi_extra=request_body_openapi(WebEventRequest),
        response_model_exclude_none=True,
    )
    def post_web_event(request: Request, target: Deployment, body: WebBody) -> Response:
        """Record a web event; answers (once it is committed) the event as enriched and its session."""
        now, enricher = utcnow(), _enricher(request)
        ingest.check_age(body.created_date, now, enricher)
        incoming = ingest.web_event(body, target, _origin(request), enricher)
        session = _writes(request).submit(target.organization_id, incoming)
        event = incoming.event
        return _created(views.web_response(event.payload, session, event.created))

    @router.post(
        f"{DEPLOYMENT_PATH}/appevents",
        response_model=wire.AppEventResponse,
        status_code=201,
        operation_id="postJourneyDeploymentAppevents",
        responses=error_responses(400, 404, authenticated=False),
        openapi_extra=request_body_openapi(AppEventRequest),
        response_model_exclude_none=True,
    )
    def post_app_event(request: Request, target: Deployment, body: AppBody) -> Response:
        """Record an app event; answers (once it is committed) the event as enriched and its session."""
        now, enricher = utcnow(), _enricher(request)
        ingest.check_age(body.created_date, now, enricher)
        incoming = ingest.app_event(body, target, _origin(request), enricher)
        session = _writes(request).submit(target.organization_id, incoming)
        event = incoming.event
        return _created(views.app_response(event.id, event.payload, session, event.created))

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
