"""The HTTP answer streaming a recording: 200 whole or 206 one range, in chunks, always with a length."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse, Response, StreamingResponse

from sessionary.api.syllable import ErrorDetail
from sessionary.errors import NotFound
from sessionary.recordings.blobs import BlobMissing, BlobStore
from sessionary.recordings.models import Recording
from sessionary.recordings.ranges import Unsatisfiable, parse_range

MEDIA_TYPE = "application/octet-stream"  # exactly: syllable-sdk refuses any other content type
_BINARY = {MEDIA_TYPE: {"schema": {"type": "string", "title": "bytes", "format": "binary"}}}


def openapi_responses(errors: dict[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    """The stream's responses: bytes (200, 206), and `errors` (from error_responses) as JSON.

    The operation's response class is binary, so FastAPI would list an error `model` under
    application/octet-stream; the errors name their JSON schema explicitly instead.
    """
    described: dict[int | str, dict[str, Any]] = {
        200: {"description": "The whole recording", "content": _BINARY},
        206: {"description": "The byte range asked for with an HTTP Range header", "content": _BINARY},
    }
    errors = {**errors, 416: {"model": ErrorDetail, "description": "The Range lies outside the recording"}}
    errors[403] = {
        "model": ErrorDetail,
        "description": "The token is tampered with or expired, or the API key is another organization's",
    }
    for code, error in sorted(errors.items(), key=lambda item: str(item[0])):
        schema = {"$ref": f"#/components/schemas/{error['model'].__name__}"}
        described[code] = {
            "description": error["description"],
            "content": {"application/json": {"schema": schema}},
        }
    return described


class OctetStreamResponse(Response):
    media_type = MEDIA_TYPE


def respond(
    store: BlobStore, recording: Recording, *, range_header: str | None, if_range: str | None
) -> Response:
    """The recording, or the one range of it `range_header` asks for (unless If-Range names another)."""
    size, etag = recording.size, f'"{recording.sha256}"'
    if if_range is not None and if_range.strip() != etag:
        range_header = None  # the client's copy is of other bytes: send the whole
    headers = {"Accept-Ranges": "bytes", "ETag": etag, "Cache-Control": "private"}
    try:
        wanted = parse_range(range_header, size)
    except Unsatisfiable:
        detail = f"Range {range_header!r} is outside the recording's {size} bytes"
        headers["Content-Range"] = f"bytes */{size}"
        return JSONResponse({"detail": detail}, status_code=416, headers=headers)
    start, length, status = 0, size, 200
    if wanted is not None:
        start, length, status = wanted.start, wanted.length, 206
        headers["Content-Range"] = wanted.content_range(size)
    try:
        chunks = store.open_range(recording.blob_key, start, length)
    except BlobMissing:
        raise NotFound("The recording's file is missing from the blob store") from None
    headers["Content-Length"] = str(length)
    return StreamingResponse(chunks, status_code=status, media_type=MEDIA_TYPE, headers=headers)
