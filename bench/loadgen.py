"""A lean HTTP/1.1 load generator: concurrent keep-alive connections posting prepared bodies.

A Python HTTP client (httpx, requests) spends more CPU per request than a lean server endpoint does, and on
a small machine the client shares the server's cores: it would measure the client. This one writes each
request as one prepared byte string and reads the answer with asyncio streams (uvloop when installed), about
a tenth of httpx's cost per request, like wrk or oha would (neither is packaged everywhere we run).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class LoadResult:
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def count(self, status: int) -> int:
        return self.statuses.get(status, 0)


def _request(host: str, path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    if headers.get(b"transfer-encoding") == b"chunked":
        return status, await _read_chunks(reader)
    length = int(headers.get(b"content-length", b"0"))
    return status, await reader.readexactly(length) if length else b""


async def _read_chunks(reader: asyncio.StreamReader) -> bytes:
    body = b""
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        body += (await reader.readexactly(size + 2))[:-2]
        if size == 0:
            return body


async def _connection(host: str, port: int, requests: Sequence[bytes], result: LoadResult) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for request in requests:
            writer.write(request)
            status, body = await _read_response(reader)
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if status >= 300 and len(result.failures) < 5:
                result.failures.append(f"{status} {body[:200]!r}")
    finally:
        writer.close()


async def _run(url: str, path: str, bodies: Sequence[bytes], connections: int) -> LoadResult:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    result = LoadResult()
    shares = [
        [_request(f"{host}:{port}", path, body) for body in bodies[i::connections]]
        for i in range(connections)
    ]
    await asyncio.gather(*(_connection(host, port, share, result) for share in shares))
    return result


def post_all(url: str, path: str, bodies: Sequence[bytes], connections: int) -> LoadResult:
    """POST every body to `url` + `path` over `connections` keep-alive connections; the statuses seen."""
    try:
        import uvloop  # type: ignore[import-not-found,unused-ignore]

        return uvloop.run(_run(url, path, bodies, connections))  # type: ignore[no-any-return,unused-ignore]
    except ImportError:
        return asyncio.run(_run(url, path, bodies, connections))
