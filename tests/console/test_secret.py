"""The cookie-signing secret: the setting when given, else one stored value every process agrees on."""

from __future__ import annotations

from sessionary.config import Settings
from sessionary.console.secret import server_secret
from sessionary.db import Database, open_database


def test_a_generated_secret_is_stored_once_and_shared(database: Database, database_url: str) -> None:
    first = server_secret(database, Settings(database_url=database_url))
    other_process = open_database(database_url, pool_size=1)
    try:
        assert server_secret(other_process, Settings(database_url=database_url)) == first
    finally:
        other_process.dispose()
    assert len(first) >= 32


def test_the_setting_wins(database: Database, database_url: str) -> None:
    settings = Settings(database_url=database_url, secret_key="s" * 40)
    assert server_secret(database, settings) == "s" * 40
    assert server_secret(database, Settings(database_url=database_url)) != "s" * 40
