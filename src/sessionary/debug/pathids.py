"""Producer ids taken from the request's raw path, one percent-decoded segment each.

Starlette routes on the decoded path, where an id holding `/` (sent as `%2F`) splits into two segments;
the raw path (`scope["raw_path"]`, as the client sent it) still tells them apart. A client that does not
percent-encode `/` (syllable-sdk's Python client sends path parameters as given) sends more segments than
the route has ids: the caller decides how to read them (see debug.service.by_sid_segments).
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.requests import Request

from sessionary.errors import NotFound

MAX_SEGMENTS = 402  # two ids of at most 200 characters each (ingest's bound) hold at most 400 slashes


def segments_after(request: Request, prefix: str, decoded_rest: str) -> list[str]:
    """The path's segments after `prefix` (e.g. `/api/v1/session_debug/sid/`), each percent-decoded once
    from the raw path; from the decoded path when the raw path does not show the prefix verbatim."""
    raw: bytes | None = request.scope.get("raw_path")
    start = raw.find(prefix.encode()) if raw is not None else -1
    if raw is None or start < 0:
        parts = decoded_rest.split("/")
    else:
        parts = [_decode(part) for part in raw[start + len(prefix) :].split(b"/")]
    if len(parts) > MAX_SEGMENTS:
        raise NotFound(f"No session has ids of {len(parts)} path segments")
    return parts


def after_session_id(segments: list[str], session_id: int) -> str:
    """The id that follows the session id in `segments` (its own `/` kept); NotFound when the first
    segment, as sent, is not that session id (`1%2F2/x` is not session 1)."""
    first = segments[0]
    if not (first.isascii() and first.isdigit() and int(first) == session_id):
        raise NotFound(f"Session {first} not found")
    return "/".join(segments[1:])


def _decode(segment: bytes) -> str:
    try:
        return unquote_to_bytes(segment).decode("utf-8")
    except UnicodeDecodeError as exc:  # no stored id holds invalid UTF-8
        raise NotFound("Path segment is not UTF-8 once percent-decoded") from exc
