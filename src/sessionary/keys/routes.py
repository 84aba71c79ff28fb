"""The admin API's keys: POST/GET /api/v1/keys, DELETE /api/v1/keys/{id} (admin scope only).

The secret of a new key comes out once, in the answer to the POST (only its hash is stored); a revoked
key stops authenticating at once in every server process and console session, which read it per request.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from sessionary.api.bodies import json_body, request_body_openapi
from sessionary.api.lists import add_list_route
from sessionary.api.syllable import error_responses
from sessionary.audit.deps import AdminActor
from sessionary.keys import service
from sessionary.keys.schemas import KeyCreate, KeyCreated, KeyPage, KeyProperties
from sessionary.tenancy.deps import WriteDB

Body = Annotated[KeyCreate, Depends(json_body(KeyCreate))]
PREFIX = "/api/v1/keys"


def build_router(*, max_limit: int) -> APIRouter:
    """The keys router."""
    router = APIRouter(prefix=PREFIX, tags=["keys"])

    @router.post(
        "",
        status_code=201,
        response_model=KeyCreated,
        operation_id="key_create",
        responses=error_responses(400, 409, 413, 422),
        openapi_extra=request_body_openapi(KeyCreate),
    )
    def key_create(actor: AdminActor, body: Body, db: WriteDB, response: Response) -> KeyCreated:
        """Make an API key: the answer's `key` is the secret, shown only here (keep it; a lost key is
        revoked and made again)."""
        row, clear = service.create(db, actor=actor, scopes=body.scopes, expires_at=body.expires_at)
        response.headers["Cache-Control"] = "no-store"
        return service.to_created(row, clear)

    add_list_route(
        router,
        properties=KeyProperties,
        page_model=KeyPage,
        operation_id="keys_list",
        description="List the organization's API keys, revoked ones too (never a key nor its hash).",
        lister=service.list_page,
        to_read=service.to_read,
        max_limit=max_limit,
        scope="admin",
        path="",
    )

    @router.delete(
        "/{key_id}",
        status_code=204,
        response_class=Response,
        operation_id="key_delete",
        responses=error_responses(404, 409),
    )
    def key_delete(actor: AdminActor, db: WriteDB, key_id: int) -> Response:
        """Revoke a key: it authenticates nothing from now on (the organization's last active admin key
        is refused with 409: make another admin key first)."""
        service.revoke(db, actor=actor, key_id=key_id)
        return Response(status_code=204)

    return router
