"""The blob store the settings name: a local directory (blobs.LocalBlobStore, the default) or an S3 bucket
(s3.S3BlobStore)."""

from __future__ import annotations

from typing import Any

from sessionary.config import Settings
from sessionary.recordings.blobs import BlobStore, LocalBlobStore


def open_blob_store(settings: Settings) -> BlobStore:
    """The store the settings name: a local directory (default) or an S3 bucket."""
    if settings.blob_store == "s3":
        from sessionary.recordings.s3 import S3BlobStore

        return S3BlobStore.from_settings(settings)
    return LocalBlobStore(settings.blob_dir)


def app_blob_store(state: Any) -> BlobStore:
    """The app's blob store (`app.state.blob_store`), opened from its settings on first use."""
    if getattr(state, "blob_store", None) is None:
        state.blob_store = open_blob_store(state.settings)
    store: BlobStore = state.blob_store
    return store
