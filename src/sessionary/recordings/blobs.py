"""Blob stores: where recording files live, behind a small interface (write in chunks, read a byte range).

`LocalBlobStore` keeps each blob as a file under one directory; `S3BlobStore` (s3.py) keeps them in any
S3-compatible bucket. Writers count and hash what passes through them, so a caller streaming an upload
learns its size and SHA-256 without holding it; nothing is visible under the key before `commit()`.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Protocol

CHUNK = 64 * 1024  # bytes per chunk read back from a store


class BlobMissing(Exception):
    """No blob under this key."""


@dataclass(frozen=True)
class StoredBlob:
    """A committed blob: its key in the store, its length and the hex SHA-256 of its bytes."""

    key: str
    size: int
    sha256: str


class BlobWriter(ABC):
    """One blob being written: `write` chunks, then `commit` (or `abort`, which leaves nothing behind)."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.size = 0
        self._hash = hashlib.sha256()

    def write(self, data: bytes) -> None:
        """Append `data` to the blob."""
        self.size += len(data)
        self._hash.update(data)
        self._write(data)

    def commit(self) -> StoredBlob:
        """Make the blob durable and visible under its key."""
        self._commit()
        return StoredBlob(key=self.key, size=self.size, sha256=self._hash.hexdigest())

    @abstractmethod
    def _write(self, data: bytes) -> None: ...

    @abstractmethod
    def _commit(self) -> None: ...

    @abstractmethod
    def abort(self) -> None:
        """Drop what was written; safe to call more than once."""


@dataclass(frozen=True)
class BlobInfo:
    """A blob as a store lists it: its key and when it was last written (UTC)."""

    key: str
    modified: datetime


class BlobStore(Protocol):
    """Where blobs are kept. Keys are chosen by the store (`open_writer`)."""

    def open_writer(self) -> BlobWriter:
        """A writer for a new blob under a fresh key."""
        ...

    def open_range(self, key: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        """The blob's bytes from `start` (`length` of them, or to the end) in chunks; BlobMissing if none.

        The blob is opened before this returns, so a missing one is reported before any byte is sent.
        """
        ...

    def size(self, key: str) -> int:
        """The blob's length in bytes; BlobMissing if there is none."""
        ...

    def delete(self, key: str) -> None:
        """Remove the blob (no error if there is none)."""
        ...

    def iter_blobs(self, after: str | None = None) -> Iterator[BlobInfo]:
        """Every committed blob whose key sorts after `after` (all: None), in key order, with its age."""
        ...

    def delete_partial(self, before: datetime) -> int:
        """Remove what uploads left unfinished before `before` (killed mid-write); how many went."""
        ...


def new_key() -> str:
    """A fresh random key, `ab/abcdef...` (the prefix spreads blobs over 256 directories or S3 prefixes)."""
    name = uuid.uuid4().hex
    return f"{name[:2]}/{name}"


def put(store: BlobStore, chunks: Iterable[bytes]) -> StoredBlob:
    """Write `chunks` as a new blob; nothing is left behind if reading them or writing fails."""
    writer = store.open_writer()
    try:
        for chunk in chunks:
            writer.write(chunk)
        return writer.commit()
    except BaseException:
        writer.abort()
        raise


class LocalBlobStore:
    """Blobs as files under `root`: written to `root/.tmp`, fsynced, then renamed into place (atomic)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def open_writer(self) -> BlobWriter:
        tmp = self.root / ".tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        key = new_key()
        return _LocalWriter(key, tmp / key.replace("/", "-"), self._path(key))

    def open_range(self, key: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        try:
            file = self._path(key).open("rb")
        except FileNotFoundError:
            raise BlobMissing(key) from None
        file.seek(start)
        return _read_chunks(file, length)

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            raise BlobMissing(key) from None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def iter_blobs(self, after: str | None = None) -> Iterator[BlobInfo]:
        if not self.root.is_dir():
            return
        for folder in sorted(self.root.iterdir()):
            name = folder.name
            if not (_is_part(name) and folder.is_dir()) or (after is not None and name < after[:2]):
                continue
            for file in sorted(folder.iterdir()):
                key = f"{name}/{file.name}"
                if _is_part(file.name) and (after is None or key > after):
                    yield BlobInfo(key, _mtime(file))

    def delete_partial(self, before: datetime) -> int:
        tmp = self.root / ".tmp"
        if not tmp.is_dir():
            return 0
        gone = 0
        for file in tmp.iterdir():
            if file.is_file() and _mtime(file) < before:
                file.unlink(missing_ok=True)
                gone += 1
        return gone

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if len(parts) != 2 or not all(part.isalnum() and part.isascii() for part in parts):
            raise BlobMissing(key)  # not a key this store made: never a path outside `root`
        return self.root / parts[0] / parts[1]


def _is_part(name: str) -> bool:
    return name.isalnum() and name.isascii()


def _mtime(path: Path) -> datetime:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except FileNotFoundError:  # deleted meanwhile: as new, so never swept
        return datetime.now(UTC)


def _read_chunks(file: IO[bytes], length: int | None) -> Iterator[bytes]:
    remaining = length
    try:
        while remaining is None or remaining > 0:
            chunk = file.read(CHUNK if remaining is None else min(CHUNK, remaining))
            if not chunk:
                return
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk
    finally:
        file.close()


class _LocalWriter(BlobWriter):
    def __init__(self, key: str, tmp: Path, final: Path) -> None:
        super().__init__(key)
        self._tmp, self._final = tmp, final
        self._file: IO[bytes] | None = tmp.open("xb")

    def _write(self, data: bytes) -> None:
        assert self._file is not None, "write after commit or abort"
        self._file.write(data)

    def _commit(self) -> None:
        assert self._file is not None, "commit after commit or abort"
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._file = None
        self._final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._tmp, self._final)
        _fsync_dir(self._final.parent)

    def abort(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._tmp.unlink(missing_ok=True)


def _fsync_dir(path: Path) -> None:
    """Make a rename in `path` durable (the directory entry is data too)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
