"""`sessionary import --journey FILE.jsonl`: historical web/app events, in batches, each all or nothing.

One JSON object per line: `{"deploymentId": ..., "type": "web" | "app", "event": <WebEventRequest or
AppEventRequest>, "ipAddress": optional, "userAgent": optional}`. The age window of the HTTP endpoints
does not apply; the allowed domains do. Events may come in any order (sessions are re-derived).
"""

from __future__ import annotations

import multiprocessing
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.pool import AsyncResult
from typing import IO, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from sessionary.config import Settings
from sessionary.db import Database, open_database, session_scope
from sessionary.errors import InvalidRequest, SessionaryError
from sessionary.gc_tuning import tune_gc
from sessionary.journey import ingest
from sessionary.journey.ingest import DeploymentInfo, Enricher, Origin
from sessionary.journey.requests import AppEventRequest, WebEventRequest
from sessionary.journey.store import Incoming


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


def _chunks(stream: IO[bytes], size: int) -> Iterator[tuple[list[tuple[int, bytes]], int]]:
    """The stream's non-blank lines, `size` at a time, with their numbers, and the bytes read for them."""
    lines: list[tuple[int, bytes]] = []
    read = 0
    for number, line in enumerate(stream, start=1):
        read += len(line)
        if line.strip():
            lines.append((number, line))
        if len(lines) >= size:
            yield lines, read
            lines, read = [], 0
    if lines or read:
        yield lines, read


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
    """Parses, checks and enriches lines: in this process, or in a helper process of the import."""

    def __init__(self, database: Database, enricher: Enricher) -> None:
        self.deployments, self.enricher = _Deployments(database), enricher

    def prepare(self, lines: list[tuple[int, bytes]]) -> dict[int, list[Incoming]]:
        """The lines' events ready to store, by organization (InvalidRequest names a bad line)."""
        by_org: dict[int, list[Incoming]] = defaultdict(list)
        for number, raw in lines:
            line = parse_line(number, raw)
            deployment = self.deployments.get(number, line.deployment_id)
            by_org[deployment.organization_id].append(_incoming(number, line, deployment, self.enricher))
        return dict(by_org)


_HELPER: _Preparer | None = None


def _start_helper(settings: Settings) -> None:
    global _HELPER
    tune_gc()
    _HELPER = _Preparer(open_database(settings.database_url, pool_size=1), Enricher.from_settings(settings))


def _prepare_in_helper(lines: list[tuple[int, bytes]]) -> dict[int, list[Incoming]]:
    assert _HELPER is not None
    return _HELPER.prepare(lines)


def _prepared(
    chunks: Iterator[tuple[list[tuple[int, bytes]], int]],
    preparer: _Preparer,
    helpers: int,
    settings: Settings | None,
) -> Iterator[tuple[dict[int, list[Incoming]], int]]:
    """Each chunk prepared, in order. With helper processes, they parse and enrich the next chunks while
    this process stores the current one (at most two chunks ahead per helper, so memory stays bounded)."""
    if helpers <= 0 or settings is None:
        for lines, read in chunks:
            yield preparer.prepare(lines), read
        return
    context = multiprocessing.get_context("spawn")  # no fork of a process that runs threads
    with context.Pool(helpers, initializer=_start_helper, initargs=(settings,)) as pool:
        pending: deque[tuple[AsyncResult[dict[int, list[Incoming]]], int]] = deque()
        for lines, read in chunks:
            pending.append((pool.apply_async(_prepare_in_helper, (lines,)), read))
            if len(pending) > 2 * helpers:
                result, done = pending.popleft()
                yield result.get(), done
        while pending:
            result, done = pending.popleft()
            yield result.get(), done


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
    for by_org, read in _prepared(chunks, _Preparer(database, enricher), helpers, settings):
        ingest.record_batch(database, by_org, phone_region=enricher.phone_region)
        totals.events += sum(len(incoming) for incoming in by_org.values())
        progress(read)
    return totals
