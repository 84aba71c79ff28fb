"""Settings, read from SESSIONARY_* environment variables (never at import time)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
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
    # Recordings (see recordings/): where the files go, how big one may be, how long a stream URL lives.
    recording_max_bytes: int = Field(default=200 * 1024 * 1024, ge=1)
    recording_token_ttl: int = Field(default=3600, ge=1)
    secret_key: SecretStr | None = None
    blob_store: Literal["local", "s3"] = "local"
    blob_dir: Path = Path("./data/blobs")
    s3_bucket: str | None = None
    s3_prefix: str = ""
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
