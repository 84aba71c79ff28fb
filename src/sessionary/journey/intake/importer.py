"""`sessionary import --journey FILE.jsonl`: historical web/app events, in batches, each all or nothing.

One JSON object per line: `{"deploymentId": ..., "type": "web" | "app", "event": <WebEventRequest or
AppEventRequest>, "ipAddress": optional, "userAgent": optional}`. The age window of the HTTP endpoints
does not apply; the allowed domains do. Events may come in any order (sessions are re-derived).
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from multiprocessing.pool import AsyncResult
from typing import IO, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from sqlalchemy import text

from sessionary.config import Settings
from sessionary.db import Database, open_database, session_scope
from sessionary.errors import InvalidRequest, SessionaryError
from sessionary.gc_tuning import tune_gc
from sessionary.journey.intake import ingest
from sessionary.journey.intake.ingest import DeploymentInfo, Enricher, Origin
from sessionary.journey.store import event_rows
from sessionary.journey.store.incoming import Incoming
from sessionary.journey.store.sessionize import StoredEvent
from sessionary.journey.wire.requests import AppEventRequest, WebEventRequest

_COLLECT_EVERY = 20
_BLOCK = 1 << 20  # bytes read at a time
# What the import's lookups read: customers by key, sessions by customer (writepath._load_sessions), events
# by customer (writepath._timeline).
_ANALYZED = (
    "journey_customer,"
    " journey_session (customer_id, type, created_date, last_event_date),"
    " journey_event (customer_id, kind, created_date, id)"
)


class _Line(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    deployment_id: Annotated[str, Field(alias="deploymentId", max_length=64)]
    ip_address: Annotated[str | None, Field(alias="ipAddress", max_length=64)] = None
    user_agent: Annotated[str | None, Field(alias="userAgent", max_length=2000)] = None


class WebLine(_Line):
    type: Literal["web"]
    event: WebEventRequest


class AppLine(_Line):
    type: Literal["app"]
    event: AppEventRequest


_LINE: TypeAdapter[WebLine | AppLine] = TypeAdapter(Annotated[WebLine | AppLine, Field(discriminator="type")])


@dataclass
class JourneyImportTotals:
    events: int = 0


def parse_line(number: int, line: bytes) -> WebLine | AppLine:
    """One JSONL line; InvalidRequest names the line and the field."""
    try:
        return _LINE.validate_json(line)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "json_invalid":
            raise InvalidRequest(f"line {number}: not valid JSON ({first['msg']})") from None
        loc = list(first["loc"])
        if first["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc.append("type")  # a bad discriminator is named as the field it is
        where = ".".join(str(part) for part in loc) or "line"
        raise InvalidRequest(f"line {number}: {where}: {first['msg']}") from None


@dataclass(frozen=True)
class Chunk:
    """`size` lines of the file (or fewer, at its end) as they were read, and the number of the first.
    One bytes object per chunk: the process that writes neither splits it nor copies its lines to the
    helpers one by one."""

    first_line: int
    data: bytes

    def lines(self) -> Iterator[tuple[int, bytes]]:
        """The chunk's non-blank lines with their numbers."""
        for offset, line in enumerate(self.data.split(b"\n")):
            if line.strip():
                yield self.first_line + offset, line


def _chunks(stream: IO[bytes], size: int) -> Iterator[Chunk]:
    """The stream, `size` lines at a time (blank ones included)."""
    number, parts, lines = 1, [], 0
    for block in iter(partial(stream.read, _BLOCK), b""):
        while lines + block.count(b"\n") >= size:
            cut = _after_newlines(block, size - lines)
            parts.append(block[:cut])
            yield Chunk(number, b"".join(parts))
            block, number, parts, lines = block[cut:], number + size, [], 0
        parts.append(block)
        lines += block.count(b"\n")
    if any(parts):
        yield Chunk(number, b"".join(parts))


def _after_newlines(block: bytes, count: int) -> int:
    """The offset just after the `count`-th newline of `block` (it has that many)."""
    at = -1
    for _ in range(count):
        at = block.index(b"\n", at + 1)
    return at + 1


class _Deployments:
    """Deployments by id, read once each."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.known: dict[str, DeploymentInfo] = {}

    def get(self, number: int, deployment_id: str) -> DeploymentInfo:
        if deployment_id not in self.known:
            try:
                with session_scope(self.database.reader) as db:
                    self.known[deployment_id] = ingest.read_deployment(db, deployment_id=deployment_id)
            except SessionaryError as exc:
                raise InvalidRequest(f"line {number}: deploymentId: {exc.detail}") from None
        return self.known[deployment_id]


def _incoming(
    number: int, line: WebLine | AppLine, deployment: DeploymentInfo, enricher: Enricher
) -> Incoming:
    origin = Origin(peer=line.ip_address, user_agent=line.user_agent)
    try:
        if isinstance(line, WebLine):
            return ingest.web_event(line.event, deployment, origin, enricher)
        return ingest.app_event(line.event, deployment, origin, enricher)
    except SessionaryError as exc:
        raise InvalidRequest(f"line {number}: {exc.detail}") from None


class _Preparer:
    """Parses, checks and enriches lines, and renders each event's row values (event_rows.pack): in this
    process, or in a helper process of the import."""

    def __init__(self, database: Database, enricher: Enricher) -> None:
        self.deployments, self.enricher = _Deployments(database), enricher
        self.sqlite = database.dialect == "sqlite"

    def prepare(self, chunk: Chunk) -> dict[int, list[Incoming]]:
        """The chunk's events ready to store, by organization (InvalidRequest names a bad line)."""
        by_org: dict[int, list[Incoming]] = defaultdict(list)
        for number, raw in chunk.lines():
            line = parse_line(number, raw)
            deployment = self.deployments.get(number, line.deployment_id)
            incoming = _incoming(number, line, deployment, self.enricher)
            by_org[deployment.organization_id].append(event_rows.pack(incoming, self.sqlite))
        return dict(by_org)


# A prepared chunk as a helper sends it: each deployment's fields once (deployment id, name, timeout,
# shortId length), and per organization each event as a plain tuple (its deployment's index, cookie, the
# StoredEvent's five fields, payload JSON, createdDate's column form, and whether that form is createdDate
# itself (PostgreSQL's: then it is not sent twice)).
# Pickling the Incoming and StoredEvent NamedTuples took a Python call per object each way, and a
# timedelta per event: 9 us per event in the helper against 4.5 this way (bench/journey.py, 300k events).
_Packed = tuple[list[tuple[str, str, timedelta, int]], dict[int, list[tuple[Any, ...]]]]


def _pack(by_org: dict[int, list[Incoming]]) -> _Packed:
    """`by_org` in the form a helper sends (`_Packed`)."""
    deployments: dict[tuple[str, str, timedelta, int], int] = {}
    packed: dict[int, list[tuple[Any, ...]]] = {}
    for org, items in by_org.items():
        rows = packed[org] = []
        for item in items:
            key = (item.deployment_id, item.deployment_name, item.timeout, item.short_id_length)
            index = deployments.setdefault(key, len(deployments))
            event = item.event
            same = item.created_sql is event.created
            rows.append(
                (index, item.cookie, *event, item.payload_json, None if same else item.created_sql, same)
            )
    return list(deployments), packed


def _unpack(packed: _Packed) -> dict[int, list[Incoming]]:
    """The events `_pack` packed."""
    deployments, by_org = packed
    return {
        org: [
            Incoming(
                deployments[index][0],
                deployments[index][1],
                cookie,
                StoredEvent(event_id, created, kind, name, payload),
                deployments[index][2],
                deployments[index][3],
                payload_json,
                created if same else created_sql,
            )
            for index, cookie, event_id, created, kind, name, payload, payload_json, created_sql, same in rows
        ]
        for org, rows in by_org.items()
    }


_HELPER: _Preparer | None = None


def _start_helper(settings: Settings) -> None:
    global _HELPER
    tune_gc()
    _HELPER = _Preparer(open_database(settings.database_url, pool_size=1), Enricher.from_settings(settings))


def _prepare_in_helper(chunk: Chunk) -> _Packed:
    assert _HELPER is not None
    return _pack(_HELPER.prepare(chunk))


def _prepared(
    chunks: Iterator[Chunk],
    preparer: _Preparer,
    helpers: int,
    settings: Settings | None,
) -> Iterator[tuple[dict[int, list[Incoming]], int]]:
    """Each chunk prepared, in order. With helper processes, they parse and enrich the next chunks while
    this process stores the current one (at most two chunks ahead per helper, so memory stays bounded).
    The first chunk is prepared here, while the helpers start (a second or so of imports each) and
    prepare the chunks after it."""
    if helpers <= 0 or settings is None:
        for chunk in chunks:
            yield preparer.prepare(chunk), len(chunk.data)
        return
    first = next(chunks, None)
    if first is None:
        return
    context = multiprocessing.get_context("spawn")  # no fork of a process that runs threads
    with context.Pool(helpers, initializer=_start_helper, initargs=(settings,)) as pool:
        pending: deque[tuple[AsyncResult[_Packed], int]] = deque()
        for chunk in itertools.islice(chunks, 2 * helpers):
            pending.append((pool.apply_async(_prepare_in_helper, (chunk,)), len(chunk.data)))
        yield preparer.prepare(first), len(first.data)
        for chunk in chunks:
            pending.append((pool.apply_async(_prepare_in_helper, (chunk,)), len(chunk.data)))
            if len(pending) > 2 * helpers:
                result, done = pending.popleft()
                yield _unpack(result.get()), done
        while pending:
            result, done = pending.popleft()
            yield _unpack(result.get()), done


def import_events(
    database: Database,
    *,
    stream: IO[bytes],
    enricher: Enricher,
    batch_size: int = 5000,
    progress: Callable[[int], None] = lambda _bytes: None,
    helpers: int = 0,
    settings: Settings | None = None,
) -> JourneyImportTotals:
    """Store every event of `stream`; a bad line stops the import before its batch is stored. With
    `helpers` > 0 (and the `settings` they open the database and enricher from), that many helper
    processes parse and enrich lines while this one sessionizes and writes."""
    totals = JourneyImportTotals()
    chunks = _chunks(stream, batch_size)
    with _collector_paused():
        prepared = _prepared(chunks, _Preparer(database, enricher), helpers, settings)
        for number, (by_org, read) in enumerate(prepared, start=1):
            ingest.record_batch(database, by_org, phone_region=enricher.phone_region)
            totals.events += sum(len(incoming) for incoming in by_org.values())
            progress(read)
            if number % _COLLECT_EVERY == 0:
                gc.collect()
            if number & (number - 1) == 0:  # after batches 1, 2, 4, 8, ...
                _refresh_statistics(database)
    return totals


def _refresh_statistics(database: Database) -> None:
    """PostgreSQL: ANALYZE the tables the import fills, as they double. A bulk load outruns autovacuum's
    analyze (or finds it off), and on a journey_customer whose statistics still said "empty" the planner
    scanned every customer of the deployment for each lookup of 400: that lookup was over half the import.
    SQLite's planner needs no statistics for these lookups. Only the columns the import's lookups filter
    and sort on are analyzed (`_ANALYZED`): the JSON columns' statistics were three quarters of the cost."""
    if database.dialect != "postgresql":
        return
    with session_scope(database.writer) as db:
        db.execute(text(f"ANALYZE {_ANALYZED}"))


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No automatic cyclic GC during the import: a batch makes no cyclic garbage (measured: none in 1M
    events), and the collections its allocations set off walked the batch's live objects again and again
    (a tenth of the writing process's time). The loop collects every `_COLLECT_EVERY` batches instead."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
