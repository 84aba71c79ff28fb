"""Blobs in an S3-compatible bucket (AWS S3, MinIO, Ceph, R2, ...), through boto3.

An upload is buffered up to one part (8 MiB) at a time: a blob smaller than that is one PutObject, a larger
one a multipart upload whose parts are sent as they fill (S3 wants every part but the last >= 5 MiB).
Reads are ranged GetObject requests, streamed in chunks.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sessionary.config import Settings
from sessionary.recordings.blobs import CHUNK, BlobInfo, BlobMissing, BlobWriter, new_key

PART_SIZE = 8 * 1024 * 1024
_MISSING = {"NoSuchKey", "404", "NotFound"}


def client_from_settings(settings: Settings) -> Any:
    """A boto3 S3 client for the SESSIONARY_S3_* settings (unset ones fall back to boto3's own lookup)."""
    import boto3  # an optional dependency: `pip install sessionary[s3]`
    from botocore.config import Config

    secret = settings.s3_secret_access_key
    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key_id,
        aws_secret_access_key=secret.get_secret_value() if secret else None,
        # Checksums only where S3 requires them: several S3-compatible stores reject the newer defaults.
        config=Config(
            request_checksum_calculation="when_required", response_checksum_validation="when_required"
        ),
    )


class S3BlobStore:
    """Blobs as objects `prefix + key` in `bucket`."""

    def __init__(self, client: Any, bucket: str, *, prefix: str = "", part_size: int = PART_SIZE) -> None:
        if part_size < 5 * 1024 * 1024:
            raise ValueError("S3 multipart parts must be at least 5 MiB")
        self.client, self.bucket, self.prefix, self.part_size = client, bucket, prefix, part_size

    @classmethod
    def from_settings(cls, settings: Settings) -> S3BlobStore:
        if not settings.s3_bucket:
            raise ValueError("SESSIONARY_BLOB_STORE=s3 needs SESSIONARY_S3_BUCKET")
        return cls(client_from_settings(settings), settings.s3_bucket, prefix=settings.s3_prefix)

    def open_writer(self) -> BlobWriter:
        return _S3Writer(self, new_key())

    def open_range(self, key: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        if length == 0:
            return iter(())
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": self.object_name(key)}
        if start or length is not None:
            end = "" if length is None else str(start + length - 1)
            args["Range"] = f"bytes={start}-{end}"
        body = self._call(key, "get_object", **args)["Body"]
        return _body_chunks(body)

    def size(self, key: str) -> int:
        head = self._call(key, "head_object", Bucket=self.bucket, Key=self.object_name(key))
        return int(head["ContentLength"])

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.object_name(key))

    def iter_blobs(self, after: str | None = None) -> Iterator[BlobInfo]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix, StartAfter=self.prefix + (after or "")
        )
        for page in pages:
            for item in page.get("Contents", ()):
                yield BlobInfo(item["Key"][len(self.prefix) :], item["LastModified"].astimezone(UTC))

    def delete_partial(self, before: datetime) -> int:
        """Abort the multipart uploads started before `before` (a killed upload leaves its parts)."""
        pages = self.client.get_paginator("list_multipart_uploads").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        gone = 0
        for page in pages:
            for upload in page.get("Uploads", ()):
                if upload["Initiated"].astimezone(UTC) < before:
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
                    gone += 1
        return gone

    def object_name(self, key: str) -> str:
        return self.prefix + key

    def _call(self, key: str, operation: str, **args: Any) -> Any:
        from botocore.exceptions import ClientError

        try:
            return getattr(self.client, operation)(**args)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in _MISSING:
                raise BlobMissing(key) from None
            raise


def _body_chunks(body: Any) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(CHUNK)
    finally:
        body.close()


class _S3Writer(BlobWriter):
    def __init__(self, store: S3BlobStore, key: str) -> None:
        super().__init__(key)
        self._store = store
        self._name = store.object_name(key)
        self._buffer: list[bytes] = []
        self._buffered = 0
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []

    def _write(self, data: bytes) -> None:
        self._buffer.append(data)
        self._buffered += len(data)
        while self._buffered >= self._store.part_size:
            joined = b"".join(self._buffer)
            part, rest = joined[: self._store.part_size], joined[self._store.part_size :]
            self._buffer, self._buffered = ([rest] if rest else []), len(rest)
            self._upload_part(part)

    def _commit(self) -> None:
        client, bucket = self._store.client, self._store.bucket
        rest = b"".join(self._buffer)
        self._buffer, self._buffered = [], 0
        if self._upload_id is None:
            client.put_object(Bucket=bucket, Key=self._name, Body=rest)
            return
        if rest:
            self._upload_part(rest)
        client.complete_multipart_upload(
            Bucket=bucket, Key=self._name, UploadId=self._upload_id, MultipartUpload={"Parts": self._parts}
        )
        self._upload_id = None

    def abort(self) -> None:
        self._buffer, self._buffered = [], 0
        if self._upload_id is not None:
            upload_id, self._upload_id = self._upload_id, None
            self._store.client.abort_multipart_upload(
                Bucket=self._store.bucket, Key=self._name, UploadId=upload_id
            )

    def _upload_part(self, data: bytes) -> None:
        client, bucket = self._store.client, self._store.bucket
        if self._upload_id is None:
            self._upload_id = client.create_multipart_upload(Bucket=bucket, Key=self._name)["UploadId"]
        number = len(self._parts) + 1
        answer = client.upload_part(
            Bucket=bucket, Key=self._name, UploadId=self._upload_id, PartNumber=number, Body=data
        )
        self._parts.append({"ETag": answer["ETag"], "PartNumber": number})
