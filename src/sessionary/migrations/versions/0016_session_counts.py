"""session_count: sessions per organization, UTC day and name columns, kept by triggers

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 18:00:00

The Syllable list's exact total_count read every matching row (linear in the organization's sessions). It
now sums these counts over the whole days of its range and counts only the partial days at its edges
(sessions/counts.py). Triggers on `session` keep the table exact for every writer, in the writer's own
transaction: SQLite upserts one row per key (one writer at a time); PostgreSQL appends signed delta rows
(statement triggers with transition tables for INSERT and DELETE, a row trigger for an UPDATE that moves a
session to another key), so that concurrent writers never queue on a counter row; they are folded later.
The table is filled from the existing sessions.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAMES = ("agent_name", "agent_id", "prompt_name", "prompt_id", "channel_manager_type")
_KEY = ", ".join(("organization_id", "day", *_NAMES))
_PG_DAY = "(timestamp AT TIME ZONE 'UTC')::date"
_SQLITE_DAY = "substr(timestamp, 1, 10)"  # UTC text 'YYYY-MM-DD HH:MM:SS.ffffff' (db_types.sqlite_text)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _of(row: str, day: str) -> str:
    """The key columns of `row` (NEW / OLD, or a table), `day` its day expression."""
    return ", ".join(
        (
            f"{row}.organization_id",
            day.replace("timestamp", f"{row}.timestamp"),
            *(f"{row}.{n}" for n in _NAMES),
        )
    )


def _sqlite_add(row: str, sign: str) -> tuple[str, str]:
    """The two statements that add `sign`1 to the count of `row`'s key: the row made if missing, then the
    update (NULL names compare with IS, so no unique index can serve an upsert)."""
    day = _SQLITE_DAY.replace("timestamp", f"{row}.timestamp")
    match = " AND ".join(
        (f"organization_id = {row}.organization_id", f"day = {day}", *(f"{n} IS {row}.{n}" for n in _NAMES))
    )
    make = (
        f"INSERT INTO session_count ({_KEY}, n, folded) SELECT {_of(row, _SQLITE_DAY)}, 0, 1 "
        f"WHERE NOT EXISTS (SELECT 1 FROM session_count WHERE {match})"
    )
    return make, f"UPDATE session_count SET n = n {sign} 1 WHERE {match}"


def _sqlite_triggers() -> list[str]:
    old_day = _SQLITE_DAY.replace("timestamp", "OLD.timestamp")
    # A key left at 0 (its sessions deleted, or moved to another day or name) goes.
    drop = (
        f"DELETE FROM session_count WHERE organization_id = OLD.organization_id AND day = {old_day} AND n = 0"
    )
    changed = " OR ".join(
        (
            "OLD.organization_id IS NOT NEW.organization_id",
            f"{old_day} IS NOT {_SQLITE_DAY.replace('timestamp', 'NEW.timestamp')}",
            *(f"OLD.{n} IS NOT NEW.{n}" for n in _NAMES),
        )
    )
    columns = ", ".join(("organization_id", "timestamp", *_NAMES))
    (make, add), (_, remove) = _sqlite_add("NEW", "+"), _sqlite_add("OLD", "-")
    return [
        f"CREATE TRIGGER session_count_insert AFTER INSERT ON session BEGIN {make}; {add}; END",
        f"CREATE TRIGGER session_count_delete AFTER DELETE ON session BEGIN {remove}; {drop}; END",
        f"CREATE TRIGGER session_count_update AFTER UPDATE OF {columns} ON session WHEN {changed} BEGIN "
        f"{remove}; {drop}; {make}; {add}; END",
    ]


def _pg_triggers() -> list[str]:
    statement = """CREATE FUNCTION session_count_{op}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO session_count ({key}, n)
            SELECT {columns}, {sign}count(*) FROM {rows} GROUP BY {groups};
            RETURN NULL;
        END $$"""
    groups = ", ".join(str(i) for i in range(1, len(_NAMES) + 3))
    columns = ", ".join(("organization_id", _PG_DAY, *_NAMES))
    changed = " OR ".join(
        (
            "OLD.organization_id IS DISTINCT FROM NEW.organization_id",
            f"{_PG_DAY.replace('timestamp', 'OLD.timestamp')} IS DISTINCT FROM "
            f"{_PG_DAY.replace('timestamp', 'NEW.timestamp')}",
            *(f"OLD.{n} IS DISTINCT FROM NEW.{n}" for n in _NAMES),
        )
    )
    watched = ", ".join(("organization_id", "timestamp", *_NAMES))
    return [
        statement.format(op="insert", key=_KEY, columns=columns, sign="", rows="new_rows", groups=groups),
        statement.format(op="delete", key=_KEY, columns=columns, sign="-", rows="old_rows", groups=groups),
        f"""CREATE FUNCTION session_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO session_count ({_KEY}, n)
            VALUES ({_of("OLD", _PG_DAY)}, -1), ({_of("NEW", _PG_DAY)}, 1);
            RETURN NULL;
        END $$""",
        "CREATE TRIGGER session_count_insert AFTER INSERT ON session REFERENCING NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION session_count_insert()",
        "CREATE TRIGGER session_count_delete AFTER DELETE ON session REFERENCING OLD TABLE AS old_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION session_count_delete()",
        f"CREATE TRIGGER session_count_update AFTER UPDATE OF {watched} ON session FOR EACH ROW "
        f"WHEN ({changed}) EXECUTE FUNCTION session_count_update()",
    ]


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "session_count",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("organization_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *(sa.Column(name, sa.String(length=200), nullable=True) for name in _NAMES),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("folded", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_count")),
    )
    with op.batch_alter_table("session_count", schema=None) as batch_op:
        batch_op.create_index("ix_session_count_key", ["organization_id", "day", *_NAMES], unique=False)
        batch_op.create_index(
            "ix_session_count_unfolded",
            ["organization_id", "day"],
            unique=False,
            sqlite_where=sa.text("NOT folded"),
            postgresql_where=sa.text("NOT folded"),
        )
    day = _SQLITE_DAY if _sqlite() else _PG_DAY
    op.execute(
        f"INSERT INTO session_count ({_KEY}, n, folded) "
        f"SELECT organization_id, {day}, {', '.join(_NAMES)}, count(*), true FROM session "
        f"GROUP BY organization_id, {day}, {', '.join(_NAMES)}"
    )
    for sql in _sqlite_triggers() if _sqlite() else _pg_triggers():
        op.execute(sql)


def downgrade() -> None:
    """Downgrade schema."""
    for name in ("insert", "delete", "update"):
        if _sqlite():
            op.execute(f"DROP TRIGGER IF EXISTS session_count_{name}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS session_count_{name} ON session")
            op.execute(f"DROP FUNCTION IF EXISTS session_count_{name}()")
    op.drop_table("session_count")
