"""The server secret that signs console cookies: one value every server process agrees on."""

from __future__ import annotations

from sessionary.config import Settings
from sessionary.db import Database
from sessionary.recordings.tokens import load_secret

COOKIE_SECRET = "cookie-signing"


def server_secret(database: Database, settings: Settings, *, name: str = COOKIE_SECRET) -> str:
    """SESSIONARY_SECRET_KEY when set; else a random value generated once and stored in the database
    (table server_secret, beside the recording-URL secret, under its own name)."""
    return load_secret(database, settings.secret_key, name=name)
