"""bench/ingest.py's growth cases: `--prefill N` (a database that holds N events before the timed part) and
`--case sessions` (one `session.started` per new session, 10,000 per request, one client).

The prefill writes straight through the driver (SQLite executemany, PostgreSQL COPY), in the rows the ingest
itself would have written for the same generated sessions (about 20 events each, as the timed part sends):

* `session`: every column the projection sets from the events (agent, prompt, channel, source/target, flags,
  start/end, duration, event_count, updated_at); `field_versions` is left `{}` (no timed event reaches a
  prefilled session, so nothing reads it);
* `event`: every event, with its `data` (PostgreSQL computes `search_vector` itself, as on ingest);
* `conversation`: one per conversation_id the sessions name (two sessions each), its fields derived;
* `notable_event`: one per tool call (automation / tool-call or tool-error);
* `session_analysis`: every ended session, analyzed already (not due);
* SQLite: `transcript_fts`, every transcript turn (PostgreSQL's index is the generated column above).

The prefilled sessions come one after another (not interleaved), end before the timed part's first event,
and have keys of their own (`pre-...`), so the timed events create new sessions only, as in the empty case.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
from psycopg.types.json import set_json_dumps

from harness import Server, Target

BASE_TIME = datetime(2025, 6, 1, tzinfo=UTC)
SESSION_GAP_US = 230_000  # one new session every 0.23 s (500 open at once, two minutes each)
CHUNK_SESSIONS = 20_000  # sessions written per prefill transaction

# The columns of each table the prefill writes, in the order of its rows.
SESSION_COLUMNS = (
    "id, organization_id, session_type, timestamp, conversation_id, channel_manager_service, "
    "channel_manager_type, channel_manager_sid, agent_id, agent_name, agent_type, agent_timezone, prompt_id, "
    "prompt_name, prompt_version_number, source, target, is_legacy, is_test, is_outbound, user_terminated, "
    "started_at, first_event_at, last_event_at, ended_at, duration, event_count, field_versions, updated_at"
)
EVENT_COLUMNS = 'id, organization_id, event_id, session_id, "type", "timestamp", data, received_at'
CONVERSATION_COLUMNS = (
    "organization_id, conversation_id, timestamp, agent_id, agent_name, agent_type, prompt_id, prompt_name, "
    "is_legacy"
)
NOTABLE_COLUMNS = (
    "organization_id, event_id, session_id, timestamp, source, source_id, category, type, attributes"
)
ANALYSIS_COLUMNS = "session_id, organization_id, due_at, generation, attempts, analyzed_at, latency_means"
TABLES = {
    "session": SESSION_COLUMNS,
    "event": EVENT_COLUMNS,
    "conversation": CONVERSATION_COLUMNS,
    "notable_event": NOTABLE_COLUMNS,
    "session_analysis": ANALYSIS_COLUMNS,
}

# (rng, number, start_us, seq) -> the session's events, each with .ts_us, .position, .type, .data
SessionEvents = Callable[[random.Random, int, int, int], Sequence[Any]]


@dataclass
class Chunk:
    """The rows of CHUNK_SESSIONS prefilled sessions, table by table (values in the driver's form)."""

    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=lambda: {name: [] for name in TABLES})
    turns: list[tuple[int, str]] = field(default_factory=list)  # SQLite: (event row id, text) to index
    events: int = 0


def _stamp(sqlite: bool, ts_us: int) -> Any:
    when = BASE_TIME + timedelta(microseconds=ts_us)
    return when.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else when


def _session_rows(chunk: Chunk, sqlite: bool, number: int, sid: str, events: Sequence[Any]) -> None:
    """The session row (and its conversation on even numbers: two sessions share one) of one session."""
    started = events[0].data
    first, last = events[0].ts_us, events[-1].ts_us
    channel = started["channel_manager_type"]
    ended = events[-1].data
    kind = "voice" if channel.startswith("voice") else "chat"

    def when(us: int) -> Any:
        return _stamp(sqlite, us)

    chunk.rows["session"].append(
        (number + 1, 1, kind, when(first), "pre" + started["conversation_id"], "hedy", channel, sid,
         started["agent_id"], started["agent_name"], started["agent_type"], started["agent_timezone"],
         started["prompt_id"], started["prompt_name"], started["prompt_version_number"], started["source"],
         started["target"], started["is_legacy"], started["is_test"], started["is_outbound"],
         ended.get("user_terminated"), when(first), when(first), when(last), when(last),
         (last - first) / 1e6, len(events), "{}", when(last))
    )  # fmt: skip
    conversation = "pre" + started["conversation_id"]  # sessions 2k and 2k+1 share one
    rows = chunk.rows["conversation"]
    if not rows or rows[-1][1] != conversation:
        rows.append(
            (1, conversation, when(first), started["agent_id"], started["agent_name"],
             started["agent_type"], started["prompt_id"], started["prompt_name"], started["is_legacy"])
        )  # fmt: skip
    chunk.rows["session_analysis"].append((number + 1, 1, None, 1, 0, when(last), "{}"))


def _event_rows(
    chunk: Chunk, sqlite: bool, number: int, sid: str, events: Sequence[Any], first_id: int
) -> int:
    """The session's event rows (ids from `first_id` on), its notable tool calls and turns; the next id."""
    row_id = first_id
    for pending in events:
        event_id, when = f"{sid}-{pending.position:02d}", _stamp(sqlite, pending.ts_us)
        chunk.rows["event"].append(
            (row_id, 1, event_id, number + 1, pending.type, when, orjson.dumps(pending.data).decode(), when)
        )
        if pending.type == "tool_call":
            data = pending.data
            failed = data["tool_error"] is not None
            attributes = {"tool_call_id": data["tool_call_id"], "duration_ms": data["duration_ms"]}
            chunk.rows["notable_event"].append(
                (1, event_id, number + 1, when, "tool-call", data["tool_name"], "automation",
                 "tool-error" if failed else "tool-call", orjson.dumps(attributes).decode())
            )  # fmt: skip
        elif pending.type == "transcript":
            chunk.turns.append((row_id, pending.data["text"]))
        row_id += 1
    chunk.events += len(events)
    return row_id


def prefill_chunks(total: int, seed: int, sqlite: bool, session_events: SessionEvents) -> Iterator[Chunk]:
    """Chunks of sessions (ending before BASE_TIME) whose events add up to `total`, generated as needed."""
    rng = random.Random(seed ^ 0x5EED)
    sessions = max(1, total // 20)  # about 20 events a session; the last chunk stops at `total`
    number, event_id, written = 0, 1, 0  # session id: number + 1
    while written < total:
        chunk = Chunk()
        for _ in range(CHUNK_SESSIONS):
            start = (number - sessions - 1000) * SESSION_GAP_US
            events = list(session_events(rng, number, start, 0))[: total - written]
            sid = f"pre-{number:09d}"
            _session_rows(chunk, sqlite, number, sid, events)
            event_id = _event_rows(chunk, sqlite, number, sid, events, event_id)
            written += len(events)
            number += 1
            if written >= total:
                break
        yield chunk


def _placeholders(columns: str, mark: str) -> str:
    return ", ".join([mark] * len(columns.split(",")))


def prefill(target: Target, total: int, seed: int, session_events: SessionEvents) -> tuple[int, float]:
    """Fill the (migrated, organization 1) database with `total` events; returns (sessions, seconds)."""
    began = time.perf_counter()
    sqlite = target.kind == "sqlite"
    sessions = 0
    write = _write_sqlite if sqlite else _write_pg
    for chunk in prefill_chunks(total, seed, sqlite, session_events):
        write(target, chunk)
        sessions += len(chunk.rows["session"])
        print(f"  prefilled {sessions:,} sessions ...", flush=True)
    if not sqlite:
        with target.connect_pg() as pg:
            for table in ("session", "event"):
                pg.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                )
            pg.execute("ANALYZE")
    settle(target)
    return sessions, time.perf_counter() - began


def settle(target: Target) -> None:
    """Leave the filled database as one that has held its rows for a while: checkpointed (SQLite's WAL
    copied back and truncated; PostgreSQL's CHECKPOINT), and the fill's dirty pages written to disk
    (os.sync), so that the kernel's write-back of gigabytes of fill does not run under the timed part."""
    if target.kind == "sqlite":
        with closing(target.connect_sqlite()) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    else:
        with target.connect_pg() as pg:
            pg.autocommit = True
            pg.execute("CHECKPOINT")
    os.sync()


def _insert_tables(conn: Any, tables: dict[str, str], rows: dict[str, list[tuple[Any, ...]]]) -> None:
    """SQLite: each table's rows (its `tables` columns, in order), one executemany per table."""
    for table, columns in tables.items():
        conn.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({_placeholders(columns, '?')})", rows[table]
        )


def _write_sqlite(target: Target, chunk: Chunk) -> None:
    conn = target.connect_sqlite()
    try:
        conn.execute("BEGIN IMMEDIATE")
        _insert_tables(conn, TABLES, chunk.rows)
        conn.executemany("INSERT INTO transcript_fts(rowid, text) VALUES (?, ?)", chunk.turns)
        conn.execute("COMMIT")
    finally:
        conn.close()


def _write_pg(target: Target, chunk: Chunk) -> None:
    with target.connect_pg() as pg, pg.cursor() as cur:
        for table, columns in TABLES.items():
            with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in chunk.rows[table]:
                    copy.write_row(row)


def copy_events_pg(target: Target, rows: Sequence[tuple[Any, ...]]) -> float:
    """PostgreSQL: COPY these event rows (as bench/ingest.py's raw_event_rows gives them) into `event` in
    one transaction, in COPY's binary format (the faster one, which the server uses too: fastsql._copy);
    returns the seconds. The timestamps are parsed before the timed part."""
    typed = [
        (1, event_id, session, kind, datetime.fromisoformat(at), data, datetime.fromisoformat(now))
        for event_id, session, kind, at, data, now in rows
    ]
    with target.connect_pg() as pg:
        began = time.perf_counter()
        with pg.cursor() as cur:
            set_json_dumps(str, cur)  # the data is JSON text already
            with cur.copy(
                'COPY event (organization_id, event_id, session_id, "type", "timestamp", data, received_at) '
                "FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["int8", "text", "int8", "text", "timestamptz", "jsonb", "timestamptz"])
                for row in typed:
                    copy.write_row(row)
        pg.commit()
        return time.perf_counter() - began


# --- the sessions case -------------------------------------------------------------------------------


@dataclass
class SessionsResult:
    sessions: int = 0
    seconds: list[float] = field(default_factory=list)  # per request, in order
    cpu: list[float] = field(default_factory=list)  # the server's CPU seconds per request (all its processes)
    errors: list[str] = field(default_factory=list)

    def rate(self, first: int, last: int, batch: int) -> float:
        """Sessions per second of the requests that created sessions [first, last)."""
        spent = sum(self.seconds[first // batch : last // batch])
        return (last - first) / spent if spent else 0.0

    def per_cpu(self, first: int, last: int, batch: int) -> float:
        """Sessions per second of the server's CPU time (less sensitive to a busy machine than `rate`)."""
        spent = sum(self.cpu[first // batch : last // batch])
        return (last - first) / spent if spent else 0.0


def started_events(
    rng: random.Random, first: int, count: int, started: Callable[..., dict[str, Any]]
) -> list[dict[str, Any]]:
    """A `session.started` for each of sessions first .. first+count, time-ordered (one request's)."""
    events = []
    for number in range(first, first + count):
        when = BASE_TIME + timedelta(microseconds=number * SESSION_GAP_US)
        channel, service = (("voice_sip_v1", "hedy"), ("web_chat_v1", "webchat"))[number % 2]
        events.append(
            {
                "event_id": f"new-{number:09d}-00",
                "type": "session.started",
                "timestamp": when.isoformat(timespec="microseconds")[:26] + "Z",
                "channel_manager_service": service,
                "channel_manager_sid": f"new-{number:09d}",
                "data": started(rng, number, channel),
            }
        )
    return events


def started_body(rng: random.Random, first: int, count: int, started: Callable[..., dict[str, Any]]) -> bytes:
    """One request: `started_events` as the native ingest's JSON body."""
    return orjson.dumps({"events": started_events(rng, first, count, started)})


def post_sessions(
    servers: Sequence[tuple[Server, str]],
    total: int,
    batch: int,
    seed: int,
    started: Callable[..., dict[str, Any]],
) -> list[SessionsResult]:
    """One client, batches one after another, each body (made before its requests, untimed) posted to every
    (server, API key) in turn, the first one first in even batches and last in odd ones: servers compared
    (`--against`) meet the machine in the same state. One result per server, in their order."""
    results = [SessionsResult() for _ in servers]
    rng = random.Random(seed)
    clients = [
        httpx.Client(base_url=server.url, timeout=600, headers={"Syllable-API-Key": key})
        for server, key in servers
    ]
    try:
        for first in range(0, total, batch):
            body = started_body(rng, first, min(batch, total - first), started)
            order = list(range(len(servers)))
            for index in order if (first // batch) % 2 == 0 else order[::-1]:
                if not _post_started(servers[index][0], clients[index], body, first, results[index]):
                    return results
            if (first // batch) % 10 == 9:
                last = " / ".join(f"{result.seconds[-1]:.2f}" for result in results)
                print(f"  {first + batch:,} sessions, last request {last} s", flush=True)
    finally:
        for client in clients:
            client.close()
    return results


def _post_started(
    server: Server, client: httpx.Client, body: bytes, first: int, result: SessionsResult
) -> bool:
    """Post one batch, timing it and the server's CPU; False (the error recorded) unless it went in."""
    cpu, began = server.cpu_seconds(), time.perf_counter()
    response = client.post(
        "/api/v1/ingest/events", content=body, headers={"Content-Type": "application/json"}
    )
    result.seconds.append(time.perf_counter() - began)
    result.cpu.append(server.cpu_seconds() - cpu)
    if response.status_code != 200:
        result.errors.append(f"batch at {first}: HTTP {response.status_code} {response.text[:300]}")
        return False
    result.sessions += int(response.json()["inserted"])
    return True


# --- the sessions case's limit: the same rows straight through the driver ---------------------------------

# The columns the ingest writes for a session made by one `session.started` (the others stay NULL).
STARTED_SESSION_COLUMNS = (
    "id, organization_id, session_type, timestamp, conversation_id, channel_manager_service, "
    "channel_manager_type, channel_manager_sid, agent_id, agent_name, agent_type, agent_timezone, prompt_id, "
    "prompt_name, prompt_version_number, source, target, is_legacy, is_test, is_outbound, started_at, "
    "first_event_at, last_event_at, event_count, field_versions, updated_at"
)
STARTED_TABLES = {
    "session": STARTED_SESSION_COLUMNS,
    "event": EVENT_COLUMNS,
    "conversation": CONVERSATION_COLUMNS,
}


def started_rows(
    events: Sequence[dict[str, Any]], first_id: int, sqlite: bool
) -> dict[str, list[tuple[Any, ...]]]:
    """The rows the ingest stores for `started_events` (session ids from `first_id` on): each session whole
    (its `field_versions` as the ingest writes them: every field dated by its event), its event, and one
    conversation per pair of sessions (sessions 2k and 2k+1 share one; its fields from the later one)."""
    now = datetime.now(UTC)
    written = now.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else now  # updated_at, received_at
    rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in STARTED_TABLES}
    for offset, event in enumerate(events):
        at = datetime.fromisoformat(event["timestamp"])
        version = f"{at.isoformat(timespec='microseconds')}|{event['event_id']}"
        data, row_id = event["data"], first_id + offset
        when = at.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else at
        versions = orjson.dumps(dict.fromkeys(data, version)).decode()
        kind = "voice" if data["channel_manager_type"].startswith("voice") else "chat"
        rows["session"].append(
            (row_id, 1, kind, when, data["conversation_id"], event["channel_manager_service"],
             data["channel_manager_type"], event["channel_manager_sid"], data["agent_id"], data["agent_name"],
             data["agent_type"], data["agent_timezone"], data["prompt_id"], data["prompt_name"],
             data["prompt_version_number"], data["source"], data["target"], data["is_legacy"],
             data["is_test"], data["is_outbound"], when, when, when, 1, versions, written)
        )  # fmt: skip
        rows["event"].append(
            (row_id, 1, event["event_id"], row_id, event["type"], when, orjson.dumps(data).decode(), written)
        )  # fmt: skip
        if offset % 2 == 1:  # the pair's later session: the conversation starts at the earlier one's time
            begun = rows["session"][-2][3]
            rows["conversation"].append(
                (1, data["conversation_id"], begun, data["agent_id"], data["agent_name"], data["agent_type"],
                 data["prompt_id"], data["prompt_name"], data["is_legacy"])
            )  # fmt: skip
    return rows


def raw_sessions(
    target: Target, total: int, batch: int, seed: int, started: Callable[..., dict[str, Any]]
) -> list[float]:
    """The limit of the sessions case: the rows its requests store (`started_rows`, made untimed), written
    into `target` (migrated, organization 1, no session yet) through the driver in one transaction per
    request's worth (SQLite executemany; PostgreSQL COPY in the binary format, as the server's); the seconds
    of each transaction, in order. The same generator and seed as `post_sessions`: the same sessions."""
    rng = random.Random(seed)
    sqlite = target.kind == "sqlite"
    write = _write_started_sqlite if sqlite else _write_started_pg
    seconds = []
    for first in range(0, total, batch):
        rows = started_rows(started_events(rng, first, min(batch, total - first), started), first + 1, sqlite)
        seconds.append(write(target, rows))
        if (first // batch) % 10 == 9:
            print(f"  raw: {first + batch:,} sessions, last transaction {seconds[-1]:.2f} s", flush=True)
    return seconds


def _write_started_sqlite(target: Target, rows: dict[str, list[tuple[Any, ...]]]) -> float:
    conn = target.connect_sqlite()
    try:
        began = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        _insert_tables(conn, STARTED_TABLES, rows)
        conn.execute("COMMIT")
        return time.perf_counter() - began
    finally:
        conn.close()


def _write_started_pg(target: Target, rows: dict[str, list[tuple[Any, ...]]]) -> float:
    with target.connect_pg() as pg, pg.cursor() as cur:
        set_json_dumps(str, cur)  # the JSON columns' values are JSON text already
        types = {table: _column_types(cur, table, columns) for table, columns in STARTED_TABLES.items()}
        began = time.perf_counter()
        for table, columns in STARTED_TABLES.items():
            with cur.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(types[table])
                for row in rows[table]:
                    copy.write_row(row)
        pg.commit()
        return time.perf_counter() - began


def _column_types(cur: Any, table: str, columns: str) -> list[str]:
    """PostgreSQL: the type names of these columns of `table`, in their order (for a binary COPY)."""
    cur.execute(
        "SELECT column_name, udt_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = %s",
        (table,),
    )
    udt = {str(name): str(kind) for name, kind in cur.fetchall()}
    return [udt[name.strip().strip('"')] for name in columns.split(",")]
