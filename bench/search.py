"""Search latency: GET /api/v1/sessions/search over a million transcript turns, against the raw database.

    .venv/bin/python bench/search.py [--db sqlite|postgresql] [--turns 1000000] [--requests 100]

1. Fills a fresh database (built by `sessionary db upgrade`, so with the product's search index) with
   sessions of 8-20 turns of call-centre dialogue, plus one latency event per turn so that the `event`
   table has its usual width, straight into the `session` and `event` tables the ingest writes, in
   transactions of 5,000 events. Each transaction indexes its turns as the ingest does (SQLite: through the
   product's write sessions and fastsql, with `search.indexing.index_turns`; PostgreSQL: the generated
   column). Afterwards SQLite gets ANALYZE and a WAL checkpoint; PostgreSQL gets VACUUM ANALYZE, what its
   autovacuum does to a table that grows by inserts (it also merges the GIN index's pending list, which
   every search would otherwise read: up to gin_pending_list_limit, 4 MB by default).
2. Starts `sessionary serve` and times GET /api/v1/sessions/search (page size 25) for five kinds of query:
   a common word, a rare word (a surname a few dozen turns mention), two words, a quoted phrase and a
   prefix (the last word typed half-way). Each kind cycles through several queries.
3. Alternating with those requests, runs straight through sqlite3 / psycopg (a) the SQL that sessionary
   sends for the same search (captured from its own service code) and (b) the bare full-text match
   (FTS5 `MATCH` / `@@`, counting the matching turns): the database's raw limit.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import event

from harness import (
    Target,
    bench_parser,
    cli,
    create_key,
    fresh_database,
    percentile,
    postgres_version,
    print_block,
    serve,
    sessionary_source,
    sqlite_version,
    verdict,
    workspace,
)
from sessionary.config import Settings
from sessionary.db import open_database, session_scope
from sessionary.fastsql import FastSQL
from sessionary.listing import ListParams
from sessionary.search import indexing, service
from sessionary.search.query import parse

ORG = "bench-search"
SEARCH_PATH = "/api/v1/sessions/search"
START = datetime(2025, 1, 1, tzinfo=UTC)
PAGE_SIZE = 25
TARGET_P95_MS = 100.0
TX_EVENTS = 5000

FIRST = "Maria James Robert Linda Michael Sarah David Karen Carlos Aisha Wei Priya Ahmed Olga Tomas".split()
DRUGS = (
    "lisinopril metformin atorvastatin amlodipine omeprazole losartan albuterol gabapentin sertraline "
    "levothyroxine insulin warfarin prednisone amoxicillin ibuprofen"
).split()
DOCTORS = "Patel Nguyen Garcia Smith Okafor Rossi Kim Haddad".split()
DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday".split()
STREETS = "Main Oak Pine Maple Cedar Elm Lake Hill River Park".split()
AGENT = (
    "Thanks for calling {site}. How can I help you today?",
    "Can I have your date of birth and last name, please?",
    "Thank you, {first} {surname}. I found your record.",
    "I see {drug} on file. Shall I send the refill to the {street} Street store?",
    "Your prescription for {drug} will be ready {day} after 2 PM.",
    "Doctor {doctor} has an appointment open on {day} at {hour}:30. Would you like it?",
    "You're booked with Doctor {doctor} on {day}. You will get a text reminder.",
    "I'm sorry about the double charge. Could you read me the order number?",
    "I have issued a refund of {amount} dollars to your card ending in {digits}.",
    "Your lab results from {day} are in. Doctor {doctor} will call you to go over them.",
    "Your insurance is active and covers the visit with a copay of {amount} dollars.",
    "We are open Monday to Friday from 8 AM to 6 PM and on Saturday until noon.",
    "If this is an emergency, please hang up and dial 911.",
    "Let me transfer you to a nurse who can help with that.",
    "Is there anything else I can help you with today?",
)
USER = (
    "Hi, I need to refill my blood pressure prescription.",
    "It's {first} {surname}, born {month} {dom}.",
    "Yes please, the {street} Street one.",
    "I'd like to book an appointment with Doctor {doctor}, ideally {day} morning.",
    "I was charged twice for my last order and I want a refund.",
    "The order number is {digits}{digits}.",
    "Are my lab results in yet? I had blood drawn on {day}.",
    "Does my insurance cover physical therapy?",
    "My {drug} is running out and the pharmacy says I need a new prescription.",
    "I have a fever and a sore throat since {day}.",
    "What time do you close today?",
    "Okay, thank you so much.",
    "Sorry, could you repeat that?",
    "No, that's all. Thanks!",
    "My name is {first} {surname} and I'm calling about my mother's medication.",
)
SITES = ("Riverside Pharmacy", "Lakeside Clinic", "Northside Health", "Harbor Medical Group")
MONTHS = "January February March April May June July August September October November December".split()


@dataclass(frozen=True)
class Query:
    kind: str
    q: str


@dataclass
class Measured:
    kind: str
    http: list[float] = field(default_factory=list)
    dbapi: list[float] = field(default_factory=list)
    bare: list[float] = field(default_factory=list)
    turns: list[int] = field(default_factory=list)  # matching turns, per query
    sessions: list[int] = field(default_factory=list)  # total_count, per query
    exact: list[bool] = field(default_factory=list)  # total_count_exact, per query


def parse_args() -> argparse.Namespace:
    parser = bench_parser(__doc__, workers=1)
    parser.add_argument("--turns", type=int, default=1_000_000, help="transcript turns to fill in")
    parser.add_argument("--requests", type=int, default=100, help="timed requests per kind of query")
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests per kind first")
    parser.add_argument(
        "--max-turns",
        type=int,
        default=Settings().search_max_turns,
        help="SESSIONARY_SEARCH_MAX_TURNS of the server: matching turns one query scores",
    )
    return parser.parse_args()


# --- the corpus ---------------------------------------------------------------------------------------


def surnames(rng: random.Random, count: int = 20_000) -> list[str]:
    """Made-up surnames, most common first (drawn with a Zipf-like skew: a long tail of rare ones)."""
    syllables = "ka lo mi ne ru sa te vo zi ba de fu go hi ja ko li mo nu pe ri so tu wa ye".split()
    names: set[str] = set()
    while len(names) < count:
        names.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))).capitalize())
    return sorted(names)


class Corpus:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.surnames = surnames(rng)
        self.said: collections.Counter[str] = collections.Counter()  # surname -> times used

    def surname(self) -> str:
        rank = min(int(self.rng.paretovariate(0.8)) - 1, len(self.surnames) - 1)
        self.said[self.surnames[rank]] += 1
        return self.surnames[rank]

    def rare(self, turns: int, count: int = 5) -> list[str]:
        """Surnames said about once in 50,000 turns (at least twice), the first `count` alphabetically."""
        low = max(2, turns // 50_000)
        return sorted(name for name, times in self.said.items() if low <= times <= 3 * low)[:count]

    def line(self, template: str) -> str:
        rng = self.rng
        return template.format(
            site=rng.choice(SITES),
            first=rng.choice(FIRST),
            surname=self.surname() if "{surname}" in template else "",
            drug=rng.choice(DRUGS),
            street=rng.choice(STREETS),
            day=rng.choice(DAYS),
            doctor=rng.choice(DOCTORS),
            hour=rng.randint(8, 16),
            amount=rng.randint(10, 400),
            digits=rng.randint(1000, 9999),
            month=rng.choice(MONTHS),
            dom=rng.randint(1, 28),
        )

    def turn(self, position: int) -> dict[str, Any]:
        source = "agent" if position % 2 == 0 else "user"
        templates = AGENT if source == "agent" else USER
        count = 1 if self.rng.random() < 0.7 else 2
        text = " ".join(self.line(self.rng.choice(templates)) for _ in range(count))
        return {"source": source, "text": text, "lang": "en-US"}


def queries(corpus: Corpus, turns: int) -> list[Query]:
    """Five kinds, several queries each (rare: surnames from the long tail)."""
    rare = corpus.rare(turns)
    return [
        *(Query("common word", q) for q in ("appointment", "refund", "insurance", "prescription", "doctor")),
        *(Query("rare word", q.lower()) for q in rare),
        *(
            Query("two words", q)
            for q in ("refill lisinopril", "lab results", "copay dollars", "fever throat")
        ),
        *(
            Query("phrase", q)
            for q in ('"blood pressure"', '"double charge"', '"text reminder"', '"sore throat"')
        ),
        *(Query("prefix", q) for q in ("appoi", "prescr", "insur", "pharm", "refu")),
    ]


# --- filling ------------------------------------------------------------------------------------------


SESSION_COLUMNS = (
    "organization_id session_type timestamp conversation_id channel_manager_service channel_manager_type "
    "channel_manager_sid agent_name duration first_event_at last_event_at event_count field_versions "
    "updated_at"
).split()
EVENT_COLUMNS = "organization_id event_id session_id type timestamp data received_at".split()


def _insert_sql(table: str, columns: Sequence[str], mark: str) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"


def _stamp(kind: str, moment: datetime) -> Any:
    return moment.replace(tzinfo=None).isoformat(" ", "microseconds") if kind == "sqlite" else moment


def generate(kind: str, org_id: int, total_turns: int, corpus: Corpus) -> Iterator[tuple[tuple, list[tuple]]]:
    """(session row, its event rows): 8-20 turns a session, each followed by a latency sample."""
    rng = corpus.rng
    made = number = 0
    while made < total_turns:
        count = min(rng.randint(8, 20), total_turns - made)
        start = START + timedelta(seconds=number * 300 + rng.randint(0, 299))
        clock = start
        events: list[tuple] = []
        for position in range(count):
            clock += timedelta(seconds=rng.randint(2, 9))
            turn = orjson.dumps(corpus.turn(position)).decode()
            latency = orjson.dumps(
                {"category": "llm", "label": "llm_first_token", "value": 400, "unit": "milliseconds"}
            )
            sid = f"call-{number:08d}"
            events.append((org_id, f"{sid}-t{position}", None, "transcript", _stamp(kind, clock), turn))
            events.append(
                (org_id, f"{sid}-l{position}", None, "latency", _stamp(kind, clock), latency.decode())
            )
        end = _stamp(kind, clock)
        session = (
            org_id, "voice", _stamp(kind, start), f"conv-{number:08d}", "hedy", "voice_sip_v1",
            f"call-{number:08d}", rng.choice(("Pharmacy Refills", "Clinic Scheduling", "Billing Support")),
            round((clock - start).total_seconds(), 1), _stamp(kind, start), end, 2 * count, "{}", end,
        )  # fmt: skip
        yield session, events
        made += count
        number += 1


def fill_sqlite(target: Target, org_id: int, total_turns: int, corpus: Corpus) -> float:
    """Fill through the product's own write sessions and fastsql, one transaction per TX_EVENTS events."""
    database = open_database(target.url, pool_size=1)
    sessions = generate("sqlite", org_id, total_turns, corpus)
    began = time.perf_counter()
    try:
        more = True
        while more:
            with session_scope(database.writer) as db:
                more = _fill_transaction(FastSQL(db), org_id, sessions)
    finally:
        database.dispose()
    elapsed = time.perf_counter() - began
    conn = target.connect_sqlite()
    try:
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return elapsed


def _fill_transaction(sql: FastSQL, org_id: int, sessions: Iterator[tuple[tuple, list[tuple]]]) -> bool:
    """Sessions until one ingest batch's worth of events is pending, then their events; False once
    `sessions` has run out."""
    session_sql = _insert_sql("session", SESSION_COLUMNS, "?") + " RETURNING id"
    pending: list[tuple] = []
    for session, events in sessions:
        session_id = sql.execute(session_sql, session)[0][0]
        pending.extend((*row[:2], session_id, *row[3:], row[4]) for row in events)
        if len(pending) >= TX_EVENTS:  # one ingest batch: one transaction
            _store(sql, org_id, pending)
            return True
    _store(sql, org_id, pending)
    return False


def _store(sql: FastSQL, org_id: int, rows: list[tuple]) -> None:
    """Insert the event rows, then index their turns as the ingest does (ids looked up by event_id)."""
    sql.executemany(_insert_sql("event", EVENT_COLUMNS, "?"), rows)
    turns = [(row[1], None, orjson.loads(row[5])["text"]) for row in rows if row[3] == "transcript"]
    indexing.index_turns(sql, organization_id=org_id, turns=turns)


def fill_pg(target: Target, org_id: int, total_turns: int, corpus: Corpus) -> float:
    session_sql = _insert_sql("session", SESSION_COLUMNS, "%s") + " RETURNING id"
    with target.connect_pg() as conn:
        began = time.perf_counter()
        pending: list[tuple] = []
        with conn.cursor() as cur:
            for session, events in generate("postgresql", org_id, total_turns, corpus):
                row = cur.execute(session_sql, session).fetchone()
                assert row is not None
                pending.extend((*r[:2], row[0], *r[3:], r[4]) for r in events)
                if len(pending) >= TX_EVENTS:
                    _copy_events(cur, pending)
                    conn.commit()
                    pending = []
            _copy_events(cur, pending)
        conn.commit()
        elapsed = time.perf_counter() - began
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        return elapsed


def _copy_events(cur: Any, rows: list[tuple]) -> None:
    with cur.copy(f"COPY event ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


# --- measuring ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    sql: str
    parameters: Any


def captured_sql(target: Target, org_id: int, q: str, max_turns: int) -> list[Statement]:
    """The SELECTs, with their parameters, that sessionary sends to the DBAPI for one search."""
    database = open_database(target.url, pool_size=1)
    seen: list[Statement] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append(Statement(statement, parameters))

    event.listen(database.engine, "before_cursor_execute", record)
    params = ListParams(0, PAGE_SIZE, [], [], None, None, [], None, None)
    try:
        with session_scope(database.reader) as db:
            service.search(
                db, organization_id=org_id, query=parse(q), params=params, max_turns=max_turns, timeout=600
            )
    finally:
        database.dispose()
    return seen


def bare_match(kind: str, q: str) -> Statement:
    """The full-text match alone, counting the matching turns: nothing sessionary adds."""
    query = parse(q)
    if kind == "sqlite":
        return Statement("SELECT count(*) FROM transcript_fts WHERE transcript_fts MATCH ?", (query.fts5(),))
    parts, values = [], []
    for term in query.terms:
        if term.prefix:
            parts.append("to_tsquery('simple', %s)")
            values.append(f"'{term.text}':*")
        else:
            parts.append("phraseto_tsquery('simple', %s)")
            values.append(term.text)
    tsquery = " && ".join(parts)
    sql = f"SELECT count(*) FROM event WHERE type = 'transcript' AND search_vector @@ ({tsquery})"
    return Statement(sql, tuple(values))


def _timed(run: Callable[[], object]) -> float:
    began = time.perf_counter()
    run()
    return time.perf_counter() - began


def _replay(conn: Any, statements: Sequence[Statement]) -> Callable[[], object]:
    """Run `statements` as sessionary does: on PostgreSQL in one transaction, so that what a statement sets
    for its transaction (`set_config(..., true)`: statement_timeout, plan_cache_mode) holds for the next."""

    def run() -> object:
        if isinstance(conn, sqlite3.Connection):
            return [conn.execute(s.sql, s.parameters).fetchall() for s in statements]
        with conn.transaction():
            return [conn.execute(s.sql, s.parameters).fetchall() for s in statements]

    return run


def measure_all(
    target: Target, org_id: int, client: httpx.Client, all_queries: list[Query], args: argparse.Namespace
) -> dict[str, Measured]:
    conn: Any = target.connect_sqlite() if target.kind == "sqlite" else target.connect_pg()
    if target.kind != "sqlite":
        conn.autocommit = True
    results: dict[str, Measured] = {}
    try:
        plans = []
        for query in all_queries:
            result = results.setdefault(query.kind, Measured(query.kind))
            body = _get(client, query)
            bare = bare_match(target.kind, query.q)
            result.sessions.append(int(body["total_count"]))
            result.exact.append(bool(body["total_count_exact"]))
            result.turns.append(int(conn.execute(bare.sql, bare.parameters).fetchone()[0]))
            plans.append(
                (query, result, _replay(conn, captured_sql(target, org_id, query.q, args.max_turns)), bare)
            )
        for rounds, keep in ((args.warmup, False), (args.requests, True)):
            for kind in results:
                mine = [plan for plan in plans if plan[0].kind == kind]
                for n in range(rounds):
                    query, result, replay, bare = mine[n % len(mine)]
                    http = _timed(lambda query=query: _get(client, query))
                    dbapi = _timed(replay)
                    raw = _timed(_replay(conn, [bare]))
                    if keep:
                        result.http.append(http)
                        result.dbapi.append(dbapi)
                        result.bare.append(raw)
    finally:
        conn.close()
    return results


def _get(client: httpx.Client, query: Query) -> dict[str, Any]:
    response = client.get(SEARCH_PATH, params={"q": query.q, "limit": PAGE_SIZE})
    if response.status_code != 200:
        raise SystemExit(f"{query.q}: HTTP {response.status_code} {response.text[:300]}")
    body: dict[str, Any] = response.json()
    if not body["items"]:
        raise SystemExit(f"{query.kind} {query.q!r}: no hits; the corpus should contain it")
    return body


# --- the run ------------------------------------------------------------------------------------------


def _ms(values: Sequence[float]) -> str:
    return " / ".join(f"{percentile(values, q) * 1000:6.1f}" for q in (50, 95, 99)) + " ms"


def _span(values: Sequence[int]) -> str:
    return f"{min(values):,}-{max(values):,}"


def report(args: argparse.Namespace, version: str, fill_seconds: float, results: dict[str, Measured]) -> None:
    everything = [t for r in results.values() for t in r.http]
    p95 = percentile(everything, 95) * 1000
    note = "" if args.db == "sqlite" else "  (the target is set for SQLite)"
    rows = [
        ("database", version),
        ("sessionary", sessionary_source()),
        ("turns", f"{args.turns:,} transcript turns (+ as many latency events) in one organization"),
        (
            "fill (generate + insert + index)",
            f"{args.turns / fill_seconds:,.0f} turns/s ({fill_seconds:.0f} s)",
        ),
        ("timed runs per kind", f"{args.requests} after {args.warmup} warm-up; page size {PAGE_SIZE}"),
        ("server", f"sessionary serve --workers {args.workers}; one keep-alive client"),
        ("SESSIONARY_SEARCH_MAX_TURNS", f"{args.max_turns:,} (matching turns one query scores)"),
        ("columns", "p50 / p95 / p99"),
    ]
    for result in results.values():
        rows += [
            (
                result.kind,
                f"matching turns {_span(result.turns)}; total_count {_span(result.sessions)}, "
                f"exact for {sum(result.exact)} of {len(result.exact)} queries",
            ),
            ("  HTTP", _ms(result.http)),
            ("  DBAPI: sessionary's SQL", _ms(result.dbapi)),
            ("  DBAPI: bare match (raw limit)", _ms(result.bare)),
        ]
    rows.append(
        (
            "ALL KINDS HTTP",
            f"{_ms(everything)}   target p95 < {TARGET_P95_MS:.0f} ms  {verdict(p95 < TARGET_P95_MS)}",
        )
    )
    print_block(f"bench/search.py --db {args.db} --turns {args.turns}{note}", rows)


def organization_id(target: Target) -> int:
    if target.kind == "sqlite":
        conn = sqlite3.connect(target.sqlite_path or "")
        try:
            return int(conn.execute("SELECT id FROM organization WHERE name = ?", (ORG,)).fetchone()[0])
        finally:
            conn.close()
    with target.connect_pg() as pg:
        row = pg.execute("SELECT id FROM organization WHERE name = %s", (ORG,)).fetchone()
        assert row is not None
        return int(row[0])


def run(args: argparse.Namespace, workdir: Path) -> None:
    with fresh_database(args.db, workdir, "search", args.pg_url) as target:
        cli(target, "db", "upgrade")
        key = create_key(target, ORG, "read")
        org_id = organization_id(target)
        corpus = Corpus(random.Random(args.seed))
        print(f"filling {args.turns:,} turns ...")
        fill = fill_sqlite if args.db == "sqlite" else fill_pg
        fill_seconds = fill(target, org_id, args.turns, corpus)
        version = (
            f"SQLite {sqlite_version()}" if args.db == "sqlite" else f"PostgreSQL {postgres_version(target)}"
        )
        with serve(target, workdir, workers=args.workers) as server:
            print(
                f"server {server.url} up; measuring GET {SEARCH_PATH} and the same SQL through the DBAPI ..."
            )
            with httpx.Client(base_url=server.url, headers={"Syllable-API-Key": key}, timeout=120) as client:
                results = measure_all(target, org_id, client, queries(corpus, args.turns), args)
    report(args, version, fill_seconds, results)


def main() -> int:
    args = parse_args()
    os.environ["SESSIONARY_SEARCH_MAX_TURNS"] = str(args.max_turns)  # for the server
    with workspace(keep=args.keep) as workdir:
        run(args, workdir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
