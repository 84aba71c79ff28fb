"""Exporting sessions: the filtered sessions, newest first, read in keyset pages and written as they come.

One row per session (COLUMNS), as CSV, JSON Lines or Parquet; or one JSON line per session with its
transcript turns and tool calls. Nothing holds more than one page of sessions in memory.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session as DBSession

from sessionary.eventlog.models import Event
from sessionary.labels.models import SessionLabel
from sessionary.sessions import filters
from sessionary.sessions.filters import SessionFilter
from sessionary.sessions.models import Session
from sessionary.transcripts import formatting as fmt
from sessionary.types import iso_z

if TYPE_CHECKING:
    import pyarrow as pa

PAGE = 2000
# Column name -> Arrow type: the session's own fields, then its newest label's code. pyarrow itself is
# imported by the Parquet export only (it adds ~50 MB to every server process that imports it).
_ARROW_TYPES: tuple[tuple[str, str], ...] = (
    ("session_id", "int64"),
    ("timestamp", "timestamp"),
    ("session_type", "string"),
    ("conversation_id", "string"),
    ("channel_manager_service", "string"),
    ("channel_manager_type", "string"),
    ("channel_manager_sid", "string"),
    ("agent_id", "string"),
    ("agent_name", "string"),
    ("agent_type", "string"),
    ("prompt_id", "string"),
    ("prompt_name", "string"),
    ("prompt_version", "string"),
    ("prompt_version_number", "int64"),
    ("duration", "float64"),
    ("source", "string"),
    ("target", "string"),
    ("is_outbound", "bool_"),
    ("is_test", "bool_"),
    ("is_legacy", "bool_"),
    ("user_terminated", "bool_"),
    ("transfer_voicemail_detected", "bool_"),
    ("session_label_id", "int64"),
    ("label_code", "string"),
)
COLUMNS = tuple(name for name, _type in _ARROW_TYPES)
_SESSION_COLUMNS = [getattr(Session, name) for name in COLUMNS if name not in ("session_id", "label_code")]

Row = dict[str, Any]


def count(db: DBSession, *, organization_id: int, f: SessionFilter) -> int:
    """How many sessions the filter matches."""
    stmt = select(func.count()).select_from(Session).where(*filters.conditions(organization_id, f))
    return db.scalar(stmt) or 0


def pages(
    db: DBSession,
    *,
    organization_id: int,
    f: SessionFilter,
    size: int = PAGE,
    extra: Sequence[ColumnElement[bool]] = (),
) -> Iterator[list[Row]]:
    """The matching sessions as rows, newest first, `size` at a time (keyset paging on timestamp, id);
    `extra` conditions narrow them further (e.g. the console's transcript search)."""
    where = [*filters.conditions(organization_id, f), *extra]
    label_code = (
        select(SessionLabel.code).where(SessionLabel.id == Session.session_label_id).scalar_subquery()
    )
    base = select(Session.id, *_SESSION_COLUMNS, label_code.label("label_code")).where(*where)
    after: tuple[Any, int] | None = None
    while True:
        stmt = base
        if after is not None:
            ts, last_id = after
            stmt = stmt.where(
                or_(Session.timestamp < ts, and_(Session.timestamp == ts, Session.id < last_id))
            )
        batch = db.execute(stmt.order_by(Session.timestamp.desc(), Session.id.desc()).limit(size)).all()
        if not batch:
            return
        yield [_row(r._mapping) for r in batch]
        after = (batch[-1].timestamp, batch[-1].id)


def _row(values: Any) -> Row:
    row = {name: values[name] for name in COLUMNS if name != "session_id"}
    row["session_id"] = values["id"]
    return {name: row[name] for name in COLUMNS}


def with_transcripts(db: DBSession, rows: list[Row]) -> list[Row]:
    """The rows with each session's `transcript` (turns) and `tool_calls`, in time order."""
    ids = [row["session_id"] for row in rows]
    stmt = (
        select(Event.session_id, Event.type, Event.timestamp, Event.data)
        .where(Event.session_id.in_(ids), Event.type.in_(("transcript", "tool_call")))
        .order_by(Event.session_id, Event.timestamp, Event.id)
    )
    turns: dict[int, list[Row]] = {i: [] for i in ids}
    tools: dict[int, list[Row]] = {i: [] for i in ids}
    for session_id, kind, ts, data in db.execute(stmt):
        if kind == "transcript":
            turns[session_id].append(
                {
                    "timestamp": iso_z(ts),
                    "source": data.get("source"),
                    "text": data.get("text"),
                    "lang": data.get("lang"),
                }
            )
        else:
            tools[session_id].append(
                {
                    "timestamp": iso_z(ts),
                    "tool_name": data.get("tool_name"),
                    "tool_request": fmt.payload(data.get("tool_request")),
                    "tool_result": fmt.payload(data.get("tool_result")),
                    "tool_error": fmt.payload(data.get("tool_error")),
                    "duration_ms": data.get("duration_ms"),
                }
            )
    return [
        {**row, "transcript": turns[row["session_id"]], "tool_calls": tools[row["session_id"]]}
        for row in rows
    ]


# --- encoders: each turns a page of rows into bytes --------------------------------------------------


def _plain(value: Any) -> Any:
    return iso_z(value) if hasattr(value, "tzinfo") else value


def csv_header() -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(COLUMNS)
    return buffer.getvalue().encode()


def csv_page(rows: list[Row]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(["" if row[c] is None else _csv_value(row[c]) for c in COLUMNS])
    return buffer.getvalue().encode()


def _csv_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _plain(value)


def jsonl_page(rows: list[Row]) -> bytes:
    return b"".join(orjson.dumps({k: _plain(v) for k, v in row.items()}) + b"\n" for row in rows)


@functools.cache
def arrow_schema() -> pa.Schema:
    import pyarrow as pa

    def arrow_type(name: str) -> pa.DataType:
        return pa.timestamp("us", tz="UTC") if name == "timestamp" else getattr(pa, name)()

    return pa.schema([(name, arrow_type(kind)) for name, kind in _ARROW_TYPES])


def arrow_table(rows: list[Row]) -> pa.Table:
    import pyarrow as pa

    return pa.Table.from_pylist(rows, schema=arrow_schema())


class ParquetStream:
    """A Parquet file written one row group per page into a buffer that the caller drains as it goes."""

    def __init__(self) -> None:
        import pyarrow.parquet as pq

        self._buffer = io.BytesIO()
        self._writer = pq.ParquetWriter(self._buffer, arrow_schema(), compression="zstd")

    def page(self, rows: list[Row]) -> bytes:
        self._writer.write_table(arrow_table(rows))
        return self._drain()

    def close(self) -> bytes:
        self._writer.close()
        return self._drain()

    def _drain(self) -> bytes:
        data = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return data


def stream(
    db: DBSession,
    *,
    organization_id: int,
    f: SessionFilter,
    kind: str,
    progress: Callable[[int], None] | None = None,
    extra: Sequence[ColumnElement[bool]] = (),
) -> Iterator[bytes]:
    """The export as a sequence of byte chunks (one per page), for a response body or a file."""
    parquet = ParquetStream() if kind == "parquet" else None
    if kind == "csv":
        yield csv_header()
    for rows in pages(db, organization_id=organization_id, f=f, extra=extra):
        if kind == "csv":
            yield csv_page(rows)
        elif kind == "jsonl":
            yield jsonl_page(rows)
        elif kind == "transcripts":
            yield jsonl_page(with_transcripts(db, rows))
        elif parquet is not None:
            yield parquet.page(rows)
        if progress is not None:
            progress(len(rows))
    if parquet is not None:
        yield parquet.close()
