"""Settings, read from SESSIONARY_* environment variables (never at import time)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./data/sessionary.db"


class Settings(BaseSettings):
    """Every setting of a sessionary server; see the README's configuration table."""

    model_config = SettingsConfigDict(env_prefix="SESSIONARY_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    ingest_max_events: int = Field(default=10_000, ge=1)
    ingest_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    ingest_concurrency: int = Field(default=1, ge=1)
    list_max_limit: int = Field(default=1000, ge=1)
    db_pool_size: int = Field(default=10, ge=1)
    # Journey (Genesys-compatible /api/v2) web and app events.
    journey_max_event_age_seconds: int = Field(default=3600, ge=1)
    journey_max_clock_skew_seconds: int = Field(default=120, ge=0)
    journey_geoip_db: Path | None = None
    journey_asn_db: Path | None = None
    journey_trusted_proxies: list[str] = Field(default_factory=list)
    journey_phone_region: str = "US"
