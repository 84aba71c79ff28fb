"""Both blob stores behave alike: the local directory and S3 (a real S3 server: moto's, on loopback)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from sessionary.config import Settings
from sessionary.recordings import blobs
from sessionary.recordings.blobs import BlobMissing, BlobStore, LocalBlobStore
from sessionary.recordings.s3 import S3BlobStore, client_from_settings
from sessionary.recordings.stores import open_blob_store
from tests.recordings.helpers import audio, stored_files
from tests.recordings.s3 import moto_server, s3_settings

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    s3 = open_blob_store(s3_settings(request.getfixturevalue("s3_endpoint")))
    assert isinstance(s3, S3BlobStore)
    s3.part_size = 5 * MiB  # the smallest S3 allows, so a 12 MiB blob takes three parts
    return s3


def _chunks(data: bytes, size: int = 100_000) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize("size", [1, 100_000, 12 * MiB + 7])
def test_a_blob_reads_back_whole_and_by_range(store: BlobStore, size: int) -> None:
    data = audio(size, seed=size % 13)
    stored = blobs.put(store, _chunks(data))
    assert (stored.size, stored.sha256) == (size, hashlib.sha256(data).hexdigest())
    assert store.size(stored.key) == size
    assert b"".join(store.open_range(stored.key)) == data
    assert b"".join(store.open_range(stored.key, size // 2)) == data[size // 2 :]
    assert (
        b"".join(store.open_range(stored.key, size // 3, size // 4 + 1))
        == data[size // 3 : size // 3 + size // 4 + 1]
    )
    assert b"".join(store.open_range(stored.key, 0, 0)) == b""


def test_a_blob_is_read_in_chunks_not_at_once(store: BlobStore) -> None:
    stored = blobs.put(store, _chunks(audio(MiB)))
    assert max(len(chunk) for chunk in store.open_range(stored.key)) <= blobs.CHUNK


def test_a_deleted_or_unknown_blob_is_missing(store: BlobStore) -> None:
    stored = blobs.put(store, [b"abc"])
    store.delete(stored.key)
    store.delete(stored.key)  # twice is fine
    with pytest.raises(BlobMissing):
        store.open_range(stored.key)
    with pytest.raises(BlobMissing):
        store.size(stored.key)


def test_each_blob_gets_a_key_of_its_own(store: BlobStore) -> None:
    one, two = blobs.put(store, [b"same"]), blobs.put(store, [b"same"])
    assert one.key != two.key


def test_a_failing_source_leaves_nothing_behind_in_a_local_store(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)

    def broken() -> Iterator[bytes]:
        yield b"x" * 1000
        raise OSError("the source broke")

    with pytest.raises(OSError, match="the source broke"):
        blobs.put(store, broken())
    assert stored_files(tmp_path) == []


def test_a_local_store_refuses_keys_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "secret").write_bytes(b"not a blob")
    store = LocalBlobStore(tmp_path / "blobs")
    for key in ("../secret", "..", "a/../../secret", "/etc/passwd", "a/b/c"):
        with pytest.raises(BlobMissing):
            store.open_range(key)


def test_an_aborted_s3_upload_leaves_no_object_and_no_open_multipart_upload(s3_endpoint: str) -> None:
    settings = s3_settings(s3_endpoint, s3_prefix="rec/")
    store = S3BlobStore.from_settings(settings)
    store.part_size = 5 * MiB
    writer = store.open_writer()
    writer.write(audio(6 * MiB))  # one part sent
    writer.abort()
    client = client_from_settings(settings)
    assert client.list_objects_v2(Bucket=settings.s3_bucket).get("KeyCount") == 0
    assert client.list_multipart_uploads(Bucket=settings.s3_bucket).get("Uploads", []) == []


def test_s3_objects_are_named_with_the_prefix(s3_endpoint: str) -> None:
    settings = s3_settings(s3_endpoint, s3_prefix="recordings/")
    stored = blobs.put(S3BlobStore.from_settings(settings), [b"abc"])
    listed = client_from_settings(settings).list_objects_v2(Bucket=settings.s3_bucket)["Contents"]
    assert [item["Key"] for item in listed] == [f"recordings/{stored.key}"]


def test_an_s3_store_needs_a_bucket() -> None:
    with pytest.raises(ValueError, match="SESSIONARY_S3_BUCKET"):
        open_blob_store(Settings(blob_store="s3"))
