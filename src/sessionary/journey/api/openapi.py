"""The OpenAPI operations of the two ingest endpoints that journey.fastpath serves.

They are declared here as FastAPI routes so that FastAPI writes their operations and schemas exactly as
it does for the rest of the API, but these routes are only documentation: they are merged into the
application's OpenAPI document and never mounted, as the middleware answers those paths first.
"""

from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Path
from fastapi.openapi.utils import get_openapi

from sessionary.api.bodies import request_body_openapi
from sessionary.api.genesys import error_responses
from sessionary.journey.wire import ingest_responses as wire_ingest
from sessionary.journey.wire.requests import AppEventRequest, WebEventRequest

DEPLOYMENT_PATH = "/api/v2/journey/deployments/{deploymentId}"
DeploymentId = Annotated[str, Path(description="The deployment (web site or app) sending the event")]


def _documented() -> APIRouter:
    router = APIRouter(tags=["journey"])

    @router.post(
        f"{DEPLOYMENT_PATH}/webevents",
        response_model=wire_ingest.WebEventResponse,
        status_code=201,
        operation_id="postJourneyDeploymentWebevents",
        responses=error_responses(400, 403, 404, 413, authenticated=False),
        openapi_extra=request_body_openapi(WebEventRequest),
        response_model_exclude_none=True,
    )
    def post_web_event(deploymentId: DeploymentId) -> None:  # noqa: N803 (the path's name)
        """Record a web event; answers (once it is committed) the event as enriched and its session."""

    @router.post(
        f"{DEPLOYMENT_PATH}/appevents",
        response_model=wire_ingest.AppEventResponse,
        status_code=201,
        operation_id="postJourneyDeploymentAppevents",
        responses=error_responses(400, 404, 413, authenticated=False),
        openapi_extra=request_body_openapi(AppEventRequest),
        response_model_exclude_none=True,
    )
    def post_app_event(deploymentId: DeploymentId) -> None:  # noqa: N803
        """Record an app event; answers (once it is committed) the event as enriched and its session."""

    return router


def document_ingest(app: FastAPI) -> None:
    """Make app.openapi() include the two ingest operations."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            extra = get_openapi(title=app.title, version=app.version, routes=_documented().routes)
            document["paths"].update(extra["paths"])
            document.setdefault("components", {}).setdefault("schemas", {}).update(
                extra.get("components", {}).get("schemas", {})
            )
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]
