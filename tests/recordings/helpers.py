"""Builders for the recording tests: uploads, stream URLs, and a look into the blob directory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

UPLOAD = "/api/v1/ingest/recordings"
STREAM = "/api/v1/sessions/recording/stream"


def audio(size: int, seed: int = 0) -> bytes:
    """`size` bytes that differ at every offset (a Range off by one shows)."""
    return bytes((n * 31 + seed * 7 + n // 251) % 256 for n in range(size))


def upload(
    client: httpx.Client,
    key: str,
    data: bytes | None,
    *,
    sid: str | None = "call-1",
    service: str | None = "hedy",
    filename: str = "call.wav",
) -> httpx.Response:
    """POST a recording as multipart/form-data; None leaves a field out."""
    fields = {
        name: value for name, value in (("channel_manager_service", service), ("channel_manager_sid", sid))
    }
    form = {name: value for name, value in fields.items() if value is not None}
    files = {"file": (filename, data, "audio/wav")} if data is not None else None
    return client.post(UPLOAD, data=form, files=files, headers={"Syllable-API-Key": key})


def upload_ok(client: httpx.Client, key: str, data: bytes, **kwargs: Any) -> dict[str, Any]:
    response = upload(client, key, data, **kwargs)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def recording_urls(client: httpx.Client, key: str, session_id: str) -> list[str]:
    response = client.post(f"/api/v1/sessions/recording/{session_id}", headers={"Syllable-API-Key": key})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["session_id"] == session_id
    urls: list[str] = body["recordings"]
    return urls


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def stored_files(root: Path) -> list[Path]:
    """Every file under the blob directory, temporary ones included."""
    return sorted(Path(d) / f for d, _, files in os.walk(root) for f in files)


BOUNDARY = "sessionary-test-boundary-7d1c"
Part = tuple[str, str | None, bytes]  # name, filename (None: a text field), content


def multipart(parts: list[Part], boundary: str = BOUNDARY) -> tuple[dict[str, str], bytes]:
    """Headers and body of a multipart/form-data request built by hand (any parts, in any order)."""
    body = bytearray()
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
        if filename:
            body += b"Content-Type: audio/wav\r\n"
        body += b"\r\n" + content + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return {"Content-Type": f"multipart/form-data; boundary={boundary}"}, bytes(body)


def fields(sid: str = "call-1", service: str = "hedy") -> list[Part]:
    return [("channel_manager_service", None, service.encode()), ("channel_manager_sid", None, sid.encode())]
