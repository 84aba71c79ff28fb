"""Schema migrations, run programmatically: `sessionary db upgrade`, `serve`, and the tests."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from sessionary.db import open_database


def alembic_config(engine: Engine) -> Config:
    """An Alembic config bound to `engine`, with the scripts shipped in the package."""
    config = Config()
    config.set_main_option("script_location", "sessionary:migrations")
    config.attributes["engine"] = engine
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision`."""
    database = open_database(url, pool_size=1)
    try:
        with database.engine.connect() as connection:
            config = alembic_config(database.engine)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            connection.commit()
    finally:
        database.dispose()


def check(url: str) -> None:
    """Fail (alembic.util.CommandError) when the models differ from what the migrations build."""
    database = open_database(url, pool_size=1)
    try:
        with database.engine.connect() as connection:
            config = alembic_config(database.engine)
            config.attributes["connection"] = connection
            command.check(config)
    finally:
        database.dispose()


def revision(url: str, message: str) -> None:
    """Autogenerate a new revision against the database at `url` (a developer tool)."""
    database = open_database(url, pool_size=1)
    try:
        with database.engine.connect() as connection:
            config = alembic_config(database.engine)
            config.attributes["connection"] = connection
            command.revision(config, message=message, autogenerate=True)
    finally:
        database.dispose()
