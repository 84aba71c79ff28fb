"""Cursor paging of the /api/v2 listings: `pageSize` (a string, 1-200), `after`, and the older
`limit`/`before`; cursors are opaque (base64url of the last item's sort key)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query

from sessionary.errors import InvalidRequest

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 25


@dataclass(frozen=True)
class PageParams:
    size: int
    after: tuple[str, str] | None
    before: tuple[str, str] | None


def encode(key: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(f"{key[0]}|{key[1]}".encode()).decode().rstrip("=")


def decode(name: str, cursor: str) -> tuple[str, str]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        first, second = text.split("|", 1)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidRequest(f"{name}: '{cursor}' is not a cursor given by this API") from None
    return first, second


def _size(name: str, value: str) -> int:
    try:
        size = int(value.strip())
    except ValueError:
        raise InvalidRequest(f"{name}: '{value}' is not a number") from None
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise InvalidRequest(f"{name}: must be between 1 and {MAX_PAGE_SIZE}, got {size}")
    return size


def page_params(
    page_size: Annotated[str | None, Query(alias="pageSize", max_length=20, description="1-200")] = None,
    after: Annotated[str | None, Query(max_length=500, description="Cursor: the page after it")] = None,
    limit: Annotated[str | None, Query(max_length=20, description="Older name of pageSize")] = None,
    before: Annotated[str | None, Query(max_length=500, description="Cursor: the page before it")] = None,
) -> PageParams:
    """The paging query parameters (400 naming a malformed one)."""
    size = DEFAULT_PAGE_SIZE
    if page_size is not None:
        size = _size("pageSize", page_size)
    elif limit is not None:
        size = _size("limit", limit)
    if after is not None and before is not None:
        raise InvalidRequest("after and before: give one cursor, not both")
    return PageParams(
        size=size,
        after=decode("after", after) if after is not None else None,
        before=decode("before", before) if before is not None else None,
    )


def uri(path: str, size: int, **params: str | None) -> str:
    query = {"pageSize": str(size), **{k: v for k, v in params.items() if v is not None}}
    return f"{path}?{urlencode(query)}"
