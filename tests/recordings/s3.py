"""A local S3 server for the tests: moto's, on a loopback port, with a fresh bucket per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.server import ThreadedMotoServer

from sessionary.config import Settings
from sessionary.recordings.s3 import client_from_settings


@contextmanager
def moto_server() -> Iterator[str]:
    """The endpoint URL of a moto S3 server running in a thread."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def s3_settings(endpoint: str, **overrides: Any) -> Settings:
    """Settings naming a new bucket (created here) on the server at `endpoint`."""
    settings = Settings(
        blob_store="s3",
        s3_bucket=f"rec-{uuid.uuid4().hex[:12]}",
        s3_endpoint_url=endpoint,
        s3_region="us-east-1",
        s3_access_key_id="test",
        s3_secret_access_key="test",
        **overrides,
    )
    client_from_settings(settings).create_bucket(Bucket=settings.s3_bucket)
    return settings
