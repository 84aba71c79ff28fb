"""Failed authentications per client address, limited across every server process on the database.

The `limits` library's fixed window strategy counts them; its counters live in table auth_failure_counter
(SqlCounterStorage below), so processes sharing the database share the count. Only failures write: a
request with a valid key costs a dictionary look-up (is this address blocked here?), no database access.
Once an address is past the limit, each process that sees one more failure from it remembers the block
until the window ends, and refuses that address at once, whatever key it sends: an address can test at
most `limit + processes - 1` keys per window.
"""

from __future__ import annotations

import ipaddress
import math
import time
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from limits import RateLimitItemPerSecond
from limits.storage import Storage
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import CursorResult, case, delete, select
from sqlalchemy.exc import SQLAlchemyError

from sessionary import client_ip
from sessionary.config import Settings
from sessionary.db import Database, insert_for, session_scope
from sessionary.errors import TooManyRequests
from sessionary.tenancy.models import AuthFailureCounter

_MAX_BLOCKS = 10_000  # addresses one process remembers as blocked (past it, the expired ones go)
_SWEEP_SECONDS = 60.0  # how often a process deletes expired counters (only when it counts a failure)


class SqlCounterStorage(Storage):
    """A `limits` storage on the service's own database (fixed-window counters with an expiry)."""

    STORAGE_SCHEME = ["sessionary-sql"]

    def __init__(self, database: Database) -> None:
        super().__init__()
        self.database = database
        self._swept = 0.0

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = datetime.now(UTC)
        table = AuthFailureCounter.__table__
        expired = table.c.expires_at <= now
        with session_scope(self.database.writer) as db:
            if time.monotonic() - self._swept > _SWEEP_SECONDS:
                self._swept = time.monotonic()
                db.execute(delete(AuthFailureCounter).where(expired))
            until = now + timedelta(seconds=expiry)
            insert = insert_for(db, table).values(key=key, count=amount, expires_at=until)
            upsert = insert.on_conflict_do_update(
                index_elements=["key"],
                set_={
                    "count": case((expired, amount), else_=table.c.count + amount),
                    "expires_at": case((expired, insert.excluded.expires_at), else_=table.c.expires_at),
                },
            ).returning(table.c.count)
            return int(db.execute(upsert).scalar_one())

    def _row(self, key: str) -> tuple[int, datetime] | None:
        with session_scope(self.database.reader) as db:
            row = db.execute(
                select(AuthFailureCounter.count, AuthFailureCounter.expires_at).where(
                    AuthFailureCounter.key == key, AuthFailureCounter.expires_at > datetime.now(UTC)
                )
            ).first()
        return (int(row[0]), row[1]) if row is not None else None

    def get(self, key: str) -> int:
        row = self._row(key)
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return row[1].timestamp() if row else time.time()

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with session_scope(self.database.writer) as db:
            result = cast(CursorResult[Any], db.execute(delete(AuthFailureCounter)))
            return result.rowcount

    def clear(self, key: str) -> None:
        with session_scope(self.database.writer) as db:
            db.execute(delete(AuthFailureCounter).where(AuthFailureCounter.key == key))


def address_key(address: str | None) -> str:
    """What the limit counts by: the IPv4 address, or the IPv6 /64 (one host's usual allocation)."""
    if address is None:
        return "unknown"
    ip = ipaddress.ip_address(address)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class FailedAuthLimiter:
    """Counts failed authentications per client address; TooManyRequests past the limit."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self.item = RateLimitItemPerSecond(settings.auth_failure_limit, settings.auth_failure_window_seconds)
        self.limiter = FixedWindowRateLimiter(SqlCounterStorage(database))
        self.trusted = client_ip.trusted_networks(settings.journey_trusted_proxies)
        self._blocked: dict[str, float] = {}  # address key -> blocked until (unix seconds)
        self._last_until = 0.0  # when the last of those blocks ends

    def from_trusted_proxy(self, peer: str) -> bool:
        """Whether `peer` is one of SESSIONARY_JOURNEY_TRUSTED_PROXIES."""
        try:
            ip = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)

    def address(self, peer: str | None, forwarded_for: str | None) -> str:
        """The client's address key: the peer, or the client a trusted proxy names (X-Forwarded-For)."""
        return address_key(client_ip.client_ip(peer, forwarded_for, self.trusted))

    @property
    def blocking(self) -> bool:
        """Whether this process knows of any blocked address (if not, there is nothing to check)."""
        if self._blocked and self._last_until <= time.time():
            self._blocked = {}  # every block has ended
        return bool(self._blocked)

    def check(self, address: str) -> None:
        """TooManyRequests when this process knows the address to be past the limit (no database access)."""
        until = self._blocked.get(address)
        if until is not None:
            if until > time.time():
                raise self._refusal(until)
            self._blocked.pop(address, None)

    def failed(self, address: str) -> None:
        """Count one failure (a database write); TooManyRequests when it is one too many."""
        if self.limiter.hit(self.item, "auth-failure", address):
            return
        until = self.limiter.get_window_stats(self.item, "auth-failure", address).reset_time
        if len(self._blocked) >= _MAX_BLOCKS:
            now = time.time()
            self._blocked = {key: t for key, t in self._blocked.items() if t > now}
        self._blocked[address] = until
        self._last_until = max(self._last_until, until)
        raise self._refusal(until)

    def _refusal(self, until: float) -> TooManyRequests:
        retry_after = max(1, math.ceil(until - time.time()))
        return TooManyRequests(
            f"Too many failed authentications from this address; retry in {retry_after} seconds",
            retry_after=retry_after,
        )
