"""FastAPI dependencies: who is calling, and may they do this?"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session as DBSession

from sessionary import client_ip
from sessionary.db import get_db, get_write_db, session_scope
from sessionary.errors import Forbidden, Unauthorized
from sessionary.tenancy.ratelimit import FailedAuthLimiter
from sessionary.tenancy.service import Principal, authenticate
from sessionary.tenancy.usage import KeyUsage

syllable_key = APIKeyHeader(name="Syllable-API-Key", auto_error=False, scheme_name="APIKeyHeader")
bearer = HTTPBearer(auto_error=False, scheme_name="BearerKey")

DB = Annotated[DBSession, Depends(get_db, scope="function")]
WriteDB = Annotated[DBSession, Depends(get_write_db, scope="function")]
KeyHeader = Annotated[str | None, Security(syllable_key)]
BearerCreds = Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]


def auth_limiter(request: Request) -> FailedAuthLimiter:
    """The process's failed-authentication limiter (made at first use: the database opens in the lifespan)."""
    state = request.app.state
    if getattr(state, "auth_limiter", None) is None:
        state.auth_limiter = FailedAuthLimiter(state.db, state.settings)
    limiter: FailedAuthLimiter = state.auth_limiter
    return limiter


def key_usage(request: Request) -> KeyUsage:
    """The process's key-use recorder (api_key.last_used_at), made at first use like `auth_limiter`."""
    state = request.app.state
    if getattr(state, "key_usage", None) is None:
        state.key_usage = KeyUsage(state.db)
    usage: KeyUsage = state.key_usage
    return usage


def client_ip_of(request: Request) -> str | None:
    """The caller's exact address: the peer, or the client a trusted proxy names in X-Forwarded-For
    (SESSIONARY_JOURNEY_TRUSTED_PROXIES), as the audit trail records it."""
    peer = request.client.host if request.client else None
    trusted = auth_limiter(request).trusted
    return client_ip.client_ip(peer, request.headers.get("x-forwarded-for"), trusted)


def client_address(request: Request) -> str:
    """The caller's address as the failed-authentication limit counts it."""
    peer = request.client.host if request.client else None
    return auth_limiter(request).address(peer, request.headers.get("x-forwarded-for"))


@contextmanager
def failures_limited(
    request: Request, *, key: str | None, counted: tuple[type[Exception], ...] = (Unauthorized,)
) -> Iterator[None]:
    """Around a key check: a blocked client address gets 429 whatever key it sends, and a wrong key
    (`counted`: Unauthorized) is counted; a missing key is not (it guesses nothing)."""
    limiter = auth_limiter(request)
    if limiter.blocking:  # the client's address is worked out only when some address is blocked here
        limiter.check(client_address(request))
    try:
        yield
    except counted:
        if key:
            limiter.failed(client_address(request))
        raise


def authenticate_request(request: Request, db: DBSession, *, key: str | None) -> Principal:
    """`authenticate`, with failures limited per client address."""
    with failures_limited(request, key=key):
        principal = authenticate(db, key=key)
    key_usage(request).used(principal.key_id)
    return principal


def _principal(
    request: Request,
    db: DBSession,
    key: str | None,
    creds: HTTPAuthorizationCredentials | None,
    scope: str,
) -> Principal:
    principal = authenticate_request(request, db, key=key or (creds.credentials if creds else None))
    if not principal.allows(scope):
        raise Forbidden(f"This API key lacks the '{scope}' scope")
    return principal


def require_read(request: Request, db: DB, key: KeyHeader, creds: BearerCreds) -> Principal:
    """A caller whose key has the `read` scope."""
    return _principal(request, db, key, creds, "read")


def require_ingest(request: Request, key: KeyHeader, creds: BearerCreds) -> Principal:
    """A caller whose key has the `ingest` scope.

    Checked in a read transaction of its own, closed at once: no write lock is held meanwhile, and no
    reader stays open during the write (on SQLite an open reader keeps checkpoints from resetting the WAL).
    """
    with session_scope(request.app.state.db.reader) as db:
        return _principal(request, db, key, creds, "ingest")


def require_admin(request: Request, key: KeyHeader, creds: BearerCreds) -> Principal:
    """A caller whose key has the `admin` scope (401 without a key, 403 for a key without `admin`).

    Checked in a read transaction closed at once, like `require_ingest`: admin routes mostly write, and
    their write transaction is then the only one the request holds.
    """
    with session_scope(request.app.state.db.reader) as db:
        return _principal(request, db, key, creds, "admin")


Reader = Annotated[Principal, Depends(require_read, scope="function")]
Ingester = Annotated[Principal, Depends(require_ingest, scope="function")]
Admin = Annotated[Principal, Depends(require_admin, scope="function")]


def require_read_briefly(request: Request, key: KeyHeader, creds: BearerCreds) -> Principal:
    """A caller with the `read` scope, checked in a read transaction closed at once: for routes that then
    run jobs of their own (and may call out over the network) without a transaction held open meanwhile."""
    with session_scope(request.app.state.db.reader) as db:
        return _principal(request, db, key, creds, "read")


BriefReader = Annotated[Principal, Depends(require_read_briefly, scope="function")]
