"""The keys lifecycle across two `sessionary serve` processes on one database (SQLite file and
PostgreSQL): a key made on one works on the other, its use shows in the list, and once revoked on one it
is refused at once on the other, over the API and in a console session signed in with it."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.console.helpers import signed_in
from tests.helpers import event, post_events
from tests.keys.helpers import audit, create_ok, listed_key, revoke, wait_for
from tests.system.processes import create_key, serving


def test_a_key_revoked_on_one_server_is_refused_at_once_by_another_and_its_console(
    empty_database_url: str, tmp_path: Path
) -> None:
    admin = create_key(empty_database_url, "two-servers", "admin")
    with (
        serving(empty_database_url, tmp_path / "a.log") as a,
        serving(empty_database_url, tmp_path / "b.log") as b,
        httpx.Client(base_url=a.url, timeout=60) as on_a,
        httpx.Client(base_url=b.url, timeout=60) as on_b,
    ):
        assert a.process.pid != b.process.pid
        made = create_ok(on_a, admin, "read", "ingest")
        key = made["key"]
        headers = {"Syllable-API-Key": key}
        assert on_b.get("/api/v1/sessions/", headers=headers).status_code == 200
        assert post_events(on_b, key, [event("two-1")]).status_code == 200
        assert wait_for(lambda: listed_key(on_a, admin, made["id"])["last_used_at"])  # B wrote it
        with signed_in(b.url, key) as console:
            assert console.get("/sessions").status_code == 200
            assert revoke(on_a, admin, made["id"]).status_code == 204
            assert on_b.get("/api/v1/sessions/", headers=headers).status_code == 401
            assert post_events(on_b, key, [event("two-2")]).status_code == 401
            page = console.get("/sessions")
            assert page.status_code == 303
            assert page.headers["location"].startswith("/signin")
        trail = [(e["action"], e["actor"], e["target"]) for e in audit(on_b, admin)]
        assert trail == [
            ("key.revoked", admin[:10], made["prefix"]),
            ("key.created", admin[:10], made["prefix"]),
            ("key.created", "cli", admin[:10]),
        ]
