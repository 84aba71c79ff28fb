"""The server secret that signs console cookies: one value every server process agrees on."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from sessionary.config import Settings
from sessionary.console.models import ConsoleSecret
from sessionary.db import Database, insert_for, session_scope
from sessionary.db_types import utcnow

COOKIE_SECRET = "cookie-signing"


def server_secret(database: Database, settings: Settings, *, name: str = COOKIE_SECRET) -> str:
    """SESSIONARY_SECRET_KEY when set; else a random value generated once and stored in the database.

    The first process to ask inserts it (ON CONFLICT DO NOTHING), every later one reads the same row.
    """
    if settings.secret_key:
        return settings.secret_key
    with session_scope(database.writer) as db:
        row = {"name": name, "value": secrets.token_urlsafe(48), "created_at": utcnow()}
        table = ConsoleSecret.__table__
        db.execute(insert_for(db, table).on_conflict_do_nothing(index_elements=["name"]), [row])
        value = db.scalar(select(ConsoleSecret.value).where(ConsoleSecret.name == name))
    assert value is not None
    return value
