"""transcript search: SQLite FTS5 index kept by triggers, PostgreSQL generated tsvector + GIN

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 11:00:00

Both indexes are built from the rows already stored (backfill) and kept current in the transaction that
inserts an event: on SQLite by the ingest (search/indexing.py), on PostgreSQL by the database itself.
See sessionary/search/models.py.
"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_UP = (
    # External content: FTS5 reads the text back through this view (for snippets), it is not copied.
    # New turns are added by the ingest (search/indexing.py), one executemany per batch: an INSERT trigger
    # cost several times as much (FTS5 flushes its pending terms at every trigger statement's savepoint).
    """CREATE VIEW transcript_text AS
       SELECT id, json_extract(data, '$.text') AS text FROM event WHERE type = 'transcript'""",
    """CREATE VIRTUAL TABLE transcript_fts USING fts5(
       text, content='transcript_text', content_rowid='id', tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER transcript_fts_delete AFTER DELETE ON event WHEN old.type = 'transcript' BEGIN
       INSERT INTO transcript_fts(transcript_fts, rowid, text)
       VALUES ('delete', old.id, json_extract(old.data, '$.text'));
       END""",
    # Rows leave through cascades (a session or organization deleted); events are never updated, but
    # should one be, the index follows.
    """CREATE TRIGGER transcript_fts_update AFTER UPDATE OF type, data ON event BEGIN
       INSERT INTO transcript_fts(transcript_fts, rowid, text)
       SELECT 'delete', old.id, json_extract(old.data, '$.text') WHERE old.type = 'transcript';
       INSERT INTO transcript_fts(rowid, text)
       SELECT new.id, json_extract(new.data, '$.text') WHERE new.type = 'transcript';
       END""",
    # Backfill: index every transcript row stored before this migration.
    "INSERT INTO transcript_fts(transcript_fts) VALUES ('rebuild')",
)
_SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS transcript_fts_update",
    "DROP TRIGGER IF EXISTS transcript_fts_delete",
    "DROP TABLE IF EXISTS transcript_fts",
    "DROP VIEW IF EXISTS transcript_text",
)
_POSTGRES_UP = (
    # Stored, so ranking reads it instead of re-parsing the text of every hit (10x faster than an
    # expression index at 300k turns); adding it rewrites the table, which computes it for every old row.
    """ALTER TABLE event ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
       CASE WHEN type = 'transcript' THEN to_tsvector('simple'::regconfig, data ->> 'text') END) STORED""",
    """CREATE INDEX ix_event_search_vector ON event USING gin (search_vector)
       WHERE type = 'transcript'""",
)
_POSTGRES_DOWN = (
    "DROP INDEX IF EXISTS ix_event_search_vector",
    "ALTER TABLE event DROP COLUMN IF EXISTS search_vector",
)


def _run(statements: Sequence[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    """Upgrade schema."""
    _run(_SQLITE_UP if op.get_bind().dialect.name == "sqlite" else _POSTGRES_UP)


def downgrade() -> None:
    """Downgrade schema."""
    _run(_SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else _POSTGRES_DOWN)
