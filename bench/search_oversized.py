"""Search over oversized stored turns: one search's time, and another organization's list meanwhile.

    .venv/bin/python bench/search_oversized.py [--db sqlite|postgresql] [--concurrent 60] [--timeout 120]

1. Fills a fresh database with two organizations. The first has a session with a 250 KB turn and one with
   a 9.8 MB turn, every fourth word of which matches the query (`renew`, `refill`), stored through the
   ingest service without validation: the way turns stored before the ingest limit existed sit in a
   database. The second organization has a few ordinary sessions.
2. Starts `sessionary serve` and times (a) one search over the 250 KB turn (`renew`), (b) one over the
   9.8 MB turn (`refill`), (c) `--concurrent` of those searches at once while
   the second organization lists its sessions: how long the list takes and the status codes of everything.
A request that takes longer than `--timeout` seconds is reported as such (the server is stopped at the end).
"""

from __future__ import annotations

import argparse
import collections
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx

from harness import create_key, fresh_database, print_block, serve, workspace
from sessionary.db import open_database, session_scope
from sessionary.eventlog.schemas import TranscriptData, TranscriptEvent
from sessionary.ingest import service as ingest
from sessionary.tenancy.service import get_or_create_organization

BIG_ORG, OTHER_ORG = "bench-oversized", "bench-other"
SEARCH, LIST = "/api/v1/sessions/search", "/api/v1/sessions/"


def _turn(sid: str, text: str) -> TranscriptEvent:
    """A transcript event built without validation (no length limit applies), as old data would be."""
    data = TranscriptData.model_construct(source="user", text=text)
    return TranscriptEvent.model_construct(
        event_id=f"{sid}-t1",
        type="transcript",
        timestamp=datetime(2024, 6, 19, 10, tzinfo=UTC),
        channel_manager_service="bench",
        channel_manager_sid=sid,
        data=data,
    )


def fill(url: str) -> None:
    renew, refill = "please renew my pills ", "please refill my pills "
    turns = {
        "quarter-mb": renew * (250_000 // len(renew)),
        "ten-mb": refill * (9_800_000 // len(refill)),
    }
    database = open_database(url, pool_size=1)
    try:
        with session_scope(database.writer) as db:
            org = get_or_create_organization(db, name=BIG_ORG)
            for sid, text in turns.items():
                ingest.ingest_events(db, organization_id=org.id, events=[_turn(sid, text)])
            other = get_or_create_organization(db, name=OTHER_ORG)
            small = [_turn(f"small-{n}", "hello there") for n in range(20)]
            ingest.ingest_events(db, organization_id=other.id, events=small)
    finally:
        database.dispose()


def timed(client: httpx.Client, path: str, key: str, **params: Any) -> tuple[str, float]:
    """The status (with the hits and the first snippet's length, for a search) and the seconds taken."""
    started = time.monotonic()
    try:
        response = client.get(path, params=params, headers={"Syllable-API-Key": key})
    except httpx.TimeoutException:
        return "timeout", time.monotonic() - started
    took, status = time.monotonic() - started, str(response.status_code)
    if path == SEARCH and response.status_code == 200:
        items = response.json()["items"]
        status += (
            f" ({len(items)} hit, snippet of {len(items[0]['best_match']['snippet']) if items else 0} chars)"
        )
    return status, took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--concurrent", type=int, default=60)
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args()
    with workspace() as workdir, fresh_database(args.db, workdir, "oversized") as target:
        big_key = create_key(target, BIG_ORG, "read")
        other_key = create_key(target, OTHER_ORG, "read")
        fill(target.url)
        with (
            serve(target, workdir) as server,
            httpx.Client(base_url=server.url, timeout=args.timeout) as http,
        ):
            rows = []
            status, took = timed(http, SEARCH, big_key, q="renew", limit=1)
            rows.append(("search over the 250 KB turn", f"{status} in {took:.2f} s"))
            status, took = timed(http, SEARCH, big_key, q="refill", limit=1)
            rows.append(("search over the 9.8 MB turn", f"{status} in {took:.2f} s"))
            statuses: collections.Counter[str] = collections.Counter()
            with ThreadPoolExecutor(args.concurrent + 1) as pool:
                searches = [
                    pool.submit(timed, http, SEARCH, big_key, q="refill") for _ in range(args.concurrent)
                ]
                time.sleep(0.5)
                listed, list_took = timed(http, LIST, other_key)
                slowest = 0.0
                for future in searches:
                    status, took = future.result()
                    statuses[status.split()[0]] += 1
                    slowest = max(slowest, took)
            rows.append(("other org's list during the searches", f"{listed} in {list_took:.2f} s"))
            rows.append(
                (f"{args.concurrent} concurrent searches", f"{dict(statuses)}, slowest {slowest:.1f} s")
            )
            print_block(f"oversized turns, {args.db}", rows)


if __name__ == "__main__":
    main()
