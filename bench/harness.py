"""What both benchmarks share: fresh databases, a `sessionary serve` subprocess, RSS sampling, statistics.

Everything here talks to 127.0.0.1 only. A fresh database is a SQLite file in a temporary directory or a
PostgreSQL schema of its own (dropped at the end); the server is a child process that is stopped by its pid.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import psutil  # type: ignore[import-untyped]
import psycopg

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
BIN = Path(sys.executable).parent
# The server's own SQLite settings (sessionary.db._sqlite_on_connect), so direct inserts and queries run
# under the same conditions as the server's.
SQLITE_PRAGMAS = (
    "journal_mode=WAL",
    "synchronous=NORMAL",
    "foreign_keys=ON",
    "busy_timeout=30000",
    "cache_size=-65536",
    "temp_store=MEMORY",
    "wal_autocheckpoint=10000",
    "mmap_size=268435456",
)


@dataclass(frozen=True)
class Target:
    """A fresh, empty database: the URL the server reads and how to reach it straight through the DBAPI."""

    kind: str  # "sqlite" | "postgresql"
    url: str  # SESSIONARY_DATABASE_URL
    sqlite_path: Path | None = None
    pg_base: str | None = None
    pg_schema: str | None = None

    def connect_sqlite(self) -> sqlite3.Connection:
        assert self.sqlite_path is not None
        conn = sqlite3.connect(self.sqlite_path, isolation_level=None, check_same_thread=False)
        for pragma in SQLITE_PRAGMAS:
            conn.execute(f"PRAGMA {pragma}")
        return conn

    def connect_autocommit(self) -> Any:
        """A DBAPI connection, each statement its own transaction (as a server's request's reads)."""
        if self.kind == "sqlite":
            return self.connect_sqlite()
        conn = self.connect_pg()
        conn.autocommit = True
        return conn

    def connect_pg(self) -> psycopg.Connection[Any]:
        assert self.pg_base is not None
        assert self.pg_schema is not None
        return psycopg.connect(self.pg_base, options=f"-csearch_path={self.pg_schema}")


SEED = 20261121  # every bench generates the same data


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _with_search_path(base: str, schema: str) -> str:
    parts = urlsplit(base)
    query = [*parse_qsl(parts.query), ("options", f"-csearch_path={schema}")]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _require_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1") and not host.startswith("127."):
        raise SystemExit(f"refusing a database that is not on this machine: {host}")


@contextmanager
def fresh_database(kind: str, workdir: Path, name: str, pg_base: str = DEFAULT_PG_URL) -> Iterator[Target]:
    """An empty database: SQLite `workdir/name.db`, or a new PostgreSQL schema that is dropped at the end."""
    if kind == "sqlite":
        path = workdir / f"{name}.db"
        yield Target(kind="sqlite", url=f"sqlite:///{path}", sqlite_path=path)
        return
    _require_loopback(pg_base)
    schema = f"bench_{name}_{secrets.token_hex(4)}"
    with psycopg.connect(pg_base, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield Target(
            kind="postgresql", url=_with_search_path(pg_base, schema), pg_base=pg_base, pg_schema=schema
        )
    finally:
        with psycopg.connect(pg_base, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@contextmanager
def workspace(*, keep: bool = False) -> Iterator[Path]:
    """A temporary directory for databases and logs; with `keep` it stays (its path is printed)."""
    if not keep:
        with tempfile.TemporaryDirectory(prefix="sessionary-bench-") as tmp:
            yield Path(tmp)
        return
    path = Path(tempfile.mkdtemp(prefix="sessionary-bench-"))
    try:
        yield path
    finally:
        print(f"kept {path}")


def source_env(source: Path | None) -> dict[str, str]:
    """The environment of a `sessionary` child process, importing it from `source` (a `src` directory of
    another checkout: `--against`) when given, else as the bench itself does."""
    env = dict(os.environ)
    if source is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(source), *filter(None, [env.get("PYTHONPATH")])])
    return env


def cli(target: Target, *args: str, source: Path | None = None) -> str:
    """Run `sessionary ARGS` on the target database (from `source`: source_env); returns its output."""
    env = {**source_env(source), "SESSIONARY_DATABASE_URL": target.url}
    done = subprocess.run(
        [str(BIN / "sessionary"), *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"sessionary {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def create_key(target: Target, org: str, scope: str, *, source: Path | None = None) -> str:
    """A new API key (the CLI migrates the database first and creates the organization)."""
    created = cli(target, "keys", "create", "--org", org, "--scope", scope, source=source)
    return created.strip().splitlines()[-1]


@dataclass
class Server:
    """A `sessionary serve` child process on a free loopback port."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the server and its worker processes."""
        root = psutil.Process(self.process.pid)
        total = 0.0
        for proc in [root, *root.children(recursive=True)]:
            try:
                times = proc.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                continue
        return total


def _wait_healthy(server: Server, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"the server exited with {server.process.returncode}:\n{server.tail()}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the server did not answer /healthz within {timeout:.0f} s:\n{server.tail()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def serve(
    target: Target, workdir: Path, workers: int = 1, port: int | None = None, *, source: Path | None = None
) -> Iterator[Server]:
    """Start `sessionary serve` (from `source`: source_env) on the target database, wait for /healthz, stop
    it (SIGTERM) at the end; on `port` when given (a URL that had to be known before the server started),
    else on a free one."""
    port = port or free_port()
    log = workdir / f"server-{port}.log"
    env = {**source_env(source), "SESSIONARY_DATABASE_URL": target.url, "SESSIONARY_LOG_LEVEL": "warning"}
    command = [str(BIN / "sessionary"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as sink:
        process = subprocess.Popen([*command, "--workers", str(workers)], env=env, stdout=sink, stderr=sink)
    server = Server(url=f"http://127.0.0.1:{port}", process=process, log=log)
    try:
        _wait_healthy(server, float(os.environ.get("SESSIONARY_BENCH_START_TIMEOUT", "120")))
        yield server
    finally:
        _stop(process)


@dataclass
class RssSampler:
    """Samples the resident memory of a process plus its children in a background thread; keeps the peak."""

    pid: int
    interval: float = 0.05
    peak_bytes: int = 0
    peak_heap_bytes: int = 0  # the same processes' resident memory less their file-backed pages
    samples: int = 0
    cpu_seconds: list[float] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> RssSampler:
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.cpu_seconds = self._cpu_by_process()

    def _cpu_by_process(self) -> list[float]:
        """CPU seconds of the server's processes (its uvicorn workers when there are several)."""
        try:
            root = psutil.Process(self.pid)
            processes = [
                p
                for p in [root, *root.children(recursive=True)]
                if "resource_tracker" not in " ".join(p.cmdline())
            ]
        except psutil.NoSuchProcess:
            return []
        seconds = []
        for process in processes:
            try:
                times = process.cpu_times()
                seconds.append(times.user + times.system)
            except psutil.NoSuchProcess:
                continue
        return [s for s in seconds if s >= 0.5] or seconds

    def sample(self) -> tuple[int, int]:
        """The resident bytes of the process and its children, summed, and the part of them that is not
        file-backed (Linux `shared`: RssFile + RssShmem; on SQLite the database file mapped by mmap_size,
        page cache every worker maps, which the sum counts once per worker)."""
        try:
            root = psutil.Process(self.pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0, 0
        total = heap = 0
        for process in processes:
            try:
                memory = process.memory_info()
            except psutil.NoSuchProcess:
                continue
            total += memory.rss
            heap += memory.rss - getattr(memory, "shared", 0)
        return total, heap

    def _run(self) -> None:
        while not self._stop.is_set():
            total, heap = self.sample()
            self.peak_bytes = max(self.peak_bytes, total)
            self.peak_heap_bytes = max(self.peak_heap_bytes, heap)
            self.samples += 1
            self._stop.wait(self.interval)

    @property
    def peak_mb(self) -> float:
        return self.peak_bytes / 2**20

    @property
    def peak_heap_mb(self) -> float:
        return self.peak_heap_bytes / 2**20


def _database_cpu() -> float:
    """CPU seconds used so far by this machine's PostgreSQL servers: each postmaster's own, its exited
    children's (it waits for every backend it forks) and its live children's; 0 where none runs."""
    total = 0.0
    for process in psutil.process_iter(["name", "ppid"]):
        try:
            if process.info["name"] != "postgres":
                continue
            if psutil.Process(process.info["ppid"]).name() == "postgres":  # a backend: counted below
                continue
            times = process.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
            for child in process.children(recursive=True):
                child_times = child.cpu_times()
                total += child_times.user + child_times.system
        except psutil.Error:
            continue
    return total


@dataclass
class MachineCpu:
    """Where this machine's CPU went while the block ran: the server's processes, the database's
    (PostgreSQL; SQLite works inside the server), everything else (the bench's own senders among it), idle
    time, and time the hypervisor gave to others (steal). `rows` reports them with the server's and the
    database's CPU per unit of work, and the rate this machine's cores could reach at that cost (the CPU
    ceiling)."""

    server: Server
    wall: float = 0.0
    server_seconds: float = 0.0
    database_seconds: float = 0.0
    idle_seconds: float = 0.0
    steal_seconds: float = 0.0
    total_seconds: float = 0.0
    _began: tuple[float, float, float, Any] | None = None

    def __enter__(self) -> MachineCpu:
        self._began = (time.perf_counter(), self.server.cpu_seconds(), _database_cpu(), psutil.cpu_times())
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        assert self._began is not None
        wall, server, database, system = self._began
        now = psutil.cpu_times()
        self.wall = time.perf_counter() - wall
        self.server_seconds = self.server.cpu_seconds() - server
        self.database_seconds = _database_cpu() - database
        self.idle_seconds = (now.idle + now.iowait) - (system.idle + system.iowait)
        self.steal_seconds = getattr(now, "steal", 0.0) - getattr(system, "steal", 0.0)
        fields = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
        self.total_seconds = sum(getattr(now, f, 0.0) - getattr(system, f, 0.0) for f in fields)

    def rows(self, units: int, unit: str, *, sqlite: bool) -> list[tuple[str, str]]:
        """The report's rows: the split of the machine's CPU, and the CPU ceiling at this cost per unit."""
        cores = psutil.cpu_count() or 1
        other = self.total_seconds - self.server_seconds - self.database_seconds - self.idle_seconds
        other -= self.steal_seconds
        per_unit = (self.server_seconds + self.database_seconds) / units if units else 0.0
        ceiling = cores / per_unit if per_unit else 0.0
        database = "in the server (SQLite)" if sqlite else f"{self.database_seconds:.1f} s"
        return [
            (
                "machine CPU, timed part",
                f"{self.wall:.1f} s x {cores} cores: server {self.server_seconds:.1f} s, database {database},"
                f" other {max(other, 0.0):.1f} s, idle {self.idle_seconds:.1f} s,"
                f" steal {self.steal_seconds:.1f} s",
            ),
            (
                f"CPU per {unit} (server + database)",
                f"{per_unit * 1e6:,.1f} us: {cores} cores at this cost make at most {ceiling:,.0f} {unit}s/s",
            ),
        ]


AUTOANALYZE_DUE = """
SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
WHERE s.schemaname = current_schema() AND s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0)
"""


def autovacuum_enabled(target: Target) -> bool:
    with target.connect_pg() as conn:
        row = conn.execute("SHOW autovacuum").fetchone()
    return row is not None and str(row[0]) == "on"


@dataclass
class AutoAnalyze:
    """What autovacuum's analyze does, for a PostgreSQL server that has autovacuum off: every `interval`
    seconds, ANALYZE each table of the target's schema whose changed rows exceed 50 + 10 % of its rows."""

    target: Target
    interval: float
    runs: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> AutoAnalyze:
        if self.interval > 0:
            self._thread = threading.Thread(target=self._run, name="autoanalyze", daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=120)

    def _run(self) -> None:
        with self.target.connect_pg() as conn:
            conn.autocommit = True
            while not self._stop.wait(self.interval):
                for (table,) in conn.execute(AUTOANALYZE_DUE).fetchall():
                    conn.execute(f'ANALYZE "{table}"')
                    self.runs += 1


def add_pg_analyze_option(parser: argparse.ArgumentParser) -> None:
    """`--pg-analyze-interval`: how often `analyzer_for` stands in for autovacuum's analyze."""
    parser.add_argument(
        "--pg-analyze-interval",
        type=float,
        default=60,
        help="PostgreSQL with autovacuum off: every so many seconds, ANALYZE the tables past autovacuum's "
        "threshold, as autovacuum (naptime 60 s) would; 0: never",
    )


def analyzer_for(target: Target, interval: float) -> AutoAnalyze:
    """On PostgreSQL without autovacuum, a stand-in for its analyze every `interval` s (else one that does
    nothing)."""
    needed = target.kind == "postgresql" and not autovacuum_enabled(target)
    return AutoAnalyze(target, interval if needed else 0)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def print_block(title: str, rows: Sequence[tuple[str, str]]) -> None:
    """A titled block of `label : value` lines."""
    width = max(len(label) for label, _ in rows)
    rule = "=" * max(len(title), 60)
    print(f"\n{rule}\n{title}\n{rule}")
    for label, value in rows:
        print(f"{label.ljust(width)} : {value}")
    print(rule)


def sessionary_source(source: Path | None = None) -> str:
    """Where the `sessionary` under test is imported from (`source` when given), with its git commit (and
    `dirty` if edited)."""
    if source is not None:
        where = source.resolve()
    else:
        spec = importlib.util.find_spec("sessionary")
        if spec is None or spec.origin is None:
            return "not found"
        where = Path(spec.origin).resolve().parent.parent
    done = subprocess.run(
        ["git", "-C", str(where), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    )
    commit = done.stdout.strip() if done.returncode == 0 else "not a git checkout"
    return f"{where} ({commit})"


def sqlite_version() -> str:
    return sqlite3.sqlite_version


def postgres_version(target: Target) -> str:
    with target.connect_pg() as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


# --- the set-up every bench shares -----------------------------------------------------------------------


def bench_parser(doc: str | None, *, workers: int = 1, db: bool = True) -> argparse.ArgumentParser:
    """The options every bench takes: `--db` (unless the bench picks its own), `--pg-url`, `--workers`,
    `--pg-analyze-interval`, `--seed`, `--keep`; the bench adds its own to the parser returned."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    if db:
        parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL server (a schema is made in it)")
    parser.add_argument("--workers", type=int, default=workers, help="sessionary serve --workers")
    add_pg_analyze_option(parser)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--keep", action="store_true", help="keep the SQLite files and server logs")
    return parser


def bench_database(args: argparse.Namespace, workdir: Path, name: str, kind: str | None = None) -> Any:
    """`fresh_database` of the bench's `--db` (or `kind`) on its `--pg-url`."""
    return fresh_database(kind or args.db, workdir, name, args.pg_url)


@contextmanager
def served_database(
    args: argparse.Namespace, workdir: Path, name: str, *, source: Path | None = None
) -> Iterator[tuple[Target, Server]]:
    """A fresh database of `--db` with `sessionary serve --workers N` (from `source`: source_env) on it
    (and, on PostgreSQL without autovacuum, the stand-in for its analyze), for the `with` block."""
    with (
        bench_database(args, workdir, name) as target,
        serve(target, workdir, workers=args.workers, source=source) as server,
        analyzer_for(target, args.pg_analyze_interval),
    ):
        yield target, server


def database_rows(target: Target) -> list[tuple[str, str]]:
    """The report's first lines: the code under test and the database engine with its version."""
    engine = (
        f"SQLite {sqlite_version()}" if target.kind == "sqlite" else f"PostgreSQL {postgres_version(target)}"
    )
    return [("sessionary", sessionary_source()), ("database", engine)]


def share(part: float, whole: float) -> str:
    """`part / whole` to three decimals, or "-" when there is no whole (a ratio of the report's lines)."""
    return f"{part / whole:.3f}" if whole else "-"
