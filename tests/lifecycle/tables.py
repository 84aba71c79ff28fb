"""Direct queries of every table of the database (the ORM's and the search index's): which rows still hold
a text."""

from __future__ import annotations

from sqlalchemy import Text, cast, column, func, inspect, or_, select, table

from sessionary.db import Database, session_scope


def rows_holding(database: Database, needles: list[str]) -> dict[str, int]:
    """ "table.column" -> how many rows hold one of `needles` (case-insensitive), over every column of every
    table the database has, each read as text."""
    wanted = [needle.lower() for needle in needles if needle]
    found: dict[str, int] = {}
    inspector = inspect(database.engine)
    with session_scope(database.reader) as db:
        for name in inspector.get_table_names():
            columns = [c["name"] for c in inspector.get_columns(name)]
            for column_name in columns:
                text = func.lower(cast(column(column_name), Text()))
                hit = or_(*[text.contains(needle, autoescape=True) for needle in wanted])
                count = db.scalar(select(func.count()).select_from(table(name)).where(hit)) or 0
                if count:
                    found[f"{name}.{column_name}"] = count
    return found
