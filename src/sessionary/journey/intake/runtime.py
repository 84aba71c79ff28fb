"""What the journey face keeps for the life of a server process: one typed object on `app.state.journey`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sessionary.config import Settings
from sessionary.db import Database
from sessionary.journey.intake.batcher import GroupCommit
from sessionary.journey.intake.ingest import DeploymentCache, Enricher


@dataclass(frozen=True)
class JourneyRuntime:
    """The enrichment data (UA parser, GeoIP reader), the group-commit writer thread of the single-event
    endpoints, and the deployment cache they read."""

    enricher: Enricher
    writes: GroupCommit
    deployments: DeploymentCache

    @classmethod
    def start(cls, database: Database, settings: Settings) -> JourneyRuntime:
        return cls(
            enricher=Enricher.from_settings(settings),
            # One writer thread (batcher: bigger batches cost less per event; SQLite has one writer anyway).
            writes=GroupCommit(database, phone_region=settings.journey_phone_region, writers=1),
            deployments=DeploymentCache(database),
        )

    def close(self) -> None:
        """Stop the writer (it drains what it holds first), then let go of the enrichment data."""
        self.writes.stop()
        self.enricher.close()


def runtime_of(state: Any) -> JourneyRuntime:
    """The runtime the application's lifespan started (`state`: `app.state`)."""
    runtime = state.journey
    assert isinstance(runtime, JourneyRuntime)
    return runtime
