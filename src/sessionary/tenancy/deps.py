"""FastAPI dependencies: who is calling, and may they do this?"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session as DBSession

from sessionary.db import get_db, get_write_db, session_scope
from sessionary.errors import Forbidden
from sessionary.tenancy.service import Principal, authenticate

syllable_key = APIKeyHeader(name="Syllable-API-Key", auto_error=False, scheme_name="APIKeyHeader")
bearer = HTTPBearer(auto_error=False, scheme_name="BearerKey")

DB = Annotated[DBSession, Depends(get_db, scope="function")]
WriteDB = Annotated[DBSession, Depends(get_write_db, scope="function")]
KeyHeader = Annotated[str | None, Security(syllable_key)]
BearerCreds = Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]


def _principal(
    db: DBSession, key: str | None, creds: HTTPAuthorizationCredentials | None, scope: str
) -> Principal:
    principal = authenticate(db, key=key or (creds.credentials if creds else None))
    if not principal.allows(scope):
        raise Forbidden(f"This API key lacks the '{scope}' scope")
    return principal


def require_read(db: DB, key: KeyHeader, creds: BearerCreds) -> Principal:
    """A caller whose key has the `read` scope."""
    return _principal(db, key, creds, "read")


def require_ingest(request: Request, key: KeyHeader, creds: BearerCreds) -> Principal:
    """A caller whose key has the `ingest` scope.

    Checked in a read transaction of its own, closed at once: no write lock is held meanwhile, and no
    reader stays open during the write (on SQLite an open reader keeps checkpoints from resetting the WAL).
    """
    with session_scope(request.app.state.db.reader) as db:
        return _principal(db, key, creds, "ingest")


Reader = Annotated[Principal, Depends(require_read, scope="function")]
Ingester = Annotated[Principal, Depends(require_ingest, scope="function")]


def require_read_briefly(request: Request, key: KeyHeader, creds: BearerCreds) -> Principal:
    """A caller with the `read` scope, checked in a read transaction closed at once: for routes that then
    run jobs of their own (and may call out over the network) without a transaction held open meanwhile."""
    with session_scope(request.app.state.db.reader) as db:
        return _principal(db, key, creds, "read")


BriefReader = Annotated[Principal, Depends(require_read_briefly, scope="function")]
