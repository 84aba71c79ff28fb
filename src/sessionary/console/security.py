"""Who is signed in to the console, and the CSRF token every console form carries."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData

from sessionary.console.errors import CsrfFailed, SignInRequired
from sessionary.tenancy import service as tenancy
from sessionary.tenancy.deps import DB

CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class Viewer:
    """The signed-in console user: one organization, through one API key of read scope."""

    organization_id: int
    organization_name: str
    key_id: int


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matches the session's (else 403)."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = request.session.get("csrf")
    if not isinstance(sent, str) or not isinstance(expected, str) or not expected:
        raise CsrfFailed("This form has expired or did not come from this console: reload and try again")
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfFailed("This form has expired or did not come from this console: reload and try again")
    return form


def current_viewer(request: Request, db: DB) -> Viewer:
    """The signed-in viewer; SignInRequired (a redirect) when there is none or the key was revoked."""
    stored = request.session.get("key_id")
    key_id = stored if isinstance(stored, int) else 0
    principal = tenancy.principal_for_key_id(db, key_id=key_id)
    if principal is None or not principal.allows("read"):
        request.session.pop("key_id", None)
        raise SignInRequired("Sign in with an API key of read scope")
    name = tenancy.organization_name(db, organization_id=principal.organization_id)
    return Viewer(organization_id=principal.organization_id, organization_name=name, key_id=key_id)


def sign_in(request: Request, db: DB, *, key: str) -> Viewer:
    """Check the key (read scope) and start a fresh console session for it (a new CSRF token too)."""
    row = tenancy.key_for(db, key=key.strip())
    principal = tenancy.principal_for_key_id(db, key_id=row.id)
    if principal is None or not principal.allows("read"):
        raise SignInRequired("This API key lacks the 'read' scope")
    request.session.clear()
    request.session["key_id"] = row.id
    csrf_token(request)
    name = tenancy.organization_name(db, organization_id=row.organization_id)
    return Viewer(organization_id=row.organization_id, organization_name=name, key_id=row.id)


ConsoleViewer = Annotated[Viewer, Depends(current_viewer)]
CheckedForm = Annotated[FormData, Depends(checked_form)]
