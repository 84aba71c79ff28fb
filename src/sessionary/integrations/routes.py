"""The admin API's integrations: POST/GET /api/v1/integrations, DELETE /api/v1/integrations/{id}.

Admin scope only. The provider's secret goes in once and is stored sealed; the webhook URL comes out once,
in the answer to the POST (only the token's hash is stored). The Sealer comes from `app.state.sealers`
(sessionary/sealing.py), since this package may not import the server secret's.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from sessionary.api.bodies import json_body, request_body_openapi
from sessionary.api.lists import add_list_route
from sessionary.api.syllable import error_responses
from sessionary.audit.deps import AdminActor
from sessionary.integrations import service
from sessionary.integrations.schemas import (
    IntegrationCreate,
    IntegrationCreated,
    IntegrationPage,
    IntegrationProperties,
)
from sessionary.integrations.secrets import SealerSource
from sessionary.tenancy.deps import WriteDB

Body = Annotated[IntegrationCreate, Depends(json_body(IntegrationCreate))]
PREFIX = "/api/v1/integrations"


def app_sealers(request: Request) -> SealerSource:
    """The app's Sealers (`app.state.sealers`, set by create_app)."""
    sealers: SealerSource = request.app.state.sealers
    return sealers


Sealers = Annotated[SealerSource, Depends(app_sealers)]


def build_router(*, public_url: str, max_limit: int) -> APIRouter:
    """The integrations router; webhook URLs are built on `public_url` (SESSIONARY_PUBLIC_URL)."""
    router = APIRouter(prefix=PREFIX, tags=["integrations"])

    @router.post(
        "",
        status_code=201,
        response_model=IntegrationCreated,
        operation_id="integration_create",
        responses=error_responses(413, 422),
        openapi_extra=request_body_openapi(IntegrationCreate),
    )
    def integration_create(
        actor: AdminActor, body: Body, db: WriteDB, sealers: Sealers
    ) -> IntegrationCreated:
        """Connect a voice platform; the answer's `webhook_url` is shown only here: paste it into the
        provider's settings (remove the integration and add it again if it is lost)."""
        connected = service.connect_audited(
            db,
            sealers.for_sealing(db),
            actor=actor,
            provider=body.provider,
            secret=body.secret,
            public_url=public_url,
            name=body.name,
        )
        return service.to_created(connected)

    add_list_route(
        router,
        properties=IntegrationProperties,
        page_model=IntegrationPage,
        operation_id="integrations_list",
        description="List the organization's integrations (never their secrets nor webhook URLs).",
        lister=service.list_page,
        to_read=service.to_read,
        max_limit=max_limit,
        scope="admin",
        path="",
    )

    @router.delete(
        "/{integration_id}",
        status_code=204,
        response_class=Response,
        operation_id="integration_delete",
        responses=error_responses(404),
    )
    def integration_delete(actor: AdminActor, db: WriteDB, integration_id: int) -> Response:
        """Remove an integration: its webhook URL answers 404 from now on."""
        service.remove_audited(db, actor=actor, integration_id=integration_id)
        return Response(status_code=204)

    return router
