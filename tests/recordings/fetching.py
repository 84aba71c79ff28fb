"""Builders for the recording fetch tests: a fetcher for the fake provider, jobs queued as a webhook would,
one pass of the worker, and the jobs of a session."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from sessionary.db import Database, session_scope
from sessionary.integrations import service as integrations
from sessionary.recordings import fetchjobs
from sessionary.recordings.blobs import BlobStore
from sessionary.recordings.egress import HostRules
from sessionary.recordings.fetcher import Fetcher
from sessionary.recordings.fetchjobs import FetchState
from sessionary.recordings.fetchworker import fetch_next, lease_for
from sessionary.sealing import DatabaseSealers
from sessionary.sessions.models import Session
from tests.conftest import Org
from tests.system.processes import ServerProcess

LIMIT = 64 * 1024  # the fetchers' SESSIONARY_RECORDING_MAX_BYTES
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")


def worker_settings(prefix: str = "") -> dict[str, Any]:
    """A fetch worker allowed the fake provider on 127.0.0.1, polling often (`prefix`: as env names)."""
    return {
        f"{prefix}recording_fetch_worker": True,
        f"{prefix}recording_fetch_hosts": "127.0.0.1",
        f"{prefix}recording_fetch_allow_private": True,
        f"{prefix}recording_fetch_poll_seconds": 0.05,
        f"{prefix}analysis_worker": False,
    }


def serve_process(
    database_url: str, blob_dir: Path, log: Path, *, timeout: float, **env: str
) -> ServerProcess:
    """`sessionary serve` as a process of its own (to be killed), with a fetch worker whose fetches time out
    after `timeout` seconds (its lease: twice that)."""
    settings = {**worker_settings("SESSIONARY_"), "SESSIONARY_RECORDING_FETCH_TIMEOUT_SECONDS": timeout}
    environment = {name.upper(): str(value).lower() for name, value in settings.items()}
    return ServerProcess.start(
        database_url, log, env={**environment, "SESSIONARY_BLOB_DIR": str(blob_dir), **env}
    )


def new_sid() -> str:
    return f"call-{uuid.uuid4().hex[:10]}"


def make_fetcher(store: BlobStore, *, allow_private: bool = True, **overrides: Any) -> Fetcher:
    """A fetcher allowed the loopback hosts (over http) and, unless told otherwise, private addresses."""
    options: dict[str, Any] = {
        "rules": HostRules(extra=LOOPBACK_HOSTS),
        "max_bytes": LIMIT,
        "timeout": 10.0,
        "allowed": (lambda _address: True) if allow_private else None,
        **overrides,
    }
    if options["allowed"] is None:
        del options["allowed"]
    return Fetcher(store, **options)


def enqueue(
    database: Database, org: Org, url: str, *, sid: str, source_key: str = "RE1", **kwargs: Any
) -> None:
    with session_scope(database.writer) as db:
        fetchjobs.enqueue(
            db,
            organization_id=org.id,
            channel_manager_service=kwargs.pop("service", "twilio"),
            channel_manager_sid=sid,
            provider=kwargs.pop("provider", "twilio"),
            source_key=source_key,
            url=url,
            **kwargs,
        )


def run_next(database: Database, fetcher: Fetcher, org: Org, *, now: datetime | None = None) -> bool:
    """One pass of the worker over the organization's due jobs (True when it fetched one)."""
    sealers = DatabaseSealers(database, None)
    return fetch_next(
        database, fetcher, sealers, lease=lease_for(fetcher.timeout), now=now, organization_id=org.id
    )


def session_id_of(database: Database, org: Org, sid: str, service: str = "twilio") -> str:
    with session_scope(database.reader) as db:
        number = db.scalar(
            select(Session.id).where(
                Session.organization_id == org.id,
                Session.channel_manager_service == service,
                Session.channel_manager_sid == sid,
            )
        )
    assert number is not None, f"no session {service}/{sid}"
    return str(number)


def jobs_of(database: Database, org: Org, sid: str) -> list[FetchState]:
    with session_scope(database.reader) as db:
        session_id = session_id_of(database, org, sid)
        return fetchjobs.session_fetches(db, organization_id=org.id, session_id=session_id)


def connect_twilio(database: Database, org: Org, secret: str) -> int:
    """A Twilio integration of the organization with `secret` (its auth token); its id."""
    sealer = DatabaseSealers(database, None).current()
    with session_scope(database.writer) as db:
        connected = integrations.connect(
            db, sealer, organization_id=org.id, provider="twilio", secret=secret, public_url="http://test"
        )
        return connected.integration.id
