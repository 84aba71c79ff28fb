"""Group commit for OTLP exports: the exports a server process has mapped at the same moment are stored
in one write transaction.

An exporter sends a few hundred spans per request (the SDK's batch is 512), so a transaction per request
would spend much of its time on what every transaction costs (locks, derivations' statements, the commit)
rather than on the spans. Exports that are ready while another is being written queue here; the request
thread that finds no write in progress takes everything queued (up to MAX_SPANS spans), merges it per
organization and stores it in one transaction, then hands each export its outcome ("flat combining": no
thread of its own). Each request answers only after the transaction holding its spans has committed, so
an acknowledged span is durable. If a merged write fails, its exports are written again one by one, so a
bad export fails alone.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sessionary.db import Database, session_scope
from sessionary.db_types import utcnow
from sessionary.otel.service import Mapped, Outcome, peeker, store_mapped

MAX_SPANS = 4096  # spans one merged transaction takes (about 8 default exporter batches)


@dataclass
class _Export:
    organization_id: int
    mapped: list[Mapped]
    done: bool = False
    result: Outcome | None = None
    error: BaseException | None = None
    spans: int = field(init=False)

    def __post_init__(self) -> None:
        self.spans = len(self.mapped)


class WriteCombiner:
    def __init__(self, max_spans: int = MAX_SPANS) -> None:
        self.max_spans = max_spans
        self._changed = threading.Condition()
        self._queue: list[_Export] = []
        self._writing = False

    def store(self, database: Database, organization_id: int, mapped: list[Mapped]) -> Outcome:
        """Store one export's mapped spans (with whatever else is ready); their outcome, once committed."""
        export = _Export(organization_id, mapped)
        with self._changed:
            self._queue.append(export)
        while True:
            with self._changed:
                while not export.done and self._writing:
                    self._changed.wait()
                if export.done:
                    return _outcome_of(export)
                self._writing = True
                batch = self._take()  # this export, unless more than max_spans wait before it: then again
            try:
                _write(database, batch)
            finally:
                with self._changed:
                    self._writing = False
                    self._changed.notify_all()

    def _take(self) -> list[_Export]:
        """The queued exports, oldest first, up to max_spans spans (at least one)."""
        taken: list[_Export] = []
        spans = 0
        while self._queue and (not taken or spans + self._queue[0].spans <= self.max_spans):
            export = self._queue.pop(0)
            taken.append(export)
            spans += export.spans
        return taken


def _outcome_of(export: _Export) -> Outcome:
    if export.error is not None:
        raise export.error
    assert export.result is not None
    return export.result


def _write(database: Database, batch: Sequence[_Export]) -> None:
    """Store the batch in one transaction (per organization merged); one by one if that fails, so that a bad
    export fails alone. Each export is then done, with its outcome or its error."""
    try:
        results = _transaction(database, batch)
    except Exception as exc:
        if len(batch) == 1:
            _finish(batch[0], failure=exc)
            return
        for export in batch:
            try:
                _finish(export, result=_transaction(database, [export])[0])
            except Exception as alone:
                _finish(export, failure=alone)
        return
    for export, result in zip(batch, results, strict=True):
        _finish(export, result=result)


def _transaction(database: Database, batch: Sequence[_Export]) -> list[Outcome]:
    by_org: dict[int, list[Mapped]] = defaultdict(list)
    for export in batch:
        by_org[export.organization_id] += export.mapped
    now = utcnow()
    stored: dict[int, Outcome] = {}
    with session_scope(database.writer) as db:
        for org, mapped in sorted(by_org.items()):
            peek = peeker(database, organization_id=org)
            stored[org] = store_mapped(db, organization_id=org, mapped=mapped, now=now, peek=peek)
    return [stored[export.organization_id] for export in batch]


def _finish(export: _Export, *, result: Outcome | None = None, failure: BaseException | None = None) -> None:
    export.result, export.error, export.done = result, failure, True
