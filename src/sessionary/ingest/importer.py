"""`sessionary import`: native events from a JSONL file, in batches, each batch all or nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

from pydantic import TypeAdapter, ValidationError

from sessionary.db import Database, session_scope
from sessionary.errors import InvalidRequest
from sessionary.eventlog.schemas import EventIn
from sessionary.ingest import service

_EVENT: TypeAdapter[EventIn] = TypeAdapter(EventIn)


@dataclass
class ImportTotals:
    inserted: int = 0
    duplicates: int = 0
    lines: int = 0


def parse_line(number: int, line: bytes) -> EventIn:
    """One JSONL line as an event; InvalidRequest names the line and the field."""
    try:  # from the bytes, as the API does: orjson would read an integer past 64 bits as a float
        return _EVENT.validate_json(line)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "json_invalid":
            raise InvalidRequest(f"line {number}: not valid JSON ({first['msg']})") from None
        where = ".".join(str(part) for part in first["loc"]) or "event"
        raise InvalidRequest(f"line {number}: {where}: {first['msg']}") from None


def _batches(stream: IO[bytes], size: int) -> Iterator[tuple[list[EventIn], int]]:
    batch: list[EventIn] = []
    read = 0
    for number, line in enumerate(stream, start=1):
        read += len(line)
        if line.strip():
            batch.append(parse_line(number, line))
        if len(batch) >= size:
            yield batch, read
            batch, read = [], 0
    if batch or read:
        yield batch, read


def import_events(
    database: Database,
    *,
    organization_id: int,
    stream: IO[bytes],
    batch_size: int = 5000,
    progress: Callable[[int], None] = lambda _bytes: None,
) -> ImportTotals:
    """Ingest every event of `stream`; a bad line stops the import before its batch is stored."""
    totals = ImportTotals()
    for batch, read in _batches(stream, batch_size):
        with session_scope(database.writer) as db:
            result = service.ingest_events(db, organization_id=organization_id, events=batch)
        totals.inserted += result.inserted
        totals.duplicates += result.duplicates
        totals.lines += len(batch)
        progress(read)
    return totals
