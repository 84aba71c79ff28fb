"""The Sealer of integrations' provider secrets under the current server secret, for each kind of process.

The server secret lives in `recordings/tokens.py` (SESSIONARY_SECRET_KEY, else the `server_secret` table),
which sits above `integrations/` in the import layers: the two meet here, above both. `create_app` puts an
`AppSealers` on `app.state.sealers` (an `integrations.secrets.SealerSource`: routes and webhooks reach it
through the request, never importing this module); the CLI seals with `sealer_in` and `sessionary secret
rotate` reseals with `rotate_and_reseal`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import SecretStr
from sqlalchemy.orm import Session as DBSession

from sessionary.db import Database
from sessionary.integrations import service as integrations
from sessionary.integrations.secrets import SECRET_NAME, Sealer
from sessionary.recordings import tokens


@lru_cache(maxsize=4)
def _sealer(server_secret: str) -> Sealer:
    """One Sealer per server secret (the key derivation is done once, not per webhook)."""
    return Sealer(server_secret)


def sealer_in(db: DBSession, configured: SecretStr | None) -> Sealer:
    """The Sealer for secrets stored in `db`'s write transaction (see `tokens.secret_in`: a concurrent
    rotation waits for it, then reseals what it sealed)."""
    return _sealer(tokens.secret_in(db, configured, name=SECRET_NAME))


def stored_sealer(database: Database, configured: SecretStr | None) -> Sealer:
    """The Sealer under the server secret as stored now (generated if new): to open secrets."""
    return _sealer(tokens.load_secret(database, configured, name=SECRET_NAME))


class AppSealers:
    """`app.state.sealers`: the server process's Sealers, from its SecretCache (read again every 10 s)."""

    def __init__(self, state: Any) -> None:
        self._state = state  # app.state: the database and the cache exist once the lifespan has begun

    def current(self) -> Sealer:
        return _sealer(tokens.secret_cache(self._state).get(SECRET_NAME))

    def fresh(self) -> Sealer:
        return _sealer(tokens.secret_cache(self._state).refresh(SECRET_NAME))

    def for_sealing(self, db: DBSession) -> Sealer:
        return sealer_in(db, self._state.settings.secret_key)


class DatabaseSealers:
    """A SealerSource reading the server secret from the database each time (no cache): for the CLI, tests
    and processes without an app."""

    def __init__(self, database: Database, configured: SecretStr | None) -> None:
        self._database, self._configured = database, configured

    def current(self) -> Sealer:
        return stored_sealer(self._database, self._configured)

    def fresh(self) -> Sealer:
        return stored_sealer(self._database, self._configured)

    def for_sealing(self, db: DBSession) -> Sealer:
        return sealer_in(db, self._configured)


def rotate_and_reseal(db: DBSession) -> tuple[list[str], integrations.Resealed]:
    """New values for every stored secret, and every integration's secret sealed again under the new one,
    in the caller's transaction: integrations keep working. Returns the rotated names and the reseal."""
    old = tokens.stored_secret(db, name=SECRET_NAME)
    names = tokens.rotate_secrets(db)
    new = tokens.stored_secret(db, name=SECRET_NAME)
    if old is None or new is None:  # none stored: any integration was sealed under SESSIONARY_SECRET_KEY
        return names, integrations.Resealed(resealed=0, unreadable=integrations.count_all(db))
    return names, integrations.reseal(db, _sealer(old), _sealer(new))
