"""`sessionary import --journey FILE.jsonl`: historical web/app events, in batches, each all or nothing.

One JSON object per line: `{"deploymentId": ..., "type": "web" | "app", "event": <WebEventRequest or
AppEventRequest>, "ipAddress": optional, "userAgent": optional}`. The age window of the HTTP endpoints
does not apply; the allowed domains do. Events may come in any order (sessions are re-derived).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from sessionary.db import Database, session_scope
from sessionary.db_types import utcnow
from sessionary.errors import InvalidRequest, SessionaryError
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


def _batches(stream: IO[bytes], size: int) -> Iterator[tuple[list[tuple[int, WebLine | AppLine]], int]]:
    batch: list[tuple[int, WebLine | AppLine]] = []
    read = 0
    for number, line in enumerate(stream, start=1):
        read += len(line)
        if line.strip():
            batch.append((number, parse_line(number, line)))
        if len(batch) >= size:
            yield batch, read
            batch, read = [], 0
    if batch or read:
        yield batch, read


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


def import_events(
    database: Database,
    *,
    stream: IO[bytes],
    enricher: Enricher,
    batch_size: int = 5000,
    progress: Callable[[int], None] = lambda _bytes: None,
) -> JourneyImportTotals:
    """Store every event of `stream`; a bad line stops the import before its batch is stored."""
    totals = JourneyImportTotals()
    deployments = _Deployments(database)
    for batch, read in _batches(stream, batch_size):
        by_org: dict[int, list[Incoming]] = defaultdict(list)
        for number, line in batch:
            deployment = deployments.get(number, line.deployment_id)
            by_org[deployment.organization_id].append(_incoming(number, line, deployment, enricher))
        with session_scope(database.writer) as db:
            for organization_id, incoming in sorted(by_org.items()):
                ingest.record(
                    db,
                    organization_id=organization_id,
                    incoming=incoming,
                    now=utcnow(),
                    phone_region=enricher.phone_region,
                )
        totals.events += len(batch)
        progress(read)
    return totals
