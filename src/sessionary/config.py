"""Settings, read from SESSIONARY_* environment variables (never at import time)."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./data/sessionary.db"
# The auto-rating rules (see analysis/rating.py and the README's table).
RuleName = Literal["tool_error", "silence", "latency", "hangup", "voicemail", "no_user_turn", "short_session"]
RuleSet = Annotated[frozenset[RuleName], NoDecode]
HostList = Annotated[tuple[str, ...], NoDecode]
FETCH_HOSTS_MAX = 100
MIN_CHECKPOINT_SECONDS = 0.05  # SESSIONARY_SQLITE_CHECKPOINT_SECONDS, unless 0
_HOST_NAME = re.compile(r"(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")


def host_pattern(value: str) -> bool:
    """Whether `value` is a host pattern: a name (`storage.example.com`), any subdomain of one
    (`*.example.com`) or an IP address (`10.0.0.5`, `::1`)."""
    if len(value) <= 253 and _HOST_NAME.fullmatch(value):
        return True
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


# The least a configured SESSIONARY_SECRET_KEY must be: it signs console cookies and recording URLs.
SECRET_MIN_LENGTH = 32
SECRET_MIN_BITS = 80
_ZXCVBN_MAX = 72  # zxcvbn refuses longer input: the estimate is of the first 72 characters
PUBLIC_URL_MAX_CHARS = 500  # SESSIONARY_PUBLIC_URL: webhook URLs add /webhooks/ and a 46-character token


def secret_bits(value: str) -> float:
    """A secret's estimated entropy in bits (zxcvbn: repeats, sequences and words count little)."""
    from zxcvbn import zxcvbn  # imported only when a secret is configured: its word lists take ~14 MB

    return float(zxcvbn(value[:_ZXCVBN_MAX])["guesses_log10"]) * 3.321928


def public_url_problem(value: str) -> str | None:
    """What is wrong with `value` as SESSIONARY_PUBLIC_URL (None: nothing). The value is not echoed: it
    might carry credentials."""
    if len(value) > PUBLIC_URL_MAX_CHARS:
        return f"got {len(value)} characters"
    if any(c.isspace() or not c.isprintable() for c in value):
        return "it holds spaces or control characters"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:
        return "it is not a valid URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "it needs http:// or https:// and a host"
    if parts.username is not None or parts.password is not None:
        return "it must not carry credentials (user:password@)"
    if parts.query or parts.fragment or "?" in value or "#" in value:
        return "it must not carry a query (?...) or a fragment (#...)"
    return None


class Settings(BaseSettings):
    """Every setting of a sessionary server; see the README's configuration table."""

    model_config = SettingsConfigDict(env_prefix="SESSIONARY_", extra="ignore", hide_input_in_errors=True)

    database_url: str = DEFAULT_DATABASE_URL
    ingest_max_events: int = Field(default=10_000, ge=1)
    ingest_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    ingest_concurrency: int = Field(default=1, ge=1)
    # OTLP trace ingest (otel/): body size (compressed, and again once inflated), spans per request, exports
    # one process decodes and maps at once (their writes are merged: otel/combiner.py), exports queued
    # beyond those before 503 + Retry-After, and how long spans wait for their trace's session key.
    otel_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    otel_max_spans: int = Field(default=10_000, ge=1, le=1_000_000)
    otel_concurrency: int = Field(default=4, ge=1, le=64)
    otel_max_waiting: int = Field(default=16, ge=0, le=10_000)
    otel_pending_seconds: float = Field(default=300.0, ge=1, le=86_400)
    # Request bodies (body_limit.py): the size of a body to any path without a limit of its own (413 past
    # it), and how long a body may take to arrive: the timeout plus 1 s per min_rate bytes (408 past it).
    body_max_bytes: int = Field(default=1024 * 1024, ge=1024)
    body_read_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    body_read_min_rate: int = Field(default=16 * 1024, ge=1)
    # The server (`sessionary serve`): seconds an idle keep-alive connection stays open.
    keep_alive_seconds: int = Field(default=5, ge=1, le=300)
    list_max_limit: int = Field(default=1000, ge=1)
    db_pool_size: int = Field(default=10, ge=1)
    # How long a request waits for a free database connection before it is answered 503 + Retry-After.
    db_pool_timeout_seconds: float = Field(default=5.0, gt=0, le=300)
    # SQLite: how often a server's thread checkpoints the WAL (db_checkpoint.py); 0: only at commit.
    sqlite_checkpoint_seconds: float = Field(default=0.5, ge=0, le=3600)
    # Recordings (see recordings/): where the files go, how big one may be, how long a stream URL lives.
    recording_max_bytes: int = Field(default=200 * 1024 * 1024, ge=1)
    recording_token_ttl: int = Field(default=3600, ge=1)
    secret_key: SecretStr | None = None
    # Failed authentications (wrong API key, console sign-in) one client address may make per window.
    auth_failure_limit: int = Field(default=20, ge=1)
    auth_failure_window_seconds: int = Field(default=60, ge=1, le=86_400)
    blob_store: Literal["local", "s3"] = "local"
    blob_dir: Path = Path("./data/blobs")
    s3_bucket: str | None = None
    s3_prefix: str = ""
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None

    # The server's address as voice platforms reach it (`https://sessions.example.com`): webhook URLs are
    # built on it, and it is the URL Twilio signs (so behind a proxy it is the proxy's public address).
    public_url: str = "http://localhost:8000"
    # Voice platform webhooks (webhooks/): body size (413 past it), deliveries one process stores at once,
    # and deliveries queued beyond those before 503 + Retry-After.
    webhook_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    webhook_concurrency: int = Field(default=4, ge=1, le=64)
    webhook_max_waiting: int = Field(default=32, ge=0, le=10_000)
    # The recording fetch worker (recordings/fetchworker.py): fetches the recordings webhooks report by URL.
    # Hosts allowed besides the providers' own (comma-separated; `*.example.com`: any subdomain; http too),
    # private addresses (off: only public ones, against SSRF), the time one fetch may take in all, and how
    # often an idle worker looks for due fetches.
    recording_fetch_worker: bool = True
    recording_fetch_hosts: HostList = ()
    recording_fetch_allow_private: bool = False
    recording_fetch_timeout_seconds: float = Field(default=600.0, ge=1, le=86_400)
    recording_fetch_poll_seconds: float = Field(default=2.0, ge=0.01, le=3600)

    # The purge worker (lifecycle/purge.py): retention periods applied in the background. How often an idle
    # worker looks, sessions per transaction, the share of the time it spends in transactions while a
    # backlog lasts and the least rest between two (the writer is free for ingest meanwhile: SQLite has one),
    # how often the orphaned-blob sweep walks the store, and how long audit entries stay.
    purge_worker: bool = True
    purge_poll_seconds: float = Field(default=60.0, ge=0.01, le=86_400)
    purge_batch: int = Field(default=500, ge=1, le=10_000)
    purge_busy_share: float = Field(default=0.25, gt=0, le=1)
    purge_pause_seconds: float = Field(default=0.05, ge=0, le=60)
    purge_sweep_hours: float = Field(default=6.0, ge=0, le=24 * 30)
    audit_retention_days: int = Field(default=400, ge=1, le=36_500)

    # Session analysis (auto-rating and summary), run in the background when a session ends.
    analysis_worker: bool = True
    analysis_poll_seconds: float = Field(default=2.0, ge=0.01, le=3600)
    analysis_delay_seconds: float = Field(default=2.0, ge=0, le=86_400)
    analysis_batch: int = Field(default=50, ge=1, le=10_000)
    # While a backlog lasts, the share of the time the worker analyzes (it rests the rest): 1 = no rest.
    analysis_busy_share: float = Field(default=0.25, gt=0, le=1)
    summarizer: Literal["extractive", "openai"] = "extractive"
    openai_base_url: str = "https://api.openai.com/v1"
    openai_api_key: SecretStr | None = None
    openai_model: str = "gpt-4o-mini"
    openai_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    autorating_silence_seconds: float = Field(default=15.0, gt=0)
    autorating_latency_factor: float = Field(default=2.0, gt=1)
    autorating_latency_min_sessions: int = Field(default=20, ge=1)
    autorating_latency_window: int = Field(default=500, ge=1, le=100_000)
    autorating_hangup_seconds: float = Field(default=10.0, ge=0)
    autorating_hangup_needs_question: bool = True
    autorating_short_seconds: float = Field(default=10.0, ge=0)
    autorating_severe: RuleSet = frozenset({"tool_error", "voicemail", "no_user_turn", "hangup"})
    autorating_disabled: RuleSet = frozenset()

    @field_validator("secret_key")
    @classmethod
    def _strong_secret(cls, value: SecretStr | None) -> SecretStr | None:
        """Refuse a short or guessable SESSIONARY_SECRET_KEY (an empty one means: generate and store one)."""
        if value is None or not value.get_secret_value():
            return value
        secret = value.get_secret_value()
        if len(secret) < SECRET_MIN_LENGTH or secret_bits(secret) < SECRET_MIN_BITS:
            raise ValueError(
                f"SESSIONARY_SECRET_KEY must be at least {SECRET_MIN_LENGTH} characters with at least "
                f"{SECRET_MIN_BITS} bits of estimated entropy (got {len(secret)} characters); make one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`, or leave it unset"
            )
        return value

    @field_validator("sqlite_checkpoint_seconds")
    @classmethod
    def _checkpoint_period(cls, value: float) -> float:
        if 0 < value < MIN_CHECKPOINT_SECONDS:
            raise ValueError(f"must be 0 (off) or at least {MIN_CHECKPOINT_SECONDS} seconds")
        return value

    @field_validator("recording_fetch_hosts", mode="before")
    @classmethod
    def _host_patterns(cls, value: object) -> object:
        """Hosts from the environment: `storage.example.com,*.cdn.example.com,10.0.0.5` (lowercase)."""
        if isinstance(value, str):
            value = [name.strip().lower() for name in value.split(",") if name.strip()]
        if isinstance(value, list | tuple):
            if len(value) > FETCH_HOSTS_MAX:
                raise ValueError(f"at most {FETCH_HOSTS_MAX} hosts")
            for name in value:
                if not isinstance(name, str) or not host_pattern(name):
                    raise ValueError(f"{name!r} is not a host name, `*.` and a host name, or an IP address")
            return tuple(value)
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        """An absolute http(s) URL with a host, nothing a webhook URL cannot carry on; no trailing `/`."""
        problem = public_url_problem(value)
        if problem:
            raise ValueError(
                f"SESSIONARY_PUBLIC_URL must be the server's absolute http:// or https:// address as voice "
                f"platforms reach it (like https://sessions.example.com), at most {PUBLIC_URL_MAX_CHARS} "
                f"characters: {problem}"
            )
        return value.rstrip("/")

    @field_validator("autorating_severe", "autorating_disabled", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """Rule names from the environment: `tool_error,voicemail` (an empty string is no rule)."""
        if isinstance(value, str):
            return frozenset(name.strip() for name in value.split(",") if name.strip())
        return value

    # The console (see console/): how long a sign-in lasts; Secure cookies behind HTTPS.
    console_session_hours: int = Field(default=12, ge=1, le=24 * 90)
    console_secure_cookie: bool = False

    # Transcript search (see search/): matching turns one query scores at most, newest first.
    search_max_turns: int = Field(default=5_000, ge=1)
    # Searches one process runs at once (the rest wait up to db_pool_timeout_seconds, then 503), so that
    # searches never hold every database connection; and the time one search may take (503 past it).
    search_concurrency: int = Field(default=4, ge=1)
    search_timeout_seconds: float = Field(default=5.0, gt=0, le=300)
    # Journey (Genesys-compatible /api/v2) web and app events.
    journey_max_event_age_seconds: int = Field(default=3600, ge=1)
    journey_max_clock_skew_seconds: int = Field(default=120, ge=0)
    journey_geoip_db: Path | None = None
    journey_asn_db: Path | None = None
    journey_trusted_proxies: list[str] = Field(default_factory=list)
    journey_phone_region: str = "US"
    # One POST /api/v1/erasure deletes at most this many sessions (409 above: `sessionary erase` batches).
    erasure_max_sessions: int = Field(default=100_000, ge=1)
    # A web or app event request body may not be longer than this (413 otherwise).
    journey_max_body_bytes: int = Field(default=262_144, ge=1024)
