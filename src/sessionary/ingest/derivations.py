"""The derivations of native ingest, in one place: what other domains keep from each stored batch.

`ingest_events` runs each of them, in this order, in its own transaction once the events and sessions are
written, handing every one the same `eventlog.batch.StoredBatch`. Each is one function of the same shape
(`eventlog.batch.Derivation`) in its own domain, writing only that domain's tables; none imports the ingest.

1. conversations: create the conversations sessions name, re-derive those whose sessions changed;
2. the analysis queue: mark the ended sessions that changed due;
3. notable events: the batch's tool calls, voicemail transfers and `custom` events;
4. the search index: the batch's transcript turns (SQLite; PostgreSQL's index keeps itself).

The order is today's, kept so that statements run as before; no derivation reads another's tables.

The metrics rollups are not here, on purpose: counting each batch's sessions would lengthen every ingest
transaction (and on SQLite the one write lock it holds), while the rollups need to be current only when
they are read. `metrics.catchup.catch_up` counts the sessions changed since its last run (through
`session.updated_at`, which the ingest sets) from the metrics endpoint and `sessionary metrics refresh`.
"""

from __future__ import annotations

from sqlalchemy.orm import Session as DBSession

from sessionary.analysis import store as analysis
from sessionary.conversations import service as conversations
from sessionary.eventlog.batch import Derivation, StoredBatch
from sessionary.notable import service as notable
from sessionary.search import indexing as search_index

DERIVATIONS: tuple[Derivation, ...] = (
    conversations.derive_from_ingest,
    analysis.derive_from_ingest,
    notable.derive_from_ingest,
    search_index.derive_from_ingest,
)


def run(db: DBSession, stored: StoredBatch) -> None:
    """Run every derivation on the batch, in order, in the caller's transaction."""
    for derive in DERIVATIONS:
        derive(db, stored)
