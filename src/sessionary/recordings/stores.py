"""The blob store the settings name: a local directory (blobs.LocalBlobStore, the default) or an S3 bucket
(s3.S3BlobStore)."""

from __future__ import annotations

from sessionary.config import Settings
from sessionary.recordings.blobs import BlobStore, LocalBlobStore


def open_blob_store(settings: Settings) -> BlobStore:
    """The store the settings name: a local directory (default) or an S3 bucket."""
    if settings.blob_store == "s3":
        from sessionary.recordings.s3 import S3BlobStore

        return S3BlobStore.from_settings(settings)
    return LocalBlobStore(settings.blob_dir)
