"""Who is signed in to the console, and the CSRF token every console form carries."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from starlette.datastructures import FormData

from sessionary.audit.service import Actor
from sessionary.console import signins
from sessionary.console.errors import CsrfFailed, SignInRequired
from sessionary.db import session_scope
from sessionary.errors import Forbidden
from sessionary.tenancy import service as tenancy
from sessionary.tenancy.deps import DB, auth_limiter, client_ip_of, failures_limited, key_usage

CSRF_FIELD = "csrf_token"
SESSION_ID = "sid"  # the cookie's key for the console session id (console/signins.py)


@dataclass(frozen=True)
class Viewer:
    """The signed-in console user: one organization, through one API key of read scope."""

    organization_id: int
    organization_name: str
    key_id: int
    key_prefix: str = ""
    scopes: frozenset[str] = frozenset()

    @property
    def is_admin(self) -> bool:
        """Whether the key has the admin scope (the Settings and Audit pages)."""
        return "admin" in self.scopes


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def site_host(request: Request) -> str:
    """The host the browser asked for: `Host`, or `X-Forwarded-Host` when the peer is a trusted proxy."""
    forwarded = request.headers.get("x-forwarded-host")
    peer = request.client.host if request.client else None
    if forwarded and peer and auth_limiter(request).from_trusted_proxy(peer):
        return forwarded.split(",")[0].strip()
    return request.headers.get("host", "")


def same_origin(request: Request) -> bool:
    """Whether a POST comes from this site: an `Origin` naming another host (or `null`), or a fetch the
    browser marks `Sec-Fetch-Site: cross-site`, does not. Without either header the CSRF token decides."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    sent = urlsplit(origin)
    if sent.scheme not in ("http", "https") or not sent.hostname:
        return False
    host = urlsplit("//" + site_host(request))
    default = 443 if sent.scheme == "https" else 80
    try:
        return (sent.hostname, sent.port or default) == (host.hostname, host.port or default)
    except ValueError:  # a malformed port
        return False


async def checked_form(request: Request) -> FormData:
    """The posted form, once it comes from this site and its CSRF token matches the session's (else 403)."""
    if not same_origin(request):
        raise CsrfFailed("This form was posted from another site")
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = request.session.get("csrf")
    if not isinstance(sent, str) or not isinstance(expected, str) or not expected:
        raise CsrfFailed("This form has expired or did not come from this console: reload and try again")
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfFailed("This form has expired or did not come from this console: reload and try again")
    return form


def current_viewer(request: Request, db: DB) -> Viewer:
    """The signed-in viewer; SignInRequired (a redirect) when the console session ended (sign-out,
    expiry, secret rotation) or its key was revoked."""
    stored = request.session.get(SESSION_ID)
    found = signins.principal(db, session_id=stored) if isinstance(stored, str) and stored else None
    if found is None or not found[1].allows("read"):
        request.session.pop(SESSION_ID, None)
        raise SignInRequired("Sign in with an API key of read scope")
    key_id, principal = found
    key_usage(request).used(key_id)
    name = tenancy.organization_name(db, organization_id=principal.organization_id)
    return Viewer(
        organization_id=principal.organization_id,
        organization_name=name,
        key_id=key_id,
        key_prefix=principal.key_prefix,
        scopes=principal.scopes,
    )


def admin_viewer(request: Request, db: DB) -> Viewer:
    """The signed-in viewer, whose key must have the admin scope (403 page otherwise)."""
    viewer = current_viewer(request, db)
    if not viewer.is_admin:
        raise Forbidden("This page needs an API key of admin scope: sign in with one")
    return viewer


def admin_viewer_briefly(request: Request) -> Viewer:
    """`admin_viewer` checked in a read transaction closed at once (before a form's write transaction)."""
    with session_scope(request.app.state.db.reader) as db:
        return admin_viewer(request, db)


def actor_of(request: Request, viewer: Viewer) -> Actor:
    """The viewer as the audit trail records it: the console's key prefix and the client's address."""
    return Actor(viewer.organization_id, viewer.key_prefix, viewer.key_id, client_ip_of(request))


def sign_in(request: Request, *, key: str) -> None:
    """Check the key (read scope; failures limited per address) and start a server-side console session
    for it, with a fresh cookie (a new CSRF token too)."""
    database, key = request.app.state.db, key.strip()
    with failures_limited(request, key=key), session_scope(database.reader) as db:
        row = tenancy.key_for(db, key=key)
        principal = tenancy.principal_for_key_id(db, key_id=row.id)
    if principal is None or not principal.allows("read"):
        raise SignInRequired("This API key lacks the 'read' scope")
    with session_scope(database.writer) as db:
        hours = request.app.state.settings.console_session_hours
        session_id = signins.start(db, api_key_id=row.id, hours=hours)
    request.session.clear()
    request.session[SESSION_ID] = session_id
    csrf_token(request)


def sign_out(request: Request) -> None:
    """End the console session server-side (every copy of the cookie stops working) and clear the cookie."""
    stored = request.session.get(SESSION_ID)
    if isinstance(stored, str) and stored:
        with session_scope(request.app.state.db.writer) as db:
            signins.end(db, session_id=stored)
    request.session.clear()


ConsoleViewer = Annotated[Viewer, Depends(current_viewer)]
AdminViewer = Annotated[Viewer, Depends(admin_viewer)]
BriefAdminViewer = Annotated[Viewer, Depends(admin_viewer_briefly)]
CheckedForm = Annotated[FormData, Depends(checked_form)]
