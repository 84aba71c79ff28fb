"""The two browser-facing ingest endpoints, served ahead of the rest of the application.

`POST /api/v2/journey/deployments/{deploymentId}/webevents` and `.../appevents` take one event per request
from every visitor's browser or app, so their per-request cost decides what a server can take. Routed
through FastAPI they passed a dozen middlewares and a linear match against every route, which cost more
CPU than validating, enriching and storing the event. This ASGI middleware, put in front of the whole
stack (`serve_first`), answers them itself: read the body (413 past `max_bytes`, 408 past the read
deadline of body_limit.py; nothing shared is held meanwhile), look up the deployment
(cached), validate the body straight from the bytes, enrich it, hand it to the process's writer thread
(journey.batcher) and answer 201 once it is committed. Errors are Genesys ErrorBody as on the rest of
/api/v2; CORS allows any origin (the deployment's allowed domains are the real check). journey.openapi
documents both operations.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from sessionary.api import genesys
from sessionary.api.bodies import NUL_ESCAPE, refuse_nul, validate_body
from sessionary.body_limit import (
    CLOSE,
    BodyReader,
    BodyTimeout,
    BodyTooLarge,
    ReadRule,
    content_length,
    timeout_message,
)
from sessionary.db_types import utcnow
from sessionary.errors import SessionaryError
from sessionary.journey.intake import ingest
from sessionary.journey.intake.ingest import Origin
from sessionary.journey.intake.runtime import runtime_of
from sessionary.journey.read import views
from sessionary.journey.wire.requests import AppEventRequest, WebEventRequest

# A deployment id with a control character is left to the app (ControlCharacterPathMiddleware: 404).
INGEST_PATH = re.compile(r"^/api/v2/journey/deployments/([^/\x00-\x1f\x7f]+)/(webevents|appevents)$")
_LOG = logging.getLogger(__name__)
_ANY_ORIGIN = {"access-control-allow-origin": "*"}


class JourneyIngestMiddleware:
    """Serves POSTs to the ingest paths (and their CORS preflight); everything else goes to `app`."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, rule: ReadRule) -> None:
        self.app, self.max_bytes, self.rule = app, max_bytes, rule
        self.cors = CORSMiddleware(
            app, allow_origins=["*"], allow_methods=["POST", "OPTIONS"], allow_headers=["*"], max_age=600
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = INGEST_PATH.match(scope.get("path", "")) if scope["type"] == "http" else None
        if found is None:
            await self.app(scope, receive, send)
        elif scope["method"] == "POST":
            response = await self._post(scope, receive, found.group(1), found.group(2) == "webevents")
            if _header(scope, b"origin") is not None:
                response.headers.update(_ANY_ORIGIN)
            await response(scope, receive, send)
        elif scope["method"] == "OPTIONS":
            await self.cors(scope, receive, send)  # a preflight is answered by CORSMiddleware itself
        else:
            allow = {"allow": "POST, OPTIONS"}
            await genesys.render(405, "Method Not Allowed", headers=allow)(scope, receive, send)

    async def _post(self, scope: Scope, receive: Receive, deployment_id: str, web: bool) -> Response:
        try:
            body = await self._body(scope, receive)
            return await _accept(scope["app"].state, deployment_id, web, body, _origin(scope))
        except BodyTooLarge:
            return genesys.render(413, f"Request body is larger than {self.max_bytes} bytes", headers=CLOSE)
        except BodyTimeout:
            return genesys.render(408, timeout_message(self.rule), headers=CLOSE)
        except ValidationError as exc:
            errors = exc.errors(include_url=False, include_input=False)
            return genesys.invalid_fields([{**e, "loc": ("body", *e["loc"])} for e in errors])
        except SessionaryError as exc:
            return genesys.domain_error_response(exc)
        except HTTPException as exc:
            return genesys.http_error_response(exc)
        except Exception:
            _LOG.exception("journey event not stored")
            return genesys.render(500, "The event could not be stored")

    async def _body(self, scope: Scope, receive: Receive) -> bytes:
        declared = content_length(scope)
        if declared is not None and declared > self.max_bytes:
            raise BodyTooLarge
        return await BodyReader(receive, self.max_bytes, self.rule).read()


async def _accept(state: Any, deployment_id: str, web: bool, body: bytes, origin: Origin) -> Response:
    """Validate, enrich and store one event; 201 with the event as enriched and its session."""
    runtime = runtime_of(state)
    deployments, enricher, writes = runtime.deployments, runtime.enricher, runtime.writes
    target = deployments.cached(deployment_id)
    if target is None:  # at most once a minute per deployment: the look-up must not block the loop
        target = await run_in_threadpool(deployments.get, deployment_id)
    event: WebEventRequest | AppEventRequest = (
        validate_body(WebEventRequest, body) if web else validate_body(AppEventRequest, body)
    )
    if NUL_ESCAPE in body:
        refuse_nul(orjson.loads(body))
    ingest.check_age(event.created_date, utcnow(), enricher)
    if isinstance(event, WebEventRequest):
        incoming = ingest.web_event(event, target, origin, enricher)
    else:
        incoming = ingest.app_event(event, target, origin, enricher)
    session = await writes.submit(target.organization_id, incoming)
    stored = incoming.event
    view: BaseModel = (
        views.web_response(stored.payload, session, stored.created)
        if web
        else views.app_response(stored.id, stored.payload, session, stored.created)
    )
    content = orjson.dumps(view.model_dump(mode="json", exclude_none=True))
    return Response(content=content, status_code=201, media_type="application/json")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _origin(scope: Scope) -> Origin:
    client = scope.get("client")
    return Origin(
        peer=client[0] if client else None,
        forwarded_for=_header(scope, b"x-forwarded-for"),
        user_agent=_header(scope, b"user-agent"),
    )


def serve_first(app: Starlette, *, max_bytes: int, rule: ReadRule) -> None:
    """Put the middleware in front of everything, Starlette's and FastAPI's own layers included (error
    pages, telemetry, body limits, the console's cookie session): none of them applies to these two paths,
    and each cost CPU on every event. Starlette builds its stack on the first request, after the app is
    set up, and sets scope["app"] before calling it."""
    build = app.build_middleware_stack

    def build_with_ingest_first() -> ASGIApp:
        return JourneyIngestMiddleware(build(), max_bytes=max_bytes, rule=rule)

    app.build_middleware_stack = build_with_ingest_first  # type: ignore[method-assign]
