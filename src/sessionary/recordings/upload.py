"""Reading a multipart/form-data upload as it arrives: text fields kept, the `file` part streamed to a blob.

python-multipart's streaming parser calls back with slices of each chunk of the request body; the file's
slices are collected per chunk and written to the blob store (in a worker thread) about 1 MiB at a time,
so memory holds one network chunk plus one write batch, whatever the file's size. The file part is
counted as it goes: one byte over the limit stops the upload with 413 and the partial blob is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from sessionary.api.bodies import refuse_nul
from sessionary.errors import InvalidRequest, PayloadTooLarge
from sessionary.recordings.blobs import BlobStore, BlobWriter, StoredBlob
from sessionary.recordings.schemas import RecordingFields

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

FILE_FIELD = "file"
WRITE_BATCH = 1024 * 1024  # bytes handed to the blob writer at once
FORM_OVERHEAD = 64 * 1024  # room for the text fields and part headers around the file
_MAX_FIELD_BYTES = 4096  # a text field is kept up to this size (longer ones are refused by validation)


@dataclass
class Upload:
    """A received upload: its text fields (validated) and the committed blob of its `file` part."""

    fields: RecordingFields
    blob: StoredBlob
    filename: str | None
    content_type: str | None


def _invalid(loc: tuple[str | int, ...], msg: str, type_: str) -> RequestValidationError:
    return RequestValidationError([{"loc": loc, "msg": msg, "type": type_}])


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"file: the recording is larger than the limit of {limit} bytes (SESSIONARY_RECORDING_MAX_BYTES)"
    )


@dataclass
class _Part:
    name: str | None = None
    filename: str | None = None
    content_type: str | None = None
    value: bytearray = field(default_factory=bytearray)
    is_file: bool = False


class _Form:
    """The parser's callbacks: collects text fields, queues the file's bytes, counts them against `limit`."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.fields: dict[str, bytes] = {}
        self.file: _Part | None = None
        self.file_size = 0
        self.pending: list[bytes] = []  # file bytes parsed but not yet written
        self.ended = False
        self._part = _Part()
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self.on_part_begin,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_header_field": lambda data, start, end: self._header_name.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self._header_value.extend(data[start:end]),
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_end": self.on_end,
        }

    def on_part_begin(self) -> None:
        self._part = _Part()
        self._headers = {}

    def on_header_end(self) -> None:
        self._headers[bytes(self._header_name).lower()] = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition"))
        if b"name" not in options:
            raise _invalid(("body",), "every form part needs a Content-Disposition name", "value_error")
        part = self._part
        part.name = options[b"name"].decode("utf-8", "replace")
        if part.name == FILE_FIELD:
            if self.file is not None:
                raise _invalid(("body", FILE_FIELD), "send one file per request", "value_error")
            part.is_file, self.file = True, part
            part.filename = _text(options.get(b"filename"), 255)
            part.content_type = _text(self._headers.get(b"content-type"), 200)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        part = self._part
        if part.is_file:
            self.file_size += end - start
            if self.file_size > self.limit:
                raise _too_large(self.limit)
            self.pending.append(data[start:end])
        elif len(part.value) <= _MAX_FIELD_BYTES:
            part.value.extend(data[start : min(end, start + _MAX_FIELD_BYTES + 1)])

    def on_part_end(self) -> None:
        part = self._part
        if not part.is_file and part.name in RecordingFields.model_fields:  # other fields are ignored
            self.fields[part.name] = bytes(part.value)

    def on_end(self) -> None:
        self.ended = True


def _text(raw: bytes | None, limit: int) -> str | None:
    """A header value for storage: decoded, without NUL, at most `limit` characters."""
    if not raw:
        return None
    return raw.decode("utf-8", "replace").replace("\x00", "")[:limit] or None


def _boundary(request: Request) -> bytes:
    content_type, options = parse_options_header(request.headers.get("content-type"))
    if content_type != b"multipart/form-data" or not options.get(b"boundary"):
        raise _invalid(
            ("header", "content-type"), "must be multipart/form-data with a boundary", "value_error"
        )
    return options[b"boundary"]


async def receive(request: Request, store: BlobStore, *, limit: int) -> Upload:
    """Stream the request's multipart body: the `file` part into a new blob, the fields validated.

    413 when the file is over `limit` bytes (at once when Content-Length says so), 422 naming the field
    when a field is missing, empty or malformed; nothing is left in the store unless it succeeds.
    """
    boundary = _boundary(request)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + FORM_OVERHEAD:
        raise _too_large(limit)
    form = _Form(limit)
    try:
        parser = MultipartParser(boundary, form.callbacks())
    except FormParserError as exc:
        raise _invalid(("header", "content-type"), f"bad multipart boundary: {exc}", "value_error") from None
    writer = await run_in_threadpool(store.open_writer)
    try:
        await _feed(request, parser, form, writer)
        fields = _validate(form)
        blob = await run_in_threadpool(writer.commit)
    except BaseException as exc:
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(writer.abort)
        if isinstance(exc, ClientDisconnect):  # nobody is listening; a domain error is not logged as a crash
            raise InvalidRequest("body: the client disconnected before the upload was complete") from None
        raise
    assert form.file is not None
    return Upload(fields=fields, blob=blob, filename=form.file.filename, content_type=form.file.content_type)


async def _feed(request: Request, parser: MultipartParser, form: _Form, writer: BlobWriter) -> None:
    batch: list[bytes] = []
    batched = received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > form.limit + FORM_OVERHEAD:  # the fields and part headers are bounded too
            raise _too_large(form.limit)
        try:
            parser.write(chunk)
        except FormParserError as exc:
            raise _invalid(("body",), f"malformed multipart body: {exc}", "value_error") from None
        for piece in form.pending:
            batch.append(piece)
            batched += len(piece)
        form.pending.clear()
        if batched >= WRITE_BATCH:
            await run_in_threadpool(writer.write, b"".join(batch))
            batch, batched = [], 0
    if batch:
        await run_in_threadpool(writer.write, b"".join(batch))
    if not form.ended:
        raise _invalid(("body",), "the multipart body ends before its closing boundary", "value_error")


def _validate(form: _Form) -> RecordingFields:
    """The text fields as RecordingFields; one 422 naming every field that is missing or invalid."""
    values: dict[str, str] = {}
    errors: list[dict[str, object]] = []
    for name in RecordingFields.model_fields:
        if name in form.fields:
            try:
                values[name] = form.fields[name].decode("utf-8")
            except UnicodeDecodeError:
                errors.append({"loc": ("body", name), "msg": "must be UTF-8 text", "type": "string_unicode"})
    undecodable = {name for name in form.fields if name in RecordingFields.model_fields} - set(values)
    fields: RecordingFields | None = None
    try:
        fields = RecordingFields.model_validate(values)
    except ValidationError as exc:
        for error in exc.errors(include_url=False, include_input=False):
            if error["loc"][0] not in undecodable:
                errors.append({**error, "loc": ("body", *error["loc"])})
    if form.file is None:
        errors.append({"loc": ("body", FILE_FIELD), "msg": "Field required", "type": "missing"})
    elif form.file_size == 0:
        errors.append({"loc": ("body", FILE_FIELD), "msg": "the file is empty", "type": "value_error"})
    if errors or fields is None:
        raise RequestValidationError(errors)
    refuse_nul(values)
    return fields
