"""Provider secrets sealed at rest: Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) under a key
derived from the server secret by HKDF-SHA256, so the database alone never holds a usable provider secret
when SESSIONARY_SECRET_KEY is set (without it, the generated server secret lives in the same database:
the sealing then only keeps the secrets out of dumps of the `integration` table)."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Protocol

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

if TYPE_CHECKING:
    from sqlalchemy.orm import Session as DBSession

# The name of the server secret the sealing key is derived from (recordings.tokens.load_secret).
SECRET_NAME = "integration-sealing-key"
_INFO = b"sessionary integration secrets v1"


class SecretUnreadable(Exception):
    """A sealed secret that the current server secret does not open (SESSIONARY_SECRET_KEY changed)."""


class Sealer:
    """Seals and opens provider secrets under a key derived from `server_secret`."""

    def __init__(self, server_secret: str) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(server_secret.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode()
        except (InvalidToken, UnicodeError, ValueError):
            raise SecretUnreadable("the server secret does not open this integration's secret") from None


class SealerSource(Protocol):
    """Where a server process gets its Sealer: `app.state.sealers` (sessionary/sealing.py makes it, because
    the server secret lives in recordings/, above this package in the import layers)."""

    def current(self) -> Sealer:
        """Under the server secret as this process last read it (at most 10 s ago): to open secrets."""
        ...

    def fresh(self) -> Sealer:
        """Under the server secret read now: to open again a secret `current()` could not (a rotation less
        than 10 s ago)."""
        ...

    def for_sealing(self, db: DBSession) -> Sealer:
        """Under the server secret as `db`'s write transaction sees it, locked until it ends: to seal a
        secret that a concurrent `sessionary secret rotate` must reseal."""
        ...
