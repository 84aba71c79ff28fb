"""Where the transcript search index lives. No ORM class: the index sits beside the `event` table
(migration 0004 creates it and indexes the turns stored before).

- SQLite: `transcript_fts`, an FTS5 table over the view `transcript_text` (external content: the text is
  not copied; rowid = event.id). The ingest adds each batch's new turns in its transaction
  (`indexing.derive_from_ingest`); triggers on `event` take a row out should it be deleted (a cascade from
  its session or organization) or changed.
- PostgreSQL: `event.search_vector`, a stored generated tsvector column (NULL except for transcripts),
  with the GIN index `ix_event_search_vector`: the database keeps it, the ingest does nothing.

Alembic's autogenerate does not know these objects; `migrations/env.py` leaves them out of the comparison
by the names below.
"""

from __future__ import annotations

FTS_TABLE = "transcript_fts"  # and its shadow tables transcript_fts_data, _idx, _docsize, _config
TEXT_VIEW = "transcript_text"
TRIGGERS = ("transcript_fts_delete", "transcript_fts_update")
VECTOR_COLUMN = "search_vector"
VECTOR_INDEX = "ix_event_search_vector"
TOKENIZER = "unicode61 remove_diacritics 2"
TS_CONFIG = "simple"


def is_unmanaged(name: str | None, type_: str) -> bool:
    """Whether Alembic should leave this database object alone (it belongs to the search index)."""
    if name is None:
        return False
    if type_ == "table":
        return name == FTS_TABLE or name.startswith(FTS_TABLE + "_")
    if type_ == "column":
        return name == VECTOR_COLUMN
    if type_ == "index":
        return name == VECTOR_INDEX
    return False
